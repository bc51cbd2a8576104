"""What every surface of the 1С adapter shares: names, connection settings, HTTP Basic auth
against the connection's stored login and password, and reading what 1С really sends
(raw query strings, a UTF-8 BOM, Russian-locale numbers and dates)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import base64
import binascii
import hashlib
import hmac
import re
import uuid
from datetime import datetime
from decimal import Decimal
from urllib.parse import unquote_to_bytes

from flask import current_app, request

from hub.money import BadNumber, kopecks_json, wire_decimal
from connectors.registry import connection_by_id, credentials_of

if TYPE_CHECKING:   # annotations only: the adapter reads rows the hub's queries return
    from hub.connections.models import Connection

KIND = "onec"        # connections.kind
SOURCE = "onec"      # receipts, holds and idempotency keys of 1С sales and returns
PREFIX = "/onec"

# The library version the hub answers with: above 3.0.5.1, so a cash desk switches on
# findclientcard, salesturnover and getcardtypes (УТ 11.5 sends this one).
VERSION = "3.0.7.84"
EMPTY_DATE = "0001-01-01T00:00:00"
CURRENCY = "643"

DEFAULTS = {
    "lock_ttl_seconds": 900,          # a card locked by a cash desk: 15 minutes
    "writeoff_claim_hours": 24,       # a write-off no pulled receipt claims is flagged
    "exchange_file_limit": 50 * 1024 * 1024,
    "exchange_time_budget_seconds": 20,
    "exchange_max_bytes": 2 * 1024 ** 3,
    "odata_url": None,                # <base>/odata/standard.odata
    "odata_configuration": "ut",      # ut | unf | retail
    "odata_page_size": 100,
    "odata_initial_days": 2,          # the periodic pull's first window
    "odata_overlap_minutes": 120,     # each pull re-reads this much before the last one (late receipts)
}


def setting(conn: Connection, name: str):
    value = (conn.settings or {}).get(name, DEFAULTS.get(name))
    default = DEFAULTS.get(name)
    if isinstance(default, int) and not isinstance(default, bool):
        try:
            return int(value)
        except (TypeError, ValueError):
            return default
    return value


def stable_uuid(*parts: str) -> str:
    """A UUID that stays the same for the same things (card types, discounts, programs)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "kopilka:" + ":".join(parts)))


# --- authentication ---------------------------------------------------------------------------

def basic_credentials() -> tuple[str, str] | None:
    header = (request.headers.get("Authorization") or "").strip()
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value.strip() or len(value) > 1000:
        return None
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1251")          # a Cyrillic login from an older platform
    login, sep, password = text.partition(":")
    return (login, password) if sep else None


_VERIFIERS: dict[tuple[str, str], tuple[str, bytes]] = {}
_MAX_VERIFIERS = 4096


def _digest(password: str) -> bytes:
    return hashlib.sha256(password.encode("utf-8")).digest()


def _verifier(conn: Connection) -> tuple[str, bytes] | None:
    """(login, SHA-256 of the password) of the connection's stored credentials, decrypted once
    per ciphertext: new credentials are a new ciphertext, so a change takes effect at once."""
    key = (conn.id, conn.credentials or "")
    found = _VERIFIERS.get(key)
    if found is None:
        stored = credentials_of(conn)
        login = stored.get("login")
        if not login:
            return None
        if len(_VERIFIERS) >= _MAX_VERIFIERS:
            _VERIFIERS.clear()
        found = _VERIFIERS[key] = (str(login), _digest(str(stored.get("password") or "")))
    return found


def authenticated(session, connection_id: str) -> Connection | None:
    """The active 1С connection whose stored login and password the request carries.

    The connection comes back detached from the session, its columns loaded: the handlers
    roll back between their steps, and a detached row is not expired (no reload each time)."""
    given = basic_credentials()
    if given is None:
        return None
    conn = connection_by_id(session, KIND, connection_id)
    if conn is None or conn.status != "active":
        return None
    verifier = _verifier(conn)
    if verifier is None:
        return None
    ok_login = hmac.compare_digest(given[0].encode(), verifier[0].encode())
    ok_password = hmac.compare_digest(_digest(given[1]), verifier[1])
    if not (ok_login and ok_password):
        return None
    session.expunge(conn)
    return conn


# --- reading what 1С sends ------------------------------------------------------------------

def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1251")


_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def raw_query() -> dict[str, str]:
    """The query string read raw: 1С does not encode values, and a `+` in one (a phone) is
    a plus, not a space. Percent escapes are decoded; the first of repeated keys wins."""
    out: dict[str, str] = {}
    raw = request.query_string or b""
    for part in raw.split(b"&"):
        if not part:
            continue
        key, _, value = part.partition(b"=")
        name = _decode(unquote_to_bytes(key)).strip()
        if name and name not in out:
            # NUL and other C0 controls never belong in a card, phone or name (PostgreSQL
            # text refuses NUL): dropped
            out[name] = _CONTROLS.sub("", _decode(unquote_to_bytes(value))).strip()
    return out


def body_text(limit: int = 5 * 1024 * 1024) -> str:
    raw = request.get_data(cache=True)[:limit + 1]
    if len(raw) > limit:
        raise ValueError("body too large")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    return _decode(raw).lstrip("\ufeff")


def json_body():
    """The body as JSON whatever the method and Content-Type (GET with a body included)."""
    text = body_text()
    if not text.strip():
        return None
    if "\\u0000" in text:
        raise ValueError("тело содержит символ NUL (\\u0000)")
    # the app's JSON reader: nesting bounded (hub/web/limits.py), a ValueError on anything bad
    return current_app.json.loads(text)


_SPACES = re.compile(r"[\s\u00a0\u202f\u2007']")


def ru_number(value) -> Decimal | None:
    """"1 500" (U+00A0 thousands), "12,5", 12.5 or "12.5" → Decimal; empty → None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        return wire_decimal(value)
    text = _SPACES.sub("", str(value)).replace(",", ".")
    if not text:
        return None
    if len(text) > 40:
        raise BadNumber("digits", value)
    return wire_decimal(text)


_RU_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def ru_date(value) -> datetime | None:
    """"01.01.0001 0:00:00" (1С's empty date) → None; "15.03.1990 0:00:00", "1990-03-15",
    "1990-03-15T00:00:00" → a naive datetime. Raises ValueError on anything else."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    m = _RU_DATE.match(text)
    if m:
        day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        moment = datetime(year, month, day, int(m.group(4) or 0), int(m.group(5) or 0), int(m.group(6) or 0))  # noqa: DTZ001 - Excel's epoch and 1С's dates carry no time zone
    else:
        moment = datetime.fromisoformat(text.replace("Z", ""))
        moment = moment.replace(tzinfo=None)
    return None if moment.year <= 1 else moment


rub_json = kopecks_json    # kopecks as a JSON number of roubles (hub.money)


def json_date(moment: datetime | None) -> str:
    """1С's ЗаписатьJSON form of a date: YYYY-MM-DDThh:mm:ss without a zone."""
    if moment is None:
        return EMPTY_DATE
    return moment.replace(tzinfo=None, microsecond=0).isoformat()
