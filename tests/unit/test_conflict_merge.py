"""After an edit conflict, the form holds the three-way merge as a browser would send it
(downloads.forms.as_posted) and names each compared field as the form does (RecordForm.labelled)."""

from django.http import QueryDict

from downloads import records
from downloads.forms import RecordEditForm, as_posted, unsign_loaded
from fileflare_admin.api import types

LOADED = {
    "download_id": "abc123",
    "order_id": 1050,
    "product_id": 7,
    "download_count": 3,
    "download_file_name": "original.pdf",
    "is_amazon": True,
    "amazon_key": "s3/key",
}


def _record(**fields: object) -> types.DownloadRecord:
    return types.DownloadRecord.from_json({**LOADED, "date_created": "2026-03-01 10:00:00", **fields})


def _posted(**fields: str) -> QueryDict:
    data = QueryDict(mutable=True)
    data.update({"reason": "customer asked", "loaded": "old-snapshot", **fields})
    return data


def _merge(current: types.DownloadRecord, mine: dict[str, object], changed: tuple[str, ...]) -> records.Merge:
    return records.merge_after_conflict(
        loaded=LOADED, mine=mine, current=current, changed=changed, shown=frozenset(records.WRITABLE_FIELDS)
    )


def test_the_merge_is_posted_as_a_browser_sends_it_with_the_record_now_as_loaded() -> None:
    # I lowered the count; meanwhile a colleague renamed the file and took the file off S3.
    current = _record(download_file_name="renamed.pdf", is_amazon=False, amazon_key="")
    mine = {**records.writable(LOADED), "download_count": 0}
    merge = _merge(current, mine, ("download_file_name", "is_amazon", "amazon_key"))
    data = as_posted(
        _posted(download_count="0", is_amazon="on"), merge, loaded=records.loaded_snapshot(current)
    )

    assert data.getlist("download_count") == ["0"]  # mine, once
    assert data["download_file_name"] == "renamed.pdf"  # theirs, untouched by me
    assert "is_amazon" not in data  # an unticked box is not sent at all
    assert data["amazon_key"] == ""  # theirs: emptied
    assert data["order_id"] == "1050" and data["reason"] == "customer asked"
    assert unsign_loaded(data["loaded"]) == records.loaded_snapshot(current)


def test_a_ticked_box_is_posted_as_on() -> None:
    current = _record(is_amazon=False, amazon_key="")
    mine = {**records.writable(LOADED), "is_amazon": True, "amazon_key": "s3/mine"}
    merge = _merge(_record(), mine, ())
    data = as_posted(_posted(), merge, loaded=records.loaded_snapshot(current))
    assert data["is_amazon"] == "on" and data["amazon_key"] == "s3/mine"


def test_the_comparison_names_each_field_as_the_form_does() -> None:
    merge = _merge(
        _record(download_count=4), {**records.writable(LOADED), "download_count": 0}, ("download_count",)
    )
    form = RecordEditForm(None, editable=None, show_amazon_key=True, count_range=None)
    rows = form.labelled(merge.rows)
    assert [row.name for row in rows] == [row.name for row in merge.rows]
    assert [row.label for row in rows] == [str(form.fields[row.name].label) for row in merge.rows]
    count = next(row for row in rows if row.name == "download_count")
    assert (count.yours, count.now, count.changed_by_you, count.changed_by_someone) == (0, 4, True, True)
