"""Shared helpers of the ledger tests: programs, requests, snapshots of a tenant's state."""
from __future__ import annotations

import copy
import uuid
from collections import defaultdict
from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import func, select

from hub import engine
from hub.ledger.models import Account, Lot, LotDraw, Posting
from hub.customers.models import Customer
from hub.receipts.models import Operation, Receipt, ReceiptReturn
from hub.programs.operations import DEFAULT_SETTINGS, put_program
from hub.receipts.operations import ReturnRequest, SaleRequest
from hub.tenants.operations import create_tenant

T0 = datetime(2025, 1, 15, 9, 30, tzinfo=timezone.utc)
SOURCE = "ledger-test"


def program_settings(*, expiry_mode: str = "since_accrual", activation_delay_days: int = 1,
                     lifetime: int | None = 60, silver_lifetime: int | None = 30,
                     type_: str = "bonus_discount", base_spend: str = "30",
                     silver_spend: str = "50", silver_threshold: int = 300_000,
                     base_percent: str = "5", silver_percent: str = "10") -> dict:
    """A two-level program: activation delay, lifetime (overridden by the upper level),
    a maximum share payable by bonuses, and a level discount on the upper level."""
    s = copy.deepcopy(DEFAULT_SETTINGS)
    s.update({
        "type": type_,
        "levels": [
            {"code": "base", "name": "Base", "threshold": 0,
             "accrual": {"scheme": "percent", "percent": base_percent}, "discount": None,
             "max_spend_percent": base_spend, "bonus_lifetime_days": None},
            {"code": "silver", "name": "Silver", "threshold": silver_threshold,
             "accrual": {"scheme": "percent", "percent": silver_percent},
             "discount": {"scheme": "percent", "percent": "3"},
             "max_spend_percent": silver_spend, "bonus_lifetime_days": silver_lifetime},
        ],
        "bonus_lifetime_days": lifetime,
        "expiry_mode": expiry_mode,
        "activation_delay_days": activation_delay_days,
    })
    return s


def make_tenant(session, settings: dict | None = None, name: str | None = None) -> str:
    tenant, _key = create_tenant(session, name or f"ledger-{uuid.uuid4().hex[:10]}")
    session.commit()
    tid = tenant.id
    if settings is not None:
        put_program(session, tid, settings)
    return tid


def sale(external_id: str, moment: datetime, lines: list[tuple[int, int]], *,
         customer_id: str | None = None, spend: int | None = None, spend_max: bool = False,
         store: str | None = None, cashier: str | None = None) -> tuple[SaleRequest, dict]:
    """A sale request and the body it stands for; `lines` are (price, quantity) pairs."""
    positions = tuple(engine.Position(id=str(i + 1), amount=price * qty, quantity=Decimal(qty),
                                      price=price, name=f"item {i + 1}")
                      for i, (price, qty) in enumerate(lines))
    req = SaleRequest(external_id=external_id, moment=moment, positions=positions,
                      customer={"id": customer_id} if customer_id else None, store=store,
                      cashier=cashier, spend=spend, spend_max=spend_max)
    body = {"external_id": external_id, "moment": moment.isoformat(),
            "positions": [{"id": p.id, "price": p.price, "quantity": str(p.quantity)}
                          for p in positions],
            "customer": req.customer, "store": store, "cashier": cashier,
            "spend": spend, "spend_max": spend_max}
    return req, body


def return_of(external_id: str, moment: datetime,
              quantities: dict[str, int] | None = None) -> tuple[ReturnRequest, dict]:
    qs = None if quantities is None else {k: Decimal(v) for k, v in quantities.items()}
    req = ReturnRequest(external_id=external_id, moment=moment, quantities=qs)
    body = {"external_id": external_id, "moment": moment.isoformat(),
            "quantities": None if quantities is None else {k: str(v) for k, v in quantities.items()}}
    return req, body


def snapshot(session, tenant_id: str) -> dict:
    """Everything a business operation may change, as plain sorted values."""
    def rows(stmt):
        return sorted(tuple(r) for r in session.execute(stmt))

    return {
        "accounts": rows(select(Account.customer_id, Account.balance, Account.version)
                         .where(Account.tenant_id == tenant_id)),
        "postings": rows(select(Posting.id, Posting.account_id, Posting.kind, Posting.amount,
                                Posting.moment, Posting.receipt_id, Posting.return_id)
                         .where(Posting.tenant_id == tenant_id)),
        "lots": rows(select(Lot.id, Lot.account_id, Lot.kind, Lot.amount, Lot.remaining,
                            Lot.active_from, Lot.expires_at, Lot.follows_purchases)
                     .where(Lot.tenant_id == tenant_id)),
        "draws": rows(select(LotDraw.id, LotDraw.posting_id, LotDraw.lot_id, LotDraw.amount)
                      .where(LotDraw.tenant_id == tenant_id)),
        "customers": rows(select(Customer.id, Customer.total_purchases, Customer.purchase_count,
                                 Customer.level_code, Customer.last_purchase_at)
                          .where(Customer.tenant_id == tenant_id)),
        "receipts": sorted((r.id, r.external_id, r.bonus_spent, r.bonus_earned,
                            tuple(sorted((r.returned or {}).items())))
                           for r in session.execute(select(Receipt.id, Receipt.external_id,
                                                           Receipt.bonus_spent, Receipt.bonus_earned,
                                                           Receipt.returned)
                                                    .where(Receipt.tenant_id == tenant_id))),
        "returns": rows(select(ReceiptReturn.id, ReceiptReturn.external_id, ReceiptReturn.amount,
                               ReceiptReturn.bonus_spent_restored,
                               ReceiptReturn.bonus_earned_reversed)
                        .where(ReceiptReturn.tenant_id == tenant_id)),
        "operations": rows(select(Operation.kind, Operation.external_id, Operation.request_hash)
                           .where(Operation.tenant_id == tenant_id)),
    }


def posting_sums(session, tenant_id: str, customer_id: str) -> dict[str, int]:
    """Sum of postings per kind for one customer's account."""
    out: dict[str, int] = defaultdict(int)
    for kind, total in session.execute(
            select(Posting.kind, func.sum(Posting.amount))
            .join(Account, Account.id == Posting.account_id)
            .where(Account.tenant_id == tenant_id, Account.customer_id == customer_id)
            .group_by(Posting.kind)):
        out[kind] = int(total)
    return dict(out)


def lots_of(session, tenant_id: str, customer_id: str) -> list[Lot]:
    return list(session.scalars(
        select(Lot).join(Account, Account.id == Lot.account_id)
        .where(Account.tenant_id == tenant_id, Account.customer_id == customer_id)
        .order_by(Lot.created_at, Lot.id).execution_options(populate_existing=True)))


def draws_of(session, posting_id: str) -> dict[str, int]:
    """lot id -> amount drawn (negative) or given back (positive) by one posting."""
    out: dict[str, int] = defaultdict(int)
    for lot_id, amount in session.execute(select(LotDraw.lot_id, LotDraw.amount)
                                          .where(LotDraw.posting_id == posting_id)):
        out[lot_id] += int(amount)
    return dict(out)


def strip_commit_fields(payload: dict) -> dict:
    """A committed sale's answer without what only a commit adds (ids, level after)."""
    out = copy.deepcopy(payload)
    out.pop("id", None)
    out.pop("external_id", None)
    if out.get("customer"):
        out["customer"].pop("level_after", None)
    return out
