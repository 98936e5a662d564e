"""The dashboard in French and in Italian, walked in a real Chromium (issue 30, item 5): every page kind, as
each role (Support, Merchant, Administrator), with the writes a person makes and what they leave on the
page (flash messages, htmx-swapped rows and results, form errors, the browser's confirm questions). On each
of them: no English sentence of our catalogue (tests.support.i18n.untranslated on the page's HTML),
`<html lang>` is the person's language, nothing scrolls sideways at 1280 or 375 px, and axe finds nothing
serious at 375 px (the width where long French and Italian words press hardest).

Each role reaches its language another way (issue 30, item 2): Support's browser says English and they pick
the language in the header; the Merchant's browser asks for it (Accept-Language); the Administrator chose
it in their preferences while their browser asks for the other one (their signed-out pages speak that one).

One browser, each page loaded once per role and language; every problem is collected and reported together.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Browser, Dialog, Page, expect

from audit.models import AuditEntry
from downloads.models import CountChange
from jobs import runner
from jobs import services as jobs
from jobs.models import BulkJob
from jobs.selection import Selection
from staff.models import StaffPreferences
from tests.browser.conftest import ARTIFACTS, SETTLED, UNBROKEN_NAME, WORDY_NAME, sideways_overflow
from tests.browser.test_accessibility import _axe_problems
from tests.conftest import TEST_PASSWORD, Sandbox
from tests.downloads.conftest import DownloadsApi
from tests.support.i18n import untranslated, visible_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 375, "height": 812}
LAPTOP = {"width": 1280, "height": 900}
OTHER = {"fr": "it", "it": "fr"}
BROWSER_LOCALE = {"en": "en-US", "fr": "fr-FR", "it": "it-IT"}

# What sticks out past the window's right edge: the innermost elements (tag#id.class and their text's start).
STICKING_OUT = """() => {
  const width = document.documentElement.clientWidth;
  const out = Array.from(document.querySelectorAll("body *")).filter((element) => {
    const box = element.getBoundingClientRect();
    return box.width > 0 && box.right > width + 1;
  });
  const name = (element) => element.tagName.toLowerCase() + (element.id ? "#" + element.id : "")
    + (typeof element.className === "string" && element.className.trim()
      ? "." + element.className.trim().split(/\\s+/).join(".") : "");
  return out.filter((element) => !out.some((other) => other !== element && element.contains(other)))
    .slice(0, 3)
    .map((element) => name(element) + " “" + (element.textContent || "").trim().slice(0, 30) + "”");
}"""

# HTML a person would read as text (a tag inside an attribute breaks it open: `title="{{ x|when }}"`).
MARKUP_AS_TEXT = re.compile(r'.{0,30}(?:"=""|">|</?(?:time|span|a|code)\b).{0,30}')


# WALK_PAGES=folder keeps each checked page's HTML there, to read what the walk saw.
KEEP_PAGES = os.environ.get("WALK_PAGES", "")

# English a page may show on purpose, each named (none yet). An entry is (page kind, msgid): the walk
# does not report that msgid on that page kind. Never a whole page.
KNOWN_ENGLISH: frozenset[tuple[str, str]] = frozenset()


@dataclass
class Shop:
    """What the walk finds at the upstreams and in the dashboard's own tables: an order of this test with
    two files (long names), its records, a burst of downloads just after its e-mail (the link-scanner
    line), a second order holding the same file (a search with results), and a finished bulk fix."""

    order_id: str
    order_number: int
    token: str
    status_url: str
    record_id: str
    other_record_id: str
    spare_record_id: str
    shared_file: str
    job_id: int
    job_order_number: int


def _make_order(
    sandbox: Sandbox, api: DownloadsApi, product_id: int, files: list[str]
) -> tuple[dict, list[str]]:
    made = sandbox.create_order(
        {
            "lines": [
                {
                    "product": {"name": "Carnet de voyage illustré", "product_id": product_id},
                    "assets": [{"filename": name, "downloaded": 3, "limit": 5} for name in files],
                }
            ]
        }
    )
    ids = [
        api.create(
            product_id=product_id, order_id=made["order_number"], download_count=3, download_file_name=name,
            is_amazon=True, amazon_key=f"downloads/{UNBROKEN_NAME}",
        )["download_id"]
        for name in files
    ]
    return made, ids


def _prepare_shop(sandbox: Sandbox, planner: User) -> Shop:
    api = DownloadsApi(sandbox)
    product_id = 71_030_000 + timezone.now().microsecond
    shared = f"walk-guide-{product_id}.pdf"
    made, (record_id, other_id, spare_id) = _make_order(
        sandbox, api, product_id, [WORDY_NAME, shared, UNBROKEN_NAME]
    )
    _make_order(sandbox, api, product_id + 1, [shared])
    job_order, _ids = _make_order(sandbox, api, product_id + 2, ["reset-me.pdf", "reset-me-too.pdf"])
    # Three downloads within two minutes of the e-mail: the order page's link-scanner line.
    sent = timezone.now().replace(microsecond=0)
    for minutes, count, delta, latest in ((-1, 0, 0, False), (1, 3, 3, True)):
        seen = sent + timedelta(minutes=minutes)
        CountChange.objects.create(
            download_id=record_id, order_number=made["order_number"], product_id=product_id,
            file_name=WORDY_NAME, count=count, delta=delta, seen_at=seen,
            hour=seen.replace(minute=0, second=0), source="snapshot", latest=latest,
        )
    # A bulk fix run to its end (in this process, a step at a time, as the worker runs it).
    job = jobs.job_plan(
        actor=planner, selection=Selection(order_numbers=(job_order["order_number"],)),
        kind=BulkJob.Kind.COUNT_RESET, amount=None, reason="Tempête de robots, ticket 4821",
    )
    jobs.job_run(actor=planner, job_id=job.pk)
    for _step in range(5):
        job.refresh_from_db()
        if job.state not in BulkJob.ACTIVE:
            break
        runner.run_step(job.pk, job.step_token, enqueue=lambda token, run_after: None)
    return Shop(
        order_id=made["id"], order_number=made["order_number"], token=made["customer_token"],
        status_url=made["order_status_url"],
        record_id=record_id, other_record_id=other_id, spare_record_id=spare_id, shared_file=shared,
        job_id=job.pk, job_order_number=job_order["order_number"],
    )


@dataclass
class Walk:
    """One person's walk in one language: each check looks at the page as it is now."""

    page: Page
    who: str
    language: str
    problems: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    checked: int = 0

    def __post_init__(self) -> None:
        self.page.on("dialog", self._answer)

    def _answer(self, dialog: Dialog) -> None:
        self.questions.append(dialog.message)
        dialog.accept()

    def visit(self, kind: str, url: str, *, status: int = 200, language: str | None = None) -> None:
        response = self.page.goto(url)
        got = response.status if response is not None else None
        if got != status:
            self.problems.append(f"{self.who} {kind} ({url}): answered {got}, expected {status}")
        self.check(kind, language=language)

    def check(self, kind: str, *, language: str | None = None) -> None:
        """The page as it is now (after a swap, a flash, an error): its language, its English, its width,
        axe; and any question the browser asked since the last check."""
        page, lang = self.page, language or self.language
        where = f"{self.who} {kind} ({page.url.split('//', 1)[-1].split('/', 1)[-1] or '/'})"
        expect(page.locator("main#main")).to_be_attached()
        page.wait_for_load_state("load")  # its stylesheet applied, before anything is measured
        page.wait_for_function(SETTLED)
        self.checked += 1
        shown = page.locator("html").get_attribute("lang")
        if shown != lang:
            self.problems.append(f"{where}: <html lang={shown!r}>, expected {lang!r}")
        content = page.content()
        left = [msgid for msgid in untranslated(content, lang) if (kind, msgid) not in KNOWN_ENGLISH]
        if left:
            self.problems.append(f"{where}: English left in {lang}: {left}")
        broken = MARKUP_AS_TEXT.findall(visible_text(content, lang))
        if broken:
            self.problems.append(f"{where}: markup shown as text: {broken[:3]}")
        # The questions the browser asked since the last check, and those its buttons will ask.
        confirms = page.eval_on_selector_all("[data-confirm]", "all => all.map((e) => e.dataset.confirm)")
        for question in [*self.questions, *confirms]:
            asked = untranslated(f"<p>{html.escape(question)}</p>", lang)
            if asked:
                self.problems.append(f"{where}: a confirm question in English: {question!r} {asked}")
        self.questions.clear()
        if KEEP_PAGES:
            Path(KEEP_PAGES).mkdir(parents=True, exist_ok=True)
            (Path(KEEP_PAGES) / f"{self.who} {self.checked:02d} {kind}.html".replace("/", "-")).write_text(
                page.content()
            )
        for size in (LAPTOP, PHONE):
            page.set_viewport_size(size)
            wider = sideways_overflow(page)
            if wider > 0:
                out = page.evaluate(STICKING_OUT)
                self.problems.append(f"{where}: {wider} px too wide at {size['width']} px in {lang}: {out}")
        self.problems += _axe_problems(page, f"{where} at 375 px in {lang}")
        page.set_viewport_size(LAPTOP)

    def fetch(self, kind: str, url: str) -> None:
        """A file a page links to, fetched as the person: a CSV's header row, an SVG chart's words."""
        response = self.page.request.get(url)
        text = response.text()
        if response.status != 200:
            self.problems.append(f"{self.who} {kind} ({url}): answered {response.status}")
        read = f"<p>{html.escape(text.splitlines()[0] if text else '')}</p>" if ".csv" in url else text
        left = untranslated(read, self.language)
        if left:
            self.problems.append(f"{self.who} {kind} ({url}): English left in {self.language}: {left}")

    def links(self, selector: str, attribute: str) -> list[str]:
        return self.page.eval_on_selector_all(
            selector, f"all => Array.from(new Set(all.map((e) => e.getAttribute({attribute!r}))))"
        )

    def submit(self, form: str) -> None:
        """Send `form` (a CSS selector) with its first plain submit button, as a click would."""
        self.page.locator(f"{form} button[type=submit]:not([name])").first.click()
        self.page.wait_for_load_state()


def _sign_in(walk: Walk, user: User, *, check_language: str | None) -> None:
    """Through the real form, a wrong password first (its sentence is checked when the signed-out pages
    speak a language of the walk)."""
    page = walk.page
    page.goto("/accounts/login/")
    if check_language:
        walk.check("sign-in", language=check_language)
    page.locator("#id_username").fill(user.get_username())
    page.locator("#id_password").fill("not-the-password")
    walk.submit("main form")
    expect(page.locator("main [role=alert]").first).to_be_visible()
    if check_language:
        walk.check("sign-in refused", language=check_language)
    page.locator("#id_username").fill(user.get_username())
    page.locator("#id_password").fill(TEST_PASSWORD)
    walk.submit("main form")
    expect(page.locator("header form[action$='/logout/'] button")).to_be_visible()


def _orders(walk: Walk, shop: Shop, *, edits: bool) -> None:
    page = walk.page
    walk.visit("orders list", "/orders/")
    page.locator("#site-search-q").fill(shop.shared_file)  # htmx: the results come while typing
    expect(page.locator("#order-results")).to_contain_text(str(shop.order_number))
    walk.check("search with results (htmx)")
    walk.visit("search with results", f"/orders/?q={shop.shared_file}")
    walk.visit("search without results", "/orders/?q=99999999")
    walk.visit("never-emailed filter", "/orders/?email=never")
    order = f"/orders/{shop.order_id}/"
    walk.visit("order page", order)
    expect(page.locator("#suspects")).to_be_visible()
    page.locator("#customer-link").fill("not a link")  # what the customer sees: a wrong paste, then theirs
    walk.submit(".customer-link-form")
    walk.check("order page, a wrong customer link")
    page.locator("#customer-link").fill(shop.status_url)
    walk.submit(".customer-link-form")
    expect(page.locator("#customer-link")).to_have_count(0)
    walk.check("order page with what the customer sees")
    page.locator("#reply-language").select_option("en")  # htmx: the reply in the customer's language
    expect(page.locator("#support-reply")).to_have_attribute("lang", "en")
    walk.check("order page, a reply in English (htmx)")
    page.locator("#asset-filename").fill("part")  # htmx: the shop's files to attach
    expect(page.locator("input[name=asset]").first).to_be_visible()
    walk.check("order page, files to attach (htmx)")
    page.locator("input[name=asset]").first.check()
    page.locator("#attach-reason").fill("Fichier oublié, ticket 4521")
    page.locator("#attach-reason").press("Enter")  # a confirm question, then the POST
    expect(page.locator(".flash").first).to_be_visible()
    walk.check("order page after attaching a file")
    walk.visit("resend confirmation", f"{order}resend/")
    walk.visit("attach a file", f"{order}files/")
    walk.visit("customer view", f"/orders/customer/{shop.token}/")
    walk.visit("support replies", "/orders/replies/")
    walk.visit("support replies in English", "/orders/replies/?language=en")
    page.goto(order)
    page.locator("#resend-reason").fill("Le client a perdu l'e-mail")
    page.locator("#resend-form button[type=submit]").click()  # a confirm question, then the POST
    expect(page.locator(".flash").first).to_be_visible()
    walk.check("order page after a resend")
    if edits:
        page.locator("#suspects form button[type=submit]").click()  # give back, after a question
        expect(page.locator(".flash").first).to_be_visible()
        walk.check("order page after a give-back")


def _records(walk: Walk, shop: Shop, *, edits: bool) -> None:
    page = walk.page
    listing = f"/downloads/?q={shop.order_number}"
    walk.visit("records list", listing)
    page.locator("#records-q").fill(shop.shared_file)  # htmx: the table is swapped while typing
    expect(page.locator(f"#record-{shop.record_id}")).to_have_count(0)  # only the records of that file
    expect(page.locator(f"#record-{shop.other_record_id}")).to_be_visible()
    walk.check("records list search (htmx)")
    page.goto(listing)
    row = page.locator(f"#record-{shop.record_id}")
    message = page.locator(f"#record-{shop.record_id}-message")
    if not edits:  # Support moves a count by a few at most: the refusal is a sentence in the row
        row.locator("input[name=count]").fill("40")
        row.locator("button[type=submit]:not([name])").click()
        expect(message).not_to_be_empty()
        walk.check("records list, a refused count (htmx)")
        row = page.locator(f"#record-{shop.record_id}")
    row.locator("input[name=count]").fill("4")
    row.locator("button[type=submit]:not([name])").click()
    expect(page.locator(f"#record-{shop.record_id} input[name=count]")).to_have_value("4")
    expect(page.locator(f"#record-{shop.record_id}-message")).not_to_be_empty()
    walk.check("records list, a saved count (htmx)")
    walk.visit("record edit", f"/downloads/{shop.record_id}/edit/")
    if edits:
        walk.visit("record create", f"/downloads/new/?order_id={shop.order_number}")
        walk.submit("main form.record-form")
        walk.check("record create with errors")
        walk.visit("record delete", f"/downloads/{shop.spare_record_id}/delete/")
        page.locator("main form [name=reason]").fill("Doublon")
        walk.submit("main form")
        expect(page.locator(".flash").first).to_be_visible()
        walk.check("after a delete")
    else:
        walk.visit("record create (refused)", "/downloads/new/", status=403)
        walk.visit("record delete (refused)", f"/downloads/{shop.spare_record_id}/delete/", status=403)


def _audit(walk: Walk, shop: Shop, *, edits: bool) -> None:
    page = walk.page
    walk.visit("audit log", "/audit/")
    page.locator("#audit-filters select[name=action]").select_option("download_record_count")  # htmx
    expect(page).to_have_url(re.compile(r"action=download_record_count"))
    walk.check("audit log filtered (htmx)")
    if edits:
        deletion = AuditEntry.objects.filter(action="download_record_delete").latest("pk")
        walk.visit("restore confirmation", f"/audit/{deletion.pk}/undo/")
    changes = AuditEntry.objects.filter(action="download_record_count", download_id=shop.record_id)
    change = changes.latest("pk")
    walk.visit("undo confirmation", f"/audit/{change.pk}/undo/")
    page.locator("main form [name=reason]").fill("Mauvaise commande")
    walk.submit("main form")
    expect(page.locator(".flash").first).to_be_visible()
    walk.check("after an undo")


def _jobs(walk: Walk, shop: Shop, *, edits: bool) -> None:
    page = walk.page
    if not edits:  # bulk fixes are a Merchant's: Support reads why
        walk.visit("bulk fixes (refused)", "/jobs/", status=403)
        walk.visit("a bulk fix (refused)", f"/jobs/{shop.job_id}/", status=403)
        return
    walk.visit("bulk fixes", "/jobs/")
    walk.visit("a finished bulk fix", f"/jobs/{shop.job_id}/")
    walk.fetch("a bulk fix's CSV", f"/jobs/{shop.job_id}/result.csv")
    walk.visit("undo a bulk fix", f"/jobs/{shop.job_id}/undo/")
    walk.visit("new bulk fix", "/jobs/new/")
    walk.submit("#bulk-form")
    walk.check("new bulk fix with errors")
    page.locator("#bulk-form [name=order_numbers]").fill(f"#{shop.order_number}")
    page.locator(f"#bulk-form input[name=action][value={BulkJob.Kind.COUNT_RESET}]").check()
    page.locator("#bulk-form [name=reason]").fill("Tempête de robots, ticket 4821")
    walk.submit("#bulk-form")
    expect(page.locator("#dry-run-summary")).to_be_visible()
    walk.check("bulk fix dry run")


def _elsewhere(walk: Walk) -> None:
    page = walk.page
    walk.visit("reports", "/reports/")
    for chart in walk.links("main img[src*='.svg']", "src"):
        walk.fetch("a chart", chart)
    for table in walk.links("main a[href*='.csv']", "href"):
        walk.fetch("a CSV", table)
    walk.visit("status", "/status/")
    walk.submit("main form[action='/status/']")
    walk.check("status after running the checks")
    walk.visit("time zone", "/staff/time-zone/")
    page.locator("main form [name=time_zone]").fill("Europe/Paris")
    walk.submit("main form")
    walk.check("after saving a time zone")
    walk.visit("language", "/staff/language/")
    walk.visit("digest", "/staff/digest/")
    page.locator("main form [name=wanted]").check()
    page.locator("main form [name=digest_at]").fill("08:30")
    walk.submit("main form")
    walk.check("after saving the digest")
    walk.visit("404", "/orders/not-a-page/", status=404)


def _sign_out(walk: Walk, *, check_language: str | None) -> None:
    walk.page.locator("header form[action$='/logout/'] button").click()
    walk.page.wait_for_load_state()
    if check_language:
        walk.check("signed out", language=check_language)
        walk.visit("404 signed out", "/orders/not-a-page/", status=404, language=check_language)


@pytest.fixture
def people(support_user: User, merchant_user: User, admin_user: User) -> dict[str, User]:
    return {"Support": support_user, "Merchant": merchant_user, "Administrator": admin_user}


@pytest.fixture
def walk_context(browser: Browser, live_server: object, request: pytest.FixtureRequest) -> Iterator[list]:
    """Browser contexts opened by the test (each with its own Accept-Language), closed after it; a failed
    walk leaves a picture of the page it was on."""
    opened: list = []
    yield opened
    report = getattr(request.node, "rep_call", None)
    for context in opened:
        if report is not None and report.failed and context.pages:
            ARTIFACTS.mkdir(exist_ok=True)
            context.pages[-1].screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
        context.close()


@pytest.mark.parametrize("language", ["fr", "it"])
@pytest.mark.parametrize("role", ["Support", "Merchant", "Administrator"])
def test_every_page_kind_speaks_the_persons_language_fits_375_px_and_passes_axe(
    browser: Browser,
    live_server: object,
    sandbox: Sandbox,
    people: dict[str, User],
    walk_context: list,
    role: str,
    language: str,
) -> None:
    person = people[role]
    shop = _prepare_shop(sandbox, people["Merchant"])
    browser_language = {"Support": "en", "Merchant": language, "Administrator": OTHER[language]}[role]
    if role == "Administrator":
        StaffPreferences.objects.create(user=person, language=language)
    context = browser.new_context(
        base_url=live_server.url,  # type: ignore[attr-defined]
        viewport=LAPTOP,
        locale=BROWSER_LOCALE[browser_language],
        extra_http_headers={"Accept-Language": BROWSER_LOCALE[browser_language]},
    )
    context.set_default_timeout(15_000)
    walk_context.append(context)
    walk = Walk(context.new_page(), f"{role} ({language})", language)
    signed_out = None if browser_language == "en" else browser_language

    _sign_in(walk, person, check_language=signed_out)
    if role == "Support":  # picks the language beside the time zone in the header
        walk.page.locator("header .language-link").click()
        walk.page.locator(f"main form input[name=language][value={language}]").check()
        walk.submit("main form")
        walk.check("after picking a language")
    edits = role != "Support"
    _orders(walk, shop, edits=edits)
    _records(walk, shop, edits=edits)
    _audit(walk, shop, edits=edits)
    _jobs(walk, shop, edits=edits)
    _elsewhere(walk)
    _sign_out(walk, check_language=signed_out)
    assert walk.checked >= 25
    assert walk.problems == [], f"{len(walk.problems)} problems on {walk.checked} pages:\n" + "\n".join(
        walk.problems
    )
