"""The outbox: `enqueue` writes one message row in the caller's transaction.

The row is the message: rendered text, channel and recipient chosen now (so the log shows
what will go out and what it costs), status `queued` with the moment it is due, or
`suppressed` with the reason when it must never go (no consent, no channel). Delivery
happens after the commit (hub.notify.delivery).
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.clock import utcnow
from hub.config import Config
from hub.errors import Invalid
from hub.models import Customer
from hub.models.base import new_id
from hub.models.notify import ChatLink, OutboxMessage
from hub.notify import registry
from hub.notify.catalog import check_topic, template_for
from hub.notify.channels import ORDER
from hub.notify.rules import get_settings, has_consent, quiet_until, tenant_timezone
from hub.notify.templates import ADVERTISING_TOPICS, render, sms_size

PENDING_KEY = "notify_new"


@dataclass(frozen=True)
class Route:
    channel: str | None
    recipient: str | None
    reason: str | None = None       # why nothing can be sent (channel None)


def unsubscribe_token(tenant_id: str, customer_id: str) -> str:
    key = Config().SECRET_KEY.encode()
    mac = hmac.new(key, f"unsub:{tenant_id}:{customer_id}".encode(), hashlib.sha256).hexdigest()[:24]
    return f"{customer_id}.{mac}"


def check_unsubscribe_token(tenant_id: str, token: str) -> str | None:
    customer_id, _, _mac = (token or "").partition(".")
    if customer_id and len(token) <= 200 and hmac.compare_digest(
            unsubscribe_token(tenant_id, customer_id).encode(), token.encode()):
        return customer_id
    return None


def unsubscribe_link(tenant_id: str, customer_id: str) -> str:
    return f"{Config().PUBLIC_URL.rstrip('/')}/notify/u/{tenant_id}/{unsubscribe_token(tenant_id, customer_id)}"


def chat_for(session: Session, tenant_id: str, channel: str, customer_id: str | None,
             phone: str | None) -> ChatLink | None:
    cond = [ChatLink.tenant_id == tenant_id, ChatLink.channel == channel, ChatLink.active.is_(True)]
    if customer_id:
        cond.append(ChatLink.customer_id == customer_id)
    elif phone:
        cond.append(ChatLink.phone == phone)
    else:
        return None
    return session.scalars(select(ChatLink).where(*cond).order_by(ChatLink.created_at.desc())).first()


def route(session: Session, tenant_id: str, customer: Customer | None, phone: str | None,
          advertising: bool, wanted: str | None = None, exclude: tuple[str, ...] = (),
          sms_always: bool = False) -> Route:
    """The cheapest channel the customer opted into, among the tenant's enabled ones."""
    channels = registry.enabled_channels(session, tenant_id)
    settings = get_settings(session, tenant_id)
    phone = phone or (customer.phone if customer else None)
    candidates = [wanted] if wanted else [c for c in ORDER if c not in exclude]
    if not wanted and not sms_always and not settings.get("sms_fallback", True):
        # SMS only for customers no cheaper channel reaches is the fallback; switched off,
        # SMS goes to nobody unless a caller asks for it explicitly (codes).
        candidates = [c for c in candidates if c != "sms"]
    refused = []
    for ch in candidates:
        if ch not in channels:
            continue
        if advertising and not has_consent(customer, ch):
            refused.append(ch)
            continue
        if ch in ("telegram", "max"):
            link = chat_for(session, tenant_id, ch, customer.id if customer else None, phone)
            if link is not None:
                return Route(ch, link.chat_id)
        elif ch == "email":
            if customer is not None and customer.email and has_consent(customer, "email"):
                return Route(ch, customer.email)
        elif ch == "sms" and phone:
            return Route(ch, phone)
    if refused:
        return Route(None, None, "no_consent: " + ", ".join(refused))
    return Route(None, None, "no_channel")


def render_for(session: Session, msg: OutboxMessage) -> bool:
    """(Re-)render the message for its channel; False when the topic is switched off."""
    text, subject, enabled = template_for(session, msg.tenant_id, msg.topic, msg.channel)
    # A mailing or a chain step with a text of its own sends that text, not the topic's template.
    text = (msg.context or {}).get("text") or text
    body = render(text, msg.context or {})
    if msg.channel == "email" and msg.advertising and msg.customer_id:
        body += "\n\nОтписаться от рассылки: " + unsubscribe_link(msg.tenant_id, msg.customer_id)
    msg.text, msg.subject = body, subject
    if msg.channel == "sms":
        size = sms_size(body)
        msg.parts = size.parts
        msg.expected_cost = size.parts * int(get_settings(session, msg.tenant_id).get("sms_part_price", 0))
    else:
        msg.parts, msg.expected_cost = 1, 0
    return enabled


def _context(session: Session, customer: Customer | None, context: dict, tenant_id: str) -> dict:
    ctx = dict(context or {})
    if "shop" not in ctx:
        from hub.models import Tenant
        names = session.info.setdefault("notify_shop", {})
        if tenant_id not in names:
            tenant = session.get(Tenant, tenant_id)
            names[tenant_id] = tenant.name if tenant else ""
        ctx["shop"] = names[tenant_id]
    if customer is not None:
        ctx.setdefault("name", customer.first_name or "")
        if customer.card_number:
            ctx.setdefault("card", customer.card_number)
        ctx.setdefault("unsubscribe", unsubscribe_link(tenant_id, customer.id))
    return ctx


def _json_safe(value):  # noqa: ANN001, ANN201
    from datetime import date, datetime
    from decimal import Decimal
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, Decimal):
        return str(value)
    return value


def _existing(session: Session, tenant_id: str, dedupe_key: str) -> OutboxMessage | None:
    return session.scalar(select(OutboxMessage).where(
        OutboxMessage.tenant_id == tenant_id, OutboxMessage.dedupe_key == dedupe_key))


def enqueue(session: Session, *, tenant_id: str, customer_id: str | None, topic: str, context: dict,
            dedupe_key: str, advertising: bool = False, phone: str | None = None,
            channel: str | None = None) -> OutboxMessage | None:
    """Write one outbox row in the caller's transaction (no commit).

    The same (tenant_id, dedupe_key) again returns the existing row, never a second message.
    The tenant's template for `topic` is rendered with `context` (Russian defaults; money
    as `<name>_kopecks` ints or ready values). The channel is the cheapest the customer opted
    into (messenger, email, then SMS) unless `channel` is given. Advertising (and the topics
    that always are: birthdays, win-back) without consent for any channel gives a row with
    status "suppressed" and the reason; advertising inside the tenant's quiet hours waits
    until they end. A topic the tenant switched off gives None and writes nothing.
    """
    check_topic(topic)
    dedupe_key = dedupe_key[:300]
    postgres = session.get_bind().dialect.name == "postgresql"
    if not postgres:
        # SQLite: writers are serialised (BEGIN IMMEDIATE), so a look first is race-free
        # and the insert can wait for the caller's flush.
        existing = _existing(session, tenant_id, dedupe_key)
        if existing is not None:
            return existing
    _, _, enabled = template_for(session, tenant_id, topic, None)
    if not enabled:
        return None
    customer = session.get(Customer, customer_id) if customer_id else None
    if customer is not None and customer.tenant_id != tenant_id:
        raise ValueError("customer of another tenant")
    advertising = bool(advertising or topic in ADVERTISING_TOPICS)
    now = utcnow()
    r = route(session, tenant_id, customer, phone, advertising, channel, sms_always=topic == "code")
    ctx = _json_safe(_context(session, customer, context, tenant_id))
    if phone:
        ctx.setdefault("phone", phone)
    msg = OutboxMessage(id=new_id(), tenant_id=tenant_id, customer_id=customer_id, topic=topic,
                        context=ctx, dedupe_key=dedupe_key, advertising=advertising, channel=r.channel,
                        recipient=r.recipient, status="queued", created_at=now, updated_at=now,
                        next_attempt_at=now, attempts=0, parts=1, expected_cost=0, text="")
    if r.channel is not None:
        provider_row = registry.enabled_channels(session, tenant_id).get(r.channel)
        msg.provider = provider_row.provider if provider_row else None
        if not render_for(session, msg):
            return None
        if advertising:
            settings = get_settings(session, tenant_id)
            later = quiet_until(now, tenant_timezone(session, tenant_id), settings.get("quiet_hours"))
            if later is not None:
                msg.next_attempt_at = later
    else:
        render_for(session, msg)
        msg.status, msg.reason, msg.next_attempt_at = "suppressed", r.reason, None
    if postgres:
        # Insert first, in a savepoint: the unique index decides between concurrent
        # transactions queuing the same event, and the caller's transaction survives.
        try:
            with session.begin_nested():
                session.add(msg)
        except IntegrityError:
            return _existing(session, tenant_id, dedupe_key)
    else:
        session.add(msg)
    if msg.status == "queued":
        session.info.setdefault(PENDING_KEY, []).append(msg.id)
    return msg


# --- one-time codes ------------------------------------------------------------------------

def send_code(session: Session, tenant_id: str, phone: str, code: str, purpose: str) -> OutboxMessage | None:
    """A confirmation code to `phone` through the cheapest channel that reaches it (a bot
    chat linked to that phone, else SMS), in the caller's transaction. Limited per phone:
    not twice within `code_limit.per_phone_interval` seconds, at most
    `code_limit.per_phone_hour` an hour (Invalid "code_rate_limited" otherwise, nothing
    written). Codes are service messages: no advertising consent, no quiet hours."""
    from hub.phones import normalize_phone
    phone = normalize_phone(phone)
    limits = get_settings(session, tenant_id).get("code_limit") or {}
    now = utcnow()
    # Limited per phone and purpose: a registration code and, a minute later, the code that
    # confirms spending are one normal visit to the till, not abuse.
    prefix = f"code:{phone}:{purpose}:"
    base = select(OutboxMessage).where(OutboxMessage.tenant_id == tenant_id,
                                       OutboxMessage.topic == "code",
                                       OutboxMessage.dedupe_key.startswith(prefix, autoescape=True))
    last = session.scalar(base.with_only_columns(func.max(OutboxMessage.created_at)))
    interval = int(limits.get("per_phone_interval", 60))
    if last is not None and (now - last).total_seconds() < interval:
        left = int(interval - (now - last).total_seconds()) + 1
        raise Invalid("code_rate_limited", f"Код уже отправлен. Новый можно запросить через {left} с.",
                      {"repeat_after": left})
    hourly = session.scalar(base.where(OutboxMessage.created_at > now - timedelta(hours=1))
                            .with_only_columns(func.count()))
    if hourly >= int(limits.get("per_phone_hour", 5)):
        raise Invalid("code_rate_limited", "Слишком много кодов на этот номер. Попробуйте через час.",
                      {"phone": ["Слишком много кодов за этот час."]})
    customer = session.scalar(select(Customer).where(Customer.tenant_id == tenant_id,
                                                     Customer.phone == phone))
    return enqueue(session, tenant_id=tenant_id, customer_id=customer.id if customer else None,
                   topic="code", context={"code": code, "purpose": purpose}, phone=phone,
                   dedupe_key=f"{prefix}{now.isoformat()}:{code}")
