"""The shop's own wording of its support replies: one template per situation, edited by a Merchant,
each change audited (the text before and after) like every other change staff make."""

from dataclasses import dataclass
from typing import cast

from django.db import transaction

from audit.models import AuditEntry
from audit.registry import declare_write
from audit.services import audited
from fileflare_admin.sentences import UserFacingError
from orders.models import ReplyTemplate
from orders.reply_text import DEFAULT_REPLIES, REPLY_PLACEHOLDERS, Situation, unknown_placeholders
from staff import roles

MAX_LENGTH = 5000
REPLY_TEMPLATE_EDIT = declare_write("reply_template_edit", "Changed a support reply")


class BadTemplate(UserFacingError):
    """The text cannot be a reply template; `user_message` says why. Nothing was saved."""


@dataclass(frozen=True)
class ReplyTemplateText:
    situation: Situation
    label: str
    body: str
    edited: bool  # the shop's own wording, not the default


def reply_templates() -> list[ReplyTemplateText]:
    """Every situation's reply, in the order the page lists them."""
    saved = dict(ReplyTemplate.objects.values_list("situation", "body"))
    return [
        ReplyTemplateText(
            situation=cast(Situation, value),
            label=str(label),
            body=saved.get(value, DEFAULT_REPLIES[cast(Situation, value)]),
            edited=value in saved,
        )
        for value, label in ReplyTemplate.Situation.choices
    ]


def _check(body: str) -> str:
    body = body.replace("\r\n", "\n").strip()
    if not body:
        raise BadTemplate("A reply cannot be empty: write the reply, or put the default back.")
    if len(body) > MAX_LENGTH:
        raise BadTemplate(f"A reply is at most {MAX_LENGTH} characters long; this one has {len(body)}.")
    unknown = unknown_placeholders(body)
    if unknown:
        names = ", ".join(f"{{{name}}}" for name in unknown)
        known = ", ".join(f"{{{name}}}" for name in REPLY_PLACEHOLDERS)
        raise BadTemplate(f"The reply names {names}, which it cannot fill. It can use {known}.")
    return body


@dataclass(frozen=True)
class SavedReply:
    template: ReplyTemplateText
    entry: AuditEntry


def reply_template_save(
    *, actor: roles.AnyUser, situation: Situation, body: str | None, reason: str = ""
) -> SavedReply:
    """Save the shop's wording of one reply (None puts the default back). Audited ahead, Merchant only;
    raises NotAllowed, BadTemplate, AuditUnavailable (nothing saved)."""
    current = next(template for template in reply_templates() if template.situation == situation)
    with audited(
        actor=actor,
        action=REPLY_TEMPLATE_EDIT,
        before={"situation": situation, "body": current.body, "edited": current.edited},
        reason=reason,
    ) as audit:
        roles.require(actor, "edit_reply_templates")
        text = DEFAULT_REPLIES[situation] if body is None else _check(body)
        with transaction.atomic():
            if body is None:
                ReplyTemplate.objects.filter(situation=situation).delete()
            else:
                ReplyTemplate.objects.update_or_create(
                    situation=situation,
                    defaults={"body": text, "updated_by_id": actor.pk if actor.is_authenticated else None},
                )
        audit.after = {"situation": situation, "body": text, "edited": body is not None}
    saved = ReplyTemplateText(situation=situation, label=current.label, body=text, edited=body is not None)
    return SavedReply(template=saved, entry=audit.entry)
