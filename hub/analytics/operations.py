"""Analytics writes: a sale's and a return's delta (in the till's transaction, insert only),
the `analytics` sweep that folds deltas into daily rollups, the rebuild from the source
tables, and the cost-of-goods settings (specs/analytics.md D3, D7, §8)."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from hub import engine
from hub.analytics.models import KEYS, MEASURES, AnalyticsSettings, SalesDaily, SalesDelta
from hub.errors import Invalid
from hub.extensions import unit_of_work
from hub.receipts.models import Receipt, ReceiptReturn

FOLD_BATCH = 50_000


def local_day(moment: datetime, tz: str) -> date:
    return moment.astimezone(ZoneInfo(tz)).date()


# --- cost of goods (D7) -------------------------------------------------------------------------

def margins(session: Session, tenant_id: str) -> tuple[Decimal | None, dict[str, Decimal]]:
    row = session.get(AnalyticsSettings, tenant_id)
    if row is None:
        return None, {}
    overall = Decimal(row.margin_percent) if row.margin_percent is not None else None
    return overall, {g: Decimal(m) for g, m in (row.group_margins or {}).items()}


def _margin(text: Any, field: str) -> str:
    try:
        value = Decimal(str(text))
    except (InvalidOperation, ValueError):
        raise Invalid("invalid_margin", "Маржа — число от 0 до 100.", {field: ["число от 0 до 100"]}) from None
    if not value.is_finite() or not 0 <= value <= 100:
        raise Invalid("invalid_margin", "Маржа — число от 0 до 100.", {field: ["число от 0 до 100"]})
    return str(value)


def set_margins(session: Session, tenant_id: str, margin_percent: Any,
                group_margins: dict[str, Any] | None = None) -> AnalyticsSettings:
    """The tenant's margins for sales whose products have no cost; applies to sales from now."""
    with unit_of_work(session):
        row = session.get(AnalyticsSettings, tenant_id)
        if row is None:
            row = AnalyticsSettings(id=tenant_id, tenant_id=tenant_id)
            session.add(row)
        row.margin_percent = None if margin_percent is None else _margin(margin_percent, "margin_percent")
        row.group_margins = {g: _margin(m, f"group_margins.{g}") for g, m in (group_margins or {}).items()}
    return row


def _cogs(lines: Sequence[dict], overall: Decimal | None, by_group: dict[str, Decimal]) -> int | None:
    """Σ gross × (1 − margin/100) over the lines, each with its first group's margin, else the
    overall one; None when a line has neither (the cost is unknown, not zero)."""
    total = Decimal(0)
    for line in lines:
        m = next((by_group[g] for g in line.get("groups") or () if g in by_group), overall)
        if m is None:
            return None
        total += Decimal(line["amount"]) * (100 - m) / 100
    return int(total.to_integral_value(rounding=ROUND_HALF_UP))


def share(part: int, of: int, whole: int | None) -> int:
    """`whole` × part / of in whole kopecks (the returned share of a sale's cogs)."""
    if not whole or not of:
        return 0
    return whole * part // of


# --- the sale path: one insert each -------------------------------------------------------------

def record_sale(session: Session, tz: str, receipt: Receipt, quote: engine.Quote,
                positions: Sequence[engine.Position], first: bool) -> None:
    """Write the sale's analytics columns onto the receipt (before its insert) and append its
    delta row: nothing shared is updated, so concurrent tills never wait on each other here."""
    goods = [ln for ln, p in zip(receipt.lines, positions) if not p.certificate]
    overall, by_group = margins(session, receipt.tenant_id)
    receipt.gross = quote.amount - quote.certificates_sold
    receipt.promo_discount = quote.promo_discount
    receipt.bonus_paid = quote.bonus_spent            # P1: 1 bonus = 1 ₽
    receipt.paid = quote.amount_to_pay - quote.certificates_sold
    receipt.cogs = _cogs(goods, overall, by_group)
    receipt.line_count = len(goods)
    receipt.first_purchase = first
    receipt.member = "participant" if receipt.customer_id else "anonymous"
    session.add(SalesDelta(tenant_id=receipt.tenant_id, **sale_measures(receipt, tz)))


def sale_measures(r: Receipt, tz: str) -> dict[str, Any]:
    """A sale's key and measures: the one definition the delta and the direct aggregation use."""
    discount = r.promo_discount + r.level_discount + r.bonus_paid
    return {"day": local_day(r.moment, tz), "store": r.store or "", "cashier": r.cashier or "",
            "member": r.member, "receipts": 1, "first_receipts": int(bool(r.first_purchase)),
            "receipts_with_spend": int(r.bonus_paid > 0), "gross": r.gross,
            "promo_discount": r.promo_discount, "level_discount": r.level_discount,
            "bonus_paid": r.bonus_paid, "paid": r.paid, "cogs": r.cogs or 0,
            "cogs_receipts": int(r.cogs is not None),
            "bonus_cost": share(r.bonus_paid, r.gross, r.cogs), "lines": r.line_count,
            "discount_share_ppm": discount * 1_000_000 // r.gross if r.gross > 0 else 0,
            "bonus_earned": r.bonus_earned, "bonus_spent": r.bonus_spent}


def return_measures(r: Receipt, ret: ReceiptReturn, full: bool, tz: str) -> dict[str, Any]:
    """A return counts on its own day against the sale's store, cashier and member (D2)."""
    return {"day": local_day(ret.moment, tz), "store": r.store or "", "cashier": r.cashier or "",
            "member": r.member, "returns": 1, "full_returns": int(full), "returned_gross": ret.amount,
            "returned_paid": ret.amount_returned, "returned_cogs": share(ret.amount, r.gross, r.cogs),
            "bonus_reversed": ret.bonus_earned_reversed, "bonus_restored": ret.bonus_spent_restored}


def record_return(session: Session, tz: str, receipt: Receipt, ret: ReceiptReturn, full: bool) -> None:
    """Append the return's delta (a sale committed before analytics existed has none)."""
    if receipt.member is not None:
        session.add(SalesDelta(tenant_id=receipt.tenant_id, **return_measures(receipt, ret, full, tz)))


# --- the fold (sweep) -----------------------------------------------------------------------------

def _upsert(session: Session, rows: list[dict]) -> None:
    if not rows:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(SalesDaily)
    stmt = stmt.on_conflict_do_update(
        index_elements=["tenant_id", *KEYS],
        set_={m: getattr(SalesDaily, m) + getattr(stmt.excluded, m) for m in MEASURES})
    session.execute(stmt, rows)


def add_measures(into: dict, key: tuple, values: dict) -> None:
    acc = into.get(key)
    if acc is None:
        into[key] = acc = dict.fromkeys(MEASURES, 0)
    for m in MEASURES:
        acc[m] += values.get(m) or 0


def fold(session: Session, at: datetime, tenant_id: str | None = None) -> int:
    """The `analytics` sweep: move pending deltas into the daily rollups, in batches. Each
    batch is DELETE … RETURNING then one upsert in one transaction, so a delta is folded
    exactly once; one committed after the DELETE began waits for the next run."""
    folded = 0
    cols = [SalesDelta.tenant_id, *(getattr(SalesDelta, k) for k in KEYS),
            *(getattr(SalesDelta, m) for m in MEASURES)]
    while True:
        with unit_of_work(session):
            batch = select(SalesDelta.id).order_by(SalesDelta.id).limit(FOLD_BATCH)
            if tenant_id is not None:
                batch = batch.where(SalesDelta.tenant_id == tenant_id)
            taken = session.execute(
                delete(SalesDelta).where(SalesDelta.id.in_(batch.scalar_subquery()))
                .returning(*cols)).all()
            sums: dict[tuple, dict] = {}
            for row in taken:
                m = row._mapping
                add_measures(sums, (m["tenant_id"], *(m[k] for k in KEYS)), m)
            _upsert(session, [{"tenant_id": key[0], **dict(zip(KEYS, key[1:])), **v}
                              for key, v in sums.items()])
        folded += len(taken)
        if len(taken) < FOLD_BATCH:
            return folded


# --- rebuild from the source tables ---------------------------------------------------------------

def direct_rows(session: Session, tenant_id: str, tz: str) -> dict[tuple, dict]:
    """Sales rows computed straight from receipts and returns (what rollups ⊕ deltas must equal)."""
    out: dict[tuple, dict] = {}
    receipts = {r.id: r for r in session.scalars(
        select(Receipt).where(Receipt.tenant_id == tenant_id, Receipt.member.is_not(None)))}
    for r in receipts.values():
        m = sale_measures(r, tz)
        add_measures(out, tuple(m[k] for k in KEYS), m)
    returns = defaultdict(list)
    for ret in session.scalars(select(ReceiptReturn).where(ReceiptReturn.tenant_id == tenant_id)
                               .order_by(ReceiptReturn.created_at, ReceiptReturn.id)):
        if ret.receipt_id in receipts:
            returns[ret.receipt_id].append(ret)
    for receipt_id, rets in returns.items():
        r = receipts[receipt_id]
        # The return after which nothing is left to return is the full one (as return_sale says).
        complete = all(_returned(r).get(ln["id"], 0) >= Decimal(ln["quantity"]) for ln in r.lines)
        for i, ret in enumerate(rets):
            m = return_measures(r, ret, complete and i == len(rets) - 1, tz)
            add_measures(out, tuple(m[k] for k in KEYS), m)
    return out


def _returned(r: Receipt) -> dict[str, Decimal]:
    return {k: Decimal(v) for k, v in (r.returned or {}).items()}


def rebuild(session: Session, tenant_id: str, tz: str) -> int:
    """Replace the tenant's rollups and pending deltas by the direct aggregation; the rows written."""
    with unit_of_work(session):
        session.execute(delete(SalesDelta).where(SalesDelta.tenant_id == tenant_id))
        session.execute(delete(SalesDaily).where(SalesDaily.tenant_id == tenant_id))
        rows = direct_rows(session, tenant_id, tz)
        _upsert(session, [{"tenant_id": tenant_id, **dict(zip(KEYS, k)), **v} for k, v in rows.items()])
    return len(rows)
