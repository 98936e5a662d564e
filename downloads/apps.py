from django.apps import AppConfig


class DownloadsConfig(AppConfig):
    name = "downloads"
    verbose_name = "Download records"

    def ready(self) -> None:
        from downloads import undo  # the app registry is ready only now: undo imports the models

        undo.register()
