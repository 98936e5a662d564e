"""Bulk fixes: a job made from a dry run, and one row per download record (or order) it touches.

A job is planned first (state `draft`: the dry run, every item with its before → after), then run by a
chain of short background tasks (see background.chain), which survive a worker restart: every item
is marked `in_flight` before its write is sent, and an item found in flight is verified at the upstream
before anything else happens to it, never sent again blindly.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from background.models import ChainRow


class BulkJob(ChainRow):
    """A job, and its chain of steps (step_token, step_due_at, lease_until: background.models.ChainRow)."""

    class Kind(models.TextChoices):
        COUNT_RESET = "count_reset", "Reset the download count to 0"
        COUNT_SET = "count_set", "Set the download count to N"
        COUNT_GIVE = "count_give", "Give N more downloads"
        EMAIL_RESEND = "email_resend", "Resend the download e-mail"
        UNDO = "undo", "Undo of a bulk fix"

    class State(models.TextChoices):
        DRAFT = "draft", "Dry run"
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Running"
        DONE = "done", "Finished"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE = (State.QUEUED, State.RUNNING)
    FINISHED = (State.DONE, State.CANCELLED)

    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount = models.PositiveIntegerField(null=True, blank=True)  # N of "set to N" and "give N more"
    reason = models.TextField()
    # The filter as the person gave it, for the job's page and its CSV (see jobs.selection.Selection).
    selection = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.DRAFT, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_name = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    cancelled_by_name = models.CharField(max_length=150, blank=True)
    undo_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="undone_by"
    )
    # Why the job is waiting, when it is: the budget share is spent, or the upstream does not answer.
    waiting_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    failures = models.PositiveIntegerField(default=0)  # unclear upstream answers in a row (back-off)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"bulk fix #{self.pk}"

    @property
    def title(self) -> str:
        """What the job does, its N filled in: "Set the download count to 2", "Undo bulk fix #1"."""
        if self.kind == self.Kind.UNDO and self.undo_of_id:
            return f"Undo bulk fix #{self.undo_of_id}"
        if self.kind == self.Kind.COUNT_SET and self.amount is not None:
            return f"Set the download count to {self.amount}"
        if self.kind == self.Kind.COUNT_GIVE and self.amount is not None:
            return f"Give {self.amount} more download{'s' if self.amount != 1 else ''}"
        return self.get_kind_display()

    @property
    def filter_text(self) -> str:
        """The filter as the person gave it, its criteria joined by "; " (nothing after the last)."""
        chosen = self.selection or {}
        numbers = ", ".join(str(number) for number in chosen.get("order_numbers") or ())
        ids = chosen.get("download_ids") or ()
        parts = [
            f"{len(ids)} record{'s' if len(ids) != 1 else ''} chosen by download ID" if ids else "",
            f"orders {numbers[:199] + '…' if len(numbers) > 200 else numbers}" if numbers else "",
            f"product {chosen['product_id']}" if chosen.get("product_id") is not None else "",
            f"file name contains “{chosen['file_name']}”" if chosen.get("file_name") else "",
            f"count at least {chosen['count_at_least']}" if chosen.get("count_at_least") is not None else "",
            f"created from {chosen['created_from']}" if chosen.get("created_from") else "",
            f"created until {chosen['created_to']}" if chosen.get("created_to") else "",
        ]
        return "; ".join(part for part in parts if part)

    @property
    def is_email(self) -> bool:
        return self.kind == self.Kind.EMAIL_RESEND

    @property
    def finished(self) -> bool:
        return self.state in self.FINISHED

    @property
    def active(self) -> bool:
        return self.state in self.ACTIVE


class BulkJobItem(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Waiting"
        IN_FLIGHT = "in_flight", "Being sent"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"
        CANCELLED = "cancelled", "Not run (cancelled)"

    OPEN = (State.PENDING, State.IN_FLIGHT)

    job = models.ForeignKey(BulkJob, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    download_id = models.CharField(max_length=64, blank=True)  # blank for an e-mail resend
    order_number = models.BigIntegerField(null=True, blank=True)
    order_id = models.CharField(max_length=36, blank=True)  # Fileflare's UUID (resends)
    file_name = models.TextField(blank=True)
    product_id = models.BigIntegerField(null=True, blank=True)
    # Download counts: as the dry run saw it, and what the job sets.
    count_before = models.IntegerField(null=True, blank=True)
    count_after = models.IntegerField(null=True, blank=True)
    # Resends: when the e-mail was last sent, as the dry run saw it (None: never, or not known yet), and
    # as read again just before the send (what the check after a stopped worker compares with).
    email_sent_before = models.DateTimeField(null=True, blank=True)
    email_known = models.BooleanField(default=False)  # whether email_sent_before is known
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    note = models.TextField(blank=True)  # the sentence: how it went, or why not
    sent_at = models.DateTimeField(null=True, blank=True)  # when its write was (last) sent
    finished_at = models.DateTimeField(null=True, blank=True)
    # The audit entry of this item's write, and for an undo job the item it reverts.
    audit_entry = models.ForeignKey(
        "audit.AuditEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    undo_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="undone_by"
    )

    class Meta:
        ordering = ["job", "position"]
        constraints = [models.UniqueConstraint(fields=["job", "position"], name="jobs_item_position")]
        indexes = [models.Index(fields=["job", "state"], name="jobs_item_state")]

    def __str__(self) -> str:
        return f"item {self.position} of bulk fix #{self.job_id}"
