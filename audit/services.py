from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from audit.models import AuditEntry


def audit_record(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    order_number: int | None = None,
    order_id: str = "",
    download_id: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
    error: str | None = None,
    undo_of: AuditEntry | None = None,
) -> AuditEntry:
    """Append one entry to the trail. `error` is the sentence the person read; None means success."""
    user = actor if actor is not None and actor.is_authenticated else None
    return AuditEntry.objects.create(
        actor=user,
        actor_name=user.get_username() if user is not None else "system",
        action=action,
        order_number=order_number,
        order_id=order_id,
        download_id=download_id,
        before=before,
        after=after,
        reason=reason,
        outcome=AuditEntry.Outcome.SUCCESS if error is None else AuditEntry.Outcome.FAILED,
        error=error or "",
        undo_of=undo_of,
    )


def audit_entries_for_order(*, order_number: int, limit: int = 50) -> list[AuditEntry]:
    """The order's timeline: every entry that names it, newest first."""
    return list(AuditEntry.objects.filter(order_number=order_number).select_related("actor")[:limit])
