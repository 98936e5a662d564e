import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from sandbox.management.commands._sandbox_process import ensure_sandbox_settings, migrate_quietly


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # the sandbox must start whatever state the dashboard is in
    help = "Serve the sandbox (stand-in for the Fileflare and downloads APIs). Default 127.0.0.1:8001."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8001")

    def handle(self, *args: Any, addrport: str, **options: Any) -> None:
        ensure_sandbox_settings()
        from django.conf import settings
        from django.core.servers.basehttp import get_internal_wsgi_application, run

        from sandbox import seed
        from sandbox.middleware import stopping
        from sandbox.models import Order

        host, _, port = addrport.rpartition(":")
        host = host or "127.0.0.1"
        migrate_quietly()
        if not Order.objects.exists():
            made = seed.seed()
            self.stdout.write(f"Seeded the demo shop: {made['orders']} orders in {made['seconds']} s.")
        self.stdout.write(
            f"Sandbox on http://{host}:{port}/ (that page lists its pages) — Fileflare at /api "
            f"(Bearer $SANDBOX_FILEFLARE_KEY), "
            f"downloads at /easycart (Bearer $SANDBOX_DOWNLOADS_TOKEN), outbox at /_sandbox/outbox/view/. "
            f"Rate limit {settings.SANDBOX_RATE_LIMIT}/min (e-mail {settings.SANDBOX_EMAIL_RATE_LIMIT}/min)."
        )

        def stop(signum: int, frame: object) -> None:
            stopping.set()
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)
        if settings.SANDBOX_TRICKLE_SECONDS > 0:
            from sandbox.trickle import run_in_background

            run_in_background(
                every_seconds=settings.SANDBOX_TRICKLE_SECONDS,
                stopping=stopping,
                seed=settings.SANDBOX_TRICKLE_SEED,
            )
            self.stdout.write(
                f"Downloads happen by themselves: a step every {settings.SANDBOX_TRICKLE_SECONDS:g} s "
                "(/_sandbox/download-events lists them)."
            )
        try:
            run(host, int(port), get_internal_wsgi_application(), threading=True, ipv6=False)
        except KeyboardInterrupt:
            stopping.set()
