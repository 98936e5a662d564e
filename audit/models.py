from django.conf import settings
from django.db import models


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: object) -> int:
        raise PermissionError("The audit trail is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("The audit trail is append-only.")


class AuditEntry(models.Model):
    """One staff action on upstream data, whether it went through or not. Append-only."""

    class Action(models.TextChoices):
        EMAIL_RESEND = "email_resend", "Resent download e-mail"
        RECORD_CREATE = "record_create", "Created download record"
        RECORD_UPDATE = "record_update", "Edited download record"
        RECORD_COUNT = "record_count", "Changed download count"
        RECORD_DELETE = "record_delete", "Deleted download record"
        COUNT_REVERT = "count_revert", "Reverted download count"
        RECORD_RESTORE = "record_restore", "Restored deleted record"

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Success"
        FAILED = "failed", "Failed"

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept beside the key so the trail still names the person after their account is removed.
    actor_name = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=32, choices=Action.choices, db_index=True)
    order_number = models.BigIntegerField(null=True, blank=True, db_index=True)
    order_id = models.CharField("order UUID", max_length=36, blank=True, db_index=True)
    download_id = models.CharField(max_length=64, blank=True, db_index=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    error = models.TextField(blank=True)
    undo_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="undone_by"
    )

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.actor_name} · {self.get_action_display()} · {self.get_outcome_display()}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None and not self._state.adding:
            raise PermissionError("The audit trail is append-only: an entry is never changed.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise PermissionError("The audit trail is append-only: an entry is never deleted.")

    @property
    def succeeded(self) -> bool:
        return self.outcome == self.Outcome.SUCCESS

    @property
    def count_change(self) -> tuple[int, int] | None:
        """(before, after) download count when this entry moved (or tried to move) a count."""
        before = self.before if isinstance(self.before, dict) else {}
        after = self.after if isinstance(self.after, dict) else {}
        old, new = before.get("download_count"), after.get("download_count")
        if isinstance(old, int) and isinstance(new, int) and old != new:
            return old, new
        return None


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
