"""`python manage.py check_upstreams`: are both APIs usable with the configured settings?"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fileflare_admin.api.checks import check_downloads, check_fileflare, check_upstreams


class Command(BaseCommand):
    help = (
        "Check Fileflare's API and the downloads API with the configured settings: reachable, key accepted, "
        "routes exist, answers parse, clock skew, rate-limit headers. One line per check; exits 1 on a "
        "failure. Reads only (about ten requests, six of them to Fileflare)."
    )
    requires_system_checks: list[str] = []  # a broken setting elsewhere must not hide the upstreams' state

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--api", choices=("fileflare", "downloads"), help="check only this API")

    def handle(self, *args: Any, api: str | None = None, **options: Any) -> None:
        checks = {"fileflare": check_fileflare, "downloads": check_downloads}
        results = checks[api]() if api else check_upstreams()
        for result in results:
            style = {"ok": self.style.SUCCESS, "warn": self.style.WARNING, "fail": self.style.ERROR}
            self.stdout.write(style.get(result.status, str)(result.line()))
        failed = [result for result in results if result.failed]
        if failed:
            raise CommandError(
                f"{len(failed)} check{'s' if len(failed) != 1 else ''} failed "
                f"({'; '.join(f'{result.api}: {result.name}' for result in failed)}). See the lines above."
            )
        warned = sum(result.status == "warn" for result in results)
        note = f", {warned} to look at" if warned else ""
        self.stdout.write(f"No check failed ({len(results)} run{note}).")
