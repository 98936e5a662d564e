"""WSGI entry point: `gunicorn fileflare_admin.wsgi`."""

import os
from importlib import import_module

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fileflare_admin.settings")

application = get_wsgi_application()

# Templates compiled, URL patterns and catalogues loaded before the first request, not by it (imported
# once the apps are: fileflare_admin.warmup).
import_module("fileflare_admin.warmup").warm()
