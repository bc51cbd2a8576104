"""Referrals: every customer's code, a newcomer invited by phone, card or code, the
newcomer's gift and the inviter's reward (multi-level), taken back on returns.

Rewards are granted by the automation sweep, not inside the sale: a sale locks only its own
customer's account, so it can never deadlock with another sale or with the expiry sweep over
the inviter's account. The sweep reads the invitees' receipts and returns the hub learnt of
recently:
  reward    mechanic referral_reward, customer = the inviter of level k, occurrence
            receipt id : k; a percent of what the invitee paid (or a fixed amount), accrued
            to the inviter as a `referral` lot whose posting names the receipt;
  reversal  mechanic referral_reversal, occurrence return id : k; the reward's share of what
            the return gave back (all of what is left once the receipt is fully returned),
            taken back by hub.ledger.reverse_accrual like a purchase's own accrual — from
            the reward lot first, a debt when the inviter already spent it.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.automation.grants import claim, process, window_start
from hub.automation.settings import load, since_of
from hub.errors import Conflict, Invalid, NotFound
from hub.customers.models import Customer
from hub.receipts.models import Receipt, ReceiptReturn
from hub.automation.models import MechanicEvent, Referral, ReferralCode
from hub.phones import normalize_phone
from hub.customers.operations import get_customer
from hub.programs.operations import get_program

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"     # no 0/O, 1/I


def _share(reward: int, paid: int, part: int) -> int:
    """The part of a reward earned by `part` of what was paid (cumulative, so partial returns
    add up to the whole reward exactly)."""
    return reward if paid <= 0 or part >= paid else reward * part // paid


def referral_code(session: Session, tenant_id: str, customer_id: str) -> str:
    """The customer's code (made on first request; unique within the tenant)."""
    get_customer(session, tenant_id, customer_id)
    code = session.scalar(select(ReferralCode.code).where(ReferralCode.customer_id == customer_id))
    if code:
        return code
    for _ in range(10):
        code = "".join(secrets.choice(ALPHABET) for _ in range(8))
        try:
            with session.begin_nested():
                session.add(ReferralCode(tenant_id=tenant_id, customer_id=customer_id, code=code))
            session.commit()
            return code
        except IntegrityError:
            existing = session.scalar(select(ReferralCode.code).where(ReferralCode.customer_id == customer_id))
            if existing:
                return existing
    raise Conflict("code_unavailable", "Не удалось выдать код приглашения, повторите запрос.")


def invitation_link(base_url: str, tenant_id: str, code: str) -> str:
    """Where a friend registers with this code: the participant's cabinet's join page."""
    return f"{base_url.rstrip('/')}/my/{tenant_id}/join/{code}"


def find_inviter(session: Session, tenant_id: str, ref: dict) -> tuple[Customer, str]:
    if ref.get("code"):
        cid = session.scalar(select(ReferralCode.customer_id).where(
            ReferralCode.tenant_id == tenant_id, ReferralCode.code == str(ref["code"]).strip().upper()))
        via, what = "code", f"кодом {ref['code']}"
    elif ref.get("card"):
        cid = session.scalar(select(Customer.id).where(Customer.tenant_id == tenant_id,
                                                       Customer.card_number == ref["card"]))
        via, what = "card", f"картой {ref['card']}"
    elif ref.get("phone"):
        cid = session.scalar(select(Customer.id).where(Customer.tenant_id == tenant_id,
                                                       Customer.phone == normalize_phone(ref["phone"])))
        via, what = "phone", f"телефоном {ref['phone']}"
    else:
        raise Invalid("invalid_inviter", "Укажите пригласившего: phone, card или code.",
                      {"inviter": ["нужен один из: phone, card, code"]})
    if cid is None:
        raise NotFound("inviter_not_found", f"Пригласивший с {what} не найден.")
    return session.get(Customer, cid), via


def ancestors(session: Session, tenant_id: str, customer_id: str, depth: int) -> list[str]:
    """The inviter of level 1, 2, … of a customer (at most `depth`)."""
    out: list[str] = []
    current = customer_id
    while len(out) < depth:
        nxt = session.scalar(select(Referral.inviter_id).where(Referral.tenant_id == tenant_id,
                                                               Referral.invitee_id == current))
        if nxt is None or nxt in out or nxt == customer_id:
            break
        out.append(nxt)
        current = nxt
    return out


def attach(session: Session, tenant_id: str, customer_id: str, inviter_ref: dict, at: datetime) -> dict:
    """Record who invited a newcomer and grant the newcomer's gift in the same transaction."""
    settings = load(session, tenant_id)["referral"]
    if not settings.get("enabled"):
        raise Invalid("referrals_disabled", "Реферальная программа выключена.")
    invitee = get_customer(session, tenant_id, customer_id)
    inviter, via = find_inviter(session, tenant_id, inviter_ref)
    if inviter.id == invitee.id:
        raise Invalid("self_referral", "Нельзя пригласить самого себя.", {"inviter": ["это сам клиент"]})
    if invitee.purchase_count or invitee.last_purchase_at is not None:
        raise Invalid("not_a_newcomer", "Приглашение засчитывается только новому клиенту без покупок.")
    if session.scalar(select(Referral.id).where(Referral.invitee_id == invitee.id)):
        raise Conflict("already_referred", "Клиент уже зарегистрирован по приглашению.")
    if invitee.id in ancestors(session, tenant_id, inviter.id, 50):
        raise Invalid("referral_cycle", "Клиент сам пригласил этого участника.")
    session.add(Referral(tenant_id=tenant_id, invitee_id=invitee.id, inviter_id=inviter.id, via=via,
                         created_at=at))
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict("already_referred", "Клиент уже зарегистрирован по приглашению.") from exc
    gift = settings.get("newcomer_gift")
    if gift:
        claim(session, tenant_id, "referral_registration", [{
            "customer_id": invitee.id, "occurrence": "once", "amount": gift["amount"],
            "valid_days": gift["valid_days"], "delay_days": gift.get("delay_days") or 0}], at)
        process(session, tenant_id, get_program(session, tenant_id), at)
    session.commit()
    return {"customer_id": invitee.id, "inviter_id": inviter.id, "via": via,
            "gift": gift["amount"] if gift else 0}


def reward_amount(level: dict, paid: int) -> int:
    if level.get("amount") is not None:
        return int(level["amount"])
    return int((Decimal(paid) * Decimal(level["percent"]) / 100).to_integral_value(rounding=ROUND_DOWN))


def rewards(session: Session, tenant_id: str, at: datetime) -> int:
    """Claim the inviters' rewards for the invitees' receipts learnt since the last days."""
    settings = load(session, tenant_id)["referral"]
    if not settings.get("enabled") or not settings.get("levels"):
        return 0
    start = window_start(since_of(settings), at)
    rows = session.execute(
        select(Receipt.id, Receipt.customer_id, Receipt.moment, Receipt.amount_to_pay, Referral.created_at)
        .join(Referral, Referral.invitee_id == Receipt.customer_id)
        .where(Receipt.tenant_id == tenant_id, Receipt.created_at >= start, Receipt.created_at <= at,
               Receipt.moment >= Referral.created_at)).all()
    out = []
    for rid, cid, moment, paid, referred_at in rows:
        if settings.get("period_days") and moment > referred_at + timedelta(days=settings["period_days"]):
            continue
        if settings.get("mode", "first") == "first":
            earlier = session.scalar(select(func.count()).select_from(Receipt).where(
                Receipt.customer_id == cid, Receipt.moment >= referred_at,
                (Receipt.moment < moment) | ((Receipt.moment == moment) & (Receipt.id < rid))))
            if earlier:
                continue
        chain = ancestors(session, tenant_id, cid, len(settings["levels"]))
        for k, inviter in enumerate(chain):
            amount = reward_amount(settings["levels"][k], paid)
            if amount > 0:
                out.append({"customer_id": inviter, "occurrence": f"{rid}:{k + 1}", "amount": amount,
                            "valid_days": settings.get("valid_days"), "receipt_id": rid,
                            "context": {"level": k + 1}})
    return claim(session, tenant_id, "referral_reward", out, at)


def reversals(session: Session, tenant_id: str, at: datetime) -> int:
    """Claim the take-back of rewards for returns of rewarded receipts."""
    rows = session.execute(
        select(ReceiptReturn.id, ReceiptReturn.receipt_id, ReceiptReturn.amount_returned,
               ReceiptReturn.created_at, Receipt.amount_to_pay)
        .join(Receipt, Receipt.id == ReceiptReturn.receipt_id)
        .where(ReceiptReturn.tenant_id == tenant_id, ReceiptReturn.created_at >= at - timedelta(days=7),
               ReceiptReturn.created_at <= at,
               select(MechanicEvent.id).where(MechanicEvent.tenant_id == tenant_id,
                                              MechanicEvent.mechanic == "referral_reward",
                                              MechanicEvent.receipt_id == Receipt.id).exists())
        .order_by(ReceiptReturn.created_at, ReceiptReturn.id)).all()
    out = []
    for ret_id, receipt_id, returned, _, paid in rows:
        earned = session.scalars(select(MechanicEvent).where(
            MechanicEvent.tenant_id == tenant_id, MechanicEvent.mechanic == "referral_reward",
            MechanicEvent.receipt_id == receipt_id)).all()
        returns = session.execute(select(ReceiptReturn.id, ReceiptReturn.amount_returned)
                                  .where(ReceiptReturn.receipt_id == receipt_id)
                                  .order_by(ReceiptReturn.created_at, ReceiptReturn.id)).all()
        upto = 0
        for rid, amt in returns:
            upto += amt
            if rid == ret_id:
                break
        before = upto - returned
        for ev in earned:
            level = ev.occurrence.rsplit(":", 1)[1]
            # Cumulative shares, so partial returns add up to the whole reward exactly.
            amount = _share(ev.amount, paid, upto) - _share(ev.amount, paid, before)
            if amount > 0:
                out.append({"customer_id": ev.customer_id, "occurrence": f"{ret_id}:{level}",
                            "amount": amount, "receipt_id": receipt_id, "context": {"return_id": ret_id}})
    return claim(session, tenant_id, "referral_reversal", out, at)
