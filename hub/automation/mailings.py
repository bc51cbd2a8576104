"""Mailings: a one-off (or scheduled) message to a segment through the outbox.

Advertising by nature (38-ФЗ art. 18): only customers with a recorded advertising consent
for some channel are addressed, and the outbox checks consent and quiet hours again when it
sends. The cost is estimated before sending: recipients x SMS parts of the rendered text x
the tenant's price per part (2.5 ₽ by default, seed 000) for those reachable only by SMS;
messenger recipients cost nothing.
"""
from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.automation.grants import claim, process
from hub.automation.segments import check_audience, members
from hub.errors import Invalid, NotFound
from hub.staff.operations import Actor, record
from hub.customers.models import Customer
from hub.automation.models import Mailing
from hub.programs.operations import get_program
from hub.notify.rules import get_settings
from hub.notify.templates import sms_size

SMS_PART_PRICE = 250      # kopecks, seed 000: "2,5 руб. за СМС"
MESSENGERS = ("telegram", "max", "vk", "messengers")


def sms_parts(text: str) -> int:
    try:
        return sms_size(text).parts
    except ImportError:         # pragma: no cover - the notify package ships with the hub
        n = len(text)
        return 0 if not n else 1 if n <= 70 else math.ceil(n / 67)


def _consent(customer: Customer, name: str) -> bool:
    entry = (customer.consents or {}).get(name)
    return bool(entry.get("given")) if isinstance(entry, dict) else bool(entry)


def reachable(customer: Customer) -> str | None:
    """The cheapest channel with advertising consent: a messenger, else SMS, else email."""
    if any(_consent(customer, m) for m in MESSENGERS):
        return "messenger"
    if _consent(customer, "sms"):
        return "sms"
    if _consent(customer, "email"):
        return "email"
    return None


def part_price(session: Session, tenant_id: str) -> int:
    """The tenant's price of one SMS part (messaging settings), else seed 000's 2.5 ₽."""
    try:
        return int(get_settings(session, tenant_id).get("sms_part_price") or SMS_PART_PRICE)
    except ImportError:         # pragma: no cover
        return SMS_PART_PRICE


def estimate(session: Session, tenant_id: str, audience: dict, text: str, at: datetime,
             price_per_part: int | None = None) -> dict:
    tz = get_program(session, tenant_id).timezone
    if price_per_part is None:
        price_per_part = part_price(session, tenant_id)
    channels = {"messenger": 0, "sms": 0, "email": 0, "none": 0}
    for customer in session.scalars(members(session, tenant_id, audience, at, tz)
                                     .execution_options(yield_per=2000)):
        channels[reachable(customer) or "none"] += 1
    parts = sms_parts(text)
    return {"audience": sum(channels.values()), "recipients": sum(channels.values()) - channels["none"],
            "without_consent": channels["none"], "by_channel": channels, "sms_parts": parts,
            "estimated_cost": channels["sms"] * parts * price_per_part}


def create_mailing(session: Session, tenant_id: str, data: dict, at: datetime,
                   by: Actor | None = None) -> tuple[Mailing, dict]:
    """A draft or scheduled mailing (commits; `by`: the person, audited with it)."""
    audience = check_audience(session, tenant_id, data.get("audience") or {})
    text = (data.get("text") or "").strip()
    if not text:
        raise Invalid("invalid_mailing", "Текст рассылки пуст.", {"text": ["Обязательное поле."]})
    gift = data.get("gift")
    if gift and (not gift.get("amount") or not gift.get("valid_days")):
        raise Invalid("invalid_mailing", "Для подарка укажите сумму и срок действия.",
                      {"gift": ["нужны amount и valid_days"]})
    est = estimate(session, tenant_id, audience, text, at)
    mailing = Mailing(tenant_id=tenant_id, name=data.get("name") or "Рассылка", audience=audience,
                      text=text, gift=gift or None, scheduled_at=data.get("scheduled_at"),
                      status="scheduled" if data.get("scheduled_at") else "draft",
                      recipients=est["recipients"], estimated_cost=est["estimated_cost"], created_at=at)
    session.add(mailing)
    if by is not None:
        session.flush()
        scheduled = data.get("scheduled_at")
        record(session, tenant_id, by, "mailing.create", "mailing", mailing.id,
               {"name": mailing.name, "audience": mailing.audience, "text": mailing.text, "gift": mailing.gift,
                "scheduled_at": scheduled.isoformat() if scheduled else None, "recipients": mailing.recipients,
                "estimated_cost": mailing.estimated_cost})
    session.commit()
    return mailing, est


def get_mailing(session: Session, tenant_id: str, mailing_id: str) -> Mailing:
    mailing = session.get(Mailing, mailing_id)
    if mailing is None or mailing.tenant_id != tenant_id:
        raise NotFound("mailing_not_found", "Рассылка не найдена.")
    return mailing


def send_mailing(session: Session, tenant_id: str, mailing_id: str, at: datetime,
                 by: Actor | None = None) -> dict:
    """Queue the mailing for every consenting member (once per customer, however often this
    is called), with its gift when it has one (`by`: the person, audited with it)."""
    mailing = session.scalars(select(Mailing).where(Mailing.id == mailing_id, Mailing.tenant_id == tenant_id)
                              .with_for_update()).first()
    if mailing is None:
        raise NotFound("mailing_not_found", "Рассылка не найдена.")
    program = get_program(session, tenant_id)
    gift = mailing.gift or {}
    rows = []
    for customer in session.scalars(members(session, tenant_id, mailing.audience, at, program.timezone)
                                    .execution_options(yield_per=2000)):
        if reachable(customer) is None:
            continue
        rows.append({"customer_id": customer.id, "occurrence": mailing.id, "rule_id": mailing.id,
                     "amount": int(gift.get("amount") or 0), "valid_days": gift.get("valid_days"),
                     "delay_days": int(gift.get("delay_days") or 0),
                     "context": {"text": mailing.text, "mailing": mailing.name, "advertising": True}})
    queued = claim(session, tenant_id, "mailing", rows, at)
    mailing.status, mailing.sent_at = "sent", mailing.sent_at or at
    if by is not None:
        record(session, tenant_id, by, "mailing.send", "mailing", mailing.id, {"queued": queued})
    session.commit()
    process(session, tenant_id, program, at)
    return {"id": mailing.id, "queued": queued, "status": mailing.status}


def due_mailings(session: Session, tenant_id: str, at: datetime) -> int:
    ids = session.scalars(select(Mailing.id).where(Mailing.tenant_id == tenant_id, Mailing.status == "scheduled",
                                                   Mailing.scheduled_at <= at)).all()
    return sum(send_mailing(session, tenant_id, mid, at)["queued"] for mid in ids)
