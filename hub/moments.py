"""Moments from the outside: ISO 8601; without an offset they are the tenant's local time."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hub.errors import Invalid

# An offline till may send a receipt days late, never from the future beyond clock drift.
FUTURE_TOLERANCE = timedelta(minutes=10)


def parse_moment(text: str | None, tz: str, now: datetime, field: str = "moment") -> datetime:
    if text is None or text == "":
        return now
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, AttributeError, TypeError) as exc:
        raise Invalid("invalid_moment", f"Неверный формат времени «{text}»: нужен ISO 8601.",
                      {field: ["Нужен формат ISO 8601, например 2026-05-01T12:30:00+03:00."]}) from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(tz))
    try:
        value = value.astimezone(timezone.utc)
    except OverflowError as exc:    # e.g. 0001-01-01T00:00:00+14:00 is before year 1 in UTC
        raise Invalid("invalid_moment", f"Неверное время «{text}».",
                      {field: ["Время вне допустимого диапазона."]}) from exc
    if value > now + FUTURE_TOLERANCE:
        raise Invalid("moment_in_future", "Время операции в будущем: проверьте часы кассы.",
                      {field: ["Время не может быть в будущем."]})
    return value


from hub.clock import utcnow  # noqa: F401 - re-exported: callers import it from here
