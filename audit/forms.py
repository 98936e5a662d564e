from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.forms.models import ModelChoiceIterator
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_stubs_ext import StrOrPromise

from audit.models import AuditEntry
from audit.registry import action_choices
from audit.selectors import Cursor, audit_actors
from fileflare_admin.days import DayField


def _any_action() -> list[tuple[str, StrOrPromise]]:
    """Every action an app registered, read when the form is made (the apps register at ready())."""
    return [("", _("Any action")), *action_choices()]


class _PeopleChoices(ModelChoiceIterator):
    """The people as one plain query. Django's own iterator reads them with QuerySet.iterator(), which on
    PostgreSQL opens a server-side cursor (DECLARE, FETCH, CLOSE: three round trips) for a few rows."""

    def __iter__(self) -> Iterator[Any]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for person in self.queryset:
            yield self.choice(person)


class _PeopleField(forms.ModelChoiceField):
    iterator = _PeopleChoices


class AuditFilterForm(forms.Form):
    """/audit/'s filters, read from the query string.

    A value that does not parse is left out (and its field shows why); the other filters still apply.
    """

    actor = _PeopleField(
        queryset=get_user_model().objects.none(), required=False, label=_("Person"), empty_label=_("Anyone")
    )
    action = forms.ChoiceField(choices=_any_action, required=False, label=_("Action"))
    order_number = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        label=_("Order number"),
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 1}),
    )
    download_id = forms.CharField(required=False, max_length=64, label=_("Download ID"), strip=True)
    job_id = forms.CharField(
        required=False,
        max_length=37,
        label=_("Bulk fix"),
        strip=True,
        widget=forms.TextInput(attrs={"placeholder": "#12", "inputmode": "numeric"}),
    )
    date_from = DayField(label=pgettext_lazy("days", "From"))
    date_to = DayField(label=pgettext_lazy("days", "To"))
    outcome = forms.ChoiceField(
        choices=[("", _("Any outcome")), *AuditEntry.Outcome.choices], required=False, label=_("Outcome")
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=10**9, widget=forms.HiddenInput)
    # Where the page starts: the Older / Newer links carry the last / first row's place (audit.selectors.
    # Cursor). One that does not parse is left out, as a page number is: the newest page.
    older_than = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
    newer_than = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)

    PLACE = frozenset({"page", "older_than", "newer_than"})  # where in the list, not which entries

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        actor = self.fields["actor"]
        assert isinstance(actor, forms.ModelChoiceField)
        actor.queryset = audit_actors()

    def clean_job_id(self) -> str:
        """A bulk fix's number as people write it ("#12" or "12")."""
        return str(self.cleaned_data.get("job_id") or "").lstrip("#").strip()

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("“To” is before “From”."))
        return data

    def clean_older_than(self) -> Cursor | None:
        return Cursor.parse(self.cleaned_data.get("older_than") or "")

    def clean_newer_than(self) -> Cursor | None:
        return Cursor.parse(self.cleaned_data.get("newer_than") or "")

    def filters(self) -> dict[str, Any]:
        """The filters that parsed, as audit.selectors.audit_entry_list takes them (not the page's place)."""
        self.is_valid()  # fills cleaned_data with the fields that parsed, errors for the rest
        return {name: value for name, value in self.cleaned_data.items() if name not in self.PLACE and value}

    def place(self) -> dict[str, Any]:
        """Where the page is, as audit.selectors.audit_log_page takes it: the page's number and a cursor."""
        self.is_valid()
        return {
            "page": self.cleaned_data.get("page") or 1,
            "older_than": self.cleaned_data.get("older_than"),
            "newer_than": self.cleaned_data.get("newer_than"),
        }

    def kept(self) -> QueryDict:
        """The filters that parsed as they were typed (in the form's order), for links to other pages."""
        self.is_valid()
        kept = QueryDict(mutable=True)
        for name in self.fields:
            typed = name not in self.PLACE and self.data.get(name)
            if typed and self.cleaned_data.get(name) not in (None, ""):
                kept[name] = self.data[name]
        return kept


class UndoForm(forms.Form):
    reason = forms.CharField(
        required=False,
        max_length=500,
        strip=True,
        label=_("Reason (optional)"),
        widget=forms.TextInput(attrs={"placeholder": _("Why this is being undone"), "autocomplete": "off"}),
    )
    next = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)
