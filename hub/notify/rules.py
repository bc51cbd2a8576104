"""Consent (38-ФЗ art. 18), quiet hours and the tenant's messaging settings."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.errors import Invalid
from hub.customers.models import Customer
from hub.notify.models import NotifySettings
from hub.clock import utcnow
from hub.programs.operations import get_program

DEFAULT_SETTINGS = {
    "quiet_hours": {"start": "21:00", "end": "09:00"},   # advertising waits until `end`
    "sms_fallback": True,            # SMS when no cheaper channel works for the customer
    "sms_part_price": 250,           # kopecks per SMS part, for the expected cost (seed: 2,5 ₽)
    "max_attempts": 8,
    "code_limit": {"per_phone_interval": 60, "per_phone_hour": 5, "per_ip_hour": 20},
    "first_purchase_message": False,  # hub.notify.events: a "first purchase" message instead of "sale"
    "review_requests": False,         # hub.notify.events: ask for a review after a purchase
}

CHANNEL_NAMES = {"sms": "SMS", "email": "email", "telegram": "Telegram", "max": "MAX"}


def no_consent_reason(channels: list[str] | tuple[str, ...]) -> str:
    names = ", ".join(CHANNEL_NAMES.get(c, c) for c in channels)
    if len(channels) == 1:
        return f"Нет согласия на рекламу в этом канале ({names})"
    return f"Нет согласия на рекламу в этих каналах ({names})"


def quiet_reason(until: datetime, tz: str) -> str:
    return f"Тихие часы: отправка в {until.astimezone(ZoneInfo(tz)).strftime('%H:%M')} по местному времени"

# Which consent (Customer.consents key) covers advertising in a channel.
CONSENT_KEY = {"sms": "sms", "email": "email", "telegram": "messengers", "max": "messengers"}


def _with_defaults(stored: dict) -> dict:
    merged = {**DEFAULT_SETTINGS, **stored}
    if isinstance(stored.get("code_limit"), dict):
        merged["code_limit"] = {**DEFAULT_SETTINGS["code_limit"], **stored["code_limit"]}
    return merged


def get_settings(session: Session, tenant_id: str) -> dict:
    cache = session.info.setdefault("notify_settings", {})
    if tenant_id not in cache:
        row = session.scalar(select(NotifySettings).where(NotifySettings.tenant_id == tenant_id))
        cache[tenant_id] = _with_defaults((row.settings if row else None) or {})
    return cache[tenant_id]


def _hhmm(value: str, field: str) -> time:
    try:
        h, m = str(value).split(":")
        return time(int(h), int(m))
    except (ValueError, TypeError) as exc:
        raise Invalid("invalid_time", f"Время «{value}» нужно указать как ЧЧ:ММ.",
                      {field: ["Нужен формат ЧЧ:ММ."]}) from exc


def put_settings(session: Session, tenant_id: str, data: dict) -> dict:
    qh = data.get("quiet_hours")
    if qh is not None:
        _hhmm(qh.get("start"), "quiet_hours.start")
        _hhmm(qh.get("end"), "quiet_hours.end")
    row = session.scalar(select(NotifySettings).where(NotifySettings.tenant_id == tenant_id))
    if row is None:
        row = NotifySettings(tenant_id=tenant_id, settings={})
        session.add(row)
    merged = dict(row.settings or {})
    for key, value in data.items():
        if key == "code_limit" and isinstance(value, dict):
            # a partial update of the limits keeps the others
            value = {**(merged.get(key) or DEFAULT_SETTINGS[key]), **value}
        merged[key] = value
    row.settings = merged
    row.updated_at = utcnow()
    session.info.get("notify_settings", {}).pop(tenant_id, None)
    return _with_defaults(row.settings)


def tenant_timezone(session: Session, tenant_id: str) -> str:
    try:
        return get_program(session, tenant_id).timezone
    except Exception:  # noqa: BLE001 - an unreadable URL is shown as "?"
        return "Europe/Moscow"


def quiet_until(moment: datetime, tz: str, quiet: dict | None) -> datetime | None:
    """None when `moment` is outside the tenant's quiet hours, else the moment they end."""
    if not quiet or not quiet.get("start") or not quiet.get("end"):
        return None
    start, end = _hhmm(quiet["start"], "start"), _hhmm(quiet["end"], "end")
    if start == end:
        return None
    zone = ZoneInfo(tz)
    local = moment.astimezone(zone)
    t = local.time().replace(tzinfo=None)
    inside = (start <= t or t < end) if start > end else (start <= t < end)
    if not inside:
        return None
    day = local.date() if t < end else local.date() + timedelta(days=1)
    ends = datetime.combine(day, end, tzinfo=zone)
    return ends.astimezone(moment.tzinfo)


def has_consent(customer: Customer | None, channel: str) -> bool:
    """Recorded advertising consent for the channel, not withdrawn since."""
    if customer is None:
        return False
    entry = (customer.consents or {}).get(CONSENT_KEY.get(channel, channel))
    if isinstance(entry, dict):
        return bool(entry.get("given"))
    return bool(entry)


def withdraw(customer: Customer, channels: list[str] | tuple[str, ...], moment: datetime,
             source: str) -> None:
    """An opt-out ("СТОП" reply, unsubscribe link): recorded like every consent change."""
    consents = dict(customer.consents or {})
    for ch in channels:
        key = CONSENT_KEY.get(ch, ch)
        consents[key] = {"given": False, "at": moment.isoformat(), "source": source}
    customer.consents = consents


STOP_WORDS = {"стоп", "stop", "/stop", "отписаться", "отписка"}


def is_stop(text: str | None) -> bool:
    return (text or "").strip().strip(".!").lower() in STOP_WORDS
