"""Forms for download records. Field names are the API's own, so a 422 lands on the right field."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django import forms
from django.core import signing
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from downloads.reads import PER_PAGE_CHOICES, parse_sort
from downloads.records import FIELD_LABELS, SORTABLE_FIELDS, WRITABLE_FIELDS, Merge, MergedField
from fileflare_admin.numbers import LocalizedIntegerField
from fileflare_admin.submissions import new_submission_token

# The downloads API documents its ids and counts as int(11): up to 2,147,483,647. The forms take every
# value in that range and set no upper bound of their own: a larger value is the API's to refuse, and its
# answer lands on the field.
SNAPSHOT_SALT = "downloads.record-loaded"
REASON_LABEL = gettext_lazy("Reason (optional, kept in the audit log)")
API_FIELDS = frozenset(WRITABLE_FIELDS)


def sign_loaded(snapshot: dict[str, Any]) -> str:
    return signing.dumps(snapshot, salt=SNAPSHOT_SALT, compress=True)


def unsign_loaded(token: str) -> dict[str, Any] | None:
    try:
        value = signing.loads(token, salt=SNAPSHOT_SALT)
    except signing.BadSignature:
        return None
    return value if isinstance(value, dict) else None


def as_posted(posted: QueryDict, merge: Merge, *, loaded: dict[str, Any]) -> QueryDict:
    """The edit form's data after a conflict, for "Save mine anyway": what the person sent, each merged
    field as a browser sends it (a ticked box "on", an unticked box not at all), and
    `loaded` (the record as it is now) as the snapshot the next save is compared with."""
    data = posted.copy()
    for name, value in merge.fields.items():
        data.pop(name, None)
        if value is not None and value is not False:
            data[name] = "on" if value is True else str(value)
    data["loaded"] = sign_loaded(loaded)
    return data


class RecordListForm(forms.Form):
    """The list's query string. Anything unusable is ignored with a note, never an error page."""

    q = forms.CharField(required=False, max_length=200, strip=True)
    sort = forms.CharField(required=False, max_length=40)
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)
    per_page = forms.TypedChoiceField(
        required=False, coerce=int, choices=[(n, str(n)) for n in PER_PAGE_CHOICES], empty_value=None
    )

    def __init__(self, *args: Any, sortable: frozenset[str] = SORTABLE_FIELDS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sortable = sortable

    def clean_sort(self) -> str:
        sort: str = self.cleaned_data.get("sort") or ""
        if sort and parse_sort(sort, allowed=self.sortable) is None:
            raise forms.ValidationError(gettext_lazy("unknown column"))
        return sort

    def params(self) -> dict[str, Any]:
        """q, sort, page, per_page with defaults for what was missing or unusable."""
        self.is_valid()
        data = self.cleaned_data
        return {
            "q": data.get("q") or "",
            "sort": data.get("sort") or "",
            "page": data.get("page") or 1,
            "per_page": data.get("per_page") or PER_PAGE_CHOICES[0],
        }

    def kept_query(self) -> QueryDict:
        """The parameters that parsed and differ from their defaults: what paging and sort links keep."""
        params = self.params()
        query = QueryDict(mutable=True)
        for name, value in params.items():
            default = {"page": 1, "per_page": PER_PAGE_CHOICES[0]}.get(name, "")
            if value != default:
                query[name] = str(value)
        return query

    def notes(self) -> list[str]:
        """One sentence per ignored parameter."""
        self.is_valid()
        notes = []
        for name in self.errors:
            raw = str(self.data.get(name, ""))[:40]
            if name == "sort":
                cannot = _("Cannot sort by “%(column)s”, so the list is in the API's own order.")
                notes.append(cannot % {"column": raw})
            elif name == "per_page":
                notes.append(
                    _("“%(asked)s” records a page is not offered; showing %(shown)s.")
                    % {"asked": raw, "shown": PER_PAGE_CHOICES[0]}
                )
            elif name == "page":
                notes.append(_("“%(asked)s” is not a page number; showing page 1.") % {"asked": raw})
            else:
                notes.append(_("The search was too long and was ignored."))
        return notes


def _count_field(**kwargs: Any) -> forms.IntegerField:
    """A download count as a person of the page's language types it ("1 536", "1.536" in Italian)."""
    return LocalizedIntegerField(
        min_value=0,
        error_messages={
            "invalid": gettext_lazy("Enter a whole number, 0 or more."),
            "min_value": gettext_lazy("A download count cannot be below 0."),
        },
        **kwargs,
    )


def _id_field(label: StrOrPromise) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        min_value=1,
        widget=forms.NumberInput(attrs={"step": "1", "inputmode": "numeric"}),
        error_messages={
            "invalid": gettext_lazy("Enter a whole number above 0."),
            "min_value": gettext_lazy("Enter a whole number above 0."),
            "required": gettext_lazy("Enter the number."),
        },
    )


class RecordForm(forms.Form):
    """Create and edit. `editable` limits what a person may change (Support: the count only)."""

    product_id = _id_field(gettext_lazy("Product ID"))
    order_id = _id_field(gettext_lazy("Order number"))
    download_count = _count_field(label=gettext_lazy("Download count"), initial=0)
    download_file_name = forms.CharField(
        label=gettext_lazy("File name"),
        max_length=255,
        error_messages={"required": gettext_lazy("Enter the file name.")},
    )
    is_amazon = forms.BooleanField(label=gettext_lazy("Stored on Amazon S3"), required=False)
    amazon_key = forms.CharField(
        label=gettext_lazy("S3 key"),
        required=False,
        max_length=1024,
        help_text=gettext_lazy("Required when the file is stored on Amazon S3."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    reason = forms.CharField(
        label=REASON_LABEL,
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(
        self,
        *args: Any,
        editable: frozenset[str] | None = None,
        show_amazon_key: bool = True,
        count_range: tuple[int, int] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.show_amazon_key = show_amazon_key
        if not show_amazon_key:
            # Never rendered, never accepted: this person may not see the key.
            del self.fields["amazon_key"]
        for name, field in self.fields.items():
            if name in API_FIELDS and editable is not None and name not in editable:
                field.disabled = True
                field.required = False
        if count_range is not None and not self.fields["download_count"].disabled:
            low, high = count_range
            self.fields["download_count"].widget.attrs.update({"min": str(low), "max": str(high)})

    def clean_download_file_name(self) -> str:
        name: str = self.cleaned_data.get("download_file_name") or ""
        if self.fields["download_file_name"].disabled:
            return name
        if not name.strip():
            raise forms.ValidationError(_("Enter the file name."))
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        key_field = self.fields.get("amazon_key")
        key_missing = data.get("is_amazon") and not (data.get("amazon_key") or "").strip()
        if key_field is not None and not key_field.disabled and key_missing:
            self.add_error("amazon_key", _("Enter the S3 key: the file is stored on Amazon S3."))
        return data

    def editable_fields(self) -> list[str]:
        """The API fields this form lets the person change (Support: the count only)."""
        return [name for name, field in self.fields.items() if name in API_FIELDS and not field.disabled]

    def record_fields(self) -> dict[str, Any]:
        """The API fields this person may change, as typed (after validation)."""
        return {
            name: self.cleaned_data[name]
            for name, field in self.fields.items()
            if name in API_FIELDS and not field.disabled and name in self.cleaned_data
        }

    def labelled(self, rows: tuple[MergedField, ...]) -> list[MergedField]:
        """The conflict page's comparison, each field named as this form names it."""
        return [replace(row, label=str(self.fields[row.name].label)) for row in rows]

    def add_api_errors(self, field_errors: dict[str, list[str]], fallback: str) -> None:
        """A 422's messages on the fields they name; the rest above the form."""
        placed = False
        for name, messages in field_errors.items():
            for message in messages or [fallback]:
                if name in API_FIELDS and name in self.fields and not self.fields[name].disabled:
                    self.add_error(name, message)
                else:
                    label = FIELD_LABELS.get(name, name)
                    named = _("%(field)s: %(message)s") % {"field": label, "message": message}
                    self.add_error(None, named if name not in self.fields else message)
                placed = True
        if not placed:
            self.add_error(None, fallback)


class RecordCreateForm(RecordForm):
    # One per form shown: a second POST of the same form is refused instead of creating a duplicate.
    submission = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("submission", new_submission_token())

    def with_new_submission(self) -> RecordCreateForm:
        """The same typed values under a new one-time token (after an unknown outcome, once checked)."""
        data = self.data.copy() if isinstance(self.data, QueryDict) else QueryDict(mutable=True)
        data["submission"] = new_submission_token()
        fresh = RecordCreateForm(data, show_amazon_key=self.show_amazon_key)
        fresh.is_valid()
        return fresh


class LoadedSnapshotMixin(forms.Form):
    """A hidden `loaded` field: the record as the page showed it, signed so it cannot be altered."""

    loaded_required = True

    def clean_loaded(self) -> dict[str, Any] | None:
        token = self.cleaned_data.get("loaded") or ""
        if not token and not self.loaded_required:
            return None
        snapshot = unsign_loaded(token)
        if snapshot is None:
            raise forms.ValidationError(
                _("This form was changed outside the dashboard. Open the record again.")
            )
        return snapshot

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors.get("loaded"):
            # Shown above the form: the hidden field has no place to show its own error.
            self.add_error(None, self.errors["loaded"][0])
        return data


class RecordEditForm(LoadedSnapshotMixin, RecordForm):
    loaded = forms.CharField(widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        loaded = data.get("loaded")
        if isinstance(loaded, dict):
            # A value left as it was loaded is not sent (a PATCH carries only what changed), so a stored
            # value this form would not take never blocks saving another field.
            for name in API_FIELDS & set(self.errors):
                if name in loaded and str(self.data.get(name, "")).strip() == str(loaded[name]):
                    del self.errors[name]
                    data[name] = loaded[name]
        return data


class RecordDeleteForm(LoadedSnapshotMixin, forms.Form):
    loaded_required = False
    loaded = forms.CharField(widget=forms.HiddenInput, required=False)
    reason = forms.CharField(label=REASON_LABEL, required=False, max_length=500)


class CountForm(forms.Form):
    """The in-place count fix on a row. "Reset to 0" is a second submit button named `reset`."""

    count = _count_field(required=False)
    expected = forms.IntegerField(required=False, min_value=0)
    # The row's order, as the page showed it: the trail names it even when the record cannot be read.
    order_number = forms.IntegerField(required=False, min_value=1)
    reset = forms.BooleanField(required=False)
    context = forms.ChoiceField(choices=[("list", "list"), ("order", "order")], required=False)
    next = forms.CharField(required=False, max_length=2000)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("reset"):
            data["count"] = 0
            self.errors.pop("count", None)
        elif data.get("count") is None and "count" not in self.errors:
            self.add_error("count", _("Enter a whole number, 0 or more."))
        return data
