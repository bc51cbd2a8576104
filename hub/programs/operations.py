"""The tenant's program: stored settings <-> the engine's Program."""
from __future__ import annotations

from datetime import time
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.cache import VersionedCache
from hub.staff.operations import Actor, record
from hub.engine.program import Condition, Effect, Level, Program, Rule, Scheme, Step
from hub.tenants.models import ProgramSettings
from hub.programs.rules import check_program, validate_program  # noqa: F401 - validate_program for callers
from hub.orm import utcnow

# The stored form: money in kopecks (ints), percents as decimal strings, times "HH:MM".
DEFAULT_SETTINGS: dict = {
    "type": "bonus",
    "timezone": "Europe/Moscow",
    "levels": [
        {"code": "base", "name": "Стандарт", "threshold": 0,
         "accrual": {"scheme": "percent", "percent": "5"}, "discount": None,
         "max_spend_percent": "30", "bonus_lifetime_days": None},
    ],
    "bonus_lifetime_days": 365,
    "expiry_mode": "since_accrual",
    "expiry_dates": [],
    "activation_delay_days": 0,
    "rounding": "kopeck",
    "rules": [],
    "accrue_on_discounted": True,
    "accrue_on_bonus_payment": False,
    "spend_on_discounted": True,
    "restored_bonus_grace_days": 0,
    "verify_spending": False,
}


def _dec(value) -> Decimal:
    return Decimal(str(value))


def _scheme(data: dict | None) -> Scheme | None:
    if not data:
        return None
    kind = data["scheme"]
    if kind == "percent":
        return Scheme(kind, percent=_dec(data["percent"]))
    if kind == "per_amount":
        return Scheme(kind, every=int(data["every"]), bonuses=int(data["bonuses"]))
    return Scheme(kind, steps=tuple(Step(int(s["from"]), _dec(s["percent"])) for s in data["steps"]))


def _time(value: str | None) -> time | None:
    return time.fromisoformat(value) if value else None


def _rule(data: dict) -> Rule:
    when, then = data.get("when") or {}, data.get("then") or {}
    opt = lambda v: None if v is None else _dec(v)
    return Rule(
        name=data.get("name", ""),
        when=Condition(
            groups=tuple(when.get("groups") or ()), products=tuple(when.get("products") or ()),
            exclude_groups=tuple(when.get("exclude_groups") or ()),
            weekdays=tuple(when.get("weekdays") or ()), time_from=_time(when.get("time_from")),
            time_to=_time(when.get("time_to")), payment_methods=tuple(when.get("payment_methods") or ()),
            stores=tuple(when.get("stores") or ()), cashiers=tuple(when.get("cashiers") or ()),
            levels=tuple(when.get("levels") or ())),
        then=Effect(
            accrual_percent=opt(then.get("accrual_percent")),
            accrual_multiplier=opt(then.get("accrual_multiplier")),
            no_accrual=bool(then.get("no_accrual")),
            max_spend_percent=opt(then.get("max_spend_percent")),
            no_spend=bool(then.get("no_spend")), no_discount=bool(then.get("no_discount")),
            max_discount_percent=opt(then.get("max_discount_percent"))))


def program_from_settings(s: dict) -> Program:
    levels = tuple(
        Level(code=lv["code"], name=lv["name"], threshold=int(lv["threshold"]),
              accrual=_scheme(lv.get("accrual")), discount=_scheme(lv.get("discount")),
              max_spend_percent=_dec(lv.get("max_spend_percent") or 0),
              bonus_lifetime_days=lv.get("bonus_lifetime_days"))
        for lv in sorted(s["levels"], key=lambda lv: int(lv["threshold"])))
    return Program(
        type=s["type"], timezone=s["timezone"], levels=levels,
        bonus_lifetime_days=s.get("bonus_lifetime_days"), expiry_mode=s["expiry_mode"],
        expiry_dates=tuple(tuple(int(x) for x in d.split("-")) for d in s.get("expiry_dates") or ()),
        activation_delay_days=int(s.get("activation_delay_days") or 0),
        rounding=s.get("rounding", "kopeck"), rules=tuple(_rule(r) for r in s.get("rules") or ()),
        accrue_on_discounted=s.get("accrue_on_discounted", True),
        accrue_on_bonus_payment=s.get("accrue_on_bonus_payment", False),
        spend_on_discounted=s.get("spend_on_discounted", True))


# The parsed Program per (tenant, settings version): every change bumps the version.
_programs = VersionedCache[Program]("programs")


def load_settings(session: Session, tenant_id: str) -> tuple[dict, int]:
    row = session.scalars(select(ProgramSettings).where(ProgramSettings.tenant_id == tenant_id)).first()
    return (row.settings, row.version) if row else (DEFAULT_SETTINGS, 0)


def get_program(session: Session, tenant_id: str) -> Program:
    """The tenant's program; read once per session (request) and parsed once per version."""
    per_session = session.info.setdefault("programs", {})
    if tenant_id in per_session:
        return per_session[tenant_id]
    settings, version = load_settings(session, tenant_id)
    program = _programs.get(tenant_id, version, lambda: program_from_settings(settings))
    per_session[tenant_id] = program
    session.info.setdefault("program_versions", {})[tenant_id] = version
    return program


def program_version(session: Session, tenant_id: str) -> int:
    """The version of the tenant's settings this session reads (0: no settings row): every
    change of the program or of its promotions bumps it."""
    get_program(session, tenant_id)
    return session.info["program_versions"][tenant_id]


def put_program(session: Session, tenant_id: str, settings: dict, by: Actor | None = None) -> dict:
    """Replace the settings; invalid ones are refused (Invalid, 422) with every problem by
    field path (hub/programs/rules.py) and nothing is stored. Commits; `by`: the person,
    audited with the new version."""
    check_program(settings)
    program_from_settings(settings)     # must build, or nothing is stored
    session.info.get("programs", {}).pop(tenant_id, None)
    _programs.invalidate(tenant_id)
    row = session.scalars(select(ProgramSettings).where(ProgramSettings.tenant_id == tenant_id)
                          .with_for_update()).first()
    if row is None:
        row = ProgramSettings(tenant_id=tenant_id, settings=settings, version=1)
        session.add(row)
    else:
        row.settings = settings
        row.version += 1
        row.updated_at = utcnow()
    if by is not None:
        record(session, tenant_id, by, "program.update", "program", None, {"version": row.version})
    session.commit()
    return settings
