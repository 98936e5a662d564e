"""Who may do what. Checked in the services, not only by hiding buttons.

Support sees everything, resends e-mails and moves a download count by at most SUPPORT_MAX_COUNT_STEP.
Merchant (and any superuser) may do everything, including creating and deleting download records.
"""

from typing import Literal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied

SUPPORT = "Support"
MERCHANT = "Merchant"

Role = Literal["admin", "merchant", "support"]
AnyUser = AbstractBaseUser | AnonymousUser


class NotAllowed(PermissionDenied):
    """A refused action; str() is the sentence shown to the person."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.user_message = sentence

    def __str__(self) -> str:
        return self.user_message


def role_of(user: AnyUser) -> Role | None:
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return "admin"
    # A page asks several times (which buttons to show, then the service's own check): one query per
    # user object, which Django makes afresh for every request.
    names = getattr(user, "_role_group_names", None)
    if names is None:
        names = frozenset(group.name for group in user.groups.all())  # type: ignore[union-attr]
        user._role_group_names = names  # type: ignore[union-attr]
    if MERCHANT in names:
        return "merchant"
    if SUPPORT in names:
        return "support"
    return None


def role_label(user: AnyUser) -> str:
    return {"admin": "Administrator", "merchant": "Merchant", "support": "Support"}.get(
        role_of(user) or "", "No role"
    )


def _require_role(user: AnyUser, allowed: set[Role], sentence: str) -> None:
    if role_of(user) not in allowed:
        raise NotAllowed(sentence)


def require_staff(user: AnyUser) -> None:
    _require_role(
        user,
        {"admin", "merchant", "support"},
        "Your account has no role yet. Ask a merchant to give you one.",
    )


def require_can_resend(user: AnyUser) -> None:
    _require_role(
        user, {"admin", "merchant", "support"}, "Only Support and Merchant staff can resend download e-mails."
    )


def require_can_create(user: AnyUser) -> None:
    _require_role(user, {"admin", "merchant"}, "Only a Merchant can create download records.")


def require_can_delete(user: AnyUser) -> None:
    _require_role(user, {"admin", "merchant"}, "Only a Merchant can delete download records.")


def require_can_edit(user: AnyUser) -> None:
    """Editing fields other than the download count."""
    _require_role(
        user, {"admin", "merchant"}, "Only a Merchant can change a record's product, order, file or S3 key."
    )


def max_count_step(user: AnyUser) -> int | None:
    """How far this person may move a download count in one change; None means no limit."""
    role = role_of(user)
    if role in ("admin", "merchant"):
        return None
    if role == "support":
        return settings.SUPPORT_MAX_COUNT_STEP
    return 0


def require_count_change_allowed(user: AnyUser, *, old: int, new: int) -> None:
    step = max_count_step(user)
    if step is None:
        return
    if step == 0:
        raise NotAllowed("Your account has no role that may change download counts.")
    if abs(new - old) > step:
        raise NotAllowed(
            f"Support can move a download count by at most {step} at a time "
            f"(from {old}, that is {max(old - step, 0)} to {old + step}). Ask a Merchant for a larger change."
        )


def can_see_amazon_key(user: AnyUser) -> bool:
    return role_of(user) in ("admin", "merchant")


def can_create(user: AnyUser) -> bool:
    return role_of(user) in ("admin", "merchant")


can_delete = can_create
can_edit = can_create
