from django.db import models

from fileflare_admin.kept import KeptQuerySet


class SeenLimit(models.Model):
    """A file's download limit as one order's customer page showed it (Fileflare v2), kept so that other
    orders holding the same file have a limit before their own page is known (downloads.limits).

    One row per order and asset: in Fileflare a limit is the product's (or the shop's global one) and an
    order may override it, so the limit most orders showed is taken for the others. `limit` null: the page
    said the file has no limit. `file_key` is the file name as records match it (filenames.file_key)."""

    order_number = models.BigIntegerField()
    asset_id = models.CharField(max_length=64)
    filename = models.CharField(max_length=500)
    file_key = models.CharField(max_length=500, db_index=True)
    limit = models.PositiveIntegerField(null=True, blank=True)
    seen_at = models.DateTimeField()

    objects = KeptQuerySet["SeenLimit"].as_manager()  # its bulk writes change its kept reads too

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order_number", "asset_id"], name="seen_limit_once")]

    def __str__(self) -> str:
        return f"{self.filename} on #{self.order_number}: {self.limit}"


# What counts as a download (its one statement; downloads.history.DOWNLOADED and is_download say it to
# queries and to Python): a rise seen in a count, never the dashboard's own write (a fix, a give-back, an
# undo). A first sighting (delta None) is no download: what came before it is unknown.
DOWNLOADED = models.Q(delta__gt=0) & ~models.Q(source="write")


class CountChange(models.Model):
    """A change the dashboard saw in a download record's count: one row per change, never per look.

    `delta` is `count` minus the count known before (None for a record's first sighting when its earlier
    count is unknown; 0 for a first sighting at count 0, since nothing was downloaded yet). Downloads in
    a period are the positive deltas not made by staff (`downloads.history.DOWNLOADED`): a staff write
    that lowers a count is stored too, so the next snapshot does not take a reset for downloads.
    `hour` is `seen_at` cut to the hour (UTC), so a year's report groups by one indexed column.
    `latest` marks each record's newest row (`downloads.history.last_counts` reads only those); a record
    deleted (by the dashboard, or not found by a full snapshot) keeps its rows, none of them latest."""

    class Source(models.TextChoices):
        SNAPSHOT = "snapshot", "snapshot"
        READ = "read", "a page's read"
        WRITE = "write", "the dashboard's write"

    download_id = models.CharField(max_length=64)
    order_number = models.BigIntegerField()
    product_id = models.BigIntegerField()
    file_name = models.CharField(max_length=500)
    count = models.IntegerField()
    delta = models.IntegerField(null=True, blank=True)
    seen_at = models.DateTimeField()
    hour = models.DateTimeField()
    source = models.CharField(max_length=8, choices=Source.choices)
    latest = models.BooleanField(default=True)
    # On a record's latest row: the last time a snapshot found the count unchanged (the record still
    # exists). A full pass forgets the records that neither it nor the pass before found: they were deleted.
    confirmed_at = models.DateTimeField(null=True, blank=True)

    objects = KeptQuerySet["CountChange"].as_manager()  # its bulk writes change its kept reads too

    class Meta:
        indexes = [
            models.Index(fields=["seen_at"], name="count_change_seen"),
            # Downloads per hour, product or file read from this index alone (DOWNLOADED's rows only).
            models.Index(
                # `source` too: the ORM sends the condition's values as parameters, so SQLite reads each
                # row's source to check it unless the index holds it (bench/reports.py: 125 -> 43 ms).
                fields=["hour", "delta", "source", "product_id", "file_name"],
                condition=DOWNLOADED,
                name="count_change_downloads",
            ),
            models.Index(fields=["download_id", "seen_at"], name="count_change_record"),
            models.Index(fields=["order_number"], name="count_change_order"),
            models.Index(
                fields=["download_id"], condition=models.Q(latest=True), name="count_change_latest"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.download_id}: {self.count} ({self.delta:+d})" if self.delta is not None else (
            f"{self.download_id}: {self.count} (first seen)"
        )
