"""Analytics reads (specs/analytics.md D1–D10, §2): every figure from the daily rollups plus
the deltas not folded yet (UNION ALL), so it is exact to the last committed sale."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from hub.analytics.models import KEYS, MEASURES, SalesDaily, SalesDelta
from hub.analytics.operations import add_measures, direct_rows
from hub.errors import Invalid
from hub.receipts.models import Receipt

MAX_DAYS = 731


@dataclass(frozen=True)
class Period:
    start: date   # local dates, both included (D1)
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def utc_range(self, tz: str) -> tuple[datetime, datetime]:
        zone = ZoneInfo(tz)
        return (datetime.combine(self.start, time(), zone),
                datetime.combine(self.end + timedelta(days=1), time(), zone))


def period(start: date, end: date) -> Period:
    if end < start:
        raise Invalid("invalid_period", "Начало периода позже его конца.", {"from": ["не позже to"]})
    if (end - start).days + 1 > MAX_DAYS:
        raise Invalid("period_too_long", "Период — не больше двух лет.", {"to": ["не больше 731 дня"]})
    return Period(start, end)


def _month_end(d: date) -> date:
    nxt = date(d.year + d.month // 12, d.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def _shift_year(d: date) -> date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:      # 29 Feb -> 28 Feb
        return d.replace(year=d.year - 1, day=28)


def base_period(p: Period, compare: str) -> Period | None:
    """D9: the previous period of equal length (a calendar month against the previous month),
    or the same dates a year earlier."""
    if compare == "none":
        return None
    if compare == "year":
        return Period(_shift_year(p.start), _shift_year(p.end))
    if p.start.day == 1 and p.end == _month_end(p.end):
        months = (p.end.year - p.start.year) * 12 + p.end.month - p.start.month + 1
        m = p.start.year * 12 + p.start.month - 1 - months
        start = date(m // 12, m % 12 + 1, 1)
        return Period(start, _month_end(p.start - timedelta(days=1)))
    return Period(p.start - timedelta(days=p.days), p.start - timedelta(days=1))


def sales(session: Session, tenant_id: str, p: Period, by: tuple[str, ...] = ()) -> dict[tuple, dict]:
    """Σ of every measure over rollups ⊕ pending deltas in P, grouped by some of the keys."""
    def part(model):
        return select(*(getattr(model, k).label(k) for k in by),
                      *(getattr(model, m).label(m) for m in MEASURES)).where(
            model.tenant_id == tenant_id, model.day >= p.start, model.day <= p.end)
    both = union_all(part(SalesDaily), part(SalesDelta)).subquery()
    stmt = select(*(both.c[k] for k in by), *(func.sum(both.c[m]).label(m) for m in MEASURES))
    if by:
        stmt = stmt.group_by(*(both.c[k] for k in by))
    out: dict[tuple, dict] = {}
    for row in session.execute(stmt):
        m = row._mapping
        if m["receipts"] is None:
            continue
        out[tuple(m[k] for k in by)] = {x: int(m[x] or 0) for x in MEASURES}
    return out


def buyers(session: Session, tenant_id: str, tz: str, p: Period) -> int:
    """B(P): distinct participants with a sale in P (read from receipts: not additive)."""
    lo, hi = p.utc_range(tz)
    return session.scalar(select(func.count(func.distinct(Receipt.customer_id))).where(
        Receipt.tenant_id == tenant_id, Receipt.customer_id.is_not(None),
        Receipt.moment >= lo, Receipt.moment < hi)) or 0


def _div(a: float, b: float, scale: float = 1.0) -> float | None:
    return None if not b else a * scale / b


def figures(s: dict[str, int]) -> dict[str, float | None]:
    """D4/D5 from summed measures; money in kopecks, ratios None when the denominator is 0."""
    g = s["gross"] - s["returned_gross"]
    rev = s["paid"] - s["returned_paid"]
    n = s["receipts"]
    cogs = s["cogs"] - s["returned_cogs"] if s["cogs_receipts"] == n and n else None
    return {"purchase_total": g, "revenue": rev, "discount": g - rev, "receipts": n,
            "average_check": _div(rev, n), "average_discount": _div(g - rev, n),
            "average_discount_percent": _div(g - rev, g, 100), "cogs": cogs,
            "gross_profit": None if cogs is None else rev - cogs}


def _zero() -> dict[str, int]:
    return dict.fromkeys(MEASURES, 0)


def _sum(rows: dict[tuple, dict], member: str | None = None) -> dict[str, int]:
    out = _zero()
    for key, v in rows.items():
        if member is None or key[-1] == member:
            for m in MEASURES:
                out[m] += v[m]
    return out


def indicator_values(session: Session, tenant_id: str, tz: str, p: Period) -> dict[str, float | None]:
    """Every indicator of the slice for one period, by code (money in kopecks, percents as %)."""
    rows = sales(session, tenant_id, p, ("member",))
    total, part = _sum(rows), _sum(rows, "participant")
    anon = _sum(rows, "anonymous")
    f, fp, fa = figures(total), figures(part), figures(anon)
    b = buyers(session, tenant_id, tz, p)
    accrued, reversed_ = total["bonus_earned"], total["bonus_reversed"]
    spent = total["bonus_spent"] - total["bonus_restored"]
    return {
        "revenue": f["revenue"], "receipts": f["receipts"], "average_check": f["average_check"],
        "average_discount": f["average_discount"], "average_discount_percent": f["average_discount_percent"],
        "revenue_per_customer": _div(fp["revenue"], b), "bonuses_accrued": accrued,
        "bonuses_reversed": reversed_, "bonuses_accrued_net": accrued - reversed_, "bonuses_spent": spent,
        "purchase_total": f["purchase_total"], "discount": f["discount"], "cogs": f["cogs"],
        "gross_profit": f["gross_profit"], "buyers": b,
        "participants_revenue": fp["revenue"], "participants_share": _div(fp["revenue"], f["revenue"], 100),
        "anonymous_revenue": fa["revenue"], "participants_average_check": fp["average_check"],
        "anonymous_average_check": fa["average_check"],
        "penetration": _div(part["receipts"], total["receipts"], 100),
        "engagement": _div(part["receipts_with_spend"], part["receipts"], 100),
        "repeat_purchases": _div(part["receipts"] - part["first_receipts"], part["receipts"], 100),
        "receipt_discount_percent": _div(total["discount_share_ppm"], total["receipts"], 1e-4),
        "bonus_cost": total["bonus_cost"],
        "bonus_cost_per_rouble": _div(total["bonus_cost"], total["bonus_paid"]),
    }


# (code, n of seed 000 or None, Russian name, unit); the API's order.
CATALOGUE: tuple[tuple[str, int | None, str, str], ...] = (
    ("revenue", 1, "Выручка", "rub"),
    ("receipts", 2, "Количество чеков", "count"),
    ("average_check", 3, "Средний чек", "rub"),
    ("average_discount", 4, "Средняя скидка", "rub"),
    ("revenue_per_customer", 5, "Средняя выручка от одного клиента", "rub"),
    ("bonuses_accrued", 6, "Начислено бонусов", "bonus"),
    ("bonuses_spent", 7, "Списано бонусов", "bonus"),
    ("purchase_total", None, "Сумма покупок", "rub"),
    ("discount", None, "Скидка (фактическая)", "rub"),
    ("cogs", None, "Себестоимость", "rub"),
    ("gross_profit", None, "Валовая прибыль", "rub"),
    ("buyers", None, "Покупатели", "count"),
    ("participants_revenue", None, "Выручка · Участник", "rub"),
    ("participants_share", None, "Доля выручки участников", "percent"),
    ("anonymous_revenue", None, "Выручка · Аноним", "rub"),
    ("participants_average_check", None, "Средний чек · Участник", "rub"),
    ("anonymous_average_check", None, "Средний чек · Аноним", "rub"),
    ("penetration", None, "Проникновение", "percent"),
    ("engagement", None, "Вовлеченность", "percent"),
    ("repeat_purchases", None, "Повторные покупки", "percent"),
    ("receipt_discount_percent", None, "Средняя скидка на чек", "percent"),
    ("bonus_cost", None, "Стоимость списанных бонусов по себестоимости", "rub"),
)
# Sums are 0 over an empty period; these are ratios (None when their denominator is 0).
SUMS = {"revenue", "receipts", "bonuses_accrued", "bonuses_spent", "purchase_total", "discount",
        "buyers", "participants_revenue", "anonymous_revenue", "bonus_cost"}


def breakdown(session: Session, tenant_id: str, p: Period, key: str) -> list[dict[str, Any]]:
    """Indicators 1–4 per store or cashier (returns count against the sale's)."""
    out = []
    for (value,), s in sorted(sales(session, tenant_id, p, (key,)).items()):
        f = figures(s)
        out.append({key: value, "revenue": f["revenue"], "receipts": f["receipts"],
                    "average_check": f["average_check"], "average_discount": f["average_discount"],
                    "average_discount_percent": f["average_discount_percent"]})
    return out


def indicators(session: Session, tenant_id: str, tz: str, p: Period, compare: str = "previous") -> dict:
    """§9 `GET /indicators`: each figure with its base period's and the difference (D9)."""
    base = base_period(p, compare)
    cur = indicator_values(session, tenant_id, tz, p)
    old = indicator_values(session, tenant_id, tz, base) if base else {}
    items = []
    for code, n, name, unit in CATALOGUE:
        value, was = cur[code], old.get(code)
        delta = None if value is None or was is None else value - was
        item = {"code": code, "n": n, "name": name, "unit": unit, "value": value, "base": was,
                "delta": delta, "delta_percent": _div(delta or 0, abs(was or 0), 100) if delta is not None else None}
        if code == "average_discount":
            item["percent"] = cur["average_discount_percent"]
        if code == "bonuses_accrued":
            item["reversed"], item["total"] = cur["bonuses_reversed"], cur["bonuses_accrued_net"]
        items.append(item)
    return {"period": p, "compare": base, "indicators": items,
            "by_store": breakdown(session, tenant_id, p, "store"),
            "by_cashier": breakdown(session, tenant_id, p, "cashier")}


# --- check (kopilka analytics check) --------------------------------------------------------------

def _by_month(rows: dict[tuple, dict]) -> dict[str, dict]:
    out: dict[tuple, dict] = {}
    for key, v in rows.items():
        add_measures(out, (f"{key[0]:%Y-%m}",), v)
    return {k[0]: v for k, v in out.items()}


def stored_rows(session: Session, tenant_id: str) -> dict[tuple, dict]:
    every = Period(date(1, 1, 1), date(9999, 12, 31))
    return sales(session, tenant_id, every, KEYS)


def check(session: Session, tenant_id: str, tz: str) -> list[tuple[str, str, int, int]]:
    """(month, measure, stored, direct) wherever rollups ⊕ deltas differ from the direct
    aggregation of receipts and returns; empty when they agree."""
    stored, direct = _by_month(stored_rows(session, tenant_id)), _by_month(direct_rows(session, tenant_id, tz))
    zero = _zero()
    return [(month, m, stored.get(month, zero)[m], direct.get(month, zero)[m])
            for month in sorted(set(stored) | set(direct)) for m in MEASURES
            if stored.get(month, zero)[m] != direct.get(month, zero)[m]]


