"""The sandbox commands run under the sandbox's own settings: from the dashboard's, they re-exec."""

import os
import sys

from django.conf import settings

SANDBOX_SETTINGS = "sandbox.settings"


def ensure_sandbox_settings() -> None:
    """Replace this process with the same command under sandbox.settings, unless already there."""
    if settings.SETTINGS_MODULE == SANDBOX_SETTINGS:
        return
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": SANDBOX_SETTINGS}
    os.execve(sys.executable, [sys.executable, *sys.argv], env)  # noqa: S606


def migrate_quietly() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
