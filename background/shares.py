"""The background's shares of the upstreams' budgets, each named here once.

A share is a number of requests a minute (a setting) that background work of one kind may spend at one
upstream, counted for every worker together under one budget name per upstream key. The order sync has
one at Fileflare; all bulk jobs together have one at each upstream, and one of Fileflare's e-mails.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from background import pacing
from fileflare_admin.api.http import DOWNLOADS, FILEFLARE, Api


@dataclass(frozen=True)
class Share:
    prefix: str
    api: Api  # whose key the share is counted under
    setting: str  # the setting that holds its requests a minute (0: no limit)

    def name(self) -> str:
        return f"{self.prefix}:{self.api.identity()}"

    def per_minute(self) -> int:
        return int(getattr(settings, self.setting))

    def wait(self, *, slots: int = 1) -> int | None:
        """Take `slots` from the share: None when taken, else the seconds to wait (background.pacing)."""
        return pacing.share_wait(self.name(), self.per_minute(), slots=slots)


ORDER_SYNC = Share("order-sync", FILEFLARE, "ORDER_SYNC_BUDGET_PER_MINUTE")
BULK_DOWNLOADS = Share("bulk-downloads", DOWNLOADS, "BULK_DOWNLOADS_BUDGET_PER_MINUTE")
BULK_FILEFLARE = Share("bulk-fileflare", FILEFLARE, "BULK_FILEFLARE_BUDGET_PER_MINUTE")
BULK_EMAIL = Share("bulk-email", FILEFLARE, "BULK_EMAIL_BUDGET_PER_MINUTE")
