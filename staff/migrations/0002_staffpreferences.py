import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import staff.models


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0001_roles"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="StaffPreferences",
            fields=[
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="staff_preferences",
                        serialize=False,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "time_zone",
                    models.CharField(blank=True, max_length=64, validators=[staff.models.validate_time_zone]),
                ),
            ],
            options={"verbose_name": "staff preferences", "verbose_name_plural": "staff preferences"},
        ),
    ]
