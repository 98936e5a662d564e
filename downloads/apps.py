from django.apps import AppConfig


class DownloadsConfig(AppConfig):
    name = "downloads"
    verbose_name = "Download records"

    def ready(self) -> None:
        # The app registry is ready only now: both import the models.
        from downloads import audit_actions, undo

        audit_actions.register()
        undo.register()
