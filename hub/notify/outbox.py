"""The outbox: `enqueue` writes one message row in the caller's transaction.

The row is the message: rendered text, channel and recipient chosen now (so the log shows
what will go out and what it costs), status `queued` with the moment it is due, or
`suppressed` with the reason when it must never go (no consent, no channel). Delivery
happens after the commit (hub.notify.delivery). `enqueue_many` writes a batch of such rows
with one set-based INSERT … ON CONFLICT DO NOTHING (the automation's batches).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.clock import utcnow
from hub.config import Config
from hub.errors import Invalid
from hub.customers.models import Customer
from hub.orm import new_id
from hub.notify.models import ChatLink, OutboxMessage
from hub.notify import registry
from hub.notify.catalog import check_topic, template_for
from hub.notify.channels import ORDER
from hub.notify.rules import (get_settings, has_consent, no_consent_reason, quiet_reason, quiet_until,
                              tenant_timezone)
from hub.notify.templates import ADVERTISING_TOPICS, render, sms_size
from hub.secrets import encrypt
from hub.phones import normalize_phone
from hub.tenants.models import Tenant
from hub.secrets import Undecryptable, decrypt

PENDING_KEY = "notify_new"
CODE_LIFE = timedelta(minutes=10)      # the web cabinets' and the tills' codes live 10 minutes at most


@dataclass(frozen=True)
class Route:
    channel: str | None
    recipient: str | None
    reason: str | None = None       # why nothing can be sent (channel None), in Russian
    code: str | None = None         # the same as a machine code: no_consent | no_channel


NO_CHANNEL = "Нет канала для отправки: клиент не подключил бота, нет телефона или email"
# A code goes by SMS whenever there is a phone (sms_always), so no route for a code means the
# tenant has no SMS channel (and the phone no bot chat): that, not the customer, is the cause.
NO_CODE_CHANNEL = "SMS-канал не настроен: код не отправлен"
CODE_OFF = "Сообщения с кодом подтверждения выключены в шаблонах: код не отправлен"
CODE_EXPIRED = "Код устарел, пока ждал отправки: не отправлен"
# What the outbox keeps in place of a one-time code (text, context, dedupe key): the log and
# every cabinet page show the message, never a live code. Six GSM-7 characters, so the SMS
# size and price estimated from the masked text are those of the real one.
CODE_MASK = "******"
CODE_SECRET = "code_secret"     # context key: the code encrypted with the instance key, with its deadline


def unsubscribe_token(tenant_id: str, customer_id: str, config: Config | None = None) -> str:
    key = (config or Config()).SECRET_KEY.encode()
    mac = hmac.new(key, f"unsub:{tenant_id}:{customer_id}".encode(), hashlib.sha256).hexdigest()[:24]
    return f"{customer_id}.{mac}"


def check_unsubscribe_token(tenant_id: str, token: str) -> str | None:
    customer_id, _, _mac = (token or "").partition(".")
    if customer_id and len(token) <= 200 and hmac.compare_digest(
            unsubscribe_token(tenant_id, customer_id).encode(), token.encode()):
        return customer_id
    return None


def unsubscribe_link(tenant_id: str, customer_id: str, config: Config | None = None) -> str:
    config = config or Config()
    return f"{config.PUBLIC_URL.rstrip('/')}/notify/u/{tenant_id}/{unsubscribe_token(tenant_id, customer_id, config)}"


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
          sms_always: bool = False, chats: dict | None = None) -> Route:
    """The cheapest channel the customer opted into, among the tenant's enabled ones.
    `chats`: the customers' active bot chats, prefetched ({(channel, customer id): chat id})."""
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
            if chats is not None and customer is not None:
                chat_id = chats.get((ch, customer.id))
                if chat_id is not None:
                    return Route(ch, chat_id)
                continue
            link = chat_for(session, tenant_id, ch, customer.id if customer else None, phone)
            if link is not None:
                return Route(ch, link.chat_id)
        elif ch == "email":
            if customer is not None and customer.email and has_consent(customer, "email"):
                return Route(ch, customer.email)
        elif ch == "sms" and phone:
            return Route(ch, phone)
    if refused:
        return Route(None, None, no_consent_reason(refused), "no_consent")
    return Route(None, None, NO_CHANNEL, "no_channel")


def render_for(session: Session, msg: OutboxMessage, config: Config | None = None) -> bool:
    """(Re-)render the message for its channel; False when the topic is switched off."""
    text, subject, enabled = template_for(session, msg.tenant_id, msg.topic, msg.channel)
    # A mailing or a chain step with a text of its own sends that text, not the topic's template.
    text = (msg.context or {}).get("text") or text
    body = render(text, msg.context or {})
    if msg.channel == "email" and msg.advertising and msg.customer_id:
        body += "\n\nОтписаться от рассылки: " + unsubscribe_link(msg.tenant_id, msg.customer_id, config)
    msg.text, msg.subject = body, subject
    if msg.channel == "sms":
        size = sms_size(body)
        msg.parts = size.parts
        msg.expected_cost = size.parts * int(get_settings(session, msg.tenant_id).get("sms_part_price", 0))
    else:
        msg.parts, msg.expected_cost = 1, 0
    return enabled


def _context(session: Session, customer: Customer | None, context: dict, tenant_id: str,
             config: Config | None = None) -> dict:
    ctx = dict(context or {})
    if "shop" not in ctx:
        names = session.info.setdefault("notify_shop", {})
        if tenant_id not in names:
            tenant = session.get(Tenant, tenant_id)
            names[tenant_id] = tenant.name if tenant else ""
        ctx["shop"] = names[tenant_id]
    if customer is not None:
        ctx.setdefault("name", customer.first_name or "")
        if customer.card_number:
            ctx.setdefault("card", customer.card_number)
        if "unsubscribe" not in ctx:
            ctx["unsubscribe"] = unsubscribe_link(tenant_id, customer.id, config)
    return ctx


def _json_safe(value):
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


def _build(session: Session, tenant_id: str, customer: Customer | None, *, topic: str, context: dict,
           dedupe_key: str, advertising: bool, phone: str | None, channel: str | None, now,
           chats: dict | None = None, client_ip: str | None = None,
           config: Config | None = None) -> OutboxMessage | None:
    """The message row (not added to the session); None when the topic is switched off.
    `config`: the hub's settings read once for a batch (secret key and public URL)."""
    advertising = bool(advertising or topic in ADVERTISING_TOPICS)
    r = route(session, tenant_id, customer, phone, advertising, channel, sms_always=topic == "code",
              chats=chats)
    ctx = _json_safe(_context(session, customer, context, tenant_id, config))
    if phone:
        ctx.setdefault("phone", phone)
    msg = OutboxMessage(id=new_id(), tenant_id=tenant_id, customer_id=customer.id if customer else None,
                        topic=topic, context=ctx, dedupe_key=dedupe_key, advertising=advertising,
                        channel=r.channel, recipient=r.recipient, status="queued", created_at=now,
                        updated_at=now, next_attempt_at=now, attempts=0, parts=1, expected_cost=0, text="",
                        client_ip=client_ip)
    if r.channel is not None:
        provider_row = registry.enabled_channels(session, tenant_id).get(r.channel)
        msg.provider = provider_row.provider if provider_row else None
        if not render_for(session, msg, config):
            return None
        if advertising:
            settings = get_settings(session, tenant_id)
            tz = tenant_timezone(session, tenant_id)
            later = quiet_until(now, tz, settings.get("quiet_hours"))
            if later is not None:
                msg.next_attempt_at = later
                msg.reason, msg.reason_code = quiet_reason(later, tz), "quiet_hours"
    else:
        render_for(session, msg, config)
        reason, code = r.reason, r.code
        if topic == "code" and code == "no_channel":
            reason, code = NO_CODE_CHANNEL, "no_sms_channel"
        msg.status, msg.reason, msg.reason_code, msg.next_attempt_at = "suppressed", reason, code, None
        # Nothing will be sent: nothing to keep of a code.
        msg.context = {k: v for k, v in ctx.items() if k != CODE_SECRET}
    return msg


def enqueue(session: Session, *, tenant_id: str, customer_id: str | None, topic: str, context: dict,
            dedupe_key: str, advertising: bool = False, phone: str | None = None,
            channel: str | None = None, client_ip: str | None = None) -> OutboxMessage | None:
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
    msg = _build(session, tenant_id, customer, topic=topic, context=context, dedupe_key=dedupe_key,
                 advertising=advertising, phone=phone, channel=channel, now=utcnow(), client_ip=client_ip)
    if msg is None:
        return None
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


_COLUMNS = tuple(c.key for c in OutboxMessage.__table__.columns)
CHUNK = 1000


def _chunks(values: list, size: int = CHUNK):
    for i in range(0, len(values), size):
        yield values[i:i + size]


def enqueue_many(session: Session, tenant_id: str, items: list[dict]) -> int:
    """Write many outbox rows of one tenant in the caller's transaction (no commit): the same
    rules as `enqueue` per item (keys: customer_id, topic, context, dedupe_key, and optional
    advertising, phone, channel), with the customers and their bot chats read in one query
    each and the rows written with set-based INSERT … ON CONFLICT (tenant_id, dedupe_key)
    DO NOTHING, so an event already queued (or twice in the batch) gives no second message.
    Returns how many rows were new."""
    seen: set[str] = set()
    batch = []
    for it in items:
        key = it["dedupe_key"][:300]
        if key not in seen:
            seen.add(key)
            batch.append({**it, "dedupe_key": key})
    if not batch:
        return 0
    enabled = {}
    for topic in {it["topic"] for it in batch}:
        check_topic(topic)
        enabled[topic] = template_for(session, tenant_id, topic, None)[2]
    batch = [it for it in batch if enabled[it["topic"]]]
    ids = sorted({it["customer_id"] for it in batch if it.get("customer_id")})
    customers: dict[str, Customer] = {}
    for part in _chunks(ids):
        customers.update((c.id, c) for c in session.scalars(
            select(Customer).where(Customer.tenant_id == tenant_id, Customer.id.in_(part))))
    chats: dict[tuple[str, str], str] = {}
    messengers = [c for c in ("telegram", "max") if c in registry.enabled_channels(session, tenant_id)]
    if messengers:
        for part in _chunks(ids):
            for ch, cid, chat_id in session.execute(
                    select(ChatLink.channel, ChatLink.customer_id, ChatLink.chat_id)
                    .where(ChatLink.tenant_id == tenant_id, ChatLink.channel.in_(messengers),
                           ChatLink.active.is_(True), ChatLink.customer_id.in_(part))
                    .order_by(ChatLink.created_at)):
                chats[(ch, cid)] = chat_id           # the newest chat wins, as in chat_for
    now = utcnow()
    config = Config()
    rows = []
    for it in batch:
        cid = it.get("customer_id")
        customer = customers.get(cid) if cid else None
        if cid and customer is None:
            raise ValueError("customer of another tenant")
        msg = _build(session, tenant_id, customer, topic=it["topic"], context=it.get("context") or {},
                     dedupe_key=it["dedupe_key"], advertising=bool(it.get("advertising")),
                     phone=it.get("phone"), channel=it.get("channel"), now=now, chats=chats, config=config)
        if msg is not None:
            rows.append({k: getattr(msg, k) for k in _COLUMNS})
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:  # pragma: no cover - the hub runs on PostgreSQL and SQLite
        dialect_insert = insert
    # Core executemany: SQLAlchemy sends it as multi-row INSERT … VALUES pages ("insertmanyvalues")
    # with one cached compiled statement, RETURNING only the rows really inserted.
    table = OutboxMessage.__table__
    stmt = dialect_insert(table).on_conflict_do_nothing(index_elements=["tenant_id", "dedupe_key"]) \
        .returning(table.c.id, table.c.status)
    session.flush()
    new = 0
    pending = session.info.setdefault(PENDING_KEY, [])
    for mid, status in session.connection().execute(stmt, rows).all():
        new += 1
        if status == "queued":
            pending.append(mid)
    return new


# --- one-time codes ------------------------------------------------------------------------

def send_code(session: Session, tenant_id: str, phone: str, code: str, purpose: str,
              ip: str | None = None, ttl: timedelta | None = None) -> OutboxMessage | None:
    """A confirmation code to `phone` through the cheapest channel that reaches it (a bot
    chat linked to that phone, else SMS), in the caller's transaction. Limited per phone:
    not twice within `code_limit.per_phone_interval` seconds, at most
    `code_limit.per_phone_hour` an hour; and, when the caller knows the client's `ip` (the
    web cabinets), at most `code_limit.per_ip_hour` codes an hour from that address, whatever
    the phones (Invalid "code_rate_limited" otherwise, nothing written). Codes are service
    messages: no advertising consent, no quiet hours. `ttl`: the code's life (10 minutes by
    default): it is not sent later than that. Whether it goes: `code_problem(row)`."""
    phone = normalize_phone(phone)
    limits = get_settings(session, tenant_id).get("code_limit") or {}
    now = utcnow()
    # Limited per phone and purpose: a registration code and, a minute later, the code that
    # confirms spending are one normal visit to the till, not abuse.
    prefix = f"code:{phone}:{purpose}:"
    codes = select(OutboxMessage).where(OutboxMessage.tenant_id == tenant_id, OutboxMessage.topic == "code")
    # A code that was never sent (no channel) is no reason to make the customer wait.
    base = codes.where(OutboxMessage.dedupe_key.startswith(prefix, autoescape=True),
                       OutboxMessage.status != "suppressed")
    last = session.scalar(base.with_only_columns(func.max(OutboxMessage.created_at)))
    interval = int(limits.get("per_phone_interval", 60))
    if last is not None and (now - last).total_seconds() < interval:
        left = int(interval - (now - last).total_seconds()) + 1
        raise Invalid("code_rate_limited", f"Код уже отправлен. Новый можно запросить через {left} с.",
                      {"repeat_after": left})
    hour_ago = now - timedelta(hours=1)
    hourly = session.scalar(base.where(OutboxMessage.created_at > hour_ago).with_only_columns(func.count()))
    if hourly >= int(limits.get("per_phone_hour", 5)):
        raise Invalid("code_rate_limited", "Слишком много кодов на этот номер. Попробуйте через час.",
                      {"phone": ["Слишком много кодов за этот час."]})
    ip = (ip or "").strip()[:45] or None
    if ip is not None:
        from_ip = session.scalar(codes.where(OutboxMessage.client_ip == ip, OutboxMessage.created_at > hour_ago)
                                 .with_only_columns(func.count()))
        if from_ip >= int(limits.get("per_ip_hour", 20)):
            raise Invalid("code_rate_limited", "Слишком много запросов кода с этого адреса. Попробуйте через час.",
                          {"ip": ["Слишком много кодов за этот час."]})
    customer = session.scalar(select(Customer).where(Customer.tenant_id == tenant_id,
                                                     Customer.phone == phone))
    # The row keeps the code masked; the code itself travels to delivery encrypted with the
    # instance key and its deadline (the code's own life), so a retry still can send it and
    # nobody reading the database, the log or the API sees it.
    secret = encrypt({"code": code, "until": (now + (ttl or CODE_LIFE)).isoformat()})
    return enqueue(session, tenant_id=tenant_id, customer_id=customer.id if customer else None,
                   topic="code", context={"code": CODE_MASK, "purpose": purpose, CODE_SECRET: secret},
                   phone=phone, dedupe_key=f"{prefix}{now.isoformat()}:{secrets.token_hex(4)}", client_ip=ip)


def code_problem(msg: OutboxMessage | None) -> str | None:
    """Why a code given to `send_code` will not reach the customer (Russian, for the screen
    and the till's answer); None when it is on its way."""
    if msg is None:
        return CODE_OFF
    if msg.status == "suppressed":
        return msg.reason or NO_CODE_CHANNEL
    return None


def code_text(msg: OutboxMessage) -> str | None:
    """The text to hand to the provider: the stored text with the real code put back while
    the code lives; None when the code is gone or dead (it must not be sent late)."""
    if msg.topic != "code":
        return msg.text
    from datetime import datetime

    try:
        data = decrypt((msg.context or {}).get(CODE_SECRET))
        until = datetime.fromisoformat(data["until"])
    except (Undecryptable, KeyError, TypeError, ValueError):
        return None
    if until <= utcnow() or not data.get("code"):
        return None
    return (msg.text or "").replace(CODE_MASK, str(data["code"]))
