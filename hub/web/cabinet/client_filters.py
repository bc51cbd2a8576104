"""The clients list's filter form <-> the custom segments' filters (hub.automation.segments).

The list and a saved segment share one filter language: the form is parsed into the
segments' filter dict, checked by `check_audience` and turned into SQL by `conditions`, so a
segment saved from the list selects exactly the clients the list showed.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.errors import Invalid
from hub.web.ui.formatting import money_error, parse_rub
from hub.automation.models import Segment
from hub.automation.segments import check_audience
from hub.automation.segments import SEGMENTS

# (form field, filter key, kind): int — a whole number, rub — roubles/bonuses typed as
# "1 234,56" (kept as kopecks), date — YYYY-MM-DD.
FIELDS = (
    ("age_min", "age_min", "int"), ("age_max", "age_max", "int"),
    ("birthday_days", "birthday_in_days", "int"),
    ("joined_from", "joined_from", "date"), ("joined_to", "joined_to", "date"),
    ("last_days_min", "last_purchase_days_min", "int"), ("last_days_max", "last_purchase_days_max", "int"),
    ("total_min", "total_min", "rub"), ("total_max", "total_max", "rub"),
    ("balance_min", "balance_min", "rub"), ("balance_max", "balance_max", "rub"),
)
FORM_OF = {key: name for name, key, _ in FIELDS} | {
    "levels": "level", "rfm": "segment", "segment_id": "segment", "tags_any": "tags", "gender": "gender"}
# Every query argument the filter form owns (the search `q` and the cursor are not filters).
ARGS = ("level", "segment", "tags", "gender", *(name for name, _, _ in FIELDS))
INT_LIMITS = {"age_min": 150, "age_max": 150, "birthday_days": 366, "last_days_min": 36500, "last_days_max": 36500}


def parse(args) -> tuple[dict, dict[str, list[str]]]:
    """The filter dict of the form's arguments, and the form's errors by field (Russian)."""
    filters: dict = {}
    errors: dict[str, list[str]] = {}
    level = (args.get("level") or "").strip()
    if level:
        filters["levels"] = [level[:50]]
    segment = (args.get("segment") or "").strip()
    if segment.startswith("rfm:"):
        filters["rfm"] = [segment[4:]]
    elif segment.startswith("seg:"):
        filters["segment_id"] = segment[4:40]
    elif segment:
        errors["segment"] = ["Выберите сегмент из списка."]
    tags = [t.strip()[:50] for t in (args.get("tags") or "").split(",") if t.strip()]
    if tags:
        filters["tags_any"] = tags[:50]
    gender = (args.get("gender") or "").strip()
    if gender:
        filters["gender"] = gender
    for name, key, kind in FIELDS:
        raw = (args.get(name) or "").strip()
        if not raw:
            continue
        if kind == "int":
            if not raw.isdigit() or int(raw) > INT_LIMITS[name]:
                errors[name] = [f"Целое число от 0 до {INT_LIMITS[name]}."]
                continue
            filters[key] = int(raw)
        elif kind == "rub":
            try:
                filters[key] = parse_rub(raw)
            except ValueError as exc:
                errors[name] = [money_error(exc, "Введите сумму, например 1 000 или 99,50.")]
        else:
            try:
                date.fromisoformat(raw)
            except ValueError:
                errors[name] = ["Дата в формате ГГГГ-ММ-ДД."]
                continue
            filters[key] = raw
    for low, high, message in (("age_min", "age_max", "«от» больше, чем «до»."),
                               ("last_days_min", "last_days_max", "«от» больше, чем «до»."),
                               ("total_min", "total_max", "«от» больше, чем «до»."),
                               ("balance_min", "balance_max", "«от» больше, чем «до»."),
                               ("joined_from", "joined_to", "Дата «с» позже даты «по».")):
        a, b = filters.get(_key(low)), filters.get(_key(high))
        if a is not None and b is not None and a > b and high not in errors:
            errors[high] = [message]
    return filters, errors


def _key(form_name: str) -> str:
    return next(key for name, key, _ in FIELDS if name == form_name)


def check(session: Session, tenant_id: str, args) -> tuple[dict, dict[str, list[str]]]:
    """Parsed and checked by the segments' own rules (`check_audience`); its refusals are
    placed at the form's field."""
    filters, errors = parse(args)
    if errors:
        return filters, errors
    try:
        filters = check_audience(session, tenant_id, filters)
    except Invalid as exc:
        field = next((FORM_OF.get(k) for k in exc.details if FORM_OF.get(k)), "_form")
        errors[field] = [exc.message]
    return filters, errors


def form_args(args) -> dict:
    """The filter arguments actually given (for links: the next page, the saved segment)."""
    return {name: args.get(name) for name in ARGS if (args.get(name) or "").strip()}


def segment_choices(session: Session, tenant_id: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """The segment dropdown: the recency segments, then the owner's saved segments."""
    saved = session.execute(select(Segment.id, Segment.name).where(Segment.tenant_id == tenant_id)
                            .order_by(Segment.name).limit(500)).all()
    return [("По давности покупок", [(f"rfm:{code}", name) for code, name in SEGMENTS.items()]),
            ("Сохранённые", [(f"seg:{sid}", name) for sid, name in saved])]
