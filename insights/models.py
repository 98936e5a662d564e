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
