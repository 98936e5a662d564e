from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from audit.models import AuditEntry
        from fileflare_admin import kept

        kept.follow(AuditEntry, kept.AUDIT)  # an order's History is kept (fileflare_admin.kept)
