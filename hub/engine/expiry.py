"""When accrued bonuses become spendable and when they burn, in the tenant's time zone."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hub.engine.program import Level, Program


def local_day_start(day: date, tz: str) -> datetime:
    """The moment a local calendar day begins (aware, in the tenant's zone)."""
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz))


def local_date(moment: datetime, tz: str) -> date:
    return moment.astimezone(ZoneInfo(tz)).date()


def end_of_validity(moment: datetime, days: int, tz: str) -> datetime:
    """Valid through the local date `days` after `moment`; burns as the next day begins."""
    return local_day_start(local_date(moment, tz) + timedelta(days=days + 1), tz)


def next_fixed_date(moment: datetime, dates: tuple[tuple[int, int], ...], tz: str) -> datetime | None:
    """The first of the program's burn dates (start of that local day) after `moment`."""
    today = local_date(moment, tz)
    best = None
    for year in range(today.year, today.year + 9):   # 02-29 alone may be 8 years away
        for month, day in dates:
            try:
                candidate = date(year, month, day)
            except ValueError:     # 02-29 outside leap years
                continue
            if candidate > today and (best is None or candidate < best):
                best = candidate
        if best is not None:
            break
    return local_day_start(best, tz) if best else None


def expiry_from(program: Program, level: Level, moment: datetime) -> datetime | None:
    """When bonuses accrued (or, since the last purchase, last touched) at `moment` burn."""
    if program.expiry_mode == "fixed_dates":
        return next_fixed_date(moment, program.expiry_dates, program.timezone)
    days = program.lifetime_days(level)
    if not days:
        return None
    return end_of_validity(moment, days, program.timezone)


def purchase_burn_date(program: Program, level_after: Level, moment: datetime,
                       last_purchase_at: datetime | None) -> datetime | None:
    """since_last_purchase: when the customer's live purchase lots burn once a sale at
    `moment` is in — N days after their latest purchase (an offline receipt older than it
    moves nothing earlier), by the level the sale leaves them at."""
    latest = moment if last_purchase_at is None else max(moment, last_purchase_at)
    return expiry_from(program, level_after, latest)


def accrual_window(program: Program, level: Level, moment: datetime) -> tuple[datetime, datetime | None]:
    """(active_from, expires_at) of a purchase accrual made at `moment`.

    An activation delay of N days makes bonuses spendable from the start of the local day
    N days later ("bonuses activate the next day", so customers cannot split a receipt).
    """
    if program.activation_delay_days:
        active_from = local_day_start(
            local_date(moment, program.timezone) + timedelta(days=program.activation_delay_days),
            program.timezone)
    else:
        active_from = moment
    expires_at = expiry_from(program, level, moment)
    if program.expiry_mode == "fixed_dates" and expires_at is not None and expires_at <= active_from:
        # A burn date falling inside the activation delay would burn bonuses never usable.
        expires_at = next_fixed_date(active_from, program.expiry_dates, program.timezone)
    return active_from, expires_at
