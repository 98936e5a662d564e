from django.conf import settings
from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):

    dependencies = [
        ("orders", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="knowncustomertoken",
            name="status_url",
            field=models.URLField(blank=True, max_length=500),
        ),
        migrations.AlterField(
            model_name="knowncustomertoken",
            name="token",
            field=models.CharField(db_index=True, max_length=32),
        ),
        migrations.CreateModel(
            name="ReplyTemplate",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "situation",
                    models.CharField(
                        choices=[
                            ("ready", "The customer can download"),
                            ("downloads_reset", "Downloads were reset"),
                            ("files_attached", "Files were attached"),
                            ("email_resent", "The e-mail was sent again"),
                            ("blocked", "Still blocked: we are on it"),
                        ],
                        max_length=32,
                        unique=True,
                    ),
                ),
                ("body", models.TextField()),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "updated_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
    ]
