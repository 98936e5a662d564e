"""`python manage.py settings_doc`: .env.example as fileflare_admin/config.py declares it.

`--write` writes it beside manage.py; tests/test_config.py fails until the file is the declaration."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from fileflare_admin import config


class Command(BaseCommand):
    help = "Print .env.example as fileflare_admin/config.py declares the settings; --write writes it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--write", action="store_true", help="Write .env.example beside manage.py.")

    def handle(self, *args: Any, **options: Any) -> None:
        text = config.env_example()
        if options["write"]:
            (settings.BASE_DIR / ".env.example").write_text(text)
            self.stdout.write(f"Wrote .env.example: {len(config.DECLARED)} settings.")
        else:
            self.stdout.write(text, ending="")
