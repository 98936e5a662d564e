"""Who may do what: the one module that knows. Checked in the services, not only by hiding buttons.

| may…                               | action               | Support             | Merchant, Administrator |
|------------------------------------|----------------------|---------------------|-------------------------|
| see orders, records, the audit log | use_dashboard        | yes                 | yes                     |
| resend the download e-mail         | resend               | yes                 | yes                     |
| move a download count              | (see below)          | by at most the step | any amount              |
| edit a record's other fields       | edit                 | no                  | yes                     |
| create, delete, restore a record   | create, delete       | no                  | yes                     |
| see S3 keys                        | see_amazon_key       | no                  | yes                     |
| attach a file to an order          | attach               | yes                 | yes                     |
| detach a file from an order        | detach               | no                  | yes                     |
| run bulk fixes                     | run_bulk_fixes       | no                  | yes                     |
| change the shop's reply templates  | edit_reply_templates | no                  | yes                     |
| see the Reports page's customer    | view_reports         | yes                 | yes                     |
| lists and download figures         |                      |                     |                         |
| see staff activity (Reports)       | view_staff_activity  | no                  | yes                     |

Support's step is the setting SUPPORT_MAX_COUNT_STEP, read when asked. An account without a role may do
none of it. The table is RULES below (who may, and the sentence everyone else reads), with MOVE_ANY_COUNT
and MOVE_COUNT_BY_STEP for counts; everything else is read from them. Services call `require(user, action)`
and `require_count_change_allowed`, which raise NotAllowed; code that only asks calls `allows(user, action)`;
`permissions_for(user)` computes it all once per request's user, and templates read it as `may`
(`may.delete`, `may.run_bulk_fixes`; see staff.context_processors).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy
from django_stubs_ext import StrOrPromise

from fileflare_admin.counts import count_lowered
from fileflare_admin.numbers import grouped
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
    names = role_groups(user)
    if MERCHANT in names:
        return "merchant"
    if SUPPORT in names:
        return "support"
    return None


ROLE_GROUPS = frozenset({SUPPORT, MERCHANT})


def role_groups(user: AbstractUser) -> frozenset[str]:
    """The role groups (Support, Merchant) the account is in. A page asks several times (which buttons to
    show, then the service's own check): one query per user object, which Django makes afresh for every
    request, unless staff.middleware gave it what the person's session remembers (remember_role_groups)."""
    names = getattr(user, "_role_group_names", None)
    if names is None:
        names = ROLE_GROUPS.intersection(user.groups.values_list("name", flat=True))
        remember_role_groups(user, names)
    return frozenset(names)


def remember_role_groups(user: AbstractUser, names: frozenset[str]) -> None:
    setattr(user, "_role_group_names", names)  # noqa: B010  # a per-request memo on the user object


# What a role is called on the page (the groups keep their English names: SUPPORT, MERCHANT).
ROLE_LABELS: dict[str, StrOrPromise] = {
    "admin": pgettext_lazy("role", "Administrator"),
    "merchant": pgettext_lazy("role", "Merchant"),
    "support": pgettext_lazy("role", "Support"),
}


def role_label(user: AnyUser) -> str:
    """The person's role as the header names it, in the page's language."""
    return str(ROLE_LABELS.get(role_of(user) or "", pgettext_lazy("role", "No role")))


STAFF: frozenset[Role] = frozenset({"admin", "merchant", "support"})
EDITORS: frozenset[Role] = frozenset({"admin", "merchant"})

Action = Literal[
    "use_dashboard",
    "resend",
    "edit",
    "create",
    "delete",
    "see_amazon_key",
    "attach",
    "detach",
    "run_bulk_fixes",
    "edit_reply_templates",
    "view_reports",
    "view_staff_activity",
]


@dataclass(frozen=True)
class Rule:
    roles: frozenset[Role]  # the roles that may
    refusal: StrOrPromise  # the sentence everyone else reads, in their language when read


_ = gettext_lazy  # the refusals are read in the language of whoever is refused
RULES: dict[Action, Rule] = {
    "use_dashboard": Rule(STAFF, _("Your account has no role yet. Ask a merchant to give you one.")),
    "resend": Rule(STAFF, _("Only Support and Merchant staff can resend download e-mails.")),
    "edit": Rule(EDITORS, _("Only a Merchant can change a record's product, order, file or S3 key.")),
    "create": Rule(EDITORS, _("Only a Merchant can create download records.")),
    "delete": Rule(EDITORS, _("Only a Merchant can delete download records.")),
    "see_amazon_key": Rule(EDITORS, _("Only a Merchant can see S3 keys.")),
    "attach": Rule(STAFF, _("Only Support and Merchant staff can attach files to an order.")),
    "detach": Rule(EDITORS, _("Only a Merchant can detach files from an order.")),
    "run_bulk_fixes": Rule(EDITORS, _("Only a Merchant can run bulk fixes.")),
    "edit_reply_templates": Rule(EDITORS, _("Only a Merchant can change the shop's reply templates.")),
    "view_reports": Rule(STAFF, _("Your account has no role that may see the Reports page. Ask a merchant.")),
    "view_staff_activity": Rule(EDITORS, _("Only a Merchant can see what each member of staff did.")),
}
del _

# Moving a download count, the one rule with a size: these roles by any amount in one change, these by at
# most settings.SUPPORT_MAX_COUNT_STEP (read when asked, so a deploy or a test may change it), anyone else
# not at all.
MOVE_ANY_COUNT: frozenset[Role] = EDITORS
MOVE_COUNT_BY_STEP: frozenset[Role] = frozenset({"support"})


def allows(user: AnyUser, action: Action) -> bool:
    return role_of(user) in RULES[action].roles


def refusal(user: AnyUser, action: Action) -> str | None:
    """The sentence that refuses this person the action, or None when they may (an undo's refusal)."""
    return None if allows(user, action) else str(RULES[action].refusal)


def require(user: AnyUser, action: Action) -> None:
    """Raises NotAllowed, with the action's sentence, unless this person may."""
    refused = refusal(user, action)
    if refused is not None:
        raise NotAllowed(refused)


def max_count_step(user: AnyUser) -> int | None:
    """How far this person may move a download count in one change; None means no limit."""
    role = role_of(user)
    if role in MOVE_ANY_COUNT:
        return None
    if role in MOVE_COUNT_BY_STEP:
        return settings.SUPPORT_MAX_COUNT_STEP
    return 0


def _counts_within(step: int, count: int) -> tuple[int, int]:
    """The lowest and highest count a move of at most `step` from `count` reaches (never below 0)."""
    return count_lowered(count, by=step), count + step


def require_count_change_allowed(user: AnyUser, *, old: int, new: int) -> None:
    step = max_count_step(user)
    if step is None:
        return
    if step == 0:
        raise NotAllowed(gettext("Your account has no role that may change download counts."))
    if abs(new - old) > step:
        low, high = _counts_within(step, old)
        raise NotAllowed(
            gettext(
                "Support can move a download count by at most %(step)s at a time "
                "(from %(old)s, that is %(low)s to %(high)s). Ask a Merchant for a larger change."
            )
            % {"step": grouped(step), "old": grouped(old), "low": grouped(low), "high": grouped(high)}
        )


@dataclass(frozen=True)
class Permissions:
    """Everything a page may offer one person, computed once. The services check again on every write."""

    role: Role | None
    label: str
    max_count_step: int | None  # None: no limit

    def __getitem__(self, action: Action) -> bool:
        """`may.delete` in a template, `may["delete"]` in code. Django tries the key first: a name that is
        no action raises KeyError, and Django goes on to the attributes (`may.label`)."""
        return self.role in RULES[action].roles

    def count_range(self, count: int) -> tuple[int, int] | None:
        """The counts this person may set starting from `count` (None: any count)."""
        return None if self.max_count_step is None else _counts_within(self.max_count_step, count)

    @property
    def editable_fields(self) -> frozenset[str] | None:
        """The record fields this person may change; None means all of them."""
        return None if self["edit"] else frozenset({"download_count"})


def permissions_for(user: AnyUser) -> Permissions:
    """The person's Permissions, cached on the user object (Django makes one per request)."""
    cached = getattr(user, "_permissions", None)
    if isinstance(cached, Permissions):
        return cached
    permissions = Permissions(role=role_of(user), label=role_label(user), max_count_step=max_count_step(user))
    if user.is_authenticated:
        setattr(user, "_permissions", permissions)  # noqa: B010  # a per-request memo on the user object
    return permissions
