"""`manage.py background_resume`: run the keepers once (what background_worker does at start and on its
timer): bulk jobs still marked running get a step again, the order index's sync starts or resumes. Each
job then verifies the item it was sending, if any, before going on. Safe to run any time: work under way
is left alone. A worker does this by itself; this is for a look by hand, or a script.
"""

from typing import Any

from django.core.management.base import BaseCommand

from background.keepers import keep_alive


class Command(BaseCommand):
    help = "Queue a step for every background chain that lost its own (safe to run any time)."

    def handle(self, *args: Any, **options: Any) -> None:
        for name, queued in keep_alive().items():
            self.stdout.write(f"{name}: {queued} step{'s' if queued != 1 else ''} queued.")
