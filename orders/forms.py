from typing import Any

from django import forms

from fileflare_admin.submissions import new_submission_token
from orders.models import ReplyTemplate

PER_PAGE_CHOICES = (25, 50, 100)
REASON_WIDGET_ATTRS = {"maxlength": 500, "autocomplete": "off"}


class OrderSearchForm(forms.Form):
    """The search box's query string: `q`, `page`, `per_page`, `email`. A bad value falls back to its
    default on its own: the query the person typed is never dropped because of another parameter."""

    q = forms.CharField(required=False, strip=True)
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)
    per_page = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=PER_PAGE_CHOICES[0],  # type: ignore[arg-type]  # the stubs say str; Django returns it as given
        choices=[(n, n) for n in PER_PAGE_CHOICES],
    )
    email = forms.ChoiceField(required=False, choices=[("", "Any"), ("never", "E-mail never sent")])

    def clean_q(self) -> str:
        # Nothing we search for is this long; a pasted essay is answered with "search takes…", not lost.
        return str(self.cleaned_data["q"])[:2000]

    def values(self) -> tuple[str, int, int]:
        self.is_valid()
        data = self.cleaned_data  # the fields that validated; the others are left out
        return data.get("q") or "", data.get("page") or 1, data.get("per_page") or PER_PAGE_CHOICES[0]

    @property
    def never_sent_only(self) -> bool:
        self.is_valid()
        return self.cleaned_data.get("email") == "never"


def _reason(placeholder: str, label: str = "Reason") -> forms.CharField:
    return forms.CharField(
        required=False,
        max_length=500,
        strip=True,
        label=label,
        widget=forms.TextInput(attrs={"placeholder": placeholder, **REASON_WIDGET_ATTRS}),
        help_text="Optional. Kept in the audit log.",
    )


class ResendForm(forms.Form):
    """Resend confirmation. `submission` is the form's one-time token: the same form sends once."""

    reason = _reason("e.g. ticket #4521: customer lost the e-mail")
    submission = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("submission", new_submission_token())


class CustomerLinkForm(forms.Form):
    link = forms.CharField(
        max_length=2000,
        strip=True,
        label="Customer's order-status link",
        error_messages={"required": "Paste the customer's order-status link first."},
        widget=forms.TextInput(
            attrs={"placeholder": "https://my-store.com/account/orders/…", "autocomplete": "off"}
        ),
    )


class CountFixForm(forms.Form):
    """One finding's fix: the file, the records as the person saw them ("<download id>:<count>")."""

    file = forms.CharField(max_length=500, strip=False)
    record = forms.CharField(required=False)  # repeated; read with getlist in `seen`
    reason = _reason("Why the customer gets their downloads back")

    def seen(self, values: list[str]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for value in values[:100]:
            download_id, _, count = value.partition(":")
            if download_id.isascii() and download_id.isalnum() and count.isdigit():
                counts[download_id] = int(count)
        return counts


class AssetSearchForm(forms.Form):
    filename = forms.CharField(required=False, max_length=200, strip=True)
    page = forms.IntegerField(required=False, min_value=1, max_value=10_000)

    def values(self) -> tuple[str, int]:
        self.is_valid()
        return self.cleaned_data.get("filename") or "", self.cleaned_data.get("page") or 1


class AssetsChangeForm(forms.Form):
    """Attach or detach: the chosen files (`asset`, repeated) and an optional reason."""

    reason = _reason("e.g. ticket #4521: the customer got the wrong edition")
    filename = forms.CharField(required=False, max_length=200, strip=True, widget=forms.HiddenInput)
    page = forms.IntegerField(required=False, min_value=1, max_value=10_000, widget=forms.HiddenInput)


class ReplyTemplateForm(forms.Form):
    situation = forms.ChoiceField(choices=ReplyTemplate.Situation.choices, widget=forms.HiddenInput)
    body = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 9, "cols": 80}), strip=False)
    reason = _reason("Why the wording changes")
    default = forms.BooleanField(required=False, label="Put the default wording back")
