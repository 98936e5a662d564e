"""Demo data made deterministically from a seed: the same seed gives the same shop, byte for byte."""

import hashlib
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sandbox.models import (
    Asset,
    DownloadEvent,
    DownloadRecord,
    LineAsset,
    Order,
    OrderAsset,
    OrderLine,
    OutboxMessage,
    Product,
    atomic,
)

DEFAULT_ORDERS = 15_608  # the total in the vendor's documented example
DEFAULT_SEED = 1050
FIRST_ORDER_NUMBER = 1001
EXAMPLE_ORDER_NUMBER = 1050
EXAMPLE_TOKEN = "0c732eb6fd9802a0821a9d29888baee8"
SHOP_STATUS_URL = "https://my-store.com/account/orders/{token}"
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)

TITLES = [
    "Watercolour Brushes",
    "Lightroom Presets",
    "Sourdough Guide",
    "Piano Sheet Music",
    "Font Family",
    "Icon Pack",
    "Budget Planner",
    "Yoga Course",
    "Sample Pack",
    "Knitting Pattern",
    "Wedding Invitation",
    "Notion Template",
    "3D Model Kit",
    "Crochet Pattern",
    "Stock Photos",
    "Recipe Book",
    "Guitar Tabs",
    "Resume Template",
    "Procreate Stamps",
    "Audio Book",
    "Language Course",
    "SVG Cut Files",
    "Embroidery Design",
    "LUT Pack",
    "Mockup Bundle",
    "Game Soundtrack",
    "Meal Plan",
    "Coloring Pages",
]
ADJECTIVES = ["Complete", "Essential", "Vintage", "Modern", "Deluxe", "Starter", "Pro", "Mini", "Seasonal"]
VARIANTS: list[list[str | None]] = [
    ["Standard", "Extended licence"],
    ["PDF", "ePub", "PDF + ePub"],
    [None],
    ["Personal", "Commercial"],
    ["Volume 1", "Volume 2"],
    [None, "Bonus edition"],
]
VENDORS = ["my-store", "Northwind Studio", "Paper & Pixel", "Lumen Audio", "Fernhill Press"]
TAGS = ["digital", "pdf", "bundle", "bestseller", "new", "music", "design", "course", "printable", "sale"]
SIZES = ["120KB", "850KB", "2MB", "10MB", "20MB", "48MB", "150MB", "1.2GB"]
EXTENSIONS = [".pdf", ".zip", ".epub", ".mp3", ".png", ".mp4"]
# Download limits have Fileflare's shape: the shop's global limit, which a product may replace with its
# own (or none), and which an order may override for its lines ("Override global limitations"). A
# product's own limit is drawn once, so every order of it shows the same one unless the order overrides.
GLOBAL_LIMIT = 10
UNLIMITED = -1  # a product or an override without any limit (the API's `limit: null`)
PRODUCT_LIMITS = [GLOBAL_LIMIT] * 5 + [3, 5, 20, UNLIMITED]
ORDER_OVERRIDES = [GLOBAL_LIMIT * 2, 50, UNLIMITED]
OVERRIDE_SHARE = 0.03  # about 3 orders in 100 override their lines' limits
PREVIOUS_EXAMPLE_ORDER = EXAMPLE_ORDER_NUMBER - 1  # also bought the example's book: its page shows the limit
# How used-up an order line is was drawn against these before limits had their shape; the draws stay, so
# every other seeded fact (orders, files, records, counts at or over a limit) is what it was.
USE_DRAWS = [3, 5, 5, 10, 10, 10, 20, None, None]
FIRST_NAMES = ["alex", "sam", "maria", "chen", "fatima", "olu", "ines", "noah", "yuki", "lena", "omar", "ava"]


@dataclass
class Built:
    products: list[Product] = field(default_factory=list)
    assets: list[Asset] = field(default_factory=list)
    product_assets: dict[uuid.UUID, list[Asset]] = field(default_factory=dict)
    orders: list[Order] = field(default_factory=list)
    lines: list[OrderLine] = field(default_factory=list)
    line_assets: list[LineAsset] = field(default_factory=list)
    order_assets: list[OrderAsset] = field(default_factory=list)
    records: list[DownloadRecord] = field(default_factory=list)
    # The downloads API's product_id: the store's own product number (an int(11) there), not Shopify's id.
    store_product_ids: dict[uuid.UUID, int] = field(default_factory=dict)
    product_limits: dict[uuid.UUID, int | None] = field(default_factory=dict)  # None: no limit


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def new_download_id(rng: random.Random, moment: datetime) -> str:
    """md5 hex + PHP's uniqid() (13 hex characters from the time), as WP EasyCart makes them."""
    digest = hashlib.md5(str(rng.getrandbits(64)).encode(), usedforsecurity=False).hexdigest()
    micro = int(moment.timestamp() * 1_000_000) + rng.randrange(1_000_000)
    return digest + f"{micro // 1_000_000:08x}{micro % 1_000_000:05x}"


def _slug(text: str) -> str:
    return "-".join("".join(ch if ch.isalnum() else " " for ch in text.lower()).split())


def _limit(value: int) -> int | None:
    return None if value == UNLIMITED else value


def _product_limits(limits: random.Random, built: Built) -> None:
    """Each sellable product's limit: the global one, or its own."""
    for product in built.products:
        built.product_limits[product.id] = _limit(limits.choice(PRODUCT_LIMITS))


def _order_override(limits: random.Random) -> int | bool | None:
    """An order's override of its lines' limits (a limit, None for none), or False for no override."""
    return _limit(limits.choice(ORDER_OVERRIDES)) if limits.random() < OVERRIDE_SHARE else False


def _downloaded(used: int, drawn: int | None, limit: int | None) -> int:
    """A line's count against its limit: at or over it when the draw was, else under it."""
    if limit is None:
        return used
    if drawn is None:
        return min(used, max(limit - 1, 0))
    if used >= drawn:
        return limit + used - drawn
    return min(used, max(limit - 1, 0))


def _also_bought_the_book(limits: random.Random, built: Built, order: Order, line_pk: int) -> None:
    """Order #1049 bought the example's book too (from the limits' own stream): its customer's page shows
    the book's product limit, 10, which the dashboard learns for #1050."""
    paper = built.products[-2]
    book = built.product_assets[paper.id][0]
    line = OrderLine(pk=line_pk, order=order, product=paper, position=len(built.lines))
    built.lines.append(line)
    downloaded = limits.randint(0, 4)
    built.line_assets.append(LineAsset(line=line, asset=book, downloaded=downloaded, limit=GLOBAL_LIMIT))
    built.records.append(
        DownloadRecord(
            download_id=new_download_id(limits, order.ordered_at),
            date_created=order.ordered_at,
            product_id=built.store_product_ids[paper.id],
            order_id=order.order_number,
            download_count=downloaded,
            download_file_name=book.filename,
            is_amazon_download=False,
            amazon_key="",
        )
    )


def _catalogue(rng: random.Random, built: Built) -> None:
    shopify_product = 7_100_000_000
    for index, title in enumerate(TITLES * 2):
        name = f"{rng.choice(ADJECTIVES)} {title}" if index >= len(TITLES) else title
        variants = rng.choice(VARIANTS)
        vendor = rng.choice(VENDORS)
        tags = sorted(rng.sample(TAGS, rng.randint(0, 3)))
        shopify_product += rng.randint(10, 999)
        for v_index, variant in enumerate(variants):
            product = Product(
                id=_uuid(rng),
                name=name,
                variant_name=variant,
                sku=f"{_slug(name)[:18]}-{v_index + 1}",
                product_id=shopify_product,
                variant_id=shopify_product * 10 + v_index + 1,
                vendor=vendor,
                tags=tags,
            )
            built.products.append(product)
            built.store_product_ids[product.id] = len(built.products)
            count = rng.choices([0, 1, 2], weights=[12, 70, 18])[0]
            assets = []
            for a_index in range(count):
                is_file = rng.random() < 0.75
                part = f" part {a_index + 1}" if a_index else ""
                filename = f"{name}{' - ' + variant if variant else ''}{part}"
                asset = Asset(
                    id=_uuid(rng),
                    filename=filename,
                    size=rng.choice(SIZES),
                    is_file=is_file,
                    url=None
                    if is_file
                    else f"https://www.my-website.com/download/{_slug(filename)}{rng.choice(EXTENSIONS)}",
                )
                assets.append(asset)
                built.assets.append(asset)
            built.product_assets[product.id] = assets


def _example_order(built: Built) -> None:
    """Order 1050 exactly as the vendor's documentation shows it (ids made valid UUIDs where the
    documented ones contain letters that are not hexadecimal)."""
    paper, hard = (
        Product(
            id=uuid.UUID(f"82664d96-6dfd-4343-96b0-05c46f412a5{suffix}"),
            name="My new Book",
            variant_name=variant,
            sku="my-sku",
            product_id=123456,
            variant_id=variant_id,
            vendor="my-store",
            tags=["books", tag],
        )
        for suffix, variant, variant_id, tag in (
            ("0", "Paper back", 1234567, "paper-books"),
            ("1", "Hard back", 1234563, "hardback-books"),
        )
    )
    book = Asset(
        id=uuid.UUID("82664d96-6dfd-4343-96b0-05c46f412a5b"),
        filename="My new book",
        size="10MB",
        is_file=False,
        url="https://www.my-website.com/download/my-book.pdf",
    )
    part2 = Asset(
        id=uuid.UUID("82664d96-6dfd-4343-96b0-05c46f41000a"),
        filename="My new book - part 2",
        size="20MB",
        is_file=False,
        url="https://www.my-website.com/download/my-book-part-2.pdf",
    )
    built.products += [paper, hard]
    built.store_product_ids |= {paper.id: paper.product_id, hard.id: hard.product_id}  # 123456, documented
    built.assets += [book, part2]
    built.product_assets[paper.id] = [book]
    built.product_assets[hard.id] = []
    built.product_limits |= {paper.id: GLOBAL_LIMIT, hard.id: GLOBAL_LIMIT}  # as documented: limit 10


def build(*, orders: int = DEFAULT_ORDERS, seed: int = DEFAULT_SEED) -> Built:
    rng = random.Random(seed)
    limits = random.Random(seed * 7919 + 1)  # limits draw from their own stream
    built = Built()
    _catalogue(rng, built)
    _product_limits(limits, built)
    sellable = list(built.products)
    _example_order(built)
    line_pk = 0
    span = (datetime(2026, 11, 1, tzinfo=UTC) - EPOCH).total_seconds()
    for index in range(orders):
        number = FIRST_ORDER_NUMBER + index
        ordered_at = (
            EPOCH + timedelta(seconds=span * index / max(orders, 1) + rng.randint(0, 3000))
        ).replace(microsecond=0)
        token = f"{rng.getrandbits(128):032x}"
        order_id = _uuid(rng)
        sent = rng.random() < 0.9
        email_sent_at = ordered_at + timedelta(seconds=rng.randint(1, 90)) if sent else None
        if number == EXAMPLE_ORDER_NUMBER:
            order_id = uuid.UUID("82664d96-6dfd-4343-aaaa-05c46f412a5b")
            token = EXAMPLE_TOKEN
            ordered_at = datetime.fromtimestamp(1673214646, tz=UTC)
            email_sent_at = datetime.fromtimestamp(1673214647, tz=UTC)
        order = Order(
            id=order_id,
            order_number=number,
            ordered_at=ordered_at,
            email_sent_at=email_sent_at,
            customer_token=token,
            customer_email=f"{rng.choice(FIRST_NAMES)}.{number}@example.com",
        )
        built.orders.append(order)
        if number == EXAMPLE_ORDER_NUMBER:
            example = built.products[-2:]
            for position, product in enumerate(example):
                line_pk += 1
                line = OrderLine(pk=line_pk, order=order, product=product, position=position)
                built.lines.append(line)
                for asset in built.product_assets[product.id]:
                    built.line_assets.append(LineAsset(line=line, asset=asset, downloaded=5, limit=10))
                    built.records.append(
                        DownloadRecord(
                            download_id=new_download_id(rng, ordered_at),
                            date_created=ordered_at,
                            product_id=built.store_product_ids[product.id],
                            order_id=number,
                            download_count=5,
                            download_file_name=asset.filename,
                            is_amazon_download=False,
                            amazon_key="",
                        )
                    )
            built.order_assets.append(OrderAsset(order=order, asset=built.assets[-1], downloaded=0, limit=10))
            continue
        override = _order_override(limits)
        for position, product in enumerate(
            rng.sample(sellable, rng.choices([1, 2, 3], weights=[70, 22, 8])[0])
        ):
            line_pk += 1
            line = OrderLine(pk=line_pk, order=order, product=product, position=position)
            built.lines.append(line)
            for asset in built.product_assets[product.id]:
                # How used-up the line is comes from the main stream as before (so the rest of the shop
                # is what it was); its limit is the product's, or the order's override.
                drawn = rng.choice(USE_DRAWS)
                roll = rng.random()
                if drawn is None:
                    used = rng.randint(0, 25)
                elif roll < 0.08:
                    used = drawn  # at the limit
                elif roll < 0.11:
                    used = drawn + rng.randint(1, 3)  # over it (the API never promises otherwise)
                else:
                    used = rng.randint(0, max(drawn - 1, 0))
                limit = built.product_limits[product.id] if override is False else override
                downloaded = _downloaded(used, drawn, limit)
                built.line_assets.append(
                    LineAsset(line=line, asset=asset, downloaded=downloaded, limit=limit)
                )
                if rng.random() < 0.85:
                    is_amazon = rng.random() < 0.3
                    built.records.append(
                        DownloadRecord(
                            download_id=new_download_id(rng, ordered_at),
                            date_created=ordered_at,
                            product_id=built.store_product_ids[product.id],
                            order_id=number,
                            download_count=downloaded,
                            download_file_name=asset.filename,
                            is_amazon_download=is_amazon,
                            amazon_key=f"downloads/{_slug(asset.filename)}.zip" if is_amazon else "",
                        )
                    )
        if number == PREVIOUS_EXAMPLE_ORDER:
            line_pk += 1
            _also_bought_the_book(limits, built, order, line_pk)
        if rng.random() < 0.15:
            asset = rng.choice(built.assets[:-2])
            downloaded, _drawn = rng.randint(0, 4), rng.choice(USE_DRAWS)
            built.order_assets.append(
                OrderAsset(
                    order=order,
                    asset=asset,
                    downloaded=downloaded,
                    limit=GLOBAL_LIMIT if override is False else override,
                )
            )
    return built


def seed(*, orders: int = DEFAULT_ORDERS, seed: int = DEFAULT_SEED) -> dict[str, float]:
    """Replace everything in the sandbox's database with the demo shop. Returns counts and seconds."""
    started = time.monotonic()
    built = build(orders=orders, seed=seed)
    with atomic():
        tables = (
            DownloadEvent,
            OutboxMessage,
            DownloadRecord,
            OrderAsset,
            LineAsset,
            OrderLine,
            Order,
            Asset,
            Product,
        )
        for model in tables:
            model.objects.all().delete()
        Product.objects.bulk_create(built.products, batch_size=2000)
        Asset.objects.bulk_create(built.assets, batch_size=2000)
        Order.objects.bulk_create(built.orders, batch_size=2000)
        OrderLine.objects.bulk_create(built.lines, batch_size=2000)
        LineAsset.objects.bulk_create(built.line_assets, batch_size=2000)
        OrderAsset.objects.bulk_create(built.order_assets, batch_size=2000)
        DownloadRecord.objects.bulk_create(built.records, batch_size=2000)
    return {
        "orders": len(built.orders),
        "records": len(built.records),
        "products": len(built.products),
        "assets": len(built.assets),
        "seconds": round(time.monotonic() - started, 2),
    }
