"""Write-ahead audit: `pending` and `unknown` outcomes, how an outcome was verified, when it was closed;
download-record actions named `download_record_*` (existing entries renamed, nothing else touched)."""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

RENAMED = {
    "record_create": "download_record_create",
    "record_update": "download_record_update",
    "record_count": "download_record_count",
    "record_delete": "download_record_delete",
    "count_revert": "download_record_count_revert",
    "record_restore": "download_record_restore",
}


def rename_actions(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # The historical model's plain manager: the append-only queryset is the live model's, and renaming
    # an action's code is a change of vocabulary, not of what an entry says happened.
    entries = apps.get_model("audit", "AuditEntry").objects
    for old, new in RENAMED.items():
        entries.filter(action=old).update(action=new)


def restore_actions(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    entries = apps.get_model("audit", "AuditEntry").objects
    for old, new in RENAMED.items():
        entries.filter(action=new).update(action=old)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0002_undo_claim"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="finished_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="verified",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="action",
            field=models.CharField(
                choices=[
                    ("email_resend", "Resent download e-mail"),
                    ("download_record_create", "Created download record"),
                    ("download_record_update", "Edited download record"),
                    ("download_record_count", "Changed download count"),
                    ("download_record_delete", "Deleted download record"),
                    ("download_record_count_revert", "Reverted download count"),
                    ("download_record_restore", "Restored deleted record"),
                ],
                db_index=True,
                max_length=32,
            ),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="outcome",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("success", "Succeeded"),
                    ("failed", "Failed"),
                    ("unknown", "Outcome unknown"),
                ],
                max_length=16,
            ),
        ),
        migrations.RunPython(rename_actions, restore_actions),
    ]
