"""Receipts: calculate (changes nothing), commit a sale, return goods."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub import engine
from hub.engine.expiry import end_of_validity
from hub.engine.text import rub
from hub.errors import Invalid, NotFound
from hub.ledger import (
    AccountView, accrue, account_view, active_holds, lock_account, redate_lots, release_expired,
    release_hold, restore, reverse_accrual, spend,
)
from hub.models import Customer, Receipt, ReceiptReturn
from hub.models.base import new_id
from hub.moments import utcnow
from hub.services.customers import resolve_customer
from hub.services.guards import TillDiscount, check_till_discount, require_customer_for_spend
from hub.services.idempotency import run_once
from hub.services.programs import get_program, load_settings
from hub.services.promotions import (
    give_back_uses, promotion_context, promotions_payload, receipt_sets, record_promotions,
)
from hub.services.tenants import ensure_cashier, ensure_store


@dataclass(frozen=True)
class SaleRequest:
    """A receipt in the core's terms (adapters build it from their wire formats)."""
    external_id: str
    moment: datetime
    positions: tuple[engine.Position, ...]
    customer: dict | None = None          # {"phone"} | {"card"} | {"id"}
    store: str | None = None
    cashier: str | None = None
    payment_method: str | None = None
    spend: int | None = None
    spend_max: bool = False
    promo_codes: tuple[str, ...] = ()

    def as_engine(self) -> engine.Receipt:
        return engine.Receipt(positions=self.positions, moment=self.moment, store=self.store,
                              cashier=self.cashier, payment_method=self.payment_method,
                              spend=self.spend, spend_max=self.spend_max)


def line_amount(price: int, quantity: Decimal) -> int:
    """Kopecks of a line: price x quantity, rounded half up to the kopeck."""
    return int((price * quantity).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _state(customer: Customer | None, view: AccountView | None = None) -> engine.AccountState:
    if customer is None or view is None:
        return engine.AccountState()
    return engine.AccountState(available=view.available, pending=view.pending, debt=view.debt,
                               last_purchase_at=customer.last_purchase_at,
                               total_purchases=customer.total_purchases,
                               purchase_count=customer.purchase_count)


def quote_payload(q: engine.Quote, customer: Customer | None) -> dict:
    """The canonical answer (kopecks); adapters render it in their own format."""
    return promotions_payload(q, {
        "positions": [{"id": p.id, "amount": p.amount, "discount": p.discount,
                       "level_discount": p.level_discount, "bonus_spent": p.bonus_spent,
                       "amount_to_pay": p.amount_to_pay, "bonus_earned": p.bonus_earned}
                      for p in q.positions],
        "totals": {"amount": q.amount, "discount": q.discount, "level_discount": q.level_discount,
                   "bonus_spent": q.bonus_spent, "max_spendable": q.max_spendable,
                   "amount_to_pay": q.amount_to_pay, "bonus_earned": q.bonus_earned},
        "customer": None if customer is None else {
            "id": customer.id, "balance": q.balance, "balance_after": q.balance_after,
            "level": {"code": q.level.code, "name": q.level.name},
            "to_next_level": q.to_next_level_after,
            "next_level": None if q.next_level is None else
            {"code": q.next_level.code, "name": q.next_level.name}},
        "bonus_earned_active_from": q.earned_active_from.isoformat() if q.earned_active_from else None,
        "bonus_earned_expires_at": q.earned_expires_at.isoformat() if q.earned_expires_at else None,
        "messages": {"cashier": q.cashier_message, "receipt": q.receipt_message},
    })


def calculate_receipt(session: Session, tenant_id: str, req: SaleRequest) -> dict:
    """The quote for an open receipt; writes nothing."""
    program = get_program(session, tenant_id)
    customer = resolve_customer(session, tenant_id, req.customer)
    require_customer_for_spend(customer, req.spend, req.spend_max)
    # What the customer can spend is what the ledger holds now; the receipt's moment governs
    # rules, accrual dates and levels (DESIGN.md, invariant 6).
    view = account_view(session, tenant_id, customer.id, utcnow()) if customer else None
    state = _state(customer, view)
    promo = promotion_context(session, tenant_id, customer, req.moment, req.promo_codes)
    answer = quote_payload(engine.calculate(program, req.as_engine(), state, promo=promo), customer)
    session.rollback()   # after the payload: a rollback expires the customer it reads
    return answer


def commit_sale(session: Session, tenant_id: str, source: str, req: SaleRequest,
                body: Any, *, hold_reference: str | None = None,
                accept: Callable[[dict], None] | None = None,
                till_discount: TillDiscount | None = None) -> tuple[dict, bool]:
    """Commit a sale: the same calculation again, strictly, then the ledger postings.

    With `hold_reference`, the bonuses a quote held for this receipt are released in the
    same transaction, just before the spend: the hold turns into the spend exactly once.
    `accept(answer)` lets an adapter refuse the sale (by raising) once the quote is known
    under the account lock and before anything is written — e.g. a till that applied more
    discount than the program allows.
    """
    return run_once(session, tenant_id, source, req.external_id, "sale", body,
                    lambda: _commit(session, tenant_id, source, req, hold_reference, accept,
                                    till_discount))


def _commit(session: Session, tenant_id: str, source: str, req: SaleRequest,
            hold_reference: str | None = None,
            accept: Callable[[dict], None] | None = None,
            till_discount: TillDiscount | None = None) -> dict:
    program = get_program(session, tenant_id)
    customer = resolve_customer(session, tenant_id, req.customer)
    require_customer_for_spend(customer, req.spend, req.spend_max)
    account = None
    state = _state(None)
    now = utcnow()
    if customer is not None:
        account = lock_account(session, tenant_id, customer.id)
        session.refresh(customer)   # statistics as of the lock, not of an earlier read
        release_expired(session, account, now)
        if hold_reference is not None:
            for hold in active_holds(session, account, source=source, reference=hold_reference):
                release_hold(session, account, hold, now, status="committed")
        # Spending is checked against what the ledger holds now, under the lock.
        view = account_view(session, tenant_id, customer.id, now)
        state = _state(customer, view)
    context = promotion_context(session, tenant_id, customer, req.moment, req.promo_codes, lock=True)
    try:
        quote = engine.calculate(program, req.as_engine(), state, strict=True, promo=context)
    except engine.SpendNotAllowed as exc:
        raise Invalid("spend_not_allowed",
                      f"Нельзя списать {rub(exc.requested)} бонусов: доступно не больше "
                      f"{rub(exc.allowed)}.",
                      {"spend_bonuses": [f"не больше {rub(exc.allowed)}"]}) from exc
    payload = quote_payload(quote, customer)
    check_till_discount(payload["totals"], till_discount, req.spend)
    if accept is not None:
        accept(payload)
    ensure_store(session, tenant_id, req.store)
    ensure_cashier(session, tenant_id, req.cashier)
    # The answer is complete before the insert (id chosen here, level worked out ahead),
    # so the receipt row is written once.
    payload["id"], payload["external_id"] = new_id(), req.external_id
    level_after = None
    follows_purchases = program.expiry_mode == "since_last_purchase"
    if customer is not None:
        level_after = program.level_for(customer.total_purchases + quote.purchase_amount)
        payload["customer"]["level_after"] = {"code": level_after.code}
        if follows_purchases:
            burn_at = engine.purchase_burn_date(program, level_after, req.moment,
                                                customer.last_purchase_at)
    receipt = Receipt(
        id=payload["id"], tenant_id=tenant_id, source=source, external_id=req.external_id,
        customer_id=customer.id if customer else None, moment=req.moment, store=req.store,
        cashier=req.cashier, payment_method=req.payment_method, amount=quote.amount,
        level_discount=quote.level_discount, bonus_spent=quote.bonus_spent,
        bonus_earned=quote.bonus_earned, amount_to_pay=quote.amount_to_pay,
        level_code=quote.level.code, returned={}, response=payload,
        lines=[{"id": p.id, "product": p.product, "name": p.name, "groups": list(p.groups),
                "price": p.price, "quantity": str(p.quantity), "amount": q.amount,
                "level_discount": q.level_discount, "bonus_spent": q.bonus_spent,
                "amount_to_pay": q.amount_to_pay, "bonus_earned": q.bonus_earned}
               for p, q in zip(req.positions, quote.positions)])
    session.add(receipt)
    session.flush()
    record_promotions(session, tenant_id, receipt.id, receipt.customer_id, quote, req.promo_codes,
                      context)
    if account is not None:
        if quote.bonus_spent:
            spend(session, account, quote.bonus_spent, req.moment, now=now, receipt_id=receipt.id)
        if quote.bonus_earned:
            accrue(session, account, quote.bonus_earned, req.moment,
                   active_from=quote.earned_active_from, expires_at=quote.earned_expires_at,
                   receipt_id=receipt.id, follows_purchases=follows_purchases)
        customer.total_purchases += quote.purchase_amount
        customer.purchase_count += 1
        if customer.last_purchase_at is None or req.moment > customer.last_purchase_at:
            customer.last_purchase_at = req.moment
        customer.level_code = level_after.code
        if follows_purchases:
            redate_lots(session, account, customer.last_purchase_at, burn_at, now=now)
        # The sale's messages, in this transaction and its own savepoint (never fails the sale).
        from hub.notify.events import on_sale
        on_sale(session, tenant_id, payload)
    return payload


def find_receipt(session: Session, tenant_id: str, external_id: str,
                 source: str | None = None) -> Receipt | None:
    """The committed sale with this external id, or None (adapters asking "already applied?")."""
    stmt = select(Receipt).where(Receipt.tenant_id == tenant_id, Receipt.external_id == external_id)
    if source:
        stmt = stmt.where(Receipt.source == source)
    return session.scalars(stmt.order_by(Receipt.created_at)).first()


def get_receipt(session: Session, tenant_id: str, external_id: str, source: str | None = None) -> Receipt:
    receipt = find_receipt(session, tenant_id, external_id, source)
    if receipt is None:
        raise NotFound("receipt_not_found", f"Чек «{external_id}» не найден.")
    return receipt


@dataclass(frozen=True)
class ReturnRequest:
    external_id: str
    moment: datetime
    quantities: dict[str, Decimal] | None = None   # None: everything not yet returned


def return_sale(session: Session, tenant_id: str, source: str, receipt_external_id: str,
                req: ReturnRequest, body: Any) -> tuple[dict, bool]:
    return run_once(session, tenant_id, source, req.external_id, "return", body,
                       lambda: _return(session, tenant_id, source, receipt_external_id, req))


def _grace_until(session: Session, tenant_id: str, program: engine.Program,
                 moment: datetime) -> datetime | None:
    """Until when bonuses restored to an already burnt lot live (the program's
    `restored_bonus_grace_days`, counted from the return like any validity); None: they
    burn at once."""
    days = int(load_settings(session, tenant_id)[0].get("restored_bonus_grace_days") or 0)
    return end_of_validity(moment, days, program.timezone) if days > 0 else None


def _return(session: Session, tenant_id: str, source: str, receipt_external_id: str,
            req: ReturnRequest) -> dict:
    receipt = get_receipt(session, tenant_id, receipt_external_id, source)
    program = get_program(session, tenant_id)
    customer = account = None
    if receipt.customer_id:
        account = lock_account(session, tenant_id, receipt.customer_id)
        customer = session.get(Customer, receipt.customer_id, populate_existing=True)
    # Locks the sale itself too, so two returns of an anonymous receipt cannot race.
    receipt = session.scalars(select(Receipt).where(Receipt.id == receipt.id)
                              .with_for_update().execution_options(populate_existing=True)).one()
    lines = [engine.ReturnLine(id=ln["id"], quantity=Decimal(ln["quantity"]), amount=ln["amount"],
                               amount_to_pay=ln["amount_to_pay"], bonus_spent=ln["bonus_spent"],
                               bonus_earned=ln["bonus_earned"]) for ln in receipt.lines]
    known = {ln.id for ln in lines}
    if req.quantities is not None:
        unknown = sorted(set(req.quantities) - known)
        if unknown:
            raise Invalid("unknown_position", f"В чеке «{receipt.external_id}» нет позиций "
                          f"{', '.join(unknown)}.", {"positions": {pid: ["нет в чеке продажи"] for pid in unknown}})
    before = {k: Decimal(v) for k, v in (receipt.returned or {}).items()}
    uses, sets = receipt_sets(session, receipt.id)
    try:
        rq = engine.compute_return(lines, before, req.quantities, sets)
    except engine.ReturnTooLarge as exc:
        raise Invalid("return_exceeds_sale",
                      f"Позиция {exc.position_id}: продано {exc.sold}, к возврату всего {exc.asked}.",
                      {"positions": {exc.position_id: [f"не больше {exc.sold - before.get(exc.position_id, 0)}"]}}) from exc
    if not rq.quantities:
        raise Invalid("nothing_to_return", f"Чек «{receipt.external_id}» уже возвращён полностью.")
    # The shares of the sale's earning that earlier returns reversed (taken or burnt).
    reversed_before = int(session.scalar(
        select(func.coalesce(func.sum(ReceiptReturn.bonus_earned_reversed), 0))
        .where(ReceiptReturn.receipt_id == receipt.id)) or 0)
    ret = ReceiptReturn(tenant_id=tenant_id, source=source, external_id=req.external_id,
                        receipt_id=receipt.id, moment=req.moment,
                        quantities={k: str(v) for k, v in rq.quantities.items()}, amount=rq.amount,
                        amount_returned=rq.amount_returned,
                        bonus_spent_restored=rq.bonus_spent_restored,
                        bonus_earned_reversed=rq.bonus_earned_reversed)
    session.add(ret)
    session.flush()
    returned = dict(before)
    for pid, qty in rq.quantities.items():
        returned[pid] = returned.get(pid, Decimal(0)) + qty
    receipt.returned = {k: str(v) for k, v in returned.items()}
    whole = all(returned.get(ln.id, 0) >= ln.quantity for ln in lines)
    give_back_uses(uses, req.moment, whole=whole, lost=rq.lost)
    answer = {"id": ret.id, "external_id": req.external_id, "receipt_external_id": receipt.external_id,
              "amount": rq.amount, "amount_returned": rq.amount_returned,
              "bonus_spent_restored": rq.bonus_spent_restored,
              "bonus_earned_reversed": rq.bonus_earned_reversed, "customer": None}
    if rq.withheld:
        answer["promo_withheld"] = rq.promo_withheld
        answer["message"] = " ".join(
            (f"Удержана скидка по акции «{name}»: {rub(k)} ₽ — оставшиеся товары её больше не дают."
             if k > 0 else f"Возвращена удержанная ранее скидка по акции «{name}»: {rub(-k)} ₽.")
            for _, name, k in rq.withheld)
    if account is not None:
        # Restore first, then take back: what the return restores can cover what it takes.
        now = utcnow()
        restore(session, account, rq.bonus_spent_restored, req.moment, now=now,
                grace_until=_grace_until(session, tenant_id, program, req.moment)
                if rq.bonus_spent_restored else None,
                receipt_id=receipt.id, return_id=ret.id)
        reverse_accrual(session, account, rq.bonus_earned_reversed, req.moment, now=now,
                        reversed_before=reversed_before, receipt_id=receipt.id, return_id=ret.id)
        customer.total_purchases -= rq.amount_returned
        if whole:
            customer.purchase_count = max(0, customer.purchase_count - 1)
        customer.level_code = program.level_for(customer.total_purchases).code
        session.flush()
        view = account_view(session, tenant_id, customer.id, now)
        answer["customer"] = {"id": customer.id, "balance": view.available, "debt": view.debt,
                              "level": {"code": customer.level_code}}
    return answer
