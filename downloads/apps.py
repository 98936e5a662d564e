from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class DownloadsConfig(AppConfig):
    name = "downloads"
    verbose_name = gettext_lazy("Download records")

    def ready(self) -> None:
        # Each module declares the audited writes it performs (audit.registry.declare_write) when it is
        # imported; the app registry is ready only now, and both import the models.
        from downloads import edits, services  # noqa: F401
        from downloads.models import CountChange, SeenLimit
        from fileflare_admin import kept

        # The count history and the known limits a page reads are kept (fileflare_admin.kept).
        kept.follow(CountChange, kept.COUNT_HISTORY)
        kept.follow(SeenLimit, kept.LIMITS)
