"""`python manage.py check_upstreams`: are both APIs usable with the configured settings? Its lines are in
the shop's language (LANGUAGE_CODE, Django's default in a command); its --help stays English."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

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
            which = "; ".join(f"{result.api}: {result.label}" for result in failed)
            raise CommandError(
                ngettext(
                    "%(count)s check failed (%(which)s). See the lines above.",
                    "%(count)s checks failed (%(which)s). See the lines above.",
                    len(failed),
                )
                % {"count": len(failed), "which": which}
            )
        warned = sum(result.status == "warn" for result in results)
        if warned:
            self.stdout.write(
                _("No check failed (%(count)s run, %(warned)s to look at).")
                % {"count": len(results), "warned": warned}
            )
        else:
            self.stdout.write(_("No check failed (%(count)s run).") % {"count": len(results)})
