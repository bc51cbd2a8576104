"""Segments: the recency (RFM) segments of the owner's dashboard and custom filters.

Recency segments (specs/segments.md; ours, not BonusPlus's). Per tenant, T is the shop's
typical interval between purchases — the median over repeat buyers of
(last − first purchase) / (purchases − 1) in days, clamped to 7..90, 30 when fewer than 20
customers bought twice, or set by hand; F_core = 4 purchases (settable). d = local days since
the last purchase at the moment of the sweep. First match wins:

    no_purchases  Без покупок     no purchase yet
    newcomers     Новички         1 purchase, d <= 2T
    core          Активное ядро   >= F_core purchases, d <= 2T
    potential     Потенциальные   2 .. F_core-1 purchases, d <= 2T
    dozing        Засыпающие      2T < d <= 4T
    sleeping      Спящие          4T < d <= 8T
    lost          Потерянные      d > 8T

`valuable` marks the lapsed customers with >= F_core purchases («ценные»).

The sweep writes customer_segments set-based: per batch of customers (a range of ids),
one INSERT … SELECT for customers not classified yet and one UPDATE … FROM that rewrites
only the rows whose segment changed — no Python loop over customers.
"""
from __future__ import annotations

import json
import statistics
from datetime import date, datetime, timedelta

from sqlalchemy import (
    Integer, String, and_, case, cast, exists, extract, func, literal, or_, select, update,
)
from sqlalchemy.orm import Session

from hub.engine.expiry import local_date, local_day_start
from hub.errors import Invalid, NotFound
from hub.clock import utcnow
from hub.ledger.models import Account
from hub.customers.models import Customer
from hub.receipts.models import Receipt, ReceiptReturn
from hub.automation.models import AutomationSettings, CustomerSegment, Segment
from hub.automation.settings import DEFAULT_SETTINGS
from hub.staff.operations import Actor, record
from hub.extensions import unit_of_work
from hub.text import number

SEGMENTS = {
    "newcomers": "Новички", "potential": "Потенциальные", "core": "Активное ядро",
    "dozing": "Засыпающие", "sleeping": "Спящие", "lost": "Потерянные",
    "no_purchases": "Без покупок",
}
DEFAULT_INTERVAL = 30
MIN_REPEAT_BUYERS = 20
# uuid4 ids spread evenly over their first hex digit: 16 batches of customers.
ID_BATCHES = [(f"{i:x}", f"{i + 1:x}" if i < 15 else "g") for i in range(16)]


def median_interval(intervals: list[float]) -> int:
    """T from the repeat buyers' mean intervals (days): the rule of specs/segments.md."""
    if len(intervals) < MIN_REPEAT_BUYERS:
        return DEFAULT_INTERVAL
    return int(min(90, max(7, round(statistics.median(intervals)))))


def typical_interval(session: Session, tenant_id: str, at: datetime) -> int:
    """T, recomputed at most once a day and kept on the tenant's automation settings row."""
    row = session.scalars(select(AutomationSettings).where(AutomationSettings.tenant_id == tenant_id)).first()
    manual = ((row.settings if row else {}).get("segments") or {}).get("interval_days")
    if manual:
        return int(manual)
    if row is not None and row.interval_days and row.interval_computed_at \
            and at - row.interval_computed_at < timedelta(days=1):
        return row.interval_days
    per_customer = (select(func.min(Receipt.moment).label("first"), func.max(Receipt.moment).label("last"),
                           func.count().label("n"))
                    .where(Receipt.tenant_id == tenant_id, Receipt.customer_id.is_not(None))
                    .group_by(Receipt.customer_id).having(func.count() > 1)
                    .limit(200000))
    intervals = [(last - first).total_seconds() / 86400 / (n - 1)
                 for first, last, n in session.execute(per_customer)]
    t = median_interval(intervals)
    if row is not None:
        row.interval_days, row.interval_computed_at = t, at
    return t


def _cutoffs(at: datetime, tz: str, t: int) -> tuple[datetime, datetime, datetime]:
    today = local_date(at, tz)
    return tuple(local_day_start(today - timedelta(days=k * t), tz) for k in (2, 4, 8))  # type: ignore[return-value]


def segment_expr(at: datetime, tz: str, t: int, core: int):
    """The CASE that names a customer's recency segment (first match wins)."""
    c2, c4, c8 = _cutoffs(at, tz, t)
    last, n = Customer.last_purchase_at, Customer.purchase_count
    return case(
        (or_(last.is_(None), n <= 0), "no_purchases"),
        (and_(last >= c2, n == 1), "newcomers"),
        (and_(last >= c2, n >= core), "core"),
        (last >= c2, "potential"),
        (last >= c4, "dozing"),
        (last >= c8, "sleeping"),
        else_="lost")


FULL_EVERY = timedelta(days=7)
MARGIN = timedelta(hours=1)       # clock skew between web nodes and the sweep


def _state_row(session: Session, tenant_id: str) -> AutomationSettings:
    row = session.scalars(select(AutomationSettings).where(AutomationSettings.tenant_id == tenant_id)).first()
    if row is None:
        row = AutomationSettings(tenant_id=tenant_id, settings=DEFAULT_SETTINGS, updated_at=utcnow())
        session.add(row)
        session.flush()
    return row


def recompute(session: Session, tenant_id: str, tz: str, at: datetime, progress=None,
              full: bool = False) -> int:
    """Rewrite the tenant's recency segments; returns how many existing rows changed.

    A full pass classifies every customer (16 batches of ids: one INSERT … SELECT for those
    not classified yet, one UPDATE … FROM rewriting the rows whose segment changed). Between
    full passes (weekly, or when T, F_core or the time zone change) a pass looks only at the
    customers who can have moved since the previous pass: those whose last purchase is later
    than it, those whose last purchase crossed one of the three cut-offs since (three narrow
    ranges of the (tenant, last purchase) index), those with a return since, and customers
    not classified yet (only looked for when the counts differ). A receipt dated before the
    customer's last purchase changes only their count; the weekly full pass catches it.
    """
    row = _state_row(session, tenant_id)
    core = int(((row.settings or {}).get("segments") or {}).get("core_purchases") or 4)
    t = typical_interval(session, tenant_id, at)
    key = f"{t}:{core}:{tz}"
    seg = segment_expr(at, tz, t, core)
    valuable = Customer.purchase_count >= core
    prev = row.segments_at
    incremental = (not full and prev is not None and row.segments_key == key and row.segments_full_at is not None
                   and prev <= at and at - row.segments_full_at < FULL_EVERY)
    scope = []
    if incremental:
        before, now = _cutoffs(prev, tz, t), _cutoffs(at, tz, t)
        last = Customer.last_purchase_at
        returned = (select(Receipt.customer_id).join(ReceiptReturn, ReceiptReturn.receipt_id == Receipt.id)
                    .where(ReceiptReturn.tenant_id == tenant_id, ReceiptReturn.created_at >= prev - MARGIN))
        scope = [or_(last >= prev - MARGIN, Customer.id.in_(returned),
                     *[and_(last >= b, last < n) for b, n in zip(before, now) if b < n])]
        classified = session.scalar(select(func.count()).select_from(CustomerSegment)
                                    .where(CustomerSegment.tenant_id == tenant_id))
        customers = session.scalar(select(func.count()).select_from(Customer).where(Customer.tenant_id == tenant_id))
        need_insert = classified != customers
    else:
        need_insert = True
    batches = ID_BATCHES if not incremental else [("0", "g")]
    written = 0
    for i, (lo, hi) in enumerate(batches):
        in_batch = and_(Customer.tenant_id == tenant_id, Customer.id >= lo, Customer.id < hi)
        if need_insert:
            missing = (select(Customer.id, Customer.tenant_id, seg, valuable,
                              literal(at, CustomerSegment.computed_at.type))
                       .where(in_batch, ~exists().where(CustomerSegment.customer_id == Customer.id)))
            session.execute(CustomerSegment.__table__.insert().from_select(
                ["customer_id", "tenant_id", "segment", "valuable", "computed_at"], missing))
        res = session.execute(
            update(CustomerSegment)
            .where(CustomerSegment.customer_id == Customer.id, in_batch, *scope,
                   or_(CustomerSegment.segment != seg, CustomerSegment.valuable != valuable))
            .values(segment=seg, valuable=valuable, computed_at=at)
            .execution_options(synchronize_session=False))
        written += res.rowcount or 0
        if i == len(batches) - 1:
            row.segments_at, row.segments_key = at, key
            if not incremental:
                row.segments_full_at = at
        session.commit()
        if progress:
            what = "изменения" if incremental else f"пакет {i + 1}/{len(batches)}"
            progress(f"  сегменты: {what}, обновлено {written}")
    return written


def segment_counts(session: Session, tenant_id: str) -> dict:
    rows = dict(session.execute(select(CustomerSegment.segment, func.count())
                                .where(CustomerSegment.tenant_id == tenant_id)
                                .group_by(CustomerSegment.segment)).all())
    total = sum(rows.values())
    return {code: {"name": name, "count": rows.get(code, 0),
                   "share": round(rows.get(code, 0) * 100 / total, 2) if total else 0}
            for code, name in SEGMENTS.items()}


# --- custom segments: filters -> SQL conditions ----------------------------------------------

FILTER_KEYS = {
    "rfm": list, "levels": list, "tags_any": list, "gender": str,
    "age_min": int, "age_max": int, "birthday_in_days": int, "birth_month": int,
    "last_purchase_days_min": int, "last_purchase_days_max": int,
    "purchase_count_min": int, "purchase_count_max": int,
    "total_min": int, "total_max": int, "balance_min": int, "balance_max": int,
    "segment_id": str, "joined_from": str, "joined_to": str,
}
DATE_KEYS = ("joined_from", "joined_to")      # local dates, YYYY-MM-DD, both ends included


def check_filters(filters: dict) -> dict:
    out = {}
    for key, value in (filters or {}).items():
        kind = FILTER_KEYS.get(key)
        if kind is None:
            raise Invalid("invalid_filter", f"Неизвестный фильтр «{key}».", {key: ["неизвестный фильтр"]})
        if value is None:
            continue
        if kind is int and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise Invalid("invalid_filter", f"Фильтр «{key}»: нужно неотрицательное целое.",
                          {key: ["целое число не меньше 0"]})
        if kind is list and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise Invalid("invalid_filter", f"Фильтр «{key}»: нужен список строк.", {key: ["список строк"]})
        if kind is str and not isinstance(value, str):
            raise Invalid("invalid_filter", f"Фильтр «{key}»: нужна строка.", {key: ["строка"]})
        out[key] = value
    unknown = sorted(set(out.get("rfm", [])) - set(SEGMENTS))
    if unknown:
        raise Invalid("invalid_filter", f"Нет сегментов {', '.join(unknown)}.", {"rfm": ["нет такого сегмента"]})
    if out.get("gender") not in (None, "male", "female"):
        raise Invalid("invalid_filter", "Пол: male или female.", {"gender": ["male или female"]})
    if out.get("birth_month") is not None and not 1 <= out["birth_month"] <= 12:
        raise Invalid("invalid_filter", "Месяц рождения: от 1 до 12.", {"birth_month": ["от 1 до 12"]})
    for key in DATE_KEYS:
        if out.get(key) is not None:
            try:
                date.fromisoformat(out[key])
            except ValueError:
                raise Invalid("invalid_filter", f"Фильтр «{key}»: дата в формате ГГГГ-ММ-ДД.",
                              {key: ["ГГГГ-ММ-ДД"]}) from None
    if out.get("joined_from") and out.get("joined_to") and out["joined_from"] > out["joined_to"]:
        raise Invalid("invalid_filter", "Дата регистрации «с» позже даты «по».", {"joined_to": ["не раньше joined_from"]})
    if out.get("birthday_in_days") is not None and out["birthday_in_days"] > 366:
        raise Invalid("invalid_filter", "День рождения: не дальше 366 дней.", {"birthday_in_days": ["не больше 366"]})
    return out


def check_audience(session: Session, tenant_id: str, filters: dict) -> dict:
    """Filters checked, and a referenced custom segment must exist (422 otherwise)."""
    out = check_filters(filters)
    if out.get("segment_id") and session.scalar(select(Segment.id).where(
            Segment.tenant_id == tenant_id, Segment.id == out["segment_id"])) is None:
        raise Invalid("invalid_filter", "Сегмент не найден.", {"segment_id": ["нет такого сегмента"]})
    return out


def _years_ago(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:      # 29 February
        return today.replace(year=today.year - years, day=28)


def mmdd(column):
    return extract("month", column) * 100 + extract("day", column)


def mmdd_days(start: date, days: int) -> set[int]:
    """Month*100+day of `days`+1 consecutive dates from `start`; 28 Feb of a common year
    stands for 29 Feb too (those birthdays are celebrated on the 28th)."""
    out = set()
    for k in range(days + 1):
        d = start + timedelta(days=k)
        out.add(d.month * 100 + d.day)
        if d.month == 2 and d.day == 28 and not _leap(d.year):
            out.add(229)
    return out


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def conditions(session: Session, tenant_id: str, filters: dict, at: datetime, tz: str) -> list:
    """SQL conditions over Customer (joined with its segment and account where needed)."""
    f = filters or {}
    today = local_date(at, tz)
    out = [Customer.tenant_id == tenant_id]
    if f.get("segment_id"):
        seg = session.scalars(select(Segment).where(Segment.tenant_id == tenant_id,
                                                    Segment.id == f["segment_id"])).first()
        if seg is None:
            raise NotFound("segment_not_found", "Сегмент не найден.")
        out += conditions(session, tenant_id, {k: v for k, v in seg.filters.items() if k != "segment_id"}, at, tz)
    if f.get("rfm"):
        out.append(exists().where(CustomerSegment.customer_id == Customer.id,
                                  CustomerSegment.segment.in_(f["rfm"])))
    if f.get("levels"):
        out.append(Customer.level_code.in_(f["levels"]))
    if f.get("tags_any"):
        # Tags are a JSON array: look for the quoted tag in its text, as the JSON encoder
        # wrote it (ASCII escapes by default) or verbatim.
        text = cast(Customer.tags, String)

        def pattern(literal_text: str) -> str:
            return "%" + literal_text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        out.append(or_(*[text.like(pattern(json.dumps(tag, ensure_ascii=ascii_)), escape="\\")
                         for tag in f["tags_any"] for ascii_ in (True, False)]))
    if f.get("gender"):
        out.append(Customer.gender == f["gender"])
    if f.get("age_min") is not None:
        out.append(Customer.birth_date <= _years_ago(today, f["age_min"]))
    if f.get("age_max") is not None:
        out.append(Customer.birth_date > _years_ago(today, f["age_max"] + 1))
    if f.get("birthday_in_days") is not None:
        out.append(mmdd(Customer.birth_date).in_(sorted(mmdd_days(today, f["birthday_in_days"]))))
    if f.get("birth_month") is not None:
        out.append(cast(extract("month", Customer.birth_date), Integer) == f["birth_month"])
    if f.get("last_purchase_days_min") is not None:
        out.append(Customer.last_purchase_at < local_day_start(
            today - timedelta(days=f["last_purchase_days_min"] - 1), tz))
    if f.get("last_purchase_days_max") is not None:
        out.append(Customer.last_purchase_at >= local_day_start(
            today - timedelta(days=f["last_purchase_days_max"]), tz))
    if f.get("joined_from"):
        out.append(Customer.created_at >= local_day_start(date.fromisoformat(f["joined_from"]), tz))
    if f.get("joined_to"):
        out.append(Customer.created_at < local_day_start(date.fromisoformat(f["joined_to"]) + timedelta(days=1), tz))
    for key, col in (("purchase_count", Customer.purchase_count), ("total", Customer.total_purchases)):
        if f.get(f"{key}_min") is not None:
            out.append(col >= f[f"{key}_min"])
        if f.get(f"{key}_max") is not None:
            out.append(col <= f[f"{key}_max"])
    if f.get("balance_min") is not None or f.get("balance_max") is not None:
        # One account per customer (accounts.customer_id is unique), none counting as 0: a
        # semi-join on the (tenant, balance) index, not a subquery per customer.
        low, high = f.get("balance_min"), f.get("balance_max")
        in_range = [Account.tenant_id == tenant_id]
        if low is not None:
            in_range.append(Account.balance >= low)
        if high is not None:
            in_range.append(Account.balance <= high)
        cond = Customer.id.in_(select(Account.customer_id).where(*in_range))
        if (low is None or low <= 0) and (high is None or high >= 0):
            cond = or_(cond, ~exists().where(Account.customer_id == Customer.id))
        out.append(cond)
    return out


def members(session: Session, tenant_id: str, filters: dict, at: datetime, tz: str):
    return select(Customer).where(*conditions(session, tenant_id, filters, at, tz))


def count_members(session: Session, tenant_id: str, filters: dict, at: datetime, tz: str) -> int:
    return session.scalar(select(func.count()).select_from(Customer)
                          .where(*conditions(session, tenant_id, filters, at, tz))) or 0


# --- creating a custom segment: the one operation of the API, the CLI and the cabinet ------------

NAME_MAX = 200
NAME_MISSING = "Назовите сегмент."
NAME_TOO_LONG = f"Название сегмента — не длиннее {NAME_MAX} символов."
FILTER_WORDS = {
    "gender": "пол", "age_min": "возраст от", "age_max": "возраст до", "birthday_in_days": "день рождения в ближайшие дни",
    "birth_month": "месяц рождения", "last_purchase_days_min": "дней без покупок от",
    "last_purchase_days_max": "дней без покупок до", "purchase_count_min": "покупок от",
    "purchase_count_max": "покупок до", "total_min": "сумма покупок от", "total_max": "сумма покупок до",
    "balance_min": "баланс от", "balance_max": "баланс до", "joined_from": "зарегистрирован с",
    "joined_to": "зарегистрирован по", "levels": "уровни", "tags_any": "метки", "rfm": "сегменты",
    "segment_id": "внутри сегмента",
}
MONEY_FILTERS = ("total_min", "total_max", "balance_min", "balance_max")


def filters_text(filters: dict) -> str:
    """The filters in words, as the audit log and the owner read them: "пол: женский; баланс от
    1 000,00 ₽"; no filters are "все клиенты"."""
    parts = []
    for key, label in FILTER_WORDS.items():
        value = (filters or {}).get(key)
        if value is None or value == []:
            continue
        if key in MONEY_FILTERS:
            value = f"{number(value)} ₽"
        elif key == "gender":
            value = {"male": "мужской", "female": "женский"}.get(value, value)
        elif key == "rfm":
            value = ", ".join(SEGMENTS.get(code, code) for code in value)
        elif isinstance(value, list):
            value = ", ".join(value)
        sep = " " if label.rsplit(" ", 1)[-1] in ("от", "до", "с", "по") else ": "   # "баланс от 1 000"
        parts.append(f"{label}{sep}{value}")
    return "; ".join(parts) or "все клиенты"


def create_segment(session: Session, tenant_id: str, name, filters: dict | None, actor: Actor) -> Segment:
    """A custom segment: its name and filters checked by the hub's rules (Invalid, in Russian,
    by field: `name` or the filter's key), the row and an audit entry in words, committed
    together. Every face (API, CLI, cabinet) calls this."""
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        raise Invalid("invalid_segment", NAME_MISSING, {"name": [NAME_MISSING]})
    if len(name) > NAME_MAX:
        raise Invalid("invalid_segment", NAME_TOO_LONG, {"name": [NAME_TOO_LONG]})
    with unit_of_work(session):
        checked = check_audience(session, tenant_id, filters or {})
        seg = Segment(tenant_id=tenant_id, name=name, filters=checked, created_at=utcnow())
        session.add(seg)
        session.flush()
        record(session, tenant_id, actor, "segment.create", "segment", seg.id,
               {"name": name, "filters": checked, "text": f"Создан сегмент «{name}»: {filters_text(checked)}."})
    return seg


def get_segment(session: Session, tenant_id: str, segment_id: str) -> Segment:
    seg = session.get(Segment, segment_id)
    if seg is None or seg.tenant_id != tenant_id:
        raise NotFound("segment_not_found", "Сегмент не найден.")
    return seg


__all__ = ["SEGMENTS", "recompute", "segment_counts", "check_filters", "conditions", "members", "create_segment",
           "count_members", "median_interval", "typical_interval", "mmdd", "mmdd_days"]
