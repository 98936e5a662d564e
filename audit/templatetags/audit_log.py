"""Template helpers for the audit log."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django import template

register = template.Library()

MASKED = "•••••• (hidden)"
NOTHING = frozenset({"—", "(empty)"})


@register.filter
def masked(change: Any, sees_secrets: Any) -> Any:
    """The change as this person may see it: a secret's values hidden unless they may see them (the
    template passes `may.see_amazon_key`). An empty value stays visible: that the key was empty is no
    secret."""
    if not getattr(change, "secret", False) or sees_secrets:
        return change
    return replace(
        change,
        before=change.before if change.before in NOTHING else MASKED,
        after=change.after if change.after in NOTHING else MASKED,
    )
