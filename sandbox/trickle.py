"""The shop's downloads over time: a steady trickle of customers downloading, some reaching their limit
and refused there, new orders with their e-mail, and link scanners that download a file several times
within minutes of an e-mail. Every download goes through the customer page's own rule
(`sandbox.customer.count_download`) and into the ground truth (`DownloadEvent`).

A step at a moment `at` is decided by the seed and `at` alone (and the shop as it stands), never by what
earlier steps of this process remember: the same seed, the same shop and the same moments give the same
downloads, in the demo's thread and through `POST /_sandbox/trickle` alike. A scanner's burst is planned
from the seed, the order and its e-mail's time, so a step knows which of its downloads are due and which
were already made (they are in the log). Decisions and their evidence: sandbox/README.md ("Downloads over
time").
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import DatabaseError, connection
from django.utils import timezone

from sandbox.customer import Link, count_download
from sandbox.fileflare import email_send
from sandbox.models import (
    DownloadEvent,
    DownloadRecord,
    LineAsset,
    Order,
    OrderAsset,
    OrderLine,
    atomic,
)
from sandbox.seed import DEFAULT_SEED, new_download_id

logger = logging.getLogger("sandbox")

RECENT_ORDERS = 300  # customers who download are mostly recent buyers: the newest e-mailed orders
JUST_BOUGHT = timedelta(hours=1)  # and half of the downloads are by those e-mailed within the hour, if any
JUST_BOUGHT_SHARE = 0.5
CUSTOMER_DOWNLOADS = (0, 1, 1, 1, 2, 3)  # downloads by customers in a step, drawn
KEEN_SHARE = 0.06  # a step where one customer downloads a file again and again, until refused at its limit
KEEN_MOST = 60  # a keen customer stops there at the latest (a limit above it, or one raised meanwhile)
SALE_SHARE = 0.12  # a step with a new order (a copy of a recent order's files, counts at 0)
UNSENT_SHARE = 0.1  # of new orders, those whose e-mail is not sent (the "never e-mailed" figure)
SCANNER_SHARE = 0.35  # of e-mails (new orders' and the e-mail call's), those a link scanner follows
SCANNER_DOWNLOADS = (3, 5)  # a scanner downloads the e-mail's first file this many times (at least, at most)
SCANNER_WITHIN = timedelta(minutes=4)  # all of a burst's downloads are due within this of the e-mail
SCANNER_LATE = timedelta(hours=1)  # a burst not finished this long after its e-mail is given up
DEFAULT_EVERY = timedelta(seconds=60)  # between the steps of one POST /_sandbox/trickle


def _rng(seed: int, *parts: object) -> random.Random:
    text = "|".join(str(part) for part in (seed, *parts))
    return random.Random(hashlib.sha256(text.encode()).digest())


@dataclass(frozen=True)
class Download:
    """A download a step makes: the order, the file (a line's or the order's), who, and how many times
    (`until_refused`: again and again until the limit refuses it)."""

    order_number: int
    link: str  # "line:<pk>" or "order:<pk>"
    kind: str
    until_refused: bool = False


@dataclass(frozen=True)
class Sale:
    order_number: int
    copied_from: int
    emailed: bool


@dataclass(frozen=True)
class Plan:
    at: datetime
    sale: Sale | None
    downloads: tuple[Download, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "sale": asdict(self.sale) if self.sale else None,
            "downloads": [asdict(download) for download in self.downloads],
        }


@dataclass
class Report:
    """What steps did: downloads made and refused (by kind), orders made."""

    steps: int = 0
    downloads: dict[str, int] = field(default_factory=lambda: {"customer": 0, "scanner": 0})
    refused: dict[str, int] = field(default_factory=lambda: {"customer": 0, "scanner": 0})
    orders: list[int] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "steps": self.steps,
            "downloads": self.downloads,
            "refused": self.refused,
            "orders": self.orders,
        }


def _links(order: Order) -> list[tuple[str, Link]]:
    """The order's files in the e-mail's order: its lines' files, then the files attached to it."""
    lines = (
        LineAsset.objects.filter(line__order=order).select_related("asset").order_by("line__position", "pk")
    )
    attached = OrderAsset.objects.filter(order=order).select_related("asset").order_by("pk")
    return [(f"line:{link.pk}", link) for link in lines] + [(f"order:{link.pk}", link) for link in attached]


def _recent(at: datetime) -> list[Order]:
    return list(
        Order.objects.filter(email_sent_at__isnull=False, email_sent_at__lte=at).order_by("-order_number")[
            :RECENT_ORDERS
        ]
    )


def burst(seed: int, order: Order) -> list[datetime]:
    """When a link scanner downloads the order's first file after its e-mail (empty: no scanner)."""
    if order.email_sent_at is None:
        return []
    rng = _rng(seed, "scanner", order.order_number, order.email_sent_at.isoformat())
    if rng.random() >= SCANNER_SHARE:
        return []
    times = rng.randint(*SCANNER_DOWNLOADS)
    within = int(SCANNER_WITHIN.total_seconds())
    return sorted(order.email_sent_at + timedelta(seconds=rng.randint(5, within)) for _ in range(times))


def _scanner_downloads(seed: int, at: datetime) -> list[Download]:
    due: list[Download] = []
    for order in Order.objects.filter(email_sent_at__gt=at - SCANNER_LATE, email_sent_at__lte=at):
        due_times = sum(1 for moment in burst(seed, order) if moment <= at)
        if not due_times:
            continue
        assert order.email_sent_at is not None  # filtered above
        made = DownloadEvent.objects.filter(
            order_number=order.order_number, kind=DownloadEvent.Kind.SCANNER, at__gte=order.email_sent_at
        ).count()
        links = _links(order) if due_times > made else []
        if links:  # the e-mail's first file, once for each download due and not yet made
            scanner = Download(order.order_number, links[0][0], DownloadEvent.Kind.SCANNER)
            due += [scanner] * (due_times - made)
    return due


def plan(*, at: datetime, seed: int = DEFAULT_SEED) -> Plan:
    """What a step at `at` does, read from the shop as it stands (nothing is written)."""
    rng = _rng(seed, "step", at.isoformat())
    recent = _recent(at)
    sale = None
    if recent and rng.random() < SALE_SHARE:
        top = Order.objects.order_by("-order_number").values_list("order_number", flat=True).first() or 1000
        sale = Sale(top + 1, rng.choice(recent).order_number, emailed=rng.random() >= UNSENT_SHARE)
    downloads: list[Download] = []
    just_bought = [
        order for order in recent if order.email_sent_at and order.email_sent_at > at - JUST_BOUGHT
    ]
    for _ in range(rng.choice(CUSTOMER_DOWNLOADS) if recent else 0):
        order = rng.choice(just_bought if just_bought and rng.random() < JUST_BOUGHT_SHARE else recent)
        links = _links(order)
        if links:
            downloads.append(Download(order.order_number, rng.choice(links)[0], DownloadEvent.Kind.CUSTOMER))
    if recent and rng.random() < KEEN_SHARE:
        order = rng.choice(recent)
        limited = [reference for reference, link in _links(order) if link.limit is not None]
        if limited:
            downloads.append(
                Download(order.order_number, rng.choice(limited), DownloadEvent.Kind.CUSTOMER, True)
            )
    downloads += _scanner_downloads(seed, at)
    return Plan(at=at, sale=sale, downloads=tuple(downloads))


def _link(reference: str) -> Link:
    kind, _, pk = reference.partition(":")
    model: type[LineAsset] | type[OrderAsset] = LineAsset if kind == "line" else OrderAsset
    return model.objects.select_related("asset").get(pk=int(pk))


def _sell(seed: int, sale: Sale, at: datetime) -> None:
    """A new order: the files of a recent order (its lines, limits and records), counts at 0, and its
    e-mail (unless the sale says it is not sent)."""
    rng = _rng(seed, "sale", sale.order_number)
    source = Order.objects.get(order_number=sale.copied_from)
    moment = at.replace(microsecond=0)
    order = Order.objects.create(
        id=uuid.UUID(int=rng.getrandbits(128), version=4),
        order_number=sale.order_number,
        ordered_at=moment,
        customer_token=f"{rng.getrandbits(128):032x}",
        customer_email=f"buyer.{sale.order_number}@example.com",
    )
    for line in OrderLine.objects.filter(order=source).prefetch_related("line_assets"):
        copy = OrderLine.objects.create(order=order, product=line.product, position=line.position)
        LineAsset.objects.bulk_create(
            LineAsset(line=copy, asset_id=link.asset_id, downloaded=0, limit=link.limit)
            for link in line.line_assets.all()
        )
    DownloadRecord.objects.bulk_create(
        DownloadRecord(
            download_id=new_download_id(rng, moment),
            date_created=moment,
            product_id=record.product_id,
            order_id=order.order_number,
            download_count=0,
            download_file_name=record.download_file_name,
            is_amazon_download=record.is_amazon_download,
            amazon_key=record.amazon_key,
        )
        for record in DownloadRecord.objects.filter(order_id=source.order_number).order_by("download_id")
    )
    if sale.emailed:
        email_send(order, at=moment)


def step(*, at: datetime, seed: int = DEFAULT_SEED, report: Report | None = None) -> Report:
    """One step of the shop's life at `at`: its plan carried out. Downloads are refused at the limit
    exactly as on the customer's page."""
    report = report or Report()
    with _stepping:  # the demo's thread and a POST: one step at a time (a sale takes the next number)
        _carry_out(plan(at=at, seed=seed), seed=seed, report=report)
    report.steps += 1
    return report


_stepping = threading.Lock()


def _carry_out(decided: Plan, *, seed: int, report: Report) -> None:
    at = decided.at
    if decided.sale is not None:
        with atomic():
            _sell(seed, decided.sale, at)
        report.orders.append(decided.sale.order_number)
    orders = {
        o.order_number: o
        for o in Order.objects.filter(order_number__in={d.order_number for d in decided.downloads})
    }
    for download in decided.downloads:
        order, link = orders[download.order_number], _link(download.link)
        for _ in range(KEEN_MOST if download.until_refused else 1):
            if count_download(order, link, kind=download.kind, at=at):
                report.downloads[download.kind] += 1
            else:
                report.refused[download.kind] += 1
                break


def steps(*, count: int, at: datetime, every: timedelta = DEFAULT_EVERY, seed: int = DEFAULT_SEED) -> Report:
    """`count` steps, the first at `at`, then every `every`."""
    report = Report()
    for index in range(count):
        step(at=at + every * index, seed=seed, report=report)
    return report


def run_in_background(
    *, every_seconds: float, stopping: threading.Event, seed: int = DEFAULT_SEED
) -> threading.Thread:
    """The demo's trickle: a step every `every_seconds` at the time it is, until `stopping` is set. A step
    that fails (the database busy) is skipped: the next one goes on."""

    def run() -> None:
        while not stopping.wait(every_seconds):
            try:
                done = step(at=timezone.now(), seed=seed)
            except DatabaseError as error:
                logger.warning("trickle: a step was skipped (%s)", type(error).__name__)
                continue
            if done.orders or any(done.downloads.values()) or any(done.refused.values()):
                logger.info("trickle: %s", done.as_json())
        connection.close()

    thread = threading.Thread(target=run, name="sandbox-trickle", daemon=True)
    thread.start()
    return thread


def forget_after(moment: datetime) -> dict[str, int]:
    """Take the shop back to `moment`: the orders sold after it (with their lines and records), the records
    created after it and the downloads logged after it are gone; counts already raised stay. The sandbox is
    one shop for every test of a process: a test that drives time into the future takes it back, so the
    next test's "newest record" or "newest order" is not one dated days ahead (tests/conftest.py)."""
    with atomic():
        events, _ = DownloadEvent.objects.filter(at__gt=moment).delete()
        records, _ = DownloadRecord.objects.filter(date_created__gt=moment).delete()
        orders = Order.objects.filter(ordered_at__gt=moment)
        count = orders.count()
        orders.delete()
    return {"orders": count, "records": records, "download_events": events}
