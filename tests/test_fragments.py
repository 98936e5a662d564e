"""Cached fragments (fileflare_admin.fragments; issue 28): the records table's rows are cached by
everything they show, so a row changes the moment its data changes and never reaches a person who would
see it otherwise (another role, another time zone), and a cached row carries the request's own CSRF
token. Each test renders the table once (filling the cache), changes one input, and renders it again."""

from __future__ import annotations

import dataclasses
import re
import zoneinfo
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.middleware.csrf import _unmask_cipher_token
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone

from downloads.limits import KnownLimit
from downloads.products import product_names_remember
from fileflare_admin import fragments
from fileflare_admin.api.types import DownloadRecord

pytestmark = pytest.mark.django_db
TABLE = "downloads/_records_table.html"
RECORD = DownloadRecord(
    download_id="frag1234abcd",
    date_created=datetime(2026, 12, 1, 23, 30, tzinfo=UTC),
    product_id=777_001,
    order_id=4321,
    download_count=2,
    download_file_name="handbook.pdf",
    is_amazon=True,
    amazon_key="bucket/handbook-secret.pdf",
)
Render = Callable[..., str]
_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _fragments() -> int:
    """How many row fragments the cache holds (the test cache is Django's local memory cache)."""
    keys = getattr(cache, "_cache", {})
    return sum(1 for key in keys if fragments.PREFIX in str(key))


@pytest.fixture
def render(rf: RequestFactory) -> Render:
    def render(user: User, records: list[Any], **context: Any) -> str:
        request = rf.get("/downloads/", {"q": "4321"})
        request.user = user
        return render_to_string(TABLE, {"records": records, "show_order": True, **context}, request=request)

    return render


def _row(page: str, record: DownloadRecord = RECORD) -> str:
    return page.split(f'id="record-{record.download_id}"', 1)[1].split("</tr>", 1)[0]


def test_a_cached_row_is_the_row_rendered_afresh(render: Render, merchant_user: User) -> None:
    first = render(merchant_user, [RECORD])  # rendered, then kept
    assert _fragments() == 1
    again = render(merchant_user, [RECORD])  # read back
    without_token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert without_token.sub("", again) == without_token.sub("", first)
    assert "handbook.pdf" in again and 'value="2"' in again


def test_a_row_changes_the_moment_its_record_changes(render: Render, merchant_user: User) -> None:
    render(merchant_user, [RECORD])
    for changed in (
        dataclasses.replace(RECORD, download_count=5),
        dataclasses.replace(RECORD, download_file_name="handbook-v2.pdf"),
        dataclasses.replace(RECORD, amazon_key="bucket/other-key.pdf"),  # a field the record's repr hides
    ):
        row = _row(render(merchant_user, [changed]))
        assert f'value="{changed.download_count}"' in row
        assert changed.download_file_name in row and changed.amazon_key in row


def test_a_row_changes_with_its_product_name_and_known_limit(render: Render, merchant_user: User) -> None:
    assert "Field Guide" not in _row(render(merchant_user, [RECORD]))
    product_names_remember({RECORD.product_id: "Field Guide"})
    assert "Field Guide" in _row(render(merchant_user, [RECORD]))
    seen = timezone.now() - timedelta(days=3)
    limit = KnownLimit(limit=10, source="learned", order_number=1049, seen_at=seen)
    row = _row(render(merchant_user, [RECORD], record_limits={RECORD.download_id: limit}))
    assert "2 of 10" in row and "3 days ago" in row
    lower = dataclasses.replace(limit, limit=2)
    row = _row(render(merchant_user, [RECORD], record_limits={RECORD.download_id: lower}))
    assert "2 of 2" in row and "Limit reached" in row
    # "3 days ago" is part of what the row shows: a day later it is a new row, not the kept one.
    older = dataclasses.replace(limit, seen_at=seen - timedelta(days=1))
    assert "4 days ago" in _row(render(merchant_user, [RECORD], record_limits={RECORD.download_id: older}))


def test_a_row_never_crosses_roles(render: Render, merchant_user: User, support_user: User) -> None:
    merchant = _row(render(merchant_user, [RECORD]))
    assert RECORD.amazon_key in merchant and ">Edit<" in merchant and "Delete" in merchant
    support = _row(render(support_user, [RECORD]))
    assert RECORD.amazon_key not in support and "key hidden" in support
    assert ">Open<" in support and "Delete" not in support
    assert 'max="' in support and 'max="' not in merchant  # Support's count range
    assert _fragments() == 2
    assert RECORD.amazon_key in _row(render(merchant_user, [RECORD]))  # each keeps their own


def test_a_row_never_crosses_time_zones(render: Render, merchant_user: User) -> None:
    with timezone.override(zoneinfo.ZoneInfo("Europe/Paris")):
        paris = _row(render(merchant_user, [RECORD]))
    with timezone.override(zoneinfo.ZoneInfo("Asia/Tokyo")):
        tokyo = _row(render(merchant_user, [RECORD]))
    assert "2 Dec 2026, 00:30 CET" in paris
    assert "2 Dec 2026, 08:30 JST" in tokyo


def test_a_cached_row_carries_the_requests_own_csrf_token(rf: RequestFactory, merchant_user: User) -> None:
    tokens = []
    for _ in range(2):  # two people's sessions (two CSRF secrets), the second served from the cache
        request = rf.get("/downloads/")
        request.user = merchant_user
        page = render_to_string(TABLE, {"records": [RECORD]}, request=request)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token is not None and fragments.CSRF_PLACEHOLDER not in page
        tokens.append((_unmask_cipher_token(token.group(1)), request.META["CSRF_COOKIE"]))
    assert _fragments() == 1
    for shown, own in tokens:
        assert shown == own  # this request's secret, not the one the row was first made with
    assert tokens[0][1] != tokens[1][1]


def test_the_page_it_returns_to_and_a_row_message_are_part_of_the_row(
    render: Render, merchant_user: User
) -> None:
    assert "next=%2Forders%2Fabc%2F" in _row(render(merchant_user, [RECORD], row_next="/orders/abc/"))
    assert "next=%2Forders%2Fdef%2F" in _row(render(merchant_user, [RECORD], row_next="/orders/def/"))
    saved = render(merchant_user, [RECORD], row_message="Saved.", row_message_level="success")
    assert "Saved." in _row(saved)
    assert "Saved." not in _row(render(merchant_user, [RECORD]))


def test_a_deploy_that_changes_any_code_or_template_renders_every_fragment_afresh(
    tmp_path: Any, settings: Any
) -> None:
    """The shared cache outlives a deploy: the key holds the project's code as the process runs it."""
    settings.BASE_DIR = tmp_path
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "tags.py").write_text("A = 1\n")
    (tmp_path / "row.html").write_text("<tr></tr>")
    versions = []
    for change in (None, ("app/tags.py", "A = 2\n"), ("row.html", "<tr><td></td></tr>")):
        if change:
            (tmp_path / change[0]).write_text(change[1])
        fragments.code_version.cache_clear()
        versions.append(fragments.code_version())
    fragments.code_version.cache_clear()
    assert len(set(versions)) == 3


# --- a table's rows kept together too (render_many's `whole`): one value read a warm table -----------------

OTHER = dataclasses.replace(
    RECORD, download_id="frag5678efgh", download_file_name="atlas.pdf", download_count=7
)


def test_a_tables_rows_are_kept_together_and_change_the_moment_any_input_changes(
    render: Render, merchant_user: User, support_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fragments, "_near", fragments.Near(fragments.NEAR_CHARS))  # small tables kept too
    first = render(merchant_user, [RECORD, OTHER])
    assert _fragments() == 3  # each row, and the two together
    reads: list[list[str]] = []
    get_many = cache.get_many
    monkeypatch.setattr(cache, "get_many", lambda keys: reads.append(list(keys)) or get_many(keys))
    monkeypatch.setattr(fragments, "_near", fragments.Near(fragments.NEAR_CHARS))  # another process
    again = render(merchant_user, [RECORD, OTHER])
    asked = [key for keys in reads for key in keys if key.startswith(fragments.PREFIX)]
    assert len(asked) == 1  # the whole table: no row's own key asked for
    reads.clear()
    near = render(merchant_user, [RECORD, OTHER])  # this process has kept it: the shared cache not asked
    assert not [key for keys in reads for key in keys if key.startswith(fragments.PREFIX)]
    assert _TOKEN.sub("", near) == _TOKEN.sub("", first) and _TOKEN.findall(near) != _TOKEN.findall(again)
    assert _TOKEN.sub("", again) == _TOKEN.sub("", first) and fragments.CSRF_PLACEHOLDER not in again
    assert again.index("handbook.pdf") < again.index("atlas.pdf")
    # Each input changed alone: the other row's record, its order in the table, a product name, a limit and
    # how long ago it was seen, the page its links return to, a row message, the role, the time zone.
    bumped = dataclasses.replace(OTHER, download_count=8)
    assert 'value="8"' in _row(render(merchant_user, [RECORD, bumped]), OTHER)
    hidden = dataclasses.replace(OTHER, amazon_key="bucket/other-secret.pdf")  # a field its repr hides
    assert "other-secret" in _row(render(merchant_user, [RECORD, hidden]), OTHER)
    swapped = render(merchant_user, [OTHER, RECORD])
    assert swapped.index("atlas.pdf") < swapped.index("handbook.pdf")
    product_names_remember({OTHER.product_id: "Atlas of Files"})
    assert "Atlas of Files" in _row(render(merchant_user, [RECORD, OTHER]), OTHER)
    seen = timezone.now() - timedelta(days=3)
    limit = KnownLimit(limit=10, source="learned", order_number=1049, seen_at=seen)
    shared = {RECORD.download_id: limit, OTHER.download_id: limit}
    assert "7 of 10" in _row(render(merchant_user, [RECORD, OTHER], record_limits=shared), OTHER)
    lower = {**shared, OTHER.download_id: dataclasses.replace(limit, limit=7)}
    assert "Limit reached" in _row(render(merchant_user, [RECORD, OTHER], record_limits=lower), OTHER)
    older = {**shared, OTHER.download_id: dataclasses.replace(limit, seen_at=seen - timedelta(days=1))}
    assert "4 days ago" in _row(render(merchant_user, [RECORD, OTHER], record_limits=older), OTHER)
    assert "next=%2Forders%2Fxyz%2F" in _row(render(merchant_user, [RECORD, OTHER], row_next="/orders/xyz/"))
    saved = render(merchant_user, [RECORD, OTHER], row_message="Saved.", row_message_level="success")
    assert "Saved." in _row(saved, OTHER)
    assert "Saved." not in render(merchant_user, [RECORD, OTHER])
    support = render(support_user, [RECORD, OTHER])
    assert RECORD.amazon_key not in support and "Delete" not in support
    assert RECORD.amazon_key in render(merchant_user, [RECORD, OTHER])
    with timezone.override(zoneinfo.ZoneInfo("Asia/Tokyo")):
        assert "2 Dec 2026, 08:30 JST" in render(merchant_user, [RECORD, OTHER])


def test_a_records_hash_is_kept_only_for_what_never_changes() -> None:
    assert fragments.data_digest(RECORD) == fragments.data_digest(dataclasses.replace(RECORD))
    assert fragments.data_digest(RECORD) != fragments.data_digest(
        dataclasses.replace(RECORD, download_count=3)
    )

    @dataclasses.dataclass
    class Mutable:
        count: int

    row = Mutable(1)
    before = fragments.data_digest(row)
    row.count = 2  # a dataclass that is not frozen is hashed on every call
    assert fragments.data_digest(row) != before
    assert fragments.data_digest("not a dataclass") is None


# --- an order's History (audit/_timeline.html): entries cached by their version --------------------------


def _history(rf: RequestFactory, user: User, order_number: int = 6060) -> str:
    from audit.services import audit_entries_for_order

    request = rf.get("/orders/x/")
    request.user = user
    entries = audit_entries_for_order(order_number=order_number)
    return render_to_string("audit/_timeline.html", {"timeline_entries": entries}, request=request)


def test_a_history_entry_changes_when_it_is_closed_undone_or_seen_from_another_zone(
    rf: RequestFactory, merchant_user: User
) -> None:
    from audit.models import AuditEntry

    entry = AuditEntry.objects.create(
        actor=merchant_user,
        actor_name="mia",
        action="download_record_count",
        order_number=6060,
        download_id="hist1",
        before={"download_count": 3},
        after={"download_count": 0},
        outcome=AuditEntry.Outcome.PENDING,
    )
    assert "pending" in _history(rf, merchant_user)
    assert _fragments() == 1
    AuditEntry.objects.close_pending(entry.pk, outcome=AuditEntry.Outcome.SUCCESS)
    closed = _history(rf, merchant_user)
    assert "pending" not in closed and "done" in closed and "3 → 0" in closed
    AuditEntry.objects.create(
        actor=merchant_user,
        actor_name="sam",
        action="download_record_count_revert",
        order_number=6060,
        download_id="hist1",
        undo_of=entry,
        outcome=AuditEntry.Outcome.SUCCESS,
    )
    assert "undone by sam" in _history(rf, merchant_user)
    stamp = timezone.localtime(entry.created_at, zoneinfo.ZoneInfo("Asia/Tokyo")).strftime("%H:%M:%S JST")
    with timezone.override(zoneinfo.ZoneInfo("Asia/Tokyo")):
        assert stamp in _history(rf, merchant_user)


def test_nothing_is_kept_with_debug_on(render: Render, merchant_user: User, settings: Any) -> None:
    """Under DEBUG a template edited while the server runs is reloaded without a restart."""
    settings.DEBUG = True
    assert "handbook.pdf" in render(merchant_user, [RECORD])
    assert _fragments() == 0


# --- The page frame's header, kept in the process (fragments.render_kept) --------------------------------


def _header(page: str) -> str:
    return page.split('<header class="site-header">', 1)[1].split("</header>", 1)[0]


def _tokens_match(page: str) -> bool:
    """The header's sign-out form carries the request's own CSRF token (the one the <body> gives htmx)."""
    [body] = re.findall(r'"X-CSRFToken": "([^"]+)"', page)
    return _unmask_cipher_token(_TOKEN.findall(_header(page))[0]) == _unmask_cipher_token(body)


def test_the_kept_header_is_the_header_rendered_afresh_for_every_person_page_zone_and_language(
    client: Any, support_user: User, settings: Any
) -> None:
    """Each step changes one input of the header from the step before; a key that left it out would show
    the step before's header, kept. `fresh` renders with nothing kept."""
    from staff.middleware import LANGUAGE_SESSION_KEY, TIME_ZONE_SESSION_KEY
    from tests.conftest import _make_user

    other_support = _make_user("sam-header-support", "Support")
    merchant = _make_user("mia-header-merchant", "Merchant")

    def page(path: str) -> str:
        response = client.get(path)
        assert response.status_code in (200, 404)  # an unknown order: its page says so, in the frame
        return response.content.decode()

    def set_session(**values: str) -> None:
        session = client.session
        for key, value in values.items():
            session[key] = value
        session.save()

    steps: list[tuple[str, Callable[[], None], str]] = [
        ("first", lambda: client.force_login(support_user), "/audit/"),
        ("another page", lambda: None, "/downloads/"),
        ("an order's page", lambda: None, "/orders/82664d96-6dfd-4343-aaaa-05c46f412a5b/"),
        ("another order's page", lambda: None, "/orders/00000000-0000-4000-8000-000000000000/"),
        ("another query", lambda: None, "/orders/?q=nobody-a"),
        ("the same query elsewhere", lambda: None, "/orders/?q=nobody-b"),
        ("another person, same role", lambda: client.force_login(other_support), "/orders/?q=nobody-b"),
        ("another role", lambda: client.force_login(merchant), "/orders/?q=nobody-b"),
        ("another zone", lambda: set_session(**{TIME_ZONE_SESSION_KEY: "Asia/Tokyo"}), "/orders/?q=nobody-b"),
        ("another language", lambda: set_session(**{LANGUAGE_SESSION_KEY: "fr"}), "/orders/?q=nobody-b"),
        (
            "the sandbox banner",
            lambda: setattr(settings, "DEMO_MODE", not settings.DEMO_MODE),
            "/orders/?q=nobody-b",
        ),
    ]
    seen = set()
    for name, change, path in steps:
        change()
        kept = page(path)
        fragments._kept.clear()
        fresh = page(path)
        assert _TOKEN.sub("", _header(kept)) == _TOKEN.sub("", _header(fresh)), name
        assert _tokens_match(kept) and _tokens_match(fresh), name
        seen.add(_TOKEN.sub("", _header(kept)))
    assert len(seen) == len(steps)  # every step changed what the header shows
    assert 'lang="fr"' in kept and "Asia/Tokyo" in _header(kept) and "mia-header-merchant" in _header(kept)


def test_one_header_is_kept_for_every_order_page_each_coming_back_to_its_own(
    client: Any, support_user: User
) -> None:
    """The page's path is the header's own value (its time zone and language links come back to it): an
    order's page opened the first time finds the header kept by another's, with its own path in it."""
    client.force_login(support_user)
    first = "/orders/82664d96-6dfd-4343-aaaa-05c46f412a5b/"
    second = "/orders/00000000-0000-4000-8000-000000000000/"
    client.get(first)
    held = dict(fragments._kept)
    page = client.get(second).content.decode()
    assert [key for key in fragments._kept if key not in held and "site-header" in fragments._kept[key]] == []
    assert f"?next={second}" in _header(page) and first not in _header(page)
    fragments._kept.clear()
    assert _TOKEN.sub("", _header(client.get(second).content.decode())) == _TOKEN.sub("", _header(page))


def test_the_header_is_kept_after_the_first_page(client: Any, support_user: User) -> None:
    client.force_login(support_user)
    fragments._kept.clear()
    client.get("/jobs/")  # a page that keeps nothing else (the audit log keeps its filter form too)
    assert len(fragments._kept) == 1
    client.get("/jobs/")
    assert len(fragments._kept) == 1


def test_a_version_names_every_field_of_nested_data_and_refuses_what_it_cannot_name() -> None:
    """fragments.versioned: a record's secret S3 key (left out of its repr) inside a list counts; a lazy
    sentence is its text in the active language; an object whose repr is its address is refused."""
    from django.utils import translation
    from django.utils.translation import gettext_lazy

    moved = dataclasses.replace(RECORD, amazon_key="bucket/elsewhere.pdf")
    assert repr([RECORD]) == repr([moved])
    assert fragments.versioned([RECORD]) != fragments.versioned([moved])
    assert fragments.versioned({"at": RECORD.date_created}) == (("at", RECORD.date_created),)
    label = gettext_lazy("Copy")
    with translation.override("fr"):
        french = fragments.versioned((label,))
    assert french != fragments.versioned((label,)) == ("Copy",)
    with pytest.raises(fragments.Unversioned):
        fragments.versioned([object()])


def test_tables_kept_in_the_process_stay_within_their_characters() -> None:
    """A table's rows kept whole are also kept in the process (fragments.Near), by the same key as in the
    shared cache, up to a number of characters: the least recently read go first, and one rendering of more
    than a quarter of them, or of fewer than its least, is never kept."""
    near = fragments.Near(100)
    near.keep("a", "x" * 20)
    near.keep("b", "y" * 20)
    assert near.get("a") == "x" * 20  # now the most recently read
    for key in "cde":
        near.keep(key, "z" * 25)
    assert near.get("b") is None and near.get("a") == "x" * 20 and near.size <= 100
    near.keep("big", "w" * 26)
    assert near.get("big") is None
    least = fragments.Near(100, least=10)  # a small one is left to the shared cache
    least.keep("small", "s" * 9)
    least.keep("enough", "e" * 10)
    assert least.get("small") is None and least.get("enough") == "e" * 10
