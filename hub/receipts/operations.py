"""Receipts: calculate (changes nothing), commit a sale, return goods.

Gift-certificate payments are part of the sale and the return, for every face alike (the API,
Evotor's terminal, МойСклад's Loyalty API, the cashier's workplace): a face hands them to
`commit_sale` (`SaleRequest.certificates`) and never redeems or refunds by itself. One
reference format for all sources (hub.certificates.operations.sale_prefix/return_reference):

- a payment: "sale:<source>:<sale external id>:<certificate number>", the prefix kept in
  `receipts.certificate_prefix`;
- a refund: "<that payment's reference>\x1freturn:<source>:<return external id>".

A return refunds the certificates first (oldest payment first, up to what it gives back),
once per return. Sales committed before the one format keep the prefix their adapter used
(migration 0028 filled it in where the receipt had none), so they are refunded exactly once.
"""
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
from hub.extensions import unit_of_work
from hub.staff.operations import Actor, record
from hub.errors import Conflict, Invalid, NotFound
from hub.ledger import (
    AccountView, InsufficientBonuses, accrue, account_view, active_holds, followed_expiry, lock_account,
    redate_lots, release_expired, release_hold, restore, reverse_accrual, spend,
)
from hub.customers.models import Customer
from hub.receipts.models import Receipt, ReceiptReturn
from hub.orm import new_id
from hub.moments import utcnow
from hub.customers.operations import resolve_customer
from hub.receipts.guards import TillDiscount, check_till_discount, require_customer_for_spend
from hub.idempotency import run_once
from hub.programs.operations import get_program, load_settings
from hub.promotions.operations import (
    give_back_uses, promotion_context, promotions_payload, receipt_sets, record_promotions,
)
from hub.tenants.operations import ensure_cashier, ensure_store
from hub.certificates.operations import (
    normalize_number, redeem_payments, redemptions, refund_payments, return_reference, sale_prefix,
)
from hub.notify.events import on_sale
from hub.analytics.operations import record_return, record_sale


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
    # False: the path cannot know the bonuses spent (a document read after the sale, e.g.
    # МойСклад's JSON API); the till's own call settles them later (settle_sale_spend).
    spend_settled: bool = True
    # Gift certificates paying: (number, kopecks; None: as much as it and the receipt allow).
    certificates: tuple[tuple[str, int | None], ...] = ()

    def as_engine(self) -> engine.Receipt:
        return engine.Receipt(positions=self.positions, moment=self.moment, store=self.store,
                              cashier=self.cashier, payment_method=self.payment_method,
                              spend=self.spend, spend_max=self.spend_max)


def line_amount(price: int, quantity: Decimal) -> int:
    """Kopecks of a line: price x quantity, rounded half up to the kopeck."""
    return int((price * quantity).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _state(customer: Customer | None, view: AccountView | None = None) -> engine.AccountState:
    if customer is None or view is None:
        return engine.AccountState(anonymous=customer is None)
    return engine.AccountState(available=view.available, pending=view.pending, debt=view.debt,
                               last_purchase_at=customer.last_purchase_at,
                               total_purchases=customer.total_purchases,
                               purchase_count=customer.purchase_count)


def burn_dates_at(session: Session, tenant_id: str, program: engine.Program,
                  customer: Customer, moment: datetime) -> Callable | None:
    """since_last_purchase: a lot's burn date as it stood at `moment`, for the order a spend
    dated `moment` draws lots in (hub.ledger.spendable_at). A purchase lot's date moves with
    every purchase after `moment`, so the date it has now is not the one an on-time spend
    saw: as of `moment` it is the lifetime from the later of its own accrual and the
    customer's last purchase before `moment` (at most its date now; by the customer's level
    now — the lifetime of a level reached later is not told apart). None: dates never move."""
    if program.expiry_mode != "since_last_purchase":
        return None
    last = session.scalar(select(func.max(Receipt.moment)).where(
        Receipt.tenant_id == tenant_id, Receipt.customer_id == customer.id, Receipt.moment < moment))
    level = program.level_for(customer.total_purchases)

    def dated(lot, accrued_at: datetime) -> datetime | None:
        if not lot.follows_purchases:
            return lot.expires_at
        date = engine.expiry_from(program, level, accrued_at if last is None else max(accrued_at, last))
        return lot.expires_at if date is None or lot.expires_at is None else min(date, lot.expires_at)
    return dated


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



def _strict_quote(program: engine.Program, req: SaleRequest, state: engine.AccountState, context,
                  customer: Customer | None, till_discount: TillDiscount | None,
                  accept: Callable[[dict], None] | None) -> tuple[engine.Quote, dict]:
    """Commit's calculation (DESIGN invariant 5): the same as calculate, strictly — a spend
    above what the program allows is refused — then the till's own discount checked and the
    adapter's `accept` hook given the answer before anything is written."""
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
    return quote, payload

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
                till_discount: TillDiscount | None = None, by: Actor | None = None) -> tuple[dict, bool]:
    """Commit a sale: the same calculation again, strictly, then the ledger postings.

    The sale takes its gift-certificate payments (`req.certificates`: number, kopecks or None
    for as much as the certificate and the receipt allow) in its own transaction, each
    redeemed once under "sale:<source>:<external id>:<number>"; the prefix is kept on the
    receipt, so a return refunds them first. A sale first committed by a path that knew no
    certificates (a document read after the sale) takes them when its till's call repeats it.

    With `hold_reference`, the bonuses a quote held for this receipt are released in the
    same transaction, just before the spend: the hold turns into the spend exactly once.
    `accept(answer)` lets an adapter refuse the sale (by raising) once the quote is known
    under the account lock and before anything is written — e.g. a till that applied more
    discount than the program allows.
    """
    def work() -> dict:
        answer = _commit(session, tenant_id, source, req, hold_reference, accept, till_discount)
        if by is not None:       # `by`: a person at the workplace, audited with the sale itself
            record(session, tenant_id, by, "sale.commit", "receipt", answer["external_id"],
                   {"amount": answer["totals"]["amount"], "bonus_spent": answer["totals"]["bonus_spent"],
                    "promo_codes": list(req.promo_codes), "certificate": _certificate_paid(answer)})
        return answer

    answer, created = run_once(session, tenant_id, source, req.external_id, "sale", body, work)
    if not created and req.certificates and not answer.get("certificates"):
        answer = _attach_certificates(session, tenant_id, source, req, answer)
    return answer, created


def _attach_certificates(session: Session, tenant_id: str, source: str, req: SaleRequest,
                         answer: dict) -> dict:
    """The certificate payments of a sale committed first without them, once: a receipt that
    already has its certificate payments (under any prefix) takes none again."""
    receipt = get_receipt(session, tenant_id, req.external_id, source)
    receipt = session.scalars(select(Receipt).where(Receipt.id == receipt.id)
                              .with_for_update().execution_options(populate_existing=True)).one()
    if receipt.certificate_prefix is not None:
        session.rollback()
        return answer
    with unit_of_work(session):
        prefix = sale_prefix(source, req.external_id)
        paid = _pay_with_certificates(session, tenant_id, req, prefix, receipt.amount_to_pay, utcnow())
        receipt.certificate_prefix = prefix
    return {**answer, "certificates": paid}


def pay_unrecorded_sale(session: Session, tenant_id: str, source: str, sale_external_id: str,
                        payments: list[tuple[str, int]], moment: datetime) -> list[dict]:
    """The certificate payments of a sale the program does not record (МойСклад's anonymous
    sale: no customer, no receipt), once each, under the same references as a recorded sale's.
    Commits."""
    with unit_of_work(session):
        paid = redeem_payments(session, tenant_id, sale_prefix(source, sale_external_id),
                               list(payments), moment, utcnow())
    return [{"number": v["number"], "amount": v["redeemed"], "balance": v["balance"]} for v in paid]


def refund_unrecorded_sale(session: Session, tenant_id: str, source: str, sale_external_id: str,
                           return_external_id: str, value: int | None, moment: datetime) -> list[dict]:
    """A return of a sale the program did not record gives its certificates their money back
    first (up to `value` kopecks, None: all), once per return. Payments taken before the one
    reference format ("<sale id>:<card id>", МойСклад's adapter) have no receipt to carry their
    prefix: they are found by it, and a refund that adapter wrote for this return (keyed by
    the bare return id) counts as done. Commits."""
    prefix = sale_prefix(source, sale_external_id)
    if not redemptions(session, tenant_id, prefix):
        prefix = f"{sale_external_id}:"
        if not redemptions(session, tenant_id, prefix):
            session.rollback()
            return []
    with unit_of_work(session):
        out = refund_payments(session, tenant_id, prefix, return_reference(source, return_external_id),
                              value, moment, utcnow(), earlier_keys=(return_external_id,))
    return [{"number": r["number"], "amount": r["restored"], "balance": r["balance"]} for r in out]


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
        # Spending is checked against what the ledger holds now, under the lock; which lots
        # it draws is decided by the receipt's moment (hub.ledger.spend).
        view = account_view(session, tenant_id, customer.id, now)
        state = _state(customer, view)
    context = promotion_context(session, tenant_id, customer, req.moment, req.promo_codes, lock=True)
    quote, payload = _strict_quote(program, req, state, context, customer, till_discount, accept)
    ensure_store(session, tenant_id, req.store)
    ensure_cashier(session, tenant_id, req.cashier)
    # The answer is complete before the insert (id chosen here, level worked out ahead),
    # so the receipt row is written once.
    payload["id"], payload["external_id"] = new_id(), req.external_id
    if not req.spend_settled:
        payload["spend_unsettled"] = True
    certificate_prefix = None
    if req.certificates:
        certificate_prefix = sale_prefix(source, req.external_id)
        payload["certificates"] = _pay_with_certificates(session, tenant_id, req, certificate_prefix,
                                                         quote.amount_to_pay, now)
    level_after = None
    follows_purchases = program.expiry_mode == "since_last_purchase"
    if customer is not None:
        level_after = program.level_for(customer.total_purchases + quote.purchase_amount)
        payload["customer"]["level_after"] = {"code": level_after.code}
        if follows_purchases:
            # The receipt's moment dates the burn: lots alive at it move, followed through
            # the purchases after it the hub already has (a late receipt changes nothing
            # that arrival in order would not have).
            burn_at = engine.expiry_from(program, level_after, req.moment)
            later = [] if customer.last_purchase_at is None or customer.last_purchase_at <= req.moment \
                else [(at, engine.expiry_from(program, level_after, at)) for at in session.scalars(
                    select(Receipt.moment).where(Receipt.tenant_id == tenant_id,
                                                 Receipt.customer_id == customer.id,
                                                 Receipt.moment > req.moment)
                    .order_by(Receipt.moment))]
    receipt = Receipt(
        id=payload["id"], tenant_id=tenant_id, source=source, external_id=req.external_id,
        customer_id=customer.id if customer else None, moment=req.moment, store=req.store,
        cashier=req.cashier, payment_method=req.payment_method, amount=quote.amount,
        level_discount=quote.level_discount, bonus_spent=quote.bonus_spent,
        bonus_earned=quote.bonus_earned, amount_to_pay=quote.amount_to_pay,
        level_code=quote.level.code, returned={}, response=payload,
        certificate_prefix=certificate_prefix,
        lines=[{"id": p.id, "product": p.product, "name": p.name, "groups": list(p.groups),
                "price": p.price, "quantity": str(p.quantity), "amount": q.amount,
                "level_discount": q.level_discount, "bonus_spent": q.bonus_spent,
                "amount_to_pay": q.amount_to_pay, "bonus_earned": q.bonus_earned}
               for p, q in zip(req.positions, quote.positions)])
    record_sale(session, program.timezone, receipt, quote, req.positions,
                first=customer is not None and customer.purchase_count == 0)
    session.add(receipt)
    session.flush()
    record_promotions(session, tenant_id, receipt.id, receipt.customer_id, quote, req.promo_codes,
                      context)
    if account is not None:
        if quote.bonus_spent:
            spend(session, account, quote.bonus_spent, req.moment, now=now, receipt_id=receipt.id,
                  dated=burn_dates_at(session, tenant_id, program, customer, req.moment))
        if quote.bonus_earned:
            expires_at = quote.earned_expires_at
            if follows_purchases:
                # From the receipt's own moment, followed through the later purchases it
                # was alive at: the quote dates it from the customer's latest purchase, which
                # would revive a late receipt's lot that burnt before that purchase.
                expires_at = followed_expiry(burn_at, req.moment, burn_at, later)
            accrue(session, account, quote.bonus_earned, req.moment, now=now,
                   active_from=quote.earned_active_from, expires_at=expires_at,
                   receipt_id=receipt.id, follows_purchases=follows_purchases)
        customer.total_purchases += quote.purchase_amount
        customer.purchase_count += 1
        if customer.last_purchase_at is None or req.moment > customer.last_purchase_at:
            customer.last_purchase_at = req.moment
        customer.level_code = level_after.code
        if follows_purchases:
            redate_lots(session, account, req.moment, burn_at, later=later, now=now)
        if req.moment < now:
            _balance_after_as_held(session, tenant_id, program, quote, payload, receipt, now)
        # The sale's messages, in this transaction and its own savepoint (never fails the sale).
        on_sale(session, tenant_id, payload)
    return payload


def settle_sale_spend(session: Session, tenant_id: str, source: str, req: SaleRequest, body: Any, *,
                      accept: Callable[[dict], None] | None = None,
                      till_discount: TillDiscount | None = None) -> tuple[dict, bool]:
    """Apply the till's spend to a sale first committed by a path that could not know it
    (SaleRequest.spend_settled False), once, whichever order the two paths arrive in.

    The till is the authority on the spend: the sale is calculated again, strictly, from
    the till's request, and the ledger gets correcting postings only (append-only): the
    spend (or a restore), and the accrual's difference (an accrual or a reversal). A sale
    already settled (by its till, or by an earlier settlement) or partly returned is a
    Conflict; the same settlement again replays its answer.
    """
    return run_once(session, tenant_id, source, req.external_id, "sale_settlement",
                    {"sale": body, "spend": req.spend or 0},
                    lambda: _settle(session, tenant_id, source, req, accept, till_discount))


def _settle(session: Session, tenant_id: str, source: str, req: SaleRequest,
            accept: Callable[[dict], None] | None, till_discount: TillDiscount | None) -> dict:
    receipt = get_receipt(session, tenant_id, req.external_id, source)
    program = get_program(session, tenant_id)
    customer = resolve_customer(session, tenant_id, req.customer)
    require_customer_for_spend(customer, req.spend, req.spend_max)
    if customer is None or receipt.customer_id != customer.id:
        raise Conflict("sale_settled", f"Продажа «{req.external_id}» уже учтена с другим покупателем.")
    account = lock_account(session, tenant_id, customer.id)
    session.refresh(customer)
    receipt = session.scalars(select(Receipt).where(Receipt.id == receipt.id)
                              .with_for_update().execution_options(populate_existing=True)).one()
    if not (receipt.response or {}).get("spend_unsettled") or any(
            Decimal(v) for v in (receipt.returned or {}).values()):
        raise Conflict("sale_settled", f"Продажа «{req.external_id}» уже учтена с другим "
                       "списанием бонусов.")
    now = utcnow()
    release_expired(session, account, now)
    view = account_view(session, tenant_id, customer.id, now)
    # The level and statistics as they were before this sale counted (its purchase amount
    # is its amount to pay: a sale recorded without its spend sold no certificates here).
    state = _state(customer, view)
    state = engine.AccountState(available=state.available, pending=state.pending, debt=state.debt,
                                last_purchase_at=state.last_purchase_at,
                                total_purchases=customer.total_purchases - receipt.amount_to_pay,
                                purchase_count=max(0, customer.purchase_count - 1))
    context = promotion_context(session, tenant_id, customer, req.moment, req.promo_codes)
    quote, payload = _strict_quote(program, req, state, context, customer, till_discount, accept)
    payload["id"], payload["external_id"] = receipt.id, receipt.external_id
    spent, earned = quote.bonus_spent - receipt.bonus_spent, quote.bonus_earned - receipt.bonus_earned
    follows_purchases = program.expiry_mode == "since_last_purchase"
    try:
        if spent > 0:
            spend(session, account, spent, receipt.moment, now=now, receipt_id=receipt.id,
                  dated=burn_dates_at(session, tenant_id, program, customer, receipt.moment),
                  meta={"settles": receipt.id})
    except InsufficientBonuses as exc:
        raise Invalid("insufficient_bonuses",
                      f"Недостаточно бонусов: доступно {rub(exc.available)}, "
                      f"списать нужно {rub(exc.requested)}.",
                      {"spend_bonuses": [f"не больше {rub(exc.available)}"]}) from exc
    if spent < 0:
        restore(session, account, -spent, receipt.moment, now=now, receipt_id=receipt.id,
                meta={"settles": receipt.id})
    if earned > 0:
        accrue(session, account, earned, receipt.moment, active_from=quote.earned_active_from,
               expires_at=quote.earned_expires_at, receipt_id=receipt.id,
               follows_purchases=follows_purchases, now=now, meta={"settles": receipt.id})
    elif earned < 0:
        reverse_accrual(session, account, -earned, receipt.moment, now=now, receipt_id=receipt.id,
                        meta={"settles": receipt.id})
    # The receipt's figures become the settled ones, so returns reverse what really happened.
    customer.total_purchases += quote.amount_to_pay - receipt.amount_to_pay
    customer.level_code = program.level_for(customer.total_purchases).code
    payload["customer"]["level_after"] = {"code": customer.level_code}
    receipt.amount, receipt.level_discount = quote.amount, quote.level_discount
    receipt.bonus_spent, receipt.bonus_earned = quote.bonus_spent, quote.bonus_earned
    receipt.amount_to_pay, receipt.response = quote.amount_to_pay, payload
    receipt.lines = [{"id": p.id, "product": p.product, "name": p.name, "groups": list(p.groups),
                      "price": p.price, "quantity": str(p.quantity), "amount": q.amount,
                      "level_discount": q.level_discount, "bonus_spent": q.bonus_spent,
                      "amount_to_pay": q.amount_to_pay, "bonus_earned": q.bonus_earned}
                     for p, q in zip(req.positions, quote.positions)]
    return payload


def _pay_with_certificates(session: Session, tenant_id: str, req: SaleRequest, prefix: str,
                           to_pay: int, now: datetime) -> list[dict]:
    numbers = [normalize_number(n) for n, _ in req.certificates]
    if len(set(numbers)) != len(numbers):
        raise Invalid("validation_error", "Каждый сертификат — один раз в оплате.",
                      {"certificates": ["повторяется номер"]})
    total = sum(a for _, a in req.certificates if a is not None)
    if total > to_pay:
        raise Invalid("certificates_exceed_total",
                      f"Сертификатами можно оплатить не больше {rub(to_pay)} ₽ (к оплате по чеку), "
                      f"а не {rub(total)} ₽.", {"certificates": [f"не больше {rub(to_pay)}"]})
    paid = redeem_payments(session, tenant_id, prefix, list(req.certificates), req.moment, now,
                           to_pay=to_pay)
    return [{"number": v["number"], "amount": v["redeemed"], "balance": v["balance"]} for v in paid]


def _balance_after_as_held(session: Session, tenant_id: str, program: engine.Program,
                           quote: engine.Quote, payload: dict, receipt: Receipt,
                           now: datetime) -> None:
    """A late receipt's answer tells the balance the ledger holds now, as
    `GET /customers/{id}` shows it: the quote, priced at the receipt's moment, would count
    bonuses that burnt before the receipt arrived, and miss lots it brought back to life."""
    session.flush()
    held = account_view(session, tenant_id, receipt.customer_id, now).available
    if held == quote.balance_after:
        return
    fixed = engine.with_balance_after(program, quote, held)
    payload["customer"]["balance_after"] = held
    payload["messages"] = {"cashier": fixed.cashier_message, "receipt": fixed.receipt_message}
    receipt.response = dict(payload)


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
                req: ReturnRequest, body: Any, by: Actor | None = None) -> tuple[dict, bool]:
    def work() -> dict:
        answer = _return(session, tenant_id, source, receipt_external_id, req)
        if by is not None:       # `by`: a person at the workplace, audited with the return itself
            record(session, tenant_id, by, "sale.return", "receipt", receipt_external_id,
                   {"return": answer["external_id"], "amount": answer["amount_returned"]})
        return answer

    return run_once(session, tenant_id, source, req.external_id, "return", body, work)


def _certificate_paid(answer: dict) -> dict | None:
    """The one certificate payment as the workplace shows it (number, amount, balance_after)."""
    if answer.get("certificate") or not answer.get("certificates"):
        return answer.get("certificate")
    paid = answer["certificates"][0]
    return {"number": paid["number"], "amount": paid["amount"], "balance_after": paid["balance"]}


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
    record_return(session, program.timezone, receipt, ret, whole)
    give_back_uses(uses, req.moment, whole=whole, lost=rq.lost)
    answer = {"id": ret.id, "external_id": req.external_id, "receipt_external_id": receipt.external_id,
              "amount": rq.amount, "amount_returned": rq.amount_returned,
              "bonus_spent_restored": rq.bonus_spent_restored,
              "bonus_earned_reversed": rq.bonus_earned_reversed, "customer": None,
              "certificate_refunded": 0}
    if receipt.certificate_prefix and rq.amount_returned:
        # The certificates the sale was paid with get the money back first, at every till;
        # keyed by this return (a repeat of it, by any path, is run_once's replay).
        refunded = refund_payments(session, tenant_id, receipt.certificate_prefix,
                                   return_reference(source, req.external_id),
                                   rq.amount_returned, req.moment, utcnow())
        if refunded:
            answer["certificate_refunded"] = sum(r["restored"] for r in refunded)
            answer["certificates"] = [{"number": r["number"], "amount": r["restored"],
                                       "balance": r["balance"]} for r in refunded]
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
