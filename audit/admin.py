from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from audit.models import AuditEntry
from audit.registry import action_choices


class ActionFilter(admin.SimpleListFilter):
    """By action, offering what the apps registered (the field itself lists no choices)."""

    title = "action"
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return action_choices()

    def queryset(self, request: HttpRequest, queryset: QuerySet[AuditEntry]) -> QuerySet[AuditEntry]:
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the trail is written by the services and never edited, added to or pruned here."""

    list_display = (
        "created_at",
        "actor_name",
        "action_shown",
        "order_number",
        "download_id",
        "outcome",
        "undo_of",
    )
    list_filter = (ActionFilter, "outcome", "created_at", "actor_name")
    list_select_related = ("undo_of",)
    search_fields = ("actor_name", "download_id", "order_id", "reason", "error")
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description="Action", ordering="action")
    def action_shown(self, entry: AuditEntry) -> str:
        return entry.action_label

    def get_readonly_fields(self, request: HttpRequest, obj: AuditEntry | None = None) -> list[str]:
        # Every field, the action by its registered label.
        return ["action_shown" if field.name == "action" else field.name for field in AuditEntry._meta.fields]

    def get_fields(self, request: HttpRequest, obj: AuditEntry | None = None) -> tuple[str, ...]:
        return tuple(self.get_readonly_fields(request, obj))

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return {}  # no bulk actions (Django's "delete selected" among them)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False
