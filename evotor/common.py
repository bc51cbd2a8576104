"""What every part of the Evotor adapter shares: names, connection settings, money and
numbers at the edge, the two error formats, and authentication by app and user token."""
from __future__ import annotations

from typing import TYPE_CHECKING

import base64
import hmac
import logging
from decimal import Decimal

from flask import current_app, jsonify, request
from sqlalchemy.orm import Session

from hub.money import BadNumber, MoneyError, kopecks_json, parse_rub, wire_decimal
from connectors.registry import connection_by_token

if TYPE_CHECKING:   # annotations only: the adapter reads rows the hub's queries return
    from hub.connections.models import Connection

log = logging.getLogger("kopilka.evotor")

KIND = "evotor"       # connections.kind
SOURCE = "evotor"     # receipts, holds and idempotency keys of Evotor sales and returns
PREFIX = "/evotor"    # every address of the adapter starts with it

# Connection settings (Connection.settings) the adapter reads, with their defaults.
DEFAULTS = {
    "confirm_new_customers": True,    # a customer registered at a terminal confirms the phone
    "return_code_to_pos": False,      # give the code to the terminal (it checks it itself)
    "code_ttl_seconds": 600,
    "code_repeat_seconds": 60,
    "hold_ttl_seconds": 900,          # bonuses held by a quote, 15 minutes
    "accrue_without_app": False,      # a SELL document with a customer but without our extra accrues
}


def setting(conn: Connection, name: str):
    value = (conn.settings or {}).get(name, DEFAULTS.get(name))
    default = DEFAULTS.get(name)
    if isinstance(default, bool):
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "on", "да")
        return bool(value)
    if isinstance(default, int):
        try:
            return int(value)
        except (TypeError, ValueError):
            return default
    return value


def update_settings(conn: Connection, **values) -> None:
    conn.settings = {**(conn.settings or {}), **values}   # a new dict: the JSON change is seen


# --- money and numbers at the edge -------------------------------------------------------

class BadValue(ValueError):
    """A wire value that cannot be read; `field` names it for the error message."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def money(value, field: str, *, allow_negative: bool = False) -> int:
    """Roubles from the wire (number or string) to kopecks: hub.money.parse_rub, its limit and
    its words after the field's name."""
    if isinstance(value, bool) or value is None or value == "":
        raise BadValue(field, f"Поле {field}: нужна сумма в рублях.")
    try:
        return parse_rub(value, allow_negative=allow_negative)
    except MoneyError as exc:
        raise BadValue(field, f"Поле {field}: {exc.message}") from exc


def quantity(value, field: str) -> Decimal:
    if isinstance(value, bool) or value is None or value == "":
        raise BadValue(field, f"Поле {field}: нужно количество.")
    try:
        result = wire_decimal(value)
    except BadNumber as exc:
        raise BadValue(field, f"Поле {field}: «{value}» — не количество.") from exc
    if result <= 0 or result > 10 ** 6:
        raise BadValue(field, f"Поле {field}: количество — больше нуля и не больше миллиона.")
    if result != result.quantize(Decimal("0.001")):
        raise BadValue(field, f"Поле {field}: количество — не больше трёх знаков после запятой.")
    return result


rub_json = kopecks_json    # kopecks as a JSON number of roubles (hub.money)


def text(value, field: str, *, required: bool = False, limit: int = 100) -> str | None:
    if value is None or value == "":
        if required:
            raise BadValue(field, f"Не указано поле {field}.")
        return None
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise BadValue(field, f"Поле {field} должно быть строкой.")
    value = str(value).strip()
    if not value and required:
        raise BadValue(field, f"Не указано поле {field}.")
    if len(value) > limit:
        raise BadValue(field, f"Поле {field} длиннее {limit} символов.")
    return value or None


def first(data: dict, *names: str):
    """The first present of several names of one field (Evotor's old and new names)."""
    for name in names:
        if isinstance(data, dict) and data.get(name) not in (None, ""):
            return data[name]
    return None


# --- errors --------------------------------------------------------------------------------

class EvotorError(Exception):
    """An error in the Evotor cloud's format: {"errors": [{"code", "reason", "subject"}]}
    with a Russian `message` next to Evotor's code."""

    def __init__(self, status: int, code: int, message: str, subject: str | None = None,
                 reason: str | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.subject = status, code, message, subject
        self.reason = reason or {400: "incorrect", 401: "unauthorized", 402: "payment required",
                                 404: "not found", 409: "conflict"}.get(status, "error")


def terminal_error(status: int, code: str, message: str, details: dict | None = None):
    """The terminal app's error format, {"error": {"code", "message", "details"}} — the
    hub's own shape, written here so the adapter does not import another adapter (api)."""
    response = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    response.status_code = status
    return response


def cloud_error(err: EvotorError):
    item = {"code": err.code, "reason": err.reason, "message": err.message}
    if err.subject:
        item["subject"] = err.subject
    response = jsonify({"errors": [item], "message": err.message})
    response.status_code = err.status
    return response


# Evotor's error codes used by the hub.
BAD_TOKEN = 1001           # wrong app token
BAD_USER_TOKEN = 1002      # wrong user token
PAYMENT_REQUIRED = 1004
BAD_CREDENTIALS = 1006     # wrong credentials in /user/verify
SYNTAX = 2001
MISSING = 2002
INCORRECT = 2003
LINKED_ELSEWHERE = 2004    # the Evotor user is linked to another account
ALREADY_REGISTERED = 2005


# --- authentication ------------------------------------------------------------------------

def bearer() -> str | None:
    header = (request.headers.get("Authorization") or "").strip()
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def app_tokens() -> list[str]:
    raw = current_app.config.get("EVOTOR_APP_TOKEN") or ""
    return [t.strip() for t in str(raw).split(",") if t.strip()]


def authorization_candidates() -> list[str]:
    """Every token the `Authorization` header may carry in the forms Evotor's docs show:
    `Bearer <token>`, `Basic <token>` (the docs' pattern: the token itself), `Basic
    base64(user:password)` with the token as the password or the user, and a bare token."""
    header = (request.headers.get("Authorization") or "").strip()
    if not header or len(header) > 2000:
        return []
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if not value:
        return [header]                      # a bare token, no scheme
    if scheme.lower() == "bearer":
        return [value]
    if scheme.lower() == "basic":
        out = [value]
        try:
            decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            decoded = ""
        if decoded:
            user, _, password = decoded.partition(":")
            out += [decoded, password, user]
        return [c for c in out if c]
    return []


def app_token_ok() -> bool:
    """The Evotor cloud's own calls carry the app token (any form of
    `authorization_candidates`)."""
    tokens = app_tokens()
    if not tokens:
        log.warning("EVOTOR_APP_TOKEN is not configured: Evotor cloud calls are refused")
        return False
    return any(hmac.compare_digest(c.encode(), t.encode())
               for c in authorization_candidates() for t in tokens)


def user_connection(session: Session, *, any_status: bool = False) -> Connection | None:
    """The Evotor user whose user token the request carries (only while installed, unless
    `any_status`: an installation event switching an uninstalled user back on)."""
    token = bearer()
    if not token or len(token) > 200:
        return None
    if any_status:
        return connection_by_token(session, KIND, token, active_only=False)
    return connection_by_token(session, KIND, token)


def subscription_stopped(conn: Connection) -> bool:
    return (conn.settings or {}).get("subscription_status") == "terminated"
