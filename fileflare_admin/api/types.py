"""Typed results, parsed defensively from the upstream's JSON.

Accepted variations: `data` as a list or an object; dates as Unix seconds, ISO-8601 or
"YYYY-MM-DD HH:MM:SS" (UTC; a download record's in DOWNLOADS_API_TIMEZONE); `size` as text ("10MB")
or integer bytes; `limit` null meaning unlimited; `variant_name` null; a download record's numbers as
strings and its S3 flag as `is_amazon` or `is_amazon_download`; extra keys ignored. A missing or
mistyped required key raises BadResponse naming the field, never echoing the value.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any, Generic, TypeVar

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django_stubs_ext import StrOrPromise

from fileflare_admin.api.errors import BadResponse

T = TypeVar("T")
_UNITS = {"": 1, "B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}


def _obj(data: Any, what: StrOrPromise) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise BadResponse(_("The upstream sent %(what)s in a shape we do not know.") % {"what": what})
    return data


def _req(data: dict[str, Any], key: str, kind: type | tuple[type, ...], what: StrOrPromise) -> Any:
    if key not in data:
        raise BadResponse(_("The upstream sent %(what)s without its “%(key)s”.") % {"what": what, "key": key})
    value = data[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise BadResponse(
            _("The upstream sent %(what)s with a “%(key)s” of the wrong type.") % {"what": what, "key": key}
        )
    return value


def _int(data: dict[str, Any], key: str, what: StrOrPromise, default: int | None = None) -> int:
    value = data.get(key, default)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        if key not in data and default is not None:
            return default
        raise BadResponse(
            _("The upstream sent %(what)s with a “%(key)s” that is not a whole number.")
            % {"what": what, "key": key}
        )
    return value


def parse_datetime(value: Any) -> datetime | None:
    """Unix seconds, ISO-8601, or the downloads API's "YYYY-MM-DD HH:MM:SS" (UTC); None for null."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"\d+(\.\d+)?", text):
            return datetime.fromtimestamp(float(text), tz=UTC)
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise BadResponse(_("The upstream sent a date we could not read."))


def parse_size(value: Any) -> tuple[str, int | None]:
    """("10MB", 10485760) from "10MB", "1.5 GB" or 10485760."""
    if isinstance(value, int) and not isinstance(value, bool):
        return _human_size(value), value
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?B?)\s*", value.upper())
        if match:
            unit = (
                match.group(2) if match.group(2).endswith("B") or not match.group(2) else match.group(2) + "B"
            )
            return value.strip(), int(float(match.group(1)) * _UNITS.get(unit, 1))
        return value.strip(), None
    if value is None:
        return "", None
    raise BadResponse(_("The upstream sent a file size we could not read."))


def _human_size(size: int) -> str:
    amount = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if amount < 1024 or unit == "GB":
            return f"{amount:.0f}{unit}" if unit == "B" or amount == int(amount) else f"{amount:.1f}{unit}"
        amount /= 1024
    return f"{amount}TB"


def data_list(payload: Any, what: StrOrPromise) -> list[Any]:
    """`data` as a list, whether the upstream sent a list or a single object."""
    data = _obj(payload, what).get("data")
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        return [data]
    raise BadResponse(_("The upstream sent %(what)s without its “data”.") % {"what": what})


@dataclass(frozen=True)
class Asset:
    id: str
    filename: str
    size_text: str
    size_bytes: int | None
    is_file: bool
    is_link: bool
    url: str | None

    @classmethod
    def from_json(cls, data: Any) -> "Asset":
        what = _lazy("an asset")
        data = _obj(data, what)
        size_text, size_bytes = parse_size(data.get("size"))
        url = data.get("url")
        return cls(
            id=str(_req(data, "id", (str, int), what)),
            filename=str(_req(data, "filename", str, what)),
            size_text=size_text,
            size_bytes=size_bytes,
            is_file=bool(data.get("is_file", False)),
            is_link=bool(data.get("is_link", False)),
            url=url if isinstance(url, str) and url else None,
        )


@dataclass(frozen=True)
class AssetLimit:
    downloaded: int
    limit: int | None  # None: unlimited

    @classmethod
    def from_json(cls, data: Any) -> "AssetLimit":
        data = _obj(data, "download limits")
        limit = data.get("limit")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
            raise BadResponse(_("The upstream sent a download limit that is not a whole number."))
        return cls(downloaded=_int(data, "downloaded", _lazy("download limits"), default=0), limit=limit)

    @property
    def unlimited(self) -> bool:
        return self.limit is None

    @property
    def at_limit(self) -> bool:
        return self.limit is not None and self.downloaded == self.limit

    @property
    def over_limit(self) -> bool:
        return self.limit is not None and self.downloaded > self.limit

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(self.limit - self.downloaded, 0)


@dataclass(frozen=True)
class CustomerAsset:
    asset: Asset
    limits: AssetLimit

    @classmethod
    def from_json(cls, data: Any) -> "CustomerAsset":
        data = _obj(data, _lazy("a customer's asset"))
        return cls(
            asset=Asset.from_json(data.get("data")), limits=AssetLimit.from_json(data.get("limits") or {})
        )


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    variant_name: str | None
    sku: str
    product_id: int | None
    variant_id: int | None
    vendor: str
    tags: tuple[str, ...]

    @classmethod
    def from_json(cls, data: Any) -> "Product":
        what = _lazy("a product")
        data = _obj(data, what)
        tags = data.get("tags") or []
        return cls(
            id=str(_req(data, "id", (str, int), what)),
            name=str(_req(data, "name", str, what)),
            variant_name=data["variant_name"] if isinstance(data.get("variant_name"), str) else None,
            sku=str(data.get("sku") or ""),
            product_id=data.get("product_id") if isinstance(data.get("product_id"), int) else None,
            variant_id=data.get("variant_id") if isinstance(data.get("variant_id"), int) else None,
            vendor=str(data.get("vendor") or ""),
            tags=tuple(str(tag) for tag in tags) if isinstance(tags, list) else (),
        )


@dataclass(frozen=True)
class OrderLine:
    product: Product
    assets: tuple[CustomerAsset, ...]

    @classmethod
    def from_json(cls, data: Any) -> "OrderLine":
        data = _obj(data, _lazy("an order line"))
        assets = data.get("assets") or []
        return cls(
            product=Product.from_json(data.get("product")),
            assets=tuple(CustomerAsset.from_json(asset) for asset in assets),
        )


@dataclass(frozen=True)
class Order:
    id: str
    order_number: int
    ordered_at: datetime | None
    email_sent_at: datetime | None
    assets: tuple[Asset, ...] = ()
    assets_loaded: bool = False  # whether the answer included the order's assets

    @classmethod
    def from_json(cls, data: Any) -> "Order":
        what = _lazy("an order")
        data = _obj(data, what)
        assets = data.get("assets")
        return cls(
            id=str(_req(data, "id", str, what)),
            order_number=_int(data, "order_number", what),
            ordered_at=parse_datetime(data.get("ordered_at")),
            email_sent_at=parse_datetime(data.get("email_sent_at")),
            assets=tuple(Asset.from_json(asset) for asset in assets) if isinstance(assets, list) else (),
            assets_loaded=isinstance(assets, list),
        )


@dataclass(frozen=True)
class CustomerView:
    order_number: int
    lines: tuple[OrderLine, ...]
    assets: tuple[CustomerAsset, ...]
    title: str | None
    text: str | None

    @classmethod
    def from_json(cls, data: Any) -> "CustomerView":
        page = _lazy("a customer's download page")
        data = _obj(data, page)
        order = _obj(data.get("order"), page)
        text = data.get("text") if isinstance(data.get("text"), dict) else {}
        return cls(
            order_number=_int(order, "order_number", page),
            lines=tuple(OrderLine.from_json(line) for line in order.get("lines") or []),
            assets=tuple(CustomerAsset.from_json(asset) for asset in order.get("assets") or []),
            title=text.get("title") if isinstance(text.get("title"), str) else None,
            text=text.get("text") if isinstance(text.get("text"), str) else None,
        )

    @property
    def all_assets(self) -> tuple[CustomerAsset, ...]:
        return tuple(asset for line in self.lines for asset in line.assets) + self.assets


_NAIVE_DATE = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?")


def _record_date(value: Any, zone: tzinfo) -> datetime | None:
    """`date_created`: MySQL's "YYYY-MM-DD HH:MM:SS" carries no zone and is in the database connection's
    (DOWNLOADS_API_TIMEZONE); a date with an offset, or Unix seconds, is taken as it says. MySQL's zero
    date means none."""
    if isinstance(value, str) and value.strip().startswith("0000-00-00"):
        return None
    if isinstance(value, str) and _NAIVE_DATE.fullmatch(value.strip()):
        try:
            return datetime.fromisoformat(value.strip()).replace(tzinfo=zone).astimezone(UTC)
        except ValueError:
            raise BadResponse(_("The upstream sent a date we could not read.")) from None
    return parse_datetime(value)


def _record_int(data: dict[str, Any], key: str) -> int:
    """A whole number sent as a number or, as WordPress's database layer does, as a string; null is 0."""
    if data.get(key) is None:
        return 0
    return _int(data, key, _lazy("a download record"))


def _s3_flag(data: dict[str, Any]) -> bool:
    """Under the document's name `is_amazon` or the table's `is_amazon_download`; true/false, 1/0, "1"/"0"."""
    raw = data["is_amazon"] if "is_amazon" in data else data.get("is_amazon_download")
    if raw is None or raw == "":
        return False
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return raw == 1
    if isinstance(raw, str) and raw.strip().lower() in ("0", "1", "true", "false"):
        return raw.strip().lower() in ("1", "true")
    raise BadResponse(_("The upstream sent a download record whose S3 flag is neither true nor false."))


@dataclass(frozen=True)
class DownloadRecord:
    """A download record as the downloads API sends it in either dialect: the document's (numbers,
    booleans, `is_amazon`) or WordPress's database rows (every value a string, `is_amazon_download`)."""

    download_id: str
    date_created: datetime | None
    product_id: int
    order_id: int
    download_count: int
    download_file_name: str
    is_amazon: bool
    amazon_key: str = field(repr=False)  # sensitive: shown only to staff who may edit records

    @classmethod
    def from_json(cls, data: Any, *, zone: tzinfo = UTC) -> "DownloadRecord":
        """`zone`: the time zone the API's dates are written in (DOWNLOADS_API_TIMEZONE)."""
        what = _lazy("a download record")
        data = _obj(data, what)
        return cls(
            download_id=str(_req(data, "download_id", (str, int), what)),
            date_created=_record_date(data.get("date_created"), zone),
            product_id=_record_int(data, "product_id"),
            order_id=_record_int(data, "order_id"),
            download_count=_record_int(data, "download_count"),
            download_file_name=str(data.get("download_file_name") or ""),
            is_amazon=_s3_flag(data),
            amazon_key=str(data.get("amazon_key") or ""),
        )


@dataclass(frozen=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    page: int
    per_page: int
    total: int | None = None
    last_page: int | None = None

    @property
    def has_next(self) -> bool:
        if self.last_page is not None:
            return self.page < self.last_page
        return len(self.items) >= self.per_page

    @property
    def has_previous(self) -> bool:
        return self.page > 1


@dataclass(frozen=True)
class Fetched(Generic[T]):
    """A read's value, when it was fetched, and whether it is a stale copy (budget spent or upstream down);
    `complete` False when the upstream holds more than the one call read (an order's records past a page)."""

    value: T
    fetched_at: datetime
    stale: bool = False
    complete: bool = True
