"""Who may do what: the one module that knows. Checked in the services, not only by hiding buttons.

| may…                                        | Support                      | Merchant, Administrator |
|---------------------------------------------|------------------------------|-------------------------|
| see orders, records, the audit log          | yes                          | yes                     |
| resend the download e-mail                  | yes                          | yes                     |
| move a download count                       | by SUPPORT_MAX_COUNT_STEP    | any amount              |
| edit a record's other fields                | no                           | yes                     |
| create, delete, restore a record            | no                           | yes                     |
| see S3 keys                                 | no                           | yes                     |
| attach a file to an order                   | yes                          | yes                     |
| detach a file from an order                 | no                           | yes                     |

`permissions_for(user)` computes all of it once per request's user; templates read it as `may`
(see staff.context_processors), services call the `require_…` functions, which raise NotAllowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.core.exceptions import PermissionDenied

from fileflare_admin.sentences import UserFacingError

SUPPORT = "Support"
MERCHANT = "Merchant"

Role = Literal["admin", "merchant", "support"]
AnyUser = AbstractUser | AnonymousUser


def as_person(actor: AbstractBaseUser | AnonymousUser | None) -> AnyUser:
    """Whoever asks (an undo's actor, say) as the role checks take them: no account is nobody, refused
    by every check."""
    return actor if isinstance(actor, AbstractUser | AnonymousUser) else AnonymousUser()


class NotAllowed(UserFacingError, PermissionDenied):
    """A refused action; `user_message` is the sentence shown to the person (on our 403 page)."""


def role_of(user: AnyUser) -> Role | None:
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return "admin"
    # A page asks several times (which buttons to show, then the service's own check): one query per
    # user object, which Django makes afresh for every request.
    names = getattr(user, "_role_group_names", None)
    if names is None:
        names = frozenset(group.name for group in user.groups.all())
        setattr(user, "_role_group_names", names)  # noqa: B010  # a per-request memo on the user object
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


def can_attach(user: AnyUser) -> bool:
    return role_of(user) in ("admin", "merchant", "support")


def can_detach(user: AnyUser) -> bool:
    return role_of(user) in ("admin", "merchant")


def require_can_attach(user: AnyUser) -> None:
    _require_role(
        user,
        {"admin", "merchant", "support"},
        "Only Support and Merchant staff can attach files to an order.",
    )


def require_can_detach(user: AnyUser) -> None:
    _require_role(user, {"admin", "merchant"}, "Only a Merchant can detach files from an order.")


def count_range(user: AnyUser, count: int) -> tuple[int, int] | None:
    """The counts this person may set starting from `count` (None: any count)."""
    step = max_count_step(user)
    if step is None:
        return None
    return max(count - step, 0), count + step


@dataclass(frozen=True)
class Permissions:
    """Everything a page may offer one person, computed once. The services check again on every write."""

    role: Role | None
    label: str
    can_resend: bool
    can_create: bool
    can_edit: bool  # fields other than the download count
    can_delete: bool
    can_see_amazon_key: bool
    can_attach: bool
    can_detach: bool
    max_count_step: int | None  # None: no limit

    def count_range(self, count: int) -> tuple[int, int] | None:
        if self.max_count_step is None:
            return None
        return max(count - self.max_count_step, 0), count + self.max_count_step

    @property
    def editable_fields(self) -> frozenset[str] | None:
        """The record fields this person may change; None means all of them."""
        return None if self.can_edit else frozenset({"download_count"})


def permissions_for(user: AnyUser) -> Permissions:
    """The person's Permissions, cached on the user object (Django makes one per request)."""
    cached = getattr(user, "_permissions", None)
    if isinstance(cached, Permissions):
        return cached
    role = role_of(user)
    merchant = role in ("admin", "merchant")
    staff = role is not None
    permissions = Permissions(
        role=role,
        label=role_label(user),
        can_resend=staff,
        can_create=merchant,
        can_edit=merchant,
        can_delete=merchant,
        can_see_amazon_key=merchant,
        can_attach=staff,
        can_detach=merchant,
        max_count_step=max_count_step(user),
    )
    if user.is_authenticated:
        setattr(user, "_permissions", permissions)  # noqa: B010  # a per-request memo on the user object
    return permissions
