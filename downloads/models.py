from django.db import models


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

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order_number", "asset_id"], name="seen_limit_once")]

    def __str__(self) -> str:
        return f"{self.filename} on #{self.order_number}: {self.limit}"
