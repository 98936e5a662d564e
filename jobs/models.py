"""Bulk fixes: a job made from a dry run, and one row per download record (or order) it touches.

A job is planned first (state `draft`: the dry run, every item with its before → after), then run by a
chain of short background tasks (see background.chain), which survive a worker restart: every item
is marked `in_flight` before its write is sent, and an item found in flight is verified at the upstream
before anything else happens to it, never sent again blindly.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from background.models import ChainRow
from fileflare_admin.numbers import grouped
from jobs import notes


class BulkJob(ChainRow):
    """A job, and its chain of steps (step_token, step_due_at, lease_until: background.models.ChainRow)."""

    class Kind(models.TextChoices):
        COUNT_RESET = "count_reset", gettext_lazy("Reset the download count to 0")
        COUNT_SET = "count_set", gettext_lazy("Set the download count to N")
        COUNT_GIVE = "count_give", gettext_lazy("Give N more downloads")
        EMAIL_RESEND = "email_resend", gettext_lazy("Resend the download e-mail")
        UNDO = "undo", gettext_lazy("Undo of a bulk fix")

    class State(models.TextChoices):
        DRAFT = "draft", gettext_lazy("Dry run")
        QUEUED = "queued", gettext_lazy("Waiting for a worker")
        RUNNING = "running", gettext_lazy("Running")
        DONE = "done", gettext_lazy("Finished")
        CANCELLED = "cancelled", pgettext_lazy("job", "Cancelled")

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
    last_error = models.TextField(blank=True)  # in English, for the admin; the page says error_said
    error_said = models.JSONField(default=dict, blank=True)  # jobs.notes: said in the reader's language
    failures = models.PositiveIntegerField(default=0)  # unclear upstream answers in a row (back-off)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"bulk fix #{self.pk}"

    @property
    def title(self) -> str:
        """What the job does, its N filled in: "Set the download count to 2", "Undo bulk fix #1"."""
        if self.kind == self.Kind.UNDO and self.undo_of_id:
            return _("Undo bulk fix #%(number)s") % {"number": self.undo_of_id}
        if self.kind == self.Kind.COUNT_SET and self.amount is not None:
            return _("Set the download count to %(count)s") % {"count": grouped(self.amount)}
        if self.kind == self.Kind.COUNT_GIVE and self.amount is not None:
            return ngettext("Give %(count)s more download", "Give %(count)s more downloads", self.amount) % {
                "count": grouped(self.amount)
            }
        return str(self.get_kind_display())

    @property
    def last_error_text(self) -> str:
        """Why the job waits or stopped, in the reader's language (jobs.notes); "" when nothing went wrong."""
        return notes.say(self.error_said) if self.error_said else self.last_error

    @property
    def filter_text(self) -> str:
        """The filter as the person gave it, its criteria joined by "; " (nothing after the last)."""
        chosen = self.selection or {}
        numbers = ", ".join(str(number) for number in chosen.get("order_numbers") or ())
        ids = chosen.get("download_ids") or ()
        parts = [
            ngettext(
                "%(count)s record chosen by download ID", "%(count)s records chosen by download ID", len(ids)
            )
            % {"count": grouped(len(ids))}
            if ids
            else "",
            _("orders %(numbers)s") % {"numbers": numbers[:199] + "…" if len(numbers) > 200 else numbers}
            if numbers
            else "",
            _("product %(id)s") % {"id": chosen["product_id"]}
            if chosen.get("product_id") is not None
            else "",
            _("file name contains “%(text)s”") % {"text": chosen["file_name"]}
            if chosen.get("file_name")
            else "",
            _("count at least %(count)s") % {"count": grouped(chosen["count_at_least"])}
            if chosen.get("count_at_least") is not None
            else "",
            _("created from %(day)s") % {"day": chosen["created_from"]} if chosen.get("created_from") else "",
            _("created until %(day)s") % {"day": chosen["created_to"]} if chosen.get("created_to") else "",
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
        PENDING = "pending", gettext_lazy("Waiting")
        IN_FLIGHT = "in_flight", gettext_lazy("Being sent")
        DONE = "done", pgettext_lazy("item", "Done")
        FAILED = "failed", pgettext_lazy("item", "Failed")
        SKIPPED = "skipped", pgettext_lazy("item", "Skipped")
        CANCELLED = "cancelled", gettext_lazy("Not run (cancelled)")

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
    note = models.TextField(blank=True)  # the sentence: how it went, or why not (English; see `said`)
    said = models.JSONField(default=dict, blank=True)  # the same, said in the reader's language (jobs.notes)
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

    @property
    def note_text(self) -> str:
        """How it went, or why not, in the reader's language (jobs.notes)."""
        return notes.say(self.said) if self.said else self.note
