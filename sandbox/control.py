"""Sandbox-only endpoints under /_sandbox/: faults and limits, playing the customer, the outbox,
hostile data for tests, reseeding. The real APIs have none of these."""

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import escape
from django.views.decorators.csrf import csrf_exempt

from sandbox import seed, state
from sandbox.common import answer, html_page
from sandbox.customer import customer_page_path, customer_status_url
from sandbox.laravel import invalid, not_found, read_json
from sandbox.models import (
    Asset,
    DownloadEvent,
    LineAsset,
    Order,
    OrderAsset,
    OrderLine,
    OutboxMessage,
    Product,
    atomic,
)
from sandbox.trickle import forget_after
from sandbox.trickle import plan as trickle_plan
from sandbox.trickle import steps as trickle_steps
from sandbox.wordpress import server_zone

FLOAT_KEYS = {"error_rate", "hang_rate", "malformed_rate"}


def _setting(key: str, value: Any) -> tuple[Any, str | None]:
    """A /_sandbox/config value checked: the value to store, or why it is refused."""
    if key == "downloads_rows":
        if value not in state.DOWNLOADS_ROWS:
            return None, f"One of: {', '.join(state.DOWNLOADS_ROWS)}."
        return value, None
    if key == "downloads_timezone":
        try:
            server_zone(str(value))
        except ValueError as problem:
            return None, f"{problem} (e.g. UTC, America/New_York, -05:00)."
        return str(value), None
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or value < 0
        or (key in FLOAT_KEYS and value > 1)
    ):
        return None, "Must be a number ≥ 0 (a share from 0 to 1 for rates)."
    return (float(value) if key in FLOAT_KEYS else int(value)), None


@csrf_exempt
def config(request: HttpRequest) -> HttpResponse:
    """GET the settings; POST merges changes (`{"reset": true}` first restores the environment's)."""
    if request.method != "POST":
        return answer(state.config())
    body, error = read_json(request)
    if error:
        return error
    body = body or {}
    if body.pop("reset", False) is True:
        state.reset_config()
    changes: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for key, value in body.items():
        if key not in state.CONFIG_KEYS:
            errors[key] = [f"Unknown setting; known: {', '.join(state.CONFIG_KEYS)}."]
            continue
        checked, problem = _setting(key, value)
        if problem:
            errors[key] = [problem]
        else:
            changes[key] = checked
    if errors:
        return invalid(errors)
    return answer(state.update_config(changes))


@csrf_exempt
def reset_limits(request: HttpRequest) -> HttpResponse:
    state.reset_limits()
    return answer({"reset": True})


def stats(request: HttpRequest) -> HttpResponse:
    """Requests answered on each API since start: a benchmark's independent count of upstream calls."""
    return answer(state.stats())


def customer_json(request: HttpRequest, order: Order) -> dict[str, Any]:
    return {
        "order_number": order.order_number,
        "id": str(order.id),
        "customer_token": order.customer_token,
        "order_status_url": customer_status_url(order),
        "customer_page_url": request.build_absolute_uri(customer_page_path(order)),
        "customer_email": order.customer_email,
    }


def customer(request: HttpRequest, order_number: int) -> HttpResponse:
    order = Order.objects.filter(order_number=order_number).first()
    return answer(customer_json(request, order)) if order else not_found()


def outbox(request: HttpRequest) -> HttpResponse:
    messages = OutboxMessage.objects.all()[:200]
    return answer(
        [
            {
                "sent_at": message.sent_at.isoformat(),
                "order_number": message.order_number,
                "to": message.to,
                "subject": message.subject,
                "body": message.body,
            }
            for message in messages
        ]
    )


def outbox_view(request: HttpRequest) -> HttpResponse:
    """The outbox as a page, for trainees playing the customer."""
    items = "".join(
        f"<article><h2>{escape(m.subject)}</h2><p>To {escape(m.to)} · {m.sent_at:%Y-%m-%d %H:%M:%S} UTC</p>"
        f"<pre>{escape(m.body)}</pre></article>"
        for m in OutboxMessage.objects.all()[:100]
    )
    return html_page("Sandbox outbox", items or "<p>No e-mails sent yet.</p>")


def _asset(data: dict[str, Any]) -> Asset:
    is_link = bool(data.get("is_link", not data.get("is_file", True)))
    return Asset.objects.create(
        filename=str(data.get("filename", "file")),
        size=str(data.get("size", "1MB")),
        is_file=not is_link,
        url=data.get("url"),
    )


def _limit(data: dict[str, Any]) -> dict[str, Any]:
    return {"downloaded": int(data.get("downloaded", 0)), "limit": data.get("limit", 10)}


@csrf_exempt
def create_order(request: HttpRequest) -> HttpResponse:
    """An order made of whatever the test sends, hostile values included."""
    body, error = read_json(request)
    if error:
        return error
    with atomic():
        return _create_order(request, body or {})


def _create_order(request: HttpRequest, body: dict[str, Any]) -> HttpResponse:
    number = body.get("order_number") or (Order.objects.aggregate(top=Max("order_number"))["top"] or 1000) + 1
    now = timezone.now().replace(microsecond=0)
    text = body.get("text") or {}
    order = Order.objects.create(
        id=uuid.uuid4(),
        order_number=int(number),
        ordered_at=now,
        email_sent_at=now if body.get("email_sent", True) else None,
        customer_email=str(body.get("customer_email", f"customer.{number}@example.com")),
        text_title=str(text.get("title", "Download files for your orders")),
        text_text=text.get("text"),
    )
    for position, line_data in enumerate(body.get("lines", [])):
        product_data = line_data.get("product", {})
        product = Product.objects.create(
            name=str(product_data.get("name", "Product")),
            variant_name=product_data.get("variant_name"),
            sku=str(product_data.get("sku", "")),
            product_id=int(product_data.get("product_id", 1)),
            variant_id=int(product_data.get("variant_id", 1)),
            vendor=str(product_data.get("vendor", "")),
            tags=[str(tag) for tag in product_data.get("tags", [])],
        )
        line = OrderLine.objects.create(order=order, product=product, position=position)
        for asset_data in line_data.get("assets", []):
            LineAsset.objects.create(line=line, asset=_asset(asset_data), **_limit(asset_data))
    for asset_data in body.get("assets", []):
        OrderAsset.objects.create(order=order, asset=_asset(asset_data), **_limit(asset_data))
    return answer(customer_json(request, order), status=201)


def _moment(text: object) -> datetime | None:
    """An ISO-8601 time with its offset, else None."""
    try:
        moment = parse_datetime(str(text))
    except ValueError:
        return None
    return moment if moment is not None and not timezone.is_naive(moment) else None


@csrf_exempt
def trickle(request: HttpRequest) -> HttpResponse:
    """POST {"steps": N, "at": ISO time (default now), "every": seconds between steps (default 60),
    "seed": S}: run the trickle's steps (sandbox.trickle) and say what they did. Tests drive time with it;
    the demo's own trickle runs by itself (SANDBOX_TRICKLE_SECONDS). With "dry_run": true, what the step
    at `at` would do, doing nothing."""
    if request.method != "POST":
        return answer({"message": 'POST {"steps": N, "at": ISO time}.'}, status=405)
    body, error = read_json(request)
    if error:
        return error
    body = body or {}
    problems: dict[str, list[str]] = {}
    count, every, seed_value = (
        body.get("steps", 1),
        body.get("every", 60),
        body.get("seed", seed.DEFAULT_SEED),
    )
    for key, value, most in (("steps", count, 1000), ("every", every, 86400), ("seed", seed_value, 2**62)):
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= most:
            problems[key] = [f"A whole number from 0 to {most}."]
    at = _moment(body["at"]) if body.get("at") is not None else timezone.now()
    if at is None:
        problems["at"] = ["An ISO-8601 time with its offset, e.g. 2026-12-07T10:00:00+00:00."]
    if problems:
        return invalid(problems)
    assert at is not None  # checked above
    if body.get("dry_run") is True:
        return answer(trickle_plan(at=at, seed=seed_value).as_json())
    done = trickle_steps(count=count, at=at, every=timedelta(seconds=every), seed=seed_value)
    return answer(done.as_json())


@csrf_exempt
def trickle_forget(request: HttpRequest) -> HttpResponse:
    """POST {"after": ISO time}: take the shop back to that moment (sandbox.trickle.forget_after): the
    orders, records and logged downloads dated after it are gone. Tests that drive time ahead call it."""
    if request.method != "POST":
        return answer({"message": 'POST {"after": ISO time}.'}, status=405)
    body, error = read_json(request)
    if error:
        return error
    after = _moment((body or {}).get("after"))
    if after is None:
        return invalid({"after": ["An ISO-8601 time with its offset, e.g. 2026-12-07T10:00:00+00:00."]})
    return answer(forget_after(after))


def download_events(request: HttpRequest) -> HttpResponse:
    """GET ?since=&until= (ISO times) &order=N: the downloads the sandbox made (the ground truth), oldest
    first, at most 5,000."""
    events = DownloadEvent.objects.all()
    for name, lookup in (("since", "at__gte"), ("until", "at__lt")):
        if request.GET.get(name):
            moment = _moment(request.GET[name])
            if moment is None:
                return invalid({name: ["An ISO-8601 time with its offset."]})
            events = events.filter(**{lookup: moment})
    if request.GET.get("order", "").isdigit():
        events = events.filter(order_number=int(request.GET["order"]))
    return answer([event.as_json() for event in events.order_by("at", "pk")[:5000]])


@csrf_exempt
def reseed(request: HttpRequest) -> HttpResponse:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = {}
    return answer(
        seed.seed(
            orders=int(body.get("orders", seed.DEFAULT_ORDERS)), seed=int(body.get("seed", seed.DEFAULT_SEED))
        )
    )


def _link(href: str, text: str) -> str:
    return f'<a href="{escape(href)}">{escape(text)}</a>'


def index(request: HttpRequest) -> HttpResponse:
    """The sandbox's root: what a newcomer can open here, with links."""
    example = Order.objects.filter(order_number=seed.EXAMPLE_ORDER_NUMBER).first()
    newest = list(Order.objects.order_by("-ordered_at")[:5])
    orders = ([example] if example else []) + [order for order in newest if order != example]
    customer_rows = "".join(
        f"<tr><td>#{order.order_number}</td>"
        f"<td>{_link(customer_page_path(order), 'customer page')} "
        f"({_link(f'/api/v2/customer-account-orders?id={order.customer_token}', 'v2 JSON')})</td>"
        f"<td>{_link(f'/_sandbox/orders/{order.order_number}', 'token and status link')}</td>"
        f"<td>{_link(f'/orders/{order.id}', 'in Fileflare')}</td></tr>"
        for order in orders
    )
    body = (
        "<p>A stand-in for Fileflare's API and the downloads API (WP EasyCart), for the dashboard, its tests "
        "and training. See <code>sandbox/README.md</code>.</p>"
        "<h2>Customer pages</h2>"
        "<table><tr><th>Order</th><th>What the customer sees</th><th>Playing the customer</th>"
        "<th>The merchant's page</th></tr>"
        f"{customer_rows or '<tr><td colspan=4>No orders yet: run seed_sandbox.</td></tr>'}</table>"
        "<h2>Sandbox pages</h2><ul>"
        f"<li>{_link('/_sandbox/outbox/view/', 'Outbox')}: the download e-mails “sent” "
        f"({_link('/_sandbox/outbox', 'JSON')})</li>"
        f"<li>{_link('/_sandbox/config', 'Config')}: faults and rate limits (POST JSON to change)</li>"
        f"<li>{_link('/_sandbox/stats', 'Stats')}: requests answered on each API since start</li>"
        f"<li>{_link('/_sandbox/download-events', 'Downloads made')}: every download the customer pages "
        "and the trickle made (customers, link scanners), oldest first (JSON)</li>"
        "</ul><h2>The APIs</h2><ul>"
        "<li><code>/api/v1/…</code> Fileflare (Bearer <code>$SANDBOX_FILEFLARE_KEY</code>)</li>"
        "<li><code>/api/v2/customer-account-orders?id=&lt;token&gt;</code> (no key)</li>"
        "<li><code>/easycart/downloads</code> the downloads API "
        "(Bearer <code>$SANDBOX_DOWNLOADS_TOKEN</code>)</li>"
        "</ul>"
    )
    return html_page("Fileflare sandbox", body)
