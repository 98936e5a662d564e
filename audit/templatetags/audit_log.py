"""Template helpers for the audit log."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django import template
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from audit.changes import cut_around_difference
from audit.registry import audit_action
from fileflare_admin import fragments
from fileflare_admin.templatetags.display import printable, readable

register = template.Library()

MASKED = _("•••••• (hidden)")


def _nothing() -> frozenset[str]:
    """The values that say there is nothing (audit.changes writes them): shown even for a secret."""
    return frozenset({"—", str(_("(empty)"))})


def _grants(may: Any, permission: str) -> bool:
    """`may.<permission>` as a template reads it: the key first, then the attribute."""
    try:
        return bool(may[permission])
    except (KeyError, TypeError):
        return bool(getattr(may, permission, False))


@register.filter
def masked(change: Any, may: Any) -> Any:
    """The change as this person may see it: a secret's values hidden unless `may` (the signed-in
    person's permissions, from the context processor) has the permission the field's app registered for
    it (audit.registry.register_secret_field), so the audit app names no permission itself. An empty value
    stays visible: that it was empty is no secret."""
    secret = getattr(change, "secret", "")
    if not secret or _grants(may, secret):
        return change
    return replace(
        change,
        before=change.before if change.before in _nothing() else str(MASKED),
        after=change.after if change.after in _nothing() else str(MASKED),
    )


@register.filter
def shown_apart(change: Any, length: int = 40) -> tuple[str, str]:
    """A change's before and after as read, each cut so that where they differ shows."""
    return cut_around_difference(
        printable(readable(change.before)), printable(readable(change.after)), int(length)
    )


@register.filter
def headline(entry: Any) -> tuple[Any, Any] | None:
    """The change an entry made in brief, (before, after), as its app states it (its `headline`)."""
    action = audit_action(getattr(entry, "action", ""))
    return action.headline(entry) if action is not None and action.headline is not None else None


@register.filter
def reason_read(entry: Any) -> str:
    """An entry's reason as the reader reads it: one its app wrote itself (a give-back's "Possible link
    scanner: …", kept in English) in the reader's language, a person's as they typed it."""
    reason = str(getattr(entry, "reason", "") or "")
    action = audit_action(getattr(entry, "action", ""))
    if reason and action is not None and action.reason_read is not None:
        return action.reason_read(reason) or reason
    return reason


TIMELINE_ENTRY = "audit/_timeline_entry.html"


@register.simple_tag(takes_context=True)
def timeline_rows(context: template.Context, entries: Any) -> SafeString:
    """An order's History: TIMELINE_ENTRY for each entry, each cached (fileflare_admin.fragments) by the
    entry with every field the trail holds (a pending entry closed is a new version) and the undos of it
    (who, and whether each went through), with the viewer's time zone."""
    items = []
    for entry in entries or ():
        undone = tuple((later.pk, later.outcome, later.actor_name) for later in entry.undone_by.all())
        items.append(((fragments.model_version(entry), undone), {"entry": entry}))
    return fragments.render_many(context, TIMELINE_ENTRY, items)


LOG_ROW = "audit/_entry_row.html"


@register.simple_tag(takes_context=True)
def log_rows(context: template.Context, rows: Any, here: str) -> SafeString:
    """The audit log's rows: LOG_ROW for each (audit.selectors.AuditRow), each cached
    (fileflare_admin.fragments) by everything it shows: the entry with every field the trail holds (a
    pending entry closed is a new version), its before/after as shown, what undo it offers (the undo
    that took it back, who and when, a refusal for this person's role, the deletion since), and the page
    an undo comes back to (`here`); the viewer's role, time zone and language are in every key."""
    items = []
    for row in rows or ():
        undo = row.undo
        done = fragments.model_version(undo.done) if undo.done is not None else None
        shown = (undo.kind, done, undo.refusal, undo.description, undo.gone)
        version = (fragments.model_version(row.entry), fragments.data_version(row.changes), shown, here)
        items.append((version, {"entry": row.entry, "undo": undo, "changes": row.changes}))
    return fragments.render_many(context, LOG_ROW, items)


FILTERS = "audit/_filters.html"


@register.simple_tag(takes_context=True)
def audit_filters(context: template.Context, form: Any) -> SafeString:
    """The log's filter form (FILTERS), kept per process (fragments.render_kept: the viewer and the code
    are in its key) by everything else it shows: the values as typed (what each field says about its own
    value follows from them; the page's place, in hidden fields, is left out) and the people it offers.
    Its widgets are Django's templates, one rendering per field and option: the form cost as much as the
    50 rows it filters."""
    actor = form.fields["actor"]
    people = tuple((person.pk, actor.label_from_instance(person)) for person in actor.queryset)
    shown = {field.name for field in form.visible_fields()}  # the page's place is not in the form
    version = (tuple(item for item in form.data.lists() if item[0] in shown), people)
    return fragments.render_kept(context, FILTERS, version)
