"""A reply template per situation AND language (issue 30): the shop's wording saved before languages is
its English wording."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("orders", "0003_need_status_link_reply"),
    ]

    operations = [
        migrations.AddField(
            model_name="replytemplate",
            name="language",
            field=models.CharField(
                choices=[("en", "English"), ("fr", "Français"), ("it", "Italiano")],
                default="en",
                max_length=8,
            ),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="replytemplate",
            name="situation",
            field=models.CharField(
                choices=[
                    ("ready", "The customer can download"),
                    ("downloads_reset", "Downloads were reset"),
                    ("files_attached", "Files were attached"),
                    ("email_resent", "The e-mail was sent again"),
                    ("blocked", "Still blocked: we are on it"),
                    ("need_status_link", "Asking for the order-status link"),
                ],
                max_length=32,
            ),
        ),
        migrations.AddConstraint(
            model_name="replytemplate",
            constraint=models.UniqueConstraint(
                fields=("situation", "language"), name="orders_reply_one_per_language"
            ),
        ),
    ]
