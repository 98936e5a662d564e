"""How a WordPress plugin's REST routes answer (WordPress 6.1's REST layer, wp-includes/rest-api/):
error envelopes, argument validation by JSON schema, and MySQL's integer and time zone rules."""

import re
from datetime import UTC, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.http import HttpRequest, HttpResponse

from sandbox.common import answer

# MySQL int(11) signed: the type of ec_download's order_id, product_id and download_count.
INT_MAX = 2_147_483_647


def rest_error(code: str, message: str, status: int, **data: Any) -> HttpResponse:
    """A WP_Error as the REST server sends it: {"code", "message", "data": {"status", …}}."""
    return answer({"code": code, "message": message, "data": {"status": status, **data}}, status=status)


def no_route(request: HttpRequest | None = None) -> HttpResponse:
    """WP_REST_Server's answer when no route matches the path and method."""
    return rest_error("rest_no_route", "No route was found matching the URL and request method.", 404)


def invalid_json() -> HttpResponse:
    return rest_error(
        "rest_invalid_json",
        "Invalid JSON body passed.",
        400,
        json_error_code=4,
        json_error_message="Syntax error",
    )


class Invalid(Exception):
    """One argument refused by its schema: WordPress's inner code (rest_invalid_type, …) and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def invalid_params(problems: dict[str, Invalid]) -> HttpResponse:
    """WP_REST_Request::has_valid_params(): 400 rest_invalid_param, every refused argument in `params`
    (name → message) and `details` (name → code, message, data)."""
    return rest_error(
        "rest_invalid_param",
        f"Invalid parameter(s): {', '.join(problems)}",
        400,
        params={name: problem.message for name, problem in problems.items()},
        details={
            name: {"code": problem.code, "message": problem.message, "data": None}
            for name, problem in problems.items()
        },
    )


def integer(value: Any, name: str, *, minimum: int, maximum: int = INT_MAX) -> int:
    """rest_is_integer() takes 7, 7.0 and "7"; then the schema's bounds (rest_out_of_bounds)."""
    if isinstance(value, bool) or not (
        isinstance(value, int)
        or (isinstance(value, float) and value.is_integer())
        or (isinstance(value, str) and re.fullmatch(r"\s*-?\d+(\.0*)?\s*", value))
    ):
        raise Invalid("rest_invalid_type", f"{name} is not of type integer.")
    number = int(float(value)) if isinstance(value, str | float) else value
    if not minimum <= number <= maximum:
        raise Invalid(
            "rest_out_of_bounds", f"{name} must be between {minimum} (inclusive) and {maximum} (inclusive)"
        )
    return number


def boolean(value: Any, name: str) -> bool:
    """rest_is_boolean(): true/false, 1/0, "1"/"0", "true"/"false" (any case)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("1", "0", "true", "false"):
        return value.strip().lower() in ("1", "true")
    raise Invalid("rest_invalid_type", f"{name} is not of type boolean.")


def string(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise Invalid("rest_invalid_type", f"{name} is not of type string.")
    return value


def one_of(value: Any, name: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        listed = ", ".join(choices[:-1]) + f" and {choices[-1]}" if len(choices) > 1 else choices[0]
        raise Invalid("rest_not_in_enum", f"{name} is not one of {listed}.")
    return str(value)


def server_zone(name: str) -> tzinfo:
    """A MySQL connection time zone: "UTC", a name like "America/New_York", or an offset like "-05:00"."""
    text = name.strip()
    offset = re.fullmatch(r"([+-])(\d{1,2}):(\d\d)", text)
    if offset:
        sign = -1 if offset.group(1) == "-" else 1
        hours, minutes = int(offset.group(2)), int(offset.group(3))
        if hours > 14 or minutes > 59:
            raise ValueError(f"{name!r} is not an offset from UTC")
        return timezone(sign * timedelta(hours=hours, minutes=minutes))
    if text.upper() in ("UTC", "+00:00", "Z"):
        return UTC
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not a time zone name or an offset like -05:00") from None
