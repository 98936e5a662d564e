"""Resending the download e-mail: once per form, audited ahead, and never reported as failed when the
answer was only unclear.

- The form carries a one-time token (fileflare_admin.submissions): a second POST of the same form — a
  double click, Back and send, a retry — says when it was first sent and sends nothing.
- The audit entry is written before Fileflare is asked (audit.services.audited): no e-mail without an
  entry; if the entry cannot be written, nothing is sent.
- A timeout, a 5xx or an unreadable answer after the request went out is resolved by reading the order
  again: a newer "e-mail sent" time means it was sent; the same time means it was not; no answer at all
  leaves the outcome unknown, said as such, and the form's token stays spent.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import DatabaseError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.models import AuditEntry
from audit.registry import declare_write
from audit.services import CHECKED_AT_THE_API, OpenEntry, audited, says_outcome_unknown
from fileflare_admin.api import fileflare, types
from fileflare_admin.api.errors import ApiError, BadResponse, OutcomeUnknown, Unavailable
from fileflare_admin.submissions import new_submission_token, submission_claim, submission_release
from orders.identity import order_number_for_id
from orders_index.services import order_index_note, order_index_saw
from staff import roles

logger = logging.getLogger(__name__)
RESEND_PURPOSE = "order_resend"
EMAIL_RESEND = declare_write("email_resend", gettext_lazy("Resent download e-mail"))
UNCLEAR = (Unavailable, BadResponse)

__all__ = [
    "EMAIL_RESEND",
    "Resent",
    "new_submission_token",
    "order_get",
    "order_resend_email",
    "resend_check",
]


class ResendOutcomeUnknown(OutcomeUnknown):
    outcome_unknown = True
    default_message = gettext_lazy(
        "Fileflare did not answer clearly and the order could not be read again, so we cannot tell "
        "whether the e-mail was sent. Check the order's “Download e-mail sent” time before sending again."
    )


@dataclass(frozen=True)
class Resent:
    order: types.Order
    entry: AuditEntry
    checked: bool  # the answer was unclear; the order was read again to know it was sent


def order_get(*, order_id: str) -> types.Order:
    """One order with its files (the resend confirmation names it and shows when it was last sent); what
    Fileflare said goes into the order index at once."""
    fetched = fileflare.order_get(order_id=order_id)
    order_index_saw([fetched.value], fetched_at=fetched.fetched_at, stale=fetched.stale)
    return fetched.value


def _sent_at(moment: datetime | None) -> dict[str, str | None]:
    return {"email_sent_at": moment.isoformat() if moment else None}


def resend_check(*, order_id: str, sent_before: datetime | None) -> tuple[types.Order, bool]:
    """The order read again after a resend whose answer never came, and whether its e-mail went out:
    the one read-back of a resend, for a person's resend and a bulk fix's item whose worker stopped.
    It went out when the "e-mail sent" time moved past `sent_before` (read just before the send).
    Raises the API's errors when the order cannot be read."""
    now = fileflare.order_get(order_id=order_id, fresh=True).value
    sent = now.email_sent_at
    return now, sent is not None and (sent_before is None or sent > sent_before)


def _read_back(audit: OpenEntry, before: types.Order, unclear: ApiError) -> types.Order:
    """After an unclear answer: the order as Fileflare has it now, if the e-mail went; else raise."""
    try:
        now, went_out = resend_check(order_id=before.id, sent_before=before.email_sent_at)
    except ApiError as unreadable:
        raise ResendOutcomeUnknown() from unreadable
    audit.verified = CHECKED_AT_THE_API
    if went_out:
        return now
    raise Unavailable(
        _("%(what)s The e-mail was not sent (checked at the API): you can send it again.")
        % {"what": unclear.user_message},
        status=unclear.status,
        api=unclear.api,
    ) from unclear


def order_resend_email(
    *, actor: roles.AnyUser, order_id: str, reason: str = "", submission: str = ""
) -> Resent:
    """Send the download e-mail again, at most once per form (`submission`, its one-time token).

    Raises AlreadySubmitted (nothing sent), NotAllowed, AuditUnavailable (nothing sent), the API's
    errors (failed, or ResendOutcomeUnknown when it cannot be known)."""
    claim = submission_claim(submission, purpose=RESEND_PURPOSE)
    try:
        with audited(
            actor=actor,
            action=EMAIL_RESEND,
            order_id=order_id,
            order_number=order_number_for_id(order_id),
            reason=reason,
        ) as audit:
            roles.require(actor, "resend")
            current = fileflare.order_get(order_id=order_id).value
            audit.order_number = current.order_number
            audit.before = _sent_at(current.email_sent_at)
            audit.sent = True
            try:
                order = fileflare.order_send_email(order_id=order_id)
            except UNCLEAR as unclear:
                order = _read_back(audit, current, unclear)
            audit.after = _sent_at(order.email_sent_at)
    except BaseException as failure:
        if not says_outcome_unknown(failure):
            submission_release(claim)  # nothing was sent: the same form may be sent again
        raise
    try:
        order_index_note(order)  # the index shows the new e-mail time at once (the Orders page reads it)
    except DatabaseError as error:  # sent and audited: the sync brings the index up to date later
        logger.warning("order index not updated after a resend: %s", type(error).__name__)
    return Resent(order=order, entry=audit.entry, checked=bool(audit.verified))
