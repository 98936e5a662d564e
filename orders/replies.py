"""The shop's own wording of its support replies: one template per situation and language (a reply is
written in the customer's language), edited by a Merchant, each change audited (the text before and
after, and its language) like every other change staff make. A language the shop has not reworded
uses the dashboard's default wording in that language."""

import functools
from dataclasses import dataclass
from typing import cast

from django.db import connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.models import AuditEntry
from audit.registry import declare_write
from audit.services import audited
from fileflare_admin import kept
from fileflare_admin.numbers import grouped
from fileflare_admin.sentences import UserFacingError
from orders.models import ReplyTemplate
from orders.reply_text import REPLY_PLACEHOLDERS, Situation, default_reply, unknown_placeholders
from staff import roles

MAX_LENGTH = 5000
REPLY_TEMPLATE_EDIT = declare_write("reply_template_edit", gettext_lazy("Changed a support reply"))


class BadTemplate(UserFacingError):
    """The text cannot be a reply template; `user_message` says why. Nothing was saved."""


@dataclass(frozen=True)
class ReplyTemplateText:
    situation: Situation
    language: str
    label: str
    body: str
    edited: bool  # the shop's own wording, not the default


def reply_template(situation: Situation, language: str) -> str:
    """The shop's wording of this reply in `language`, or the default wording in that language."""
    body = reply_bodies(language).get(situation)
    return body if body is not None else default_reply(situation, language)


def reply_bodies(language: str) -> dict[str, str]:
    """The shop's own wording of each reply it reworded in `language` (situation → body): one query, kept
    until a reply is saved (fileflare_admin.kept). The order page reads it while its records are on their
    way, before its diagnosis has picked the reply (issue 28)."""

    def query() -> dict[str, str]:
        with connection.cursor() as cursor:  # SQL: the order page reads it on every load (issue 28)
            cursor.execute(_bodies_sql(), [language])
            return dict(cursor.fetchall())

    return kept.read(kept.REPLIES, ("replies", language), query)


@functools.cache
def _bodies_sql() -> str:
    table = connection.ops.quote_name(ReplyTemplate._meta.db_table)
    return f"SELECT situation, body FROM {table} WHERE language = %s"  # noqa: S608  # a row a situation


def reply_templates(language: str) -> list[ReplyTemplateText]:
    """Every situation's reply in `language`, in the order the page lists them (labels in the active
    language: the staff member's)."""
    saved = dict(ReplyTemplate.objects.filter(language=language).values_list("situation", "body"))
    return [
        ReplyTemplateText(
            situation=cast(Situation, value),
            language=language,
            label=str(label),
            body=saved.get(value) or default_reply(cast(Situation, value), language),
            edited=value in saved,
        )
        for value, label in ReplyTemplate.Situation.choices
    ]


def _check(body: str) -> str:
    body = body.replace("\r\n", "\n").strip()
    if not body:
        raise BadTemplate(_("A reply cannot be empty: write the reply, or put the default back."))
    if len(body) > MAX_LENGTH:
        raise BadTemplate(
            _("A reply is at most %(most)s characters long; this one has %(count)s.")
            % {"most": grouped(MAX_LENGTH), "count": grouped(len(body))}
        )
    unknown = unknown_placeholders(body)
    if unknown:
        names = ", ".join(f"{{{name}}}" for name in unknown)
        known = ", ".join(f"{{{name}}}" for name in REPLY_PLACEHOLDERS)
        raise BadTemplate(
            _("The reply names %(names)s, which it cannot fill. It can use %(known)s.")
            % {"names": names, "known": known}
        )
    return body


@dataclass(frozen=True)
class SavedReply:
    template: ReplyTemplateText
    entry: AuditEntry


def reply_template_save(
    *, actor: roles.AnyUser, situation: Situation, language: str, body: str | None, reason: str = ""
) -> SavedReply:
    """Save the shop's wording of one reply in one language (None puts that language's default back);
    the other languages' wordings are left as they are. Audited ahead, Merchant only; raises NotAllowed,
    BadTemplate, AuditUnavailable (nothing saved)."""
    current = next(template for template in reply_templates(language) if template.situation == situation)
    with audited(
        actor=actor,
        action=REPLY_TEMPLATE_EDIT,
        before={"situation": situation, "language": language, "body": current.body, "edited": current.edited},
        reason=reason,
    ) as audit:
        roles.require(actor, "edit_reply_templates")
        text = default_reply(situation, language) if body is None else _check(body)
        with transaction.atomic():
            if body is None:
                ReplyTemplate.objects.filter(situation=situation, language=language).delete()
            else:
                ReplyTemplate.objects.update_or_create(
                    situation=situation,
                    language=language,
                    defaults={"body": text, "updated_by_id": actor.pk if actor.is_authenticated else None},
                )
        audit.after = {"situation": situation, "language": language, "body": text, "edited": body is not None}
    saved = ReplyTemplateText(
        situation=situation, language=language, label=current.label, body=text, edited=body is not None
    )
    return SavedReply(template=saved, entry=audit.entry)
