from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the trail is written by the services and never edited, added to or pruned here."""

    list_display = (
        "created_at",
        "actor_name",
        "action",
        "order_number",
        "download_id",
        "outcome",
        "undo_of",
    )
    list_filter = ("action", "outcome", "created_at", "actor_name")
    list_select_related = ("undo_of",)
    search_fields = ("actor_name", "download_id", "order_id", "reason", "error")
    date_hierarchy = "created_at"
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: AuditEntry | None = None) -> list[str]:
        return [field.name for field in AuditEntry._meta.fields]

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return {}  # no bulk actions (Django's "delete selected" among them)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False
