"""The diagnosis, its fixes and the support reply, as pure functions of what the APIs answered: no
sandbox, no database."""

from datetime import UTC, datetime

import pytest

from fileflare_admin.api import types
from orders.diagnosis import CountFix, count_fix, diagnose
from orders.reply_text import (
    DEFAULT_REPLIES,
    RecentChanges,
    reply_situation,
    support_reply,
    unknown_placeholders,
)

SENT = datetime(2026, 1, 1, tzinfo=UTC)
STATUS_LINK = "https://my-store.com/account/orders/0c732eb6fd9802a0821a9d29888baee8"


def asset(name: str, *, url: str | None = None, link: bool = False, asset_id: str = "") -> types.Asset:
    return types.Asset(
        id=asset_id or f"id-{name}", filename=name, size_text="10MB", size_bytes=None,
        is_file=not link, is_link=link, url=url,
    )


def item(name: str, downloaded: int, limit: int | None, **kwargs: object) -> types.CustomerAsset:
    return types.CustomerAsset(asset=asset(name, **kwargs), limits=types.AssetLimit(downloaded, limit))  # type: ignore[arg-type]


def view(*items: types.CustomerAsset) -> types.CustomerView:
    product = types.Product("p1", "Budget Planner", "Bonus edition", "", None, None, "", ())
    lines = (types.OrderLine(product=product, assets=tuple(items)),)
    return types.CustomerView(order_number=1013, lines=lines, assets=(), title=None, text=None)


def order(*, sent: bool = True, assets: tuple[types.Asset, ...] = ()) -> types.Order:
    return types.Order(
        id="557c865a-76a7-43ca-8743-c133c92bb0e1", order_number=1013, ordered_at=SENT,
        email_sent_at=SENT if sent else None, assets=assets, assets_loaded=True,
    )


def record(name: str, count: int, download_id: str = "r1") -> types.DownloadRecord:
    return types.DownloadRecord(download_id, SENT, 7, 1013, count, name, False, "")


def test_a_used_up_file_carries_a_reset_for_a_merchant() -> None:
    findings = diagnose(
        order=order(), customer=view(item("Planner", 10, 10)), customer_known=True,
        records=[record("Planner", 10), record("Other file", 4, "r2")], max_count_step=None,
    )
    [used_up] = findings
    assert used_up.severity == "bad" and used_up.action == "count_fix"
    assert "“Planner” has used 10 of 10 downloads" in used_up.text
    assert used_up.fix == CountFix("Planner", 10, 10, (("r1", 10, 0),))
    assert used_up.fix.label == "Reset to 0" and used_up.fix.customer_after == 0


def test_support_gets_as_many_downloads_back_as_its_step_allows_on_each_record() -> None:
    records = [record("Planner", 10), record(" planner ", 2, "r2")]
    fix = count_fix(item=item("Planner", 12, 10), records=records, max_count_step=5)
    assert fix is not None and fix.counts == (("r1", 10, 5), ("r2", 2, 0))
    assert fix.label == "Give 7 more downloads" and fix.customer_after == 5


def test_a_small_count_is_reset_within_supports_step() -> None:
    fix = count_fix(item=item("Planner", 3, 3), records=[record("Planner", 3)], max_count_step=5)
    assert fix is not None and fix.label == "Reset to 0"


@pytest.mark.parametrize(
    ("records", "step", "says"),
    [
        ([], None, "no download record of this order names the file"),
        ([record("Planner", 0)], None, "already show 0, so the limit is kept by Fileflare"),
        ([record("Planner", 10)], 0, "no role that may change download counts"),
        (None, None, "could not be read"),
    ],
)
def test_without_records_to_lower_the_finding_sends_to_fileflare(
    records: list[types.DownloadRecord] | None, step: int | None, says: str
) -> None:
    [finding] = diagnose(order=order(), customer=view(item("Planner", 10, 10)), customer_known=True,
                         records=records, max_count_step=step)
    assert finding.action == "fileflare" and finding.fix is None and says in finding.text


def test_email_never_sent_is_fixed_by_resending_and_no_files_by_attaching() -> None:
    findings = diagnose(order=order(sent=False), customer=view(), customer_known=True, records=[])
    assert [finding.action for finding in findings][:2] == ["resend", "attach"]
    assert "never sent" in findings[0].text and "Attach a file to this order" in findings[1].text


def test_until_the_link_is_known_there_is_one_check_line() -> None:
    findings = diagnose(order=order(), customer=None, customer_known=False, records=[])
    assert [(finding.severity, finding.action) for finding in findings] == [("warn", "paste_link")]
    assert "search box" not in findings[0].text


def test_a_link_that_is_no_web_address_is_named_once() -> None:
    bad = asset("bad-link", url="ftp://x/y.zip", link=True, asset_id="same")
    findings = diagnose(order=order(assets=(bad,)), customer=view(item("bad-link", 0, 3, url="ftp://x/y.zip",
                        link=True, asset_id="same")), customer_known=True, records=[])
    named = [finding.text for finding in findings if finding.text.startswith("“bad-link” is a link")]
    assert len(named) == 1 and "not a web address" in named[0]


def test_nothing_wrong_says_so() -> None:
    customer = view(item("Planner", 2, 10))
    [finding] = diagnose(order=order(), customer=customer, customer_known=True, records=[])
    assert finding.severity == "ok"


@pytest.mark.parametrize(
    ("bad", "recent", "expected"),
    [
        (True, RecentChanges(fixed_files=("Planner",)), "blocked"),
        (False, RecentChanges(fixed_files=("Planner",), resent=True), "downloads_reset"),
        (False, RecentChanges(attached_files=("Part 2",)), "files_attached"),
        (False, RecentChanges(resent=True), "email_resent"),
        (False, RecentChanges(), "ready"),
    ],
)
def test_the_reply_fits_the_diagnosis_and_what_was_just_done(
    bad: bool, recent: RecentChanges, expected: str
) -> None:
    findings = diagnose(
        order=order(), customer=view(item("Planner", 10 if bad else 5, 10)), customer_known=True,
        records=[record("Planner", 10)],
    )
    assert reply_situation(findings=findings, recent=recent) == expected


def test_a_blocked_customer_is_never_told_a_used_up_count_as_good_news() -> None:
    text = support_reply(order=order(), customer=view(item("Planner", 10, 10)), situation="blocked")
    assert "10 of 10" not in text and "used" not in text and "here are" not in text.lower()
    assert "#1013" in text and "fixing it" in text


def test_the_reply_after_a_reset_says_what_was_fixed_and_gives_the_status_link() -> None:
    text = support_reply(
        order=order(), customer=view(item("Planner", 5, 10), item("Free", 40, None, url="https://x.example/f")),
        status_link=STATUS_LINK, recent=RecentChanges(fixed_files=("Planner",)), situation="downloads_reset",
    )
    assert "I've reset your downloads for “Planner”, so you can download again." in text
    assert "- Planner (5 downloads left)" in text
    assert "- Free: https://x.example/f (no download limit)" in text
    assert f"from your order page: {STATUS_LINK}" in text


def test_without_the_status_link_the_reply_points_to_the_shop_instead() -> None:
    text = support_reply(order=order(assets=(asset("Book", url="https://x.example/b"),)), customer=None)
    assert "- Book: https://x.example/b" in text and "order page in the shop" in text


def test_a_shops_own_wording_is_filled_in_and_a_stray_brace_is_left_as_written() -> None:
    text = support_reply(order=order(), customer=None, template="Hi! Order {order_number} {not a name}")
    assert text == "Hi! Order 1013 {not a name}"


def test_every_default_reply_uses_only_what_it_can_fill() -> None:
    for body in DEFAULT_REPLIES.values():
        assert unknown_placeholders(body) == []
    assert unknown_placeholders("{order_number} {customer_name}") == ["customer_name"]


# --- Limits known without the link, evidence, the complaint first (issue 26) ----------------------
from downloads.limits import KnownLimit  # noqa: E402
from orders.diagnosis import Evidence, ReadAt  # noqa: E402

READ = ReadAt(order=SENT, customer=SENT, records=SENT)
LEARNED = KnownLimit(10, "learned", order_number=1049, seen_at=datetime(2025, 12, 29, tzinfo=UTC))
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_record_at_a_learned_limit_is_used_up_and_says_where_the_limit_comes_from() -> None:
    [finding, _paste] = diagnose(
        order=order(), customer=None, customer_known=False, records=[record("Planner", 10)],
        max_count_step=None, known_limits={"planner": LEARNED}, read_at=READ, now=NOW,
    )
    assert finding.severity == "bad" and finding.topic == "limit" and finding.action == "count_fix"
    seen = "(limit seen on order #1049's customer page, 3 days ago)"
    assert f"show 10 of 10 downloads used {seen}" in finding.text
    assert "learned, not this customer's own" in finding.text
    assert finding.evidence == (
        Evidence("the downloads API", "1 record of this order for “Planner”, count 10", SENT),
        Evidence("order #1049's customer page (Fileflare v2)",
                 "limit 10 (learned from another order: this order may override it)",
                 LEARNED.seen_at, "seen"),
    )
    assert finding.fix == CountFix("Planner", 10, 10, (("r1", 10, 0),))


def test_the_shop_default_is_named_as_such_in_the_evidence() -> None:
    [finding, _paste] = diagnose(
        order=order(), customer=None, customer_known=False,
        records=[record("Planner", 3), record("planner", 2, "r2")],
        max_count_step=0, known_limits={"planner": KnownLimit(5, "shop_default")}, read_at=READ, now=NOW,
    )
    assert "show 5 of 5 downloads used (shop default)" in finding.text and finding.action == "fileflare"
    assert finding.evidence[0].facts == "2 records of this order for “Planner”, count 3 + 2 = 5"
    assert finding.evidence[1] == Evidence("the shop's default limit (SHOP_DOWNLOAD_LIMIT)", "limit 5")


def test_every_finding_names_its_numbers_and_their_source() -> None:
    findings = diagnose(
        order=order(sent=False), customer=view(item("Planner", 10, 10)), customer_known=True,
        records=[record("Planner", 10)], read_at=READ,
    )
    assert [finding.evidence[0].source for finding in findings] == [
        "Fileflare's order API (v1)", "the customer's page (Fileflare v2)"
    ]
    assert findings[0].evidence[0].facts == "email_sent_at is empty"
    assert findings[1].evidence[0].facts == "“Planner”: downloaded 10, limit 10"
    assert findings[1].evidence[1].facts == "1 record of this order for “Planner”, count 10"


def test_the_complaint_leads_and_the_rest_keep_their_order() -> None:
    findings = diagnose(order=order(sent=False), customer=view(item("Planner", 10, 10)), customer_known=True,
                        records=[record("Planner", 10)], complaint="limit")
    assert [finding.topic for finding in findings] == ["limit", "no_email"]


def test_a_limit_complaint_with_no_limit_known_asks_the_customer_for_their_link() -> None:
    findings = diagnose(order=order(), customer=None, customer_known=False, records=[record("Planner", 10)],
                        complaint="limit", now=NOW)
    [finding] = findings
    assert finding.action == "paste_link" and "no limit is known" in finding.text
    situation = reply_situation(findings=findings, recent=RecentChanges())
    assert situation == "need_status_link"
    text = support_reply(order=order(), customer=None, situation=situation)
    assert "we need the link to your order's page" in text and "order #1013" in text
    assert "limit" not in text.lower() and "token" not in text.lower()  # words a customer knows


def test_a_limit_complaint_under_the_limit_still_offers_the_count_back() -> None:
    [finding, _paste] = diagnose(
        order=order(), customer=None, customer_known=False, records=[record("Planner", 5)],
        max_count_step=5, known_limits={"planner": LEARNED}, complaint="limit", now=NOW,
    )
    assert finding.severity == "warn" and "5 of 10" in finding.text and "not reached" in finding.text
    assert finding.fix is not None and finding.fix.label == "Reset to 0"
