from django import forms

PER_PAGE_CHOICES = (25, 50, 100)


class OrderSearchForm(forms.Form):
    """The search box's query string: `q`, `page`, `per_page`. A bad number falls back to its default on
    its own: the query the person typed is never dropped because of another parameter."""

    q = forms.CharField(required=False, strip=True)
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)
    per_page = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=PER_PAGE_CHOICES[0],  # type: ignore[arg-type]  # the stubs say str; Django returns it as given
        choices=[(n, n) for n in PER_PAGE_CHOICES],
    )

    def clean_q(self) -> str:
        # Nothing we search for is this long; a pasted essay is answered with "search takes…", not lost.
        return self.cleaned_data["q"][:2000]

    def values(self) -> tuple[str, int, int]:
        self.is_valid()
        data = self.cleaned_data  # the fields that validated; the others are left out
        return data.get("q") or "", data.get("page") or 1, data.get("per_page") or PER_PAGE_CHOICES[0]


class ResendForm(forms.Form):
    reason = forms.CharField(
        required=False,
        max_length=500,
        strip=True,
        widget=forms.TextInput(attrs={"placeholder": "e.g. ticket #4521: customer lost the e-mail"}),
        help_text="Optional. Kept in the audit log.",
    )
