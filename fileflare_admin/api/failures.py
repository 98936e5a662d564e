"""Reading an upstream's answer: its JSON, and every failure mapped to its class in errors.py with a
sentence staff can read (Laravel's and WordPress's error bodies alike; a wrong address or token named as
such). Never a key, a token or credentials in a sentence: only fixed text, statuses and field names."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from django.utils.translation import gettext as _

from fileflare_admin.api.errors import (
    ApiError,
    BadResponse,
    NotConfigured,
    NotFound,
    PlanLimit,
    RateLimited,
    Unavailable,
    ValidationFailed,
)
from fileflare_admin.sentences import capitalized

if TYPE_CHECKING:
    from fileflare_admin.api.http import Api


def _retry_after(response: requests.Response, default: int = 60) -> int:
    value = response.headers.get("Retry-After", "")
    return int(value) if value.isdigit() else default


# Field names an upstream uses where ours differ: the downloads table's column for the S3 flag.
_FIELD_ALIASES: dict[str, dict[str, str]] = {"downloads": {"is_amazon_download": "is_amazon"}}
# WordPress codes for a refused permission or a failed authentication (core's and common plugins').
_AUTH_CODES = frozenset(
    {
        "rest_forbidden",
        "rest_not_logged_in",
        "rest_unauthorized",
        "rest_authentication_failed",
        "unauthorized",
        "invalid_username",
        "incorrect_password",
        "jwt_auth_invalid_token",
    }
)


def api_title(api: Api) -> str:
    """The API's name at the start of a sentence ("The downloads API", "Fileflare")."""
    return capitalized(api.label)


def _error_body(response: requests.Response) -> dict[str, Any]:
    """An error answer's JSON object, or {} when it is not one (an HTML error page, nothing)."""
    try:
        payload = response.json()
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def _messages(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(item) for item in value if item not in (None, "")]
    if isinstance(value, dict):  # a WordPress `details` entry: {"code", "message", "data"}
        return [str(value["message"])] if value.get("message") else []
    return [str(value)] if value not in (None, "") else []


def _field_errors(payload: Any, api: Api | None = None) -> dict[str, list[str]]:
    """Field name → messages, from Laravel's `errors` or WordPress's `data.params` / `data.details`,
    under the names our forms use (`is_amazon_download` → `is_amazon`)."""
    if not isinstance(payload, dict):
        return {}
    found: dict[str, list[str]] = {}
    if isinstance(payload.get("errors"), dict):  # Laravel: {"message", "errors": {field: [messages]}}
        for name, messages in payload["errors"].items():
            found[str(name)] = _messages(messages)
    data: dict[str, Any] = payload["data"] if isinstance(payload.get("data"), dict) else {}
    params, details = data.get("params"), data.get("details")
    if isinstance(params, dict):  # WordPress rest_invalid_param: {"params": {field: message}}
        for name, message in params.items():
            found.setdefault(str(name), _messages(message))
    elif isinstance(params, list):  # WordPress rest_missing_callback_param: {"params": [field, …]}
        for name in params:
            found.setdefault(str(name), [f"{name} is required."])
    if isinstance(details, dict):
        for name, detail in details.items():
            if not found.get(str(name)):
                found[str(name)] = _messages(detail)
    aliases = _FIELD_ALIASES.get(api.name, {}) if api is not None else {}
    fields: dict[str, list[str]] = {}
    for name, messages in found.items():
        fields.setdefault(aliases.get(name, name), []).extend(messages)
    return {name: messages for name, messages in fields.items() if messages}


def json_body(response: requests.Response, api: Api) -> Any:
    try:
        return response.json()
    except ValueError:
        raise BadResponse(
            _("%(api)s answered with something that is not JSON. Try again in a moment.")
            % {"api": api_title(api)},
            status=response.status_code,
            api=api.name,
        ) from None


def _credentials_refused(api: Api, response: requests.Response, body: dict[str, Any]) -> bool:
    """401/403 from either API; the downloads API's documented 400 "Unauthorized" (a WordPress
    envelope with an authentication code, the older {"error": "Unauthorized"}, or plain text)."""
    if response.status_code in (401, 403):
        return True
    if api.name != "downloads" or response.status_code != 400:
        return False
    code = str(body.get("code") or "").lower()
    words = f"{body.get('message') or ''} {body.get('error') or ''}".lower()
    return code in _AUTH_CODES or "unauthorized" in words or (
        not body and "unauthorized" in response.text[:200].lower()
    )


def shown_base(api: Api) -> str:
    """The base URL without what may be secret: no user or password, no query, no fragment."""
    parts = urlsplit(api.base_url())
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}{parts.path.rstrip('/')}"


def _route_of(api: Api, response: requests.Response) -> str:
    """The route a request asked for, relative to the base URL: "/downloads", "/v1/orders"."""
    base_path = urlsplit(api.base_url()).path.rstrip("/")
    path = urlsplit(response.url or "").path
    relative = path[len(base_path) :] if path.startswith(base_path) else path
    segments = [segment for segment in relative.split("/") if segment]
    if not segments:
        return "/downloads" if api.name == "downloads" else "/v1/orders"
    keep = 2 if len(segments) > 1 and segments[0][:1] == "v" and segments[0][1:].isdigit() else 1
    return "/" + "/".join(segments[:keep])


def _no_such_route(api: Api, response: requests.Response, body: dict[str, Any]) -> bool:
    """A 404 that means the address is wrong, not that a record is missing: WordPress's rest_no_route,
    Laravel's "The route … could not be found.", a page that is not a JSON error, or a list that 404s."""
    message = str(body.get("message") or "")
    return (
        body.get("code") == "rest_no_route"
        or (message.startswith("The route ") and "could not be found" in message)
        or not body
        or (api.name == "downloads" and urlsplit(response.url or "").path.rstrip("/").endswith("/downloads"))
    )


def _sentence(text: str) -> str:
    return text if text[-1:] in ".!?" else f"{text}."


def failure_for(api: Api, response: requests.Response) -> ApiError:
    status = response.status_code
    body = _error_body(response)
    if _credentials_refused(api, response, body):
        refused = (
            _("%(api)s refused the dashboard's token. Check %(setting)s.")
            if api.key_setting.endswith("TOKEN")
            else _("%(api)s refused the dashboard's key. Check %(setting)s.")
        )
        return NotConfigured(
            refused % {"api": api_title(api), "setting": api.key_setting},
            status=status,
            api=api.name,
        )
    if status == 402:
        return PlanLimit(status=status, api=api.name)
    if status == 404:
        if _no_such_route(api, response, body):
            wrong = (
                _(
                    "The downloads API address looks wrong: %(base)s has no %(route)s route. "
                    "Check %(setting)s."
                )
                if api.name == "downloads"
                else _(
                    "The Fileflare API address looks wrong: %(base)s has no %(route)s route. "
                    "Check %(setting)s."
                )
            )
            where = {"base": shown_base(api), "route": _route_of(api, response), "setting": api.url_setting}
            return NotConfigured(
                wrong % where,
                status=status,
                api=api.name,
            )
        return NotFound(status=status, api=api.name)
    if status in (400, 422):
        fields = _field_errors(body, api)
        summary = "; ".join(message for messages in fields.values() for message in messages)
        reason = str(body.get("message") or "").strip()
        if summary:
            sentence: str | None = _sentence(
                _("%(api)s refused these values: %(why)s") % {"api": api_title(api), "why": summary}
            )
        elif reason:
            sentence = _sentence(
                _("%(api)s refused the request: %(why)s") % {"api": api_title(api), "why": reason}
            )
        else:
            sentence = None
        return ValidationFailed(sentence, field_errors=fields, status=status, api=api.name)
    if status == 429:
        return RateLimited(retry_after=_retry_after(response), api=api.name)
    if status >= 500:
        return Unavailable(
            _("%(api)s had a problem on its side (error %(status)s). Try again in a moment.")
            % {"api": api_title(api), "status": status},
            status=status,
            api=api.name,
        )
    return BadResponse(
        _("%(api)s answered with an unexpected status (%(status)s).")
        % {"api": api_title(api), "status": status},
        status=status,
        api=api.name,
    )
