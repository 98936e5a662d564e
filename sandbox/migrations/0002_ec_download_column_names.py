from django.db import migrations


class Migration(migrations.Migration):
    """The S3 flag's column is `is_amazon_download`, as in WP EasyCart's ec_download table."""

    dependencies = [("sandbox", "0001_initial")]

    operations = [
        migrations.RenameField(model_name="downloadrecord", old_name="is_amazon", new_name="is_amazon_download"),
    ]
