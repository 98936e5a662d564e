from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("staff", "0003_digest_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="staffpreferences",
            name="language",
            field=models.CharField(
                blank=True,
                choices=[("en", "English"), ("fr", "Français"), ("it", "Italiano")],
                max_length=8,
            ),
        ),
    ]
