"""Identifiers are checked before any request, so no value can steer a request elsewhere
(`../`, `?`, `#`, encoded slashes, whitespace, non-ASCII digits)."""

import re
import uuid

from django.utils.translation import gettext as _

from fileflare_admin.api.errors import InvalidIdentifier

_DOWNLOAD_ID = re.compile(r"[0-9a-zA-Z]{1,64}")
_TOKEN = re.compile(r"[0-9a-f]{32}")


def order_id(value: object) -> str:
    """A Fileflare order UUID in canonical lowercase form."""
    text = str(value) if isinstance(value, uuid.UUID | str) else ""
    if not re.fullmatch(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", text):
        raise InvalidIdentifier(
            _("That is not a Fileflare order ID (they look like %(example)s).")
            % {"example": "82664d96-6dfd-4343-aaaa-05c46f412a5b"}
        )
    return str(uuid.UUID(text))


def download_id(value: object) -> str:
    if not isinstance(value, str) or not _DOWNLOAD_ID.fullmatch(value) or not value.isascii():
        raise InvalidIdentifier(_("That is not a download record ID (only letters and digits)."))
    return value


def customer_token(value: object) -> str:
    text = value.strip().lower() if isinstance(value, str) else ""
    if not _TOKEN.fullmatch(text):
        raise InvalidIdentifier(
            _("That is not a customer's order-status token (32 characters, 0-9 and a-f).")
        )
    return text
