from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from audit.models import AuditEntry


class AuditFilterForm(forms.Form):
    """/audit/'s filters, read from the query string.

    A value that does not parse is left out (and its field shows why); the other filters still apply.
    """

    actor = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(), required=False, label="Person", empty_label="Anyone"
    )
    action = forms.ChoiceField(choices=[("", "Any action"), *AuditEntry.Action.choices], required=False)
    order_number = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        label="Order number",
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 1}),
    )
    download_id = forms.CharField(required=False, max_length=64, label="Download ID", strip=True)
    job_id = forms.CharField(
        required=False,
        max_length=37,
        label="Bulk fix",
        strip=True,
        widget=forms.TextInput(attrs={"placeholder": "#12", "inputmode": "numeric"}),
    )
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    outcome = forms.ChoiceField(choices=[("", "Any outcome"), *AuditEntry.Outcome.choices], required=False)
    page = forms.IntegerField(required=False, min_value=1, max_value=10**9, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = AuditEntry.objects.exclude(actor=None).values("actor")
        actor = self.fields["actor"]
        assert isinstance(actor, forms.ModelChoiceField)
        actor.queryset = get_user_model().objects.filter(pk__in=people).order_by("username")

    def clean_job_id(self) -> str:
        """A bulk fix's number as people write it ("#12" or "12")."""
        return str(self.cleaned_data.get("job_id") or "").lstrip("#").strip()

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "“To” is before “From”.")
        return data

    def filtered(self) -> QuerySet[AuditEntry]:
        """The entries matching every filter that parsed, newest first."""
        self.is_valid()  # fills cleaned_data with the fields that parsed, errors for the rest
        data = self.cleaned_data
        entries = AuditEntry.objects.select_related("actor").prefetch_related("undone_by")
        if data.get("actor"):
            entries = entries.filter(actor=data["actor"])
        for name in ("action", "outcome", "order_number", "download_id", "job_id"):
            if data.get(name):
                entries = entries.filter(**{name: data[name]})
        if data.get("date_from"):
            entries = entries.filter(created_at__date__gte=data["date_from"])
        if data.get("date_to"):
            entries = entries.filter(created_at__date__lte=data["date_to"])
        return entries


class UndoForm(forms.Form):
    reason = forms.CharField(
        required=False,
        max_length=500,
        strip=True,
        label="Reason (optional)",
        widget=forms.TextInput(attrs={"placeholder": "Why this is being undone", "autocomplete": "off"}),
    )
    next = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)
