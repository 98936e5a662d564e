"""The audit trail: one entry per staff action on upstream data, whether it went through or not.

An entry is written *before* the upstream call, with outcome `pending`, and closed once afterwards with
what is known: succeeded, failed, or outcome unknown (see audit.services.audited). That close is the one
change an entry ever sees: a guarded update from `pending` to a final outcome, done at most once.
Everything else is append-only: no edit, no deletion, through the model, its queryset or the admin.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from audit.registry import action_label, validate_action
from fileflare_admin import kept

APPEND_ONLY = "The audit trail is append-only: an entry is never changed or deleted."
# What closing a pending entry may fill in: what was learned during the write, and how it ended.
CLOSABLE_FIELDS = frozenset(
    {"before", "after", "order_number", "order_id", "download_id", "error", "verified", "finished_at"}
)


class AppendOnlyQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError(APPEND_ONLY)

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError(APPEND_ONLY)

    def close_pending(self, pk: int, *, outcome: str, **fields: Any) -> bool:
        """Give a pending entry its final outcome; False when it was not pending (already closed).

        The only update the trail allows: from `pending` to a final outcome, once, guarded in the
        database itself (the WHERE names the pending outcome), so two closes can never both apply.
        """
        if outcome not in AuditEntry.FINAL_OUTCOMES:
            raise PermissionError(f"An audit entry can only be closed with a final outcome, not {outcome!r}.")
        refused = set(fields) - CLOSABLE_FIELDS
        if refused:
            raise PermissionError(f"Closing an audit entry cannot change {', '.join(sorted(refused))}.")
        pending = models.QuerySet.filter(self, pk=pk, outcome=AuditEntry.Outcome.PENDING)
        closed = models.QuerySet.update(pending, outcome=outcome, **fields) == 1
        if closed:
            kept.changed(kept.AUDIT)  # an update: no signal says it
        return closed


class AuditEntry(models.Model):
    """One staff action on upstream data, whether it went through or not."""

    class Outcome(models.TextChoices):
        PENDING = "pending", pgettext_lazy("outcome", "Pending")
        SUCCESS = "success", pgettext_lazy("outcome", "Succeeded")
        FAILED = "failed", pgettext_lazy("outcome", "Failed")
        UNKNOWN = "unknown", _("Outcome unknown")

    FINAL_OUTCOMES = frozenset({Outcome.SUCCESS, Outcome.FAILED, Outcome.UNKNOWN})

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept beside the key so the trail still names the person after their account is removed.
    actor_name = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # A code some app registered (audit.registry): the trail lists no app's actions itself.
    action = models.CharField(max_length=32, db_index=True, validators=[validate_action])
    order_number = models.BigIntegerField(null=True, blank=True, db_index=True)
    order_id = models.CharField("order UUID", max_length=36, blank=True, db_index=True)
    download_id = models.CharField(max_length=64, blank=True, db_index=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    error = models.TextField(blank=True)
    # How the outcome is known when the answer itself was unclear ("checked at the API").
    verified = models.CharField(max_length=200, blank=True)
    undo_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="undone_by"
    )
    # The bulk fix this entry was written by (its number), blank for a person's own action.
    job_id = models.CharField("bulk fix", max_length=36, blank=True, db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.actor_name} · {self.action_label} · {self.get_outcome_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise PermissionError(APPEND_ONLY)
        validate_action(self.action)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError(APPEND_ONLY)

    @property
    def succeeded(self) -> bool:
        return self.outcome == self.Outcome.SUCCESS

    @property
    def pending(self) -> bool:
        return self.outcome == self.Outcome.PENDING

    @property
    def outcome_unknown(self) -> bool:
        return self.outcome == self.Outcome.UNKNOWN

    @property
    def action_label(self) -> str:
        return action_label(self.action)


class UndoClaim(models.Model):
    """ "Someone is undoing this entry": one row per entry, so two people can never undo it both.

    The undo itself is an upstream call (a create or a count change) that the database cannot roll
    back, so the claim is taken, in its own short transaction, before that call, and given back if the
    call fails. A claim whose undo succeeded stays, as a second guard beside the entry's `undone_by`.
    Not part of the trail itself: a claim may be released or taken over, an entry never changes.
    """

    entry = models.OneToOneField(
        AuditEntry, primary_key=True, on_delete=models.PROTECT, related_name="undo_claim"
    )
    actor_name = models.CharField(max_length=150)
    claimed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"undo of entry {self.entry_id} by {self.actor_name}"
