"""The seeded world's limits have Fileflare's shape: a product's limit (or the shop's global one), which a
few orders override; the same seed gives the same limits; order #1049 shows the book #1050 bought."""

from collections import defaultdict

from sandbox import seed


def _limits(built: seed.Built) -> dict[int, list[tuple[object, int | None]]]:
    by_order: dict[int, list[tuple[object, int | None]]] = defaultdict(list)
    for link in built.line_assets:
        by_order[link.line.order.order_number].append((link.line.product.id, link.limit))
    return by_order


def test_the_same_seed_gives_the_same_limits() -> None:
    first, again = seed.build(orders=400), seed.build(orders=400)
    assert _limits(first) == _limits(again)
    assert [link.limit for link in first.order_assets] == [link.limit for link in again.order_assets]


def test_a_products_limit_holds_on_its_orders_but_a_few_orders_override_it() -> None:
    built = seed.build(orders=2000)
    overridden = 0
    for lines in _limits(built).values():
        if any(limit != built.product_limits[product] for product, limit in lines):
            overridden += 1
            assert len({limit for _product, limit in lines}) == 1  # an override covers the order's lines
    assert 0 < overridden < 2000 * 0.06
    assert set(built.product_limits.values()) >= {seed.GLOBAL_LIMIT, None}


def test_order_1049_shows_the_books_limit_and_1050_keeps_its_story() -> None:
    built = seed.build(orders=60)
    orders = _limits(built)
    book = built.products[-2]
    assert (book.id, 10) in orders[1049] and built.product_limits[book.id] == 10
    [record] = [r for r in built.records if r.order_id == 1050]
    assert record.download_count == 5 and record.download_file_name == "My new book"
    assert (book.id, 10) in orders[1050]
