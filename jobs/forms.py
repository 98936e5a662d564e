"""The bulk fix form: a filter, an action, a reason. Everything typed comes back with its error."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from fileflare_admin.days import DayField
from fileflare_admin.numbers import LocalizedIntegerField, grouped
from jobs.models import BulkJob
from jobs.selection import (
    Selection,
    parse_download_ids,
    parse_order_numbers,
    too_many_download_ids,
    too_many_order_numbers,
)

# The downloads API stores counts and ids as int(11).
INT_MAX = 2_147_483_647
ACTIONS = [
    (BulkJob.Kind.COUNT_RESET, gettext_lazy("Reset the download count to 0")),
    (BulkJob.Kind.COUNT_SET, gettext_lazy("Set the download count to N")),
    (BulkJob.Kind.COUNT_GIVE, gettext_lazy("Give N more downloads (lower the count by N, not below 0)")),
    (BulkJob.Kind.EMAIL_RESEND, gettext_lazy("Resend the download e-mail for the chosen orders")),
]
NEEDS_AMOUNT = (BulkJob.Kind.COUNT_SET, BulkJob.Kind.COUNT_GIVE)


def _refuse(rejected: tuple[str, ...], sentence: StrOrPromise, more: StrOrPromise) -> None:
    """Names the first pieces of a paste that are not what the box takes, if any: `sentence` with the
    pieces, `more` with the pieces and how many more (ngettext's, by that count)."""
    if rejected:
        shown = ", ".join(f"“{piece[:20]}”" for piece in rejected[:5])
        extra = len(rejected) - 5
        if extra > 0:
            raise forms.ValidationError(str(more) % {"pieces": shown, "more": grouped(extra)})
        raise forms.ValidationError(str(sentence) % {"pieces": shown})


class BulkFixForm(forms.Form):
    order_numbers = forms.CharField(
        label=gettext_lazy("Order numbers"),
        required=False,
        max_length=1_000_000,  # room for any paste: more than BULK_MAX_ORDER_NUMBERS are refused by count
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text=gettext_lazy(
            "Paste them from a ticket export: any mix of spaces, commas, new lines and #."
        ),
    )
    download_ids = forms.CharField(
        label=gettext_lazy("Download IDs"),
        required=False,
        max_length=1_000_000,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        help_text=gettext_lazy(
            "Records chosen one by one (the Reports page fills this in): IDs separated by spaces."
        ),
    )
    product_id = forms.IntegerField(
        label=gettext_lazy("Product ID"), required=False, min_value=1, max_value=INT_MAX
    )
    file_name = forms.CharField(
        label=gettext_lazy("File name contains"), required=False, max_length=200, strip=True
    )
    # Counts as a person of the page's language types them ("1 536", "1.536").
    count_at_least = LocalizedIntegerField(
        label=gettext_lazy("Download count at least"), required=False, min_value=0, max_value=INT_MAX
    )
    created_from = DayField(label=gettext_lazy("Created from"))
    created_to = DayField(label=gettext_lazy("Created until"))
    action = forms.ChoiceField(label=gettext_lazy("Action"), choices=ACTIONS, widget=forms.RadioSelect)
    amount = LocalizedIntegerField(
        label="N",
        required=False,
        min_value=0,
        max_value=INT_MAX,
        help_text=gettext_lazy("For “set to N” and “give N more”."),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=500,
        strip=True,
        help_text=gettext_lazy(
            "Kept with every change in the audit log, e.g. “Bot storm on 3 May, ticket #4821”."
        ),
    )

    def clean_order_numbers(self) -> tuple[int, ...]:
        numbers, rejected = parse_order_numbers(self.cleaned_data.get("order_numbers") or "")
        _refuse(
            rejected,
            gettext_lazy(
                "These are not order numbers: %(pieces)s. Remove them, or paste only the number column."
            ),
            gettext_lazy(
                "These are not order numbers: %(pieces)s and %(more)s more. Remove them, or paste only the "
                "number column."
            ),
        )
        if refusal := too_many_order_numbers(len(numbers)):
            raise forms.ValidationError(refusal)
        return numbers

    def clean_download_ids(self) -> tuple[str, ...]:
        ids, rejected = parse_download_ids(self.cleaned_data.get("download_ids") or "")
        _refuse(
            rejected,
            gettext_lazy(
                "These are not download IDs: %(pieces)s. Download IDs are letters and digits only."
            ),
            gettext_lazy(
                "These are not download IDs: %(pieces)s and %(more)s more. Download IDs are letters and "
                "digits only."
            ),
        )
        if refusal := too_many_download_ids(len(ids)):
            raise forms.ValidationError(refusal)
        return ids

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") in NEEDS_AMOUNT and data.get("amount") is None:
            self.add_error("amount", _("Say how many (N) for this action."))
        start, end = data.get("created_from"), data.get("created_to")
        if start and end and start > end:
            self.add_error("created_to", _("The end date is before the start date."))
        if not self.errors and self.selection().empty:
            raise forms.ValidationError(
                _(
                    "Choose at least one filter (download IDs, order numbers, product, file name, count or "
                    "dates), so that not every record is changed by accident."
                )
            )
        return data

    def selection(self) -> Selection:
        data = self.cleaned_data
        return Selection(
            download_ids=tuple(data.get("download_ids") or ()),
            order_numbers=tuple(data.get("order_numbers") or ()),
            product_id=data.get("product_id"),
            file_name=data.get("file_name") or "",
            count_at_least=data.get("count_at_least"),
            created_from=data.get("created_from"),
            created_to=data.get("created_to"),
        )


PREFILLED = ("download_ids", "action", "amount", "reason")


def prefilled(query: Mapping[str, str]) -> dict[str, str]:
    """What a link may fill in on the empty form (the Reports page's "give N more downloads to these
    records"): the IDs, the action, N and the reason, as typed; nothing is planned until Dry run."""
    return {name: query[name][:1_000_000] for name in PREFILLED if query.get(name)}


class UndoJobForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), required=False, max_length=500, strip=True)


class ItemFilterForm(forms.Form):
    """The items list's query string; anything unusable falls back to the defaults."""

    page = forms.IntegerField(required=False, min_value=1)
    state = forms.CharField(required=False, max_length=16)

    def wanted(self) -> dict[str, Any]:
        """The page and the item state asked for (1 and every state by default), for services.job_page."""
        self.is_valid()
        return {"page": self.cleaned_data.get("page") or 1, "state": self.cleaned_data.get("state") or ""}
