from django.apps import AppConfig


class FileflareAdminConfig(AppConfig):
    name = "fileflare_admin"
    verbose_name = "Fileflare Admin"
