"""The order index: every order of the shop as the background sync last read it from Fileflare.

A copy kept so that looking an order up costs no request (Fileflare allows 60 a minute for the whole
shop). Each row says when Fileflare said what it holds (`seen_at`), so a page can show "as of" when the
copy is older than the read cache's lifetime. Rows belong to one shop: `shop` is the API identity (a hash
of Fileflare's address and key), so pointing the dashboard at another shop never shows this one's orders.
"""

from __future__ import annotations

from django.db import models

from background.models import ChainRow
from fileflare_admin.kept import KeptQuerySet


class IndexedOrder(models.Model):
    shop = models.CharField(max_length=16)
    order_id = models.CharField(max_length=36)  # Fileflare's UUID
    order_number = models.BigIntegerField()
    ordered_at = models.DateTimeField(null=True, blank=True)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    # The files attached to the order itself (not those that come through its products), as Fileflare
    # lists them with `with_assets`: [{"id", "filename", "size", "is_file", "is_link", "url"}].
    assets = models.JSONField(default=list, blank=True)
    seen_at = models.DateTimeField()

    objects = KeptQuerySet["IndexedOrder"].as_manager()  # its rows made in bulk change its kept reads too

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "order_id"], name="orders_index_one_row_per_order")
        ]
        indexes = [
            models.Index(fields=["shop", "order_number"], name="orders_index_number"),
            models.Index(fields=["shop", "-ordered_at"], name="orders_index_newest"),
            models.Index(fields=["shop", "email_sent_at"], name="orders_index_email"),
        ]
        ordering = ["-ordered_at", "-order_number"]

    def __str__(self) -> str:
        return f"#{self.order_number}"


class OrderSync(ChainRow):
    """Where the background sync of one shop stands, and the one step of it that is queued (the chain's
    fields, step_token, step_due_at and lease_until, come from background.models.ChainRow)."""

    shop = models.CharField(max_length=16, unique=True)
    # The walk of the whole order list, newest first: the next page to read (0 once the walk is done).
    next_page = models.PositiveIntegerField(default=1)
    last_page = models.PositiveIntegerField(null=True, blank=True)
    total = models.PositiveIntegerField(null=True, blank=True)  # orders Fileflare counted on the last read
    walk_started_at = models.DateTimeField(null=True, blank=True)
    walk_finished_at = models.DateTimeField(null=True, blank=True)
    newest_seen_at = models.DateTimeField(null=True, blank=True)  # the newest page, last read
    # The next of the newest ORDER_SYNC_FRESH_PAGES pages to re-read after the newest (0: none due).
    fresh_page = models.PositiveSmallIntegerField(default=0)
    calls = models.PositiveIntegerField(default=0)  # list reads made, cache hits included
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0)  # in a row, for the back-off

    def __str__(self) -> str:
        return f"order sync {self.shop}"
