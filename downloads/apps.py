from django.apps import AppConfig


class DownloadsConfig(AppConfig):
    name = "downloads"
    verbose_name = "Download records"

    def ready(self) -> None:
        # Each module declares the audited writes it performs (audit.registry.declare_write) when it is
        # imported; the app registry is ready only now, and both import the models.
        from downloads import edits, services  # noqa: F401
