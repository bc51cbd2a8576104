"""Russian formatting for the cabinets: money "1 234,56 ₽", bonuses, dates in the tenant's
time zone."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask, g
from hub import money
from hub.programs.operations import load_settings
from hub.text import (
    LOT_KIND_NAMES, POSTING_KIND_NAMES, bonuses, day_text, last_day_text, number, percent_text, plural,
)

NBSP = "\u00a0"
MONTHS_SHORT = ("янв", "фев", "мар", "апр", "май", "июн", "июл", "авг", "сен", "окт", "ноя", "дек")
ROLE_NAMES = {"owner": "владелец", "manager": "менеджер", "readonly": "только просмотр",
              "cashier": "кассир"}


def rub(kopecks: int | None) -> str:
    """123456 -> "1 234,56 ₽" (hub.text.number: the engine's one rendering of kopecks)."""
    return number(kopecks) + NBSP + "₽"


def phone(e164: str | None) -> str:
    """'+79161234567' -> '+7 916 123-45-67' (no-break spaces: a phone never wraps); other
    countries' numbers as stored."""
    e164 = e164 or ""
    if len(e164) == 12 and e164.startswith("+7") and e164[1:].isdigit():
        d = e164[2:]
        return f"+7{NBSP}{d[:3]}{NBSP}{d[3:6]}-{d[6:8]}-{d[8:]}"
    return e164


def parse_rub(text: str | None, allow_negative: bool = False) -> int | None:
    """"1 234,56" / "1234.5" -> kopecks; None when empty; hub.money.MoneyError (a ValueError
    with the Russian message every face shows) when not an amount or out of range."""
    if text is None or not str(text).strip():
        return None
    return money.parse_rub(str(text), allow_negative=allow_negative)


def money_error(exc: ValueError, example: str) -> str:
    """What a form says under an amount it refused: the field's own example when the text is no
    amount at all, else the money module's words (the limit, the kopecks) that every face uses."""
    return exc.message if isinstance(exc, money.MoneyError) and exc.kind != "type" else example


def tenant_tz() -> ZoneInfo:
    tz = getattr(g, "tenant_tz", None)
    return ZoneInfo(tz) if tz else ZoneInfo("Europe/Moscow")


def local(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(tenant_tz())


def dt(moment: datetime | None) -> str:
    """"30.11.2026 14:05" in the tenant's time zone."""
    value = local(moment)
    return "" if value is None else value.strftime("%d.%m.%Y %H:%M")


def day(moment: datetime | date | None) -> str:
    """"30 ноября 2026" (a datetime in the tenant's time zone)."""
    return day_text(moment, tenant_tz())


def last_day(moment: datetime | None) -> str:
    """The last local day before `moment` (an expiry at local midnight burns after that day)."""
    return last_day_text(moment, tenant_tz())


def isodt(text: str | None) -> str:
    try:
        return dt(datetime.fromisoformat(text)) if text else ""
    except (TypeError, ValueError):
        return str(text)


def set_tenant_tz(session, tenant_id: str) -> str:
    tz = (load_settings(session, tenant_id)[0] or {}).get("timezone") or "Europe/Moscow"
    g.tenant_tz = tz
    return tz


def install(app: Flask) -> None:
    app.jinja_env.filters.update(rub=rub, bonuses=bonuses, number=number, phone=phone, dt=dt, day=day, isodt=isodt,
                                 last_day=last_day, role=lambda r: ROLE_NAMES.get(r, r), percent=percent_text,
                                 plural=plural, lot_kind=lambda k: LOT_KIND_NAMES.get(k, k),
                                 posting_kind=lambda k: POSTING_KIND_NAMES.get(k, k))
