"""The tenant's automation settings: gift triggers, expiry warnings, activation notices,
segment thresholds and the referral program (money in kopecks, percents as strings)."""
from __future__ import annotations

import copy
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.errors import Invalid
from hub.automation.models import AutomationSettings
from hub.orm import new_id
from hub.programs.operations import get_program

GIFT_EVENTS = ("registration", "first_purchase", "birthday", "relative_birthday")

DEFAULT_SETTINGS: dict = {
    # [{id, event, enabled, amount, valid_days, delay_days, days_before, levels, sources, since}]
    "gifts": [],
    "expiry_warning": {"enabled": False, "days_before": 7, "since": None},
    "activation": {"enabled": False, "since": None},
    # T (days) by hand, or None: the median interval between purchases (specs/segments.md)
    "segments": {"interval_days": None, "core_purchases": 4},
    "referral": {
        "enabled": False,
        "newcomer_gift": None,            # {amount, valid_days, delay_days}
        "mode": "first",                  # first | every purchase of the invitee
        "levels": [],                     # [{percent} | {amount}] for inviter levels 1, 2, 3…
        "period_days": None,              # pay for purchases within N days of the invitation
        "valid_days": None,               # reward lifetime; None: the program's lifetime
        "since": None,
    },
}


def _fail(field: str, message: str, detail: str) -> None:
    raise Invalid("invalid_automation_settings", message, {field: [detail]})


def _int(value, field: str, lo: int, hi: int, *, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        _fail(field, f"Поле {field}: нужно целое число от {lo} до {hi}.", f"целое число от {lo} до {hi}")
    return value


def _percent(value, field: str) -> str:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        number = Decimal(-1)
    if not number.is_finite() or number < 0 or number > 100:
        _fail(field, f"Поле {field}: процент от 0 до 100.", "процент от 0 до 100")
    return format(number.normalize(), "f")


def _gift(data: dict, field: str, *, need_validity: bool = True) -> dict:
    out = {"amount": _int(data.get("amount"), f"{field}.amount", 1, 10**11),
           "valid_days": _int(data.get("valid_days"), f"{field}.valid_days", 1, 3650,
                              optional=not need_validity),
           "delay_days": _int(data.get("delay_days") or 0, f"{field}.delay_days", 0, 365)}
    return out


def validate(session: Session, tenant_id: str, data: dict, previous: dict, now: datetime) -> dict:
    """The whole settings document checked as one; `since` of each mechanic is when it was
    switched on (nothing is granted for occurrences before it)."""
    program = get_program(session, tenant_id)
    level_codes = {lv.code for lv in program.levels}
    out = copy.deepcopy(DEFAULT_SETTINGS)
    old_gifts = {g["id"]: g for g in previous.get("gifts", [])}
    gifts, seen = [], set()
    for i, rule in enumerate(data.get("gifts") or []):
        field = f"gifts.{i}"
        if rule.get("event") not in GIFT_EVENTS:
            _fail(f"{field}.event", f"Неизвестное событие подарка «{rule.get('event')}».",
                  f"одно из: {', '.join(GIFT_EVENTS)}")
        rid = str(rule.get("id") or new_id()[:8])
        if rid in seen:
            _fail(f"{field}.id", f"Правило {rid} указано дважды.", "id повторяется")
        seen.add(rid)
        levels = list(rule.get("levels") or [])
        unknown = sorted(set(levels) - level_codes)
        if unknown:
            _fail(f"{field}.levels", f"Нет уровней {', '.join(unknown)} в программе.", "нет такого уровня")
        g = {"id": rid, "event": rule["event"], "enabled": bool(rule.get("enabled", True)),
             **_gift(rule, field), "levels": levels,
             "sources": list(rule.get("sources") or []),
             "days_before": _int(rule.get("days_before") or 0, f"{field}.days_before", 0, 60)}
        old = old_gifts.get(rid)
        same = old is not None and old.get("enabled") and old.get("event") == g["event"]
        g["since"] = old["since"] if same and g["enabled"] else (now.isoformat() if g["enabled"] else None)
        gifts.append(g)
    out["gifts"] = gifts
    for name in ("expiry_warning", "activation"):
        given = data.get(name) or {}
        part = out[name]
        part["enabled"] = bool(given.get("enabled", False))
        if name == "expiry_warning":
            part["days_before"] = _int(given.get("days_before", 7), "expiry_warning.days_before", 1, 90)
        was = previous.get(name) or {}
        part["since"] = (was.get("since") if was.get("enabled") else now.isoformat()) if part["enabled"] else None
    seg = data.get("segments") or {}
    out["segments"] = {
        "interval_days": _int(seg.get("interval_days"), "segments.interval_days", 1, 365, optional=True),
        "core_purchases": _int(seg.get("core_purchases", 4), "segments.core_purchases", 2, 100)}
    ref = data.get("referral") or {}
    r = out["referral"]
    r["enabled"] = bool(ref.get("enabled", False))
    r["newcomer_gift"] = _gift(ref["newcomer_gift"], "referral.newcomer_gift") if ref.get("newcomer_gift") else None
    if ref.get("mode", "first") not in ("first", "every"):
        _fail("referral.mode", "Вознаграждение: только с первой покупки (first) или с каждой (every).",
              "first или every")
    r["mode"] = ref.get("mode", "first")
    levels = []
    for i, lv in enumerate(ref.get("levels") or []):
        if (lv.get("percent") is None) == (lv.get("amount") is None):
            _fail(f"referral.levels.{i}", "Для уровня приглашения укажите процент или сумму.",
                  "одно из двух: percent или amount")
        levels.append({"percent": _percent(lv["percent"], f"referral.levels.{i}.percent")}
                      if lv.get("percent") is not None else
                      {"amount": _int(lv["amount"], f"referral.levels.{i}.amount", 1, 10**11)})
    if len(levels) > 10:
        _fail("referral.levels", "Не больше 10 уровней приглашений.", "не больше 10")
    r["levels"] = levels
    r["period_days"] = _int(ref.get("period_days"), "referral.period_days", 1, 3650, optional=True)
    r["valid_days"] = _int(ref.get("valid_days"), "referral.valid_days", 1, 3650, optional=True)
    was = previous.get("referral") or {}
    r["since"] = (was.get("since") if was.get("enabled") else now.isoformat()) if r["enabled"] else None
    return out


def load(session: Session, tenant_id: str) -> dict:
    row = session.scalars(select(AutomationSettings)
                          .where(AutomationSettings.tenant_id == tenant_id)).first()
    return copy.deepcopy(row.settings) if row else copy.deepcopy(DEFAULT_SETTINGS)


def save(session: Session, tenant_id: str, data: dict, now: datetime) -> dict:
    row = session.scalars(select(AutomationSettings).where(AutomationSettings.tenant_id == tenant_id)
                          .with_for_update()).first()
    settings = validate(session, tenant_id, data, row.settings if row else {}, now)
    if row is None:
        session.add(AutomationSettings(tenant_id=tenant_id, settings=settings, updated_at=now))
    else:
        row.settings = settings
        row.version += 1
        row.updated_at = now
    session.commit()
    return settings


def since_of(part: dict) -> datetime | None:
    return datetime.fromisoformat(part["since"]) if part.get("since") else None
