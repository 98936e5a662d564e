"""Keeps the sandbox's tables out of the dashboard's database.

The main settings list the sandbox app only for its management commands; its data lives in its own
database, served by a process that runs with `sandbox.settings`.
"""

from typing import Any


class SandboxRouter:
    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        if app_label == "sandbox":
            return False
        return None
