from django import forms
from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from audit.models import AuditEntry


class AuditFilterForm(forms.Form):
    """/audit/'s filters, read from the query string. Invalid values are ignored, never a 500."""

    actor = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(), required=False, label="Person", empty_label="Anyone"
    )
    action = forms.ChoiceField(choices=[("", "Any action"), *AuditEntry.Action.choices], required=False)
    outcome = forms.ChoiceField(choices=[("", "Any outcome"), *AuditEntry.Outcome.choices], required=False)
    order_number = forms.IntegerField(required=False, min_value=1, max_value=10**18, label="Order number")
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    page = forms.IntegerField(required=False, min_value=1, max_value=10**9)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        people = AuditEntry.objects.exclude(actor=None).values("actor")
        self.fields["actor"].queryset = get_user_model().objects.filter(pk__in=people).order_by("username")

    def filtered(self) -> QuerySet[AuditEntry]:
        entries = AuditEntry.objects.select_related("actor").prefetch_related("undone_by")
        data = self.cleaned_data if self.is_valid() else {}
        if data.get("actor"):
            entries = entries.filter(actor=data["actor"])
        for name in ("action", "outcome", "order_number"):
            if data.get(name):
                entries = entries.filter(**{name: data[name]})
        if data.get("date_from"):
            entries = entries.filter(created_at__date__gte=data["date_from"])
        if data.get("date_to"):
            entries = entries.filter(created_at__date__lte=data["date_to"])
        return entries
