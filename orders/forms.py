from dataclasses import dataclass
from datetime import date
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django_stubs_ext import StrOrPromise

from fileflare_admin.days import DayField, day_text
from fileflare_admin.submissions import new_submission_token
from orders.models import ReplyTemplate

PER_PAGE_CHOICES = (25, 50, 100)
REASON_WIDGET_ATTRS = {"maxlength": 500, "autocomplete": "off"}


def _day_field(label: StrOrPromise, element_id: str) -> DayField:
    """A date box of the "ordered between" filter, described by the filter's help and its error."""
    return DayField(
        label=label,  # lazy: in the page's language when shown
        # The filter's help (the days' time zone) and, when there is one, its error sentence.
        attrs={"id": element_id, "aria-describedby": "order-dates-help order-dates-error"},
    )


@dataclass(frozen=True)
class OrderFilter:
    """What the orders list is narrowed to. `error` is the sentence for a date that did not parse (the
    list is not shown then: an unfiltered one would pass for the filtered one)."""

    never_sent_only: bool = False
    ordered_from: date | None = None
    ordered_to: date | None = None
    error: str = ""

    @property
    def by_date(self) -> bool:
        return self.ordered_from is not None or self.ordered_to is not None


class OrderSearchForm(forms.Form):
    """The search box's query string: `q`, `page`, `per_page`, `email`, `ordered_from`, `ordered_to`. A
    bad value falls back to its default on its own (a bad date says so): the query the person typed is
    never dropped because of another parameter."""

    q = forms.CharField(required=False, strip=True)
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)
    per_page = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=PER_PAGE_CHOICES[0],  # type: ignore[arg-type]  # the stubs say str; Django returns it as given
        choices=[(n, n) for n in PER_PAGE_CHOICES],
    )
    email = forms.ChoiceField(
        required=False, choices=[("", gettext_lazy("Any")), ("never", gettext_lazy("E-mail never sent"))]
    )
    ordered_from = _day_field(gettext_lazy("Ordered from"), "ordered-from")
    ordered_to = _day_field(pgettext_lazy("date filter", "to"), "ordered-to")

    def clean_q(self) -> str:
        # Nothing we search for is this long; a pasted essay is answered with "search takes…", not lost.
        return str(self.cleaned_data["q"])[:2000]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("ordered_from"), data.get("ordered_to")
        if start and end and start > end:
            self.add_error(
                "ordered_to",
                _(
                    "“Ordered from” (%(start)s) is after “to” (%(end)s): choose a “to” day on or after the "
                    "“from” day, or swap the two."
                )
                % {"start": day_text(start), "end": day_text(end)},
            )
        return data

    def values(self) -> tuple[str, int, int]:
        self.is_valid()
        data = self.cleaned_data  # the fields that validated; the others are left out
        return data.get("q") or "", data.get("page") or 1, data.get("per_page") or PER_PAGE_CHOICES[0]

    def list_filter(self) -> OrderFilter:
        """The list's filters that parsed; a bad date (or "from" after "to") leaves no date filter and
        gives the sentence the page shows beside the boxes, which keep what was typed."""
        self.is_valid()
        never = self.cleaned_data.get("email") == "never"
        errors = [str(each) for name in ("ordered_from", "ordered_to") for each in self.errors.get(name, ())]
        if errors:
            return OrderFilter(never_sent_only=never, error=" ".join(errors))
        return OrderFilter(
            never_sent_only=never,
            ordered_from=self.cleaned_data.get("ordered_from"),
            ordered_to=self.cleaned_data.get("ordered_to"),
        )


def _reason(placeholder: StrOrPromise, label: StrOrPromise | None = None) -> forms.CharField:
    return forms.CharField(
        required=False,
        max_length=500,
        strip=True,
        label=label if label is not None else gettext_lazy("Reason"),
        widget=forms.TextInput(attrs={"placeholder": placeholder, **REASON_WIDGET_ATTRS}),
        help_text=gettext_lazy("Optional. Kept in the audit log."),
    )


class ResendForm(forms.Form):
    """Resend confirmation. `submission` is the form's one-time token: the same form sends once."""

    reason = _reason(gettext_lazy("e.g. ticket #4521: customer lost the e-mail"))
    submission = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("submission", new_submission_token())


class CustomerLinkForm(forms.Form):
    link = forms.CharField(
        max_length=2000,
        strip=True,
        label=gettext_lazy("Customer's order-status link"),
        error_messages={"required": gettext_lazy("Paste the customer's order-status link first.")},
        widget=forms.TextInput(
            attrs={"placeholder": "https://my-store.com/account/orders/…", "autocomplete": "off"}
        ),
    )


class CountFixForm(forms.Form):
    """One finding's fix: the file, the records as the person saw them ("<download id>:<count>")."""

    file = forms.CharField(max_length=500, strip=False)
    record = forms.CharField(required=False)  # repeated; read with getlist in `seen`
    reason = _reason(gettext_lazy("Why the customer gets their downloads back"))

    def seen(self, values: list[str]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for value in values[:100]:
            download_id, _, count = value.partition(":")
            if download_id.isascii() and download_id.isalnum() and count.isdigit():
                counts[download_id] = int(count)
        return counts


class SuspectGiveBackForm(forms.Form):
    """A link-scanner suspect's fix: its record, when its burst began, and the count the person saw."""

    record = forms.RegexField(regex=r"^[A-Za-z0-9]{1,64}$", max_length=64)
    since = forms.DateTimeField(input_formats=["%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"])
    seen = forms.IntegerField(min_value=0)


class AssetSearchForm(forms.Form):
    filename = forms.CharField(required=False, max_length=200, strip=True)
    page = forms.IntegerField(required=False, min_value=1, max_value=10_000)

    def values(self) -> tuple[str, int]:
        self.is_valid()
        return self.cleaned_data.get("filename") or "", self.cleaned_data.get("page") or 1


class AssetsChangeForm(forms.Form):
    """Attach or detach: the chosen files (`asset`, repeated) and an optional reason."""

    reason = _reason(gettext_lazy("e.g. ticket #4521: the customer got the wrong edition"))
    filename = forms.CharField(required=False, max_length=200, strip=True, widget=forms.HiddenInput)
    page = forms.IntegerField(required=False, min_value=1, max_value=10_000, widget=forms.HiddenInput)


class ReplyTemplateForm(forms.Form):
    situation = forms.ChoiceField(choices=ReplyTemplate.Situation.choices, widget=forms.HiddenInput)
    # The reply's language, not the page's (none: the page's).
    language = forms.ChoiceField(required=False, choices=settings.LANGUAGES, widget=forms.HiddenInput)
    body = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 9, "cols": 80}), strip=False)
    reason = _reason(gettext_lazy("Why the wording changes"))
    default = forms.BooleanField(required=False, label=gettext_lazy("Put the default wording back"))
