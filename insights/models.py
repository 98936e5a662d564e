from django.conf import settings
from django.db import models

from background.models import ChainRow


class DigestSent(models.Model):
    """One person's daily digest of one day (their own day, in their time zone): the row is claimed before
    the e-mail is sent, and its uniqueness is what sends it once however many workers find it due
    (insights.digest). `sent_at` is null while the claimed e-mail is being built and sent."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_to = models.CharField(max_length=254, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="digest_once_a_day")]

    def __str__(self) -> str:
        return f"digest of {self.day} for user {self.user_id}"


class CountSnapshots(ChainRow):
    """Where the background snapshots of the records' counts stand for one downloads API (insights.snapshots),
    and the one step of their chain that is queued (background.models.ChainRow's fields).

    Two passes: the full one reads every record (oldest first) every SNAPSHOT_FULL_EVERY_SECONDS; the
    recent one every SNAPSHOT_RECENT_EVERY_SECONDS reads the newest records back to SNAPSHOT_RECENT_HOURS,
    then one by one the orders e-mailed within those hours whose records are older (a resend)."""

    api = models.CharField(max_length=16, unique=True)  # the downloads API's identity (address and key)
    full_page = models.PositiveIntegerField(default=0)  # the full pass's next page (0: none under way)
    full_started_at = models.DateTimeField(null=True, blank=True)
    # The start of the pass before: records neither pass saw are forgotten (history.forget_unseen)
    full_before_started_at = models.DateTimeField(null=True, blank=True)
    full_finished_at = models.DateTimeField(null=True, blank=True)
    full_records = models.PositiveIntegerField(default=0)  # records read by the pass under way (or the last)
    recent_page = models.PositiveIntegerField(default=0)  # the recent pass's next page of the newest
    recent_orders = models.JSONField(default=list, blank=True)  # order numbers the recent pass reads next
    recent_started_at = models.DateTimeField(null=True, blank=True)
    recent_finished_at = models.DateTimeField(null=True, blank=True)
    recent_records = models.PositiveIntegerField(default=0)
    calls = models.PositiveIntegerField(default=0)  # list reads made
    changes = models.PositiveIntegerField(default=0)  # count changes stored (downloads.history)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0)  # in a row, for the back-off

    def __str__(self) -> str:
        return f"count snapshots {self.api}"


class SuspectBurst(models.Model):
    """A link-scanner suspect (downloads.suspects) as the last scan of the counts' history found it, kept
    so that the Reports page and the digest read a year of them in one indexed query
    (insights.suspects.suspects_refresh writes them; a burst that grows is updated in place)."""

    download_id = models.CharField(max_length=64)
    order_number = models.BigIntegerField()
    order_id = models.CharField(max_length=36, blank=True)  # Fileflare's, where the index knew it
    file_name = models.CharField(max_length=500)
    rule = models.CharField(max_length=8)  # "email" or "hour"
    since = models.DateTimeField()  # the e-mail, or the sighting before the hour's first
    last_seen = models.DateTimeField()
    downloads = models.PositiveIntegerField()
    minutes = models.PositiveIntegerField()
    per_hour = models.PositiveIntegerField(default=0)
    evidence = models.JSONField(default=list)  # [[seen_at ISO, count, delta], ...], oldest first

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["download_id", "rule", "since"], name="suspect_burst_once")
        ]
        indexes = [models.Index(fields=["last_seen"], name="suspect_burst_seen")]

    def __str__(self) -> str:
        return f"{self.download_id}: {self.downloads} downloads ({self.rule})"


class SuspectScan(models.Model):
    """How far the scan for suspects has read the counts' history (one row): the newest CountChange it
    read, and when it finished (the suspects' "as of")."""

    last_change = models.BigIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"suspects scanned up to change #{self.last_change}"
