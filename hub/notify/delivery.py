"""Delivery of outbox messages: after the commit, by the worker and by the sweep.

* After a commit that queued messages (written in the sale's own transaction), a web request
  hands their ids on only after its response has been sent (Werkzeug's `call_on_close`), so
  a sale never waits for Redis or a provider: to rq (`deliver_job`, through the process's one
  Redis client, hub.jobs.redis_client, ≤ 300 ms) when REDIS_URL is set, else delivered there
  and then. If Redis is down the ids are only logged — the rows are in the database and the
  sweep sends them later. Elsewhere (CLI, jobs) they go to rq at once, or without Redis to
  the `notify` sweep of the same automation run.
* `deliver(session, id)` claims one message (row lock, SKIP LOCKED on PostgreSQL; a
  "sending" lease so a crashed worker's message is retried), re-checks consent, quiet hours
  and the channel, calls the provider outside any transaction and records the outcome:
  sent (provider id, cost) / retry with backoff (timeouts, 5xx, 429) / failed with the
  provider's reason (4xx) / a messenger refusal switched to SMS where the tenant allows.
* Per-channel rate limits (Telegram about 30/s per bot and 1/s per chat; MAX 30/s and
  2/s per chat) are kept per process, and across workers in Redis when it is there.
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import event, select, text, update
from sqlalchemy.orm import Session

from hub.clock import utcnow
from hub.config import Config
from hub.customers.models import Customer
from hub.notify.models import ChatLink, NotifyChannel, OutboxMessage
from hub.notify import registry
from hub.notify.channels import Channel, PermanentError, SendResult, TimeoutUnknown, TransientError
from hub.notify.outbox import CODE_EXPIRED, PENDING_KEY, code_text, render_for, route
from hub.notify.rules import (CHANNEL_NAMES, get_settings, has_consent, quiet_reason, quiet_until,
                              tenant_timezone)
from hub.jobs import redis_client
from hub.extensions import db, unit_of_work
from hub.jobs import QUEUE_NAME

log = logging.getLogger("kopilka.notify")

LEASE = timedelta(minutes=2)            # a "sending" row older than this is retried
BACKOFF = (30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600)   # seconds
MAX_WAIT_INLINE = 1.0                   # rate-limit waits longer than this defer the row
DUE_STATUSES = ("queued", "sending")


# --- rate limits ---------------------------------------------------------------------------

class Limiter:
    """Spacing of sends per key in this process (monotonic time), plus a shared window in
    Redis when configured so several workers keep one bot under its limit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}

    def reserve(self, key: str, interval: float) -> float:
        """Seconds to wait before the next send under `key`; the slot is taken."""
        with self._lock:
            now = time.monotonic()
            at = max(now, self._next.get(key, 0.0))
            self._next[key] = at + interval
            if len(self._next) > 100_000:       # forget old chats
                self._next = {k: v for k, v in self._next.items() if v > now}
            return at - now

    def shared(self, key: str, per_second: float) -> float:
        url = Config().REDIS_URL
        if not url:
            return 0.0
        try:
            r = _redis(url)
            sec, usec = r.time()
            window = f"kopilka:notify:rl:{key}:{sec}"
            count = r.incr(window)
            if count == 1:
                r.expire(window, 2)
            if count > per_second:
                return 1.0 - usec / 1_000_000
        except Exception:  # noqa: BLE001 - an unreadable URL is shown as "?"
            return 0.0
        return 0.0


limiter = Limiter()


def _redis(url: str):
    # The process's one client (hub.jobs): ≤ 300 ms to connect and per command, no retries.
    return redis_client(url)


def _rate_wait(row_channel: str, provider: Channel, tenant_id: str, recipient: str) -> float:
    wait = 0.0
    if provider.per_second:
        bot = f"{tenant_id}:{row_channel}"
        wait = max(wait, limiter.reserve(bot, 1.0 / provider.per_second),
                   limiter.shared(bot, provider.per_second))
    if provider.per_chat_interval:
        wait = max(wait, limiter.reserve(f"{tenant_id}:{row_channel}:{recipient}",
                                         provider.per_chat_interval))
    return wait


# --- channel objects -----------------------------------------------------------------------

_built: dict[tuple, Channel] = {}


def _channel(session: Session, tenant_id: str, channel: str) -> Channel | None:
    row = registry.enabled_channels(session, tenant_id).get(channel)
    if row is None:
        return None
    key = (row.id, row.provider, row.updated_at)
    built = _built.get(key)
    if built is None:
        if len(_built) > 1000:
            _built.clear()
        built = _built[key] = registry.build(row)
    return built


# --- one message ---------------------------------------------------------------------------

def _claim(session: Session, message_id: str, now: datetime, claimed: bool = False) -> OutboxMessage | None:
    stmt = select(OutboxMessage).where(OutboxMessage.id == message_id,
                                       OutboxMessage.status.in_(DUE_STATUSES))
    if not claimed and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    msg = session.scalars(stmt.execution_options(populate_existing=True)).first()
    if msg is None:
        return None
    if claimed and msg.status == "sending":      # taken by claim_batch for this worker
        return msg
    if msg.next_attempt_at is not None and msg.next_attempt_at > now:
        return None
    return msg


def _relaxed_commit(session: Session) -> None:
    """Commit a status change. On PostgreSQL without waiting for the WAL flush: a database
    crash may forget the last few milliseconds of statuses, and those messages are then sent
    again after their lease (at least once), which the outbox allows anyway."""
    _relax(session)
    session.commit()


def _relax(session: Session) -> None:
    """This transaction's commit does not wait for the WAL flush (PostgreSQL only)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))


def _finish(session: Session, msg: OutboxMessage, status: str, reason: str | None, now: datetime,
            next_at: datetime | None = None, code: str | None = None) -> str:
    """Record the outcome: `reason` in Russian for the owner's message log, `code` the same
    as a machine code (consent_withdrawn, quiet_hours, bad_number, no_funds, unavailable...)."""
    msg.status, msg.reason, msg.next_attempt_at, msg.updated_at = status, reason, next_at, now
    msg.reason_code = code if reason is not None else None
    _relaxed_commit(session)
    return status


def _backoff(attempts: int, retry_after: float | None) -> timedelta:
    base = BACKOFF[min(attempts, len(BACKOFF)) - 1] if attempts > 0 else BACKOFF[0]
    return timedelta(seconds=max(base, retry_after or 0))


def deliver(session: Session, message_id: str, now: datetime | None = None, *,
            claimed: bool = False) -> str:
    """Try to send one message now; returns what became of it (sent, queued, failed,
    suppressed, skipped). Commits; never raises for a provider's trouble. `claimed`: the
    row was taken by `claim_batch` (status "sending" under this worker's lease)."""
    now = now or utcnow()
    try:
        msg = _claim(session, message_id, now, claimed)
    except Exception:
        session.rollback()
        raise
    if msg is None:
        session.rollback()
        return "skipped"
    return _process(session, msg, now, claimed)


def _process(session: Session, msg: OutboxMessage, now: datetime, claimed: bool) -> str:
    message_id = msg.id
    try:
        tenant_id = msg.tenant_id
        settings = get_settings(session, tenant_id)
        customer = session.get(Customer, msg.customer_id, populate_existing=True) \
            if msg.customer_id and (msg.advertising or msg.channel is None) else None

        if msg.advertising:
            if not has_consent(customer, msg.channel):
                return _finish(session, msg, "suppressed",
                               "Клиент отозвал согласие на рекламу в этом канале "
                               f"({CHANNEL_NAMES.get(msg.channel, msg.channel)})", now, code="consent_withdrawn")
            tz = tenant_timezone(session, tenant_id)
            later = quiet_until(now, tz, settings.get("quiet_hours"))
            if later is not None:
                return _finish(session, msg, "queued", quiet_reason(later, tz), now, later, code="quiet_hours")

        try:
            provider = _channel(session, tenant_id, msg.channel) if msg.channel else None
            if provider is None:
                r = route(session, tenant_id, customer, msg.context.get("phone"), msg.advertising)
                if r.channel is None:
                    return _finish(session, msg, "suppressed", r.reason, now, code=r.code)
                msg.channel, msg.recipient = r.channel, r.recipient
                render_for(session, msg)
                provider = _channel(session, tenant_id, msg.channel)
        except ValueError as exc:   # credentials no configured key opens: wait for the admin
            log.warning("notify: channel %s of tenant %s unusable: %s", msg.channel, tenant_id, exc)
            return _finish(session, msg, "queued",
                           "Канал не работает: учётные данные не расшифровываются, введите их заново",
                           now, now + _backoff(max(msg.attempts, 1), None), code="channel_unusable")
        if msg.channel in ("telegram", "max"):
            link = session.scalar(select(ChatLink).where(
                ChatLink.tenant_id == tenant_id, ChatLink.channel == msg.channel,
                ChatLink.chat_id == msg.recipient))
            if link is not None and not link.active:
                if customer is None and msg.customer_id:
                    customer = session.get(Customer, msg.customer_id)
                return _fallback(session, msg, customer, settings, "Клиент отключил бота", now,
                                 "chat_inactive")

        wait = _rate_wait(msg.channel, provider, tenant_id, msg.recipient or "")
        if wait > MAX_WAIT_INLINE:
            return _finish(session, msg, "queued", msg.reason, now, now + timedelta(seconds=wait),
                           code=msg.reason_code)

        body = code_text(msg)            # a code's real text, kept only encrypted and while it lives
        if body is None:
            return _finish(session, msg, "failed", CODE_EXPIRED, now, code="code_expired")
        timed_out_before = msg.reason_code == "timeout" or bool(
            msg.reason_code is None and msg.reason and msg.reason.startswith("timeout"))   # rows of before 0016
        attempts, channel, recipient, subject = msg.attempts + 1, msg.channel, msg.recipient, msg.subject
        if claimed and msg.status == "sending" and msg.next_attempt_at and msg.next_attempt_at > now \
                and not session.dirty:
            session.commit()              # claim_batch gave us the lease: nothing to write yet
        else:
            msg.status, msg.attempts = "sending", attempts
            msg.provider = provider.provider
            msg.next_attempt_at, msg.updated_at = now + LEASE, now
            session.commit()              # the row is ours for LEASE; no transaction while we call out
        if wait > 0:
            time.sleep(wait)

        result: SendResult | None = None
        error: Exception | None = None
        try:
            if timed_out_before:
                result = provider.lookup(recipient, body)
            if result is None:
                result = provider.send(recipient, body, subject=subject,
                                       callback_url=_callback_url(session, tenant_id, channel))
        except (TransientError, PermanentError) as exc:
            error = exc
        except Exception as exc:  # a bug in a channel must not stop the worker
            log.exception("notify: channel %s crashed", channel)
            error = TransientError(f"Внутренняя ошибка канала ({type(exc).__name__})", code="internal_error")

        if not claimed:
            msg = session.get(OutboxMessage, message_id, populate_existing=True)
            if msg is None or msg.status != "sending":
                session.rollback()
                return "skipped"
        msg.attempts, msg.provider = attempts, provider.provider
        if result is not None:
            msg.provider_message_id = result.provider_message_id
            msg.cost = result.cost if result.cost is not None else msg.expected_cost
            msg.sent_at = now
            if result.status == "delivered":
                msg.delivered_at = now
            if result.balance is not None:
                _remember_balance(session, tenant_id, channel, provider.provider, result.balance, now)
            return _finish(session, msg, result.status, None, now)
        if isinstance(error, PermanentError):
            if channel in ("telegram", "max"):
                if customer is None and msg.customer_id:
                    customer = session.get(Customer, msg.customer_id)
                _deactivate_if_blocked(session, msg, error.code)
                return _fallback(session, msg, customer, settings, error.reason, now, error.code)
            return _finish(session, msg, "failed", error.reason, now, code=error.code)
        reason = error.reason if isinstance(error, TransientError) else "Внутренняя ошибка канала"
        code = "timeout" if isinstance(error, TimeoutUnknown) else getattr(error, "code", "internal_error")
        if attempts >= int(settings.get("max_attempts", 8)):
            return _finish(session, msg, "failed", f"Попытки исчерпаны ({attempts}): {reason}", now,
                           code="attempts_exhausted")
        return _finish(session, msg, "queued", reason, now,
                       now + _backoff(attempts, getattr(error, "retry_after", None)), code=code)
    except Exception:
        session.rollback()
        raise


def _deactivate_if_blocked(session: Session, msg: OutboxMessage, code: str) -> None:
    if code in ("blocked", "chat_not_found"):
        link = session.scalar(select(ChatLink).where(
            ChatLink.tenant_id == msg.tenant_id, ChatLink.channel == msg.channel,
            ChatLink.chat_id == msg.recipient))
        if link is not None:
            link.active = False


def _fallback(session: Session, msg: OutboxMessage, customer: Customer | None, settings: dict,
              reason: str, now: datetime, code: str | None = None) -> str:
    """A messenger refused: SMS instead where the tenant allows it, else the message fails."""
    if settings.get("sms_fallback", True) or msg.topic == "code":
        r = route(session, msg.tenant_id, customer, msg.context.get("phone"), msg.advertising,
                  exclude=("telegram", "max", "email"), sms_always=msg.topic == "code")
        if r.channel == "sms":
            msg.channel, msg.recipient = r.channel, r.recipient
            row = registry.enabled_channels(session, msg.tenant_id).get("sms")
            msg.provider = row.provider if row else None
            render_for(session, msg)
            return _finish(session, msg, "queued", f"Отправим по SMS: {reason}"[:500], now, now, code="fallback")
    return _finish(session, msg, "failed", reason, now, code=code)


def _remember_balance(session: Session, tenant_id: str, channel: str, provider: str, balance: int,
                      now: datetime) -> None:
    """The provider account's balance from the last send answer, on the channel's row (the
    owner's checklist and channel page read it; committed with the message's outcome)."""
    row = session.scalars(select(NotifyChannel).where(
        NotifyChannel.tenant_id == tenant_id, NotifyChannel.channel == channel,
        NotifyChannel.provider == provider)).first()
    if row is not None:
        row.settings = {**(row.settings or {}), "balance": balance, "balance_at": now.isoformat()}


def _callback_url(session: Session, tenant_id: str, channel: str) -> str | None:
    if channel != "sms":
        return None
    row = registry.enabled_channels(session, tenant_id).get("sms")
    if row is None or row.provider != "smsaero" or not registry.webhook_secret(row):
        return None
    return registry.webhook_url(row, Config().PUBLIC_URL)


# --- many messages -------------------------------------------------------------------------

def due_ids(session: Session, at: datetime, limit: int, tenant_id: str | None = None) -> list[str]:
    stmt = (select(OutboxMessage.id)
            .where(OutboxMessage.status.in_(DUE_STATUSES), OutboxMessage.next_attempt_at <= at)
            .order_by(OutboxMessage.next_attempt_at).limit(limit))
    if tenant_id:
        stmt = stmt.where(OutboxMessage.tenant_id == tenant_id)
    ids = list(session.scalars(stmt))
    session.rollback()
    return ids


def claim_batch(session: Session, at: datetime, limit: int,
                tenant_id: str | None = None) -> list[OutboxMessage]:
    """Take up to `limit` due messages for this worker (status "sending" with a lease), so
    several workers share the queue without trying the same rows; commits."""
    sub = (select(OutboxMessage.id)
           .where(OutboxMessage.status.in_(DUE_STATUSES), OutboxMessage.next_attempt_at <= at)
           .order_by(OutboxMessage.next_attempt_at).limit(limit))
    if tenant_id:
        sub = sub.where(OutboxMessage.tenant_id == tenant_id)
    if session.get_bind().dialect.name == "postgresql":
        sub = sub.with_for_update(skip_locked=True)
    stmt = (update(OutboxMessage).where(OutboxMessage.id.in_(sub.scalar_subquery()))
            .values(status="sending", next_attempt_at=at + LEASE, updated_at=at)
            .returning(OutboxMessage)
            .execution_options(synchronize_session=False, populate_existing=True))
    with unit_of_work(session):
        rows = list(session.scalars(stmt))
        _relax(session)
    return rows


def deliver_due(session: Session, at: datetime | None = None, *, limit: int = 10_000,
                batch: int = 200, tenant_id: str | None = None) -> int:
    """Send everything due by `at` (the sweep); returns how many were tried."""
    at = at or utcnow()
    done = 0
    while done < limit:
        rows = claim_batch(session, at, min(batch, limit - done), tenant_id)
        if not rows:
            break
        for msg in rows:
            _process(session, msg, at, claimed=True)
            done += 1
    return done


def deliver_ids(ids: list[str], session: Session | None = None) -> dict:
    own = session is None
    session = session or db.session
    out: dict[str, int] = {}
    try:
        for mid in ids:
            status = deliver(session, mid)
            out[status] = out.get(status, 0) + 1
    finally:
        if own:
            db.session.remove()
    return out


def deliver_job(ids: list[str]) -> dict:
    """The rq job: send these messages (a worker process configures its own database)."""
    db.configure(Config().DATABASE_URL)
    return deliver_ids(ids)


# --- after the commit ----------------------------------------------------------------------

def dispatch(ids: list[str]) -> str:
    """Hand freshly committed messages to delivery; never raises (the sweep is the net).

    In a web request nothing happens before the answer has been sent: a till never waits for
    Redis (enqueuing) or a provider (inline delivery) — a hung Redis costs it nothing."""
    ids = list(ids)
    from flask import after_this_request, has_request_context
    if has_request_context():
        @after_this_request
        def _after(response):
            response.call_on_close(lambda: _hand_over(ids, inline=True))
            return response
        return "after_response"
    return _hand_over(ids, inline=False)


def _hand_over(ids: list[str], *, inline: bool) -> str:
    """To rq when REDIS_URL is set; otherwise sent here (`inline`, after a response) or left
    to the `notify` sweep (CLI and jobs: `kopilka automation run` sends them in the same run)."""
    url = Config().REDIS_URL
    if url:
        try:
            from rq import Queue

            Queue(QUEUE_NAME, connection=_redis(url)).enqueue(
                deliver_job, ids, job_timeout=300, result_ttl=60, failure_ttl=86400)
            return "rq"
        except Exception as exc:  # noqa: BLE001 - an unreadable URL is shown as "?"
            log.warning("notify: Redis unavailable (%s); %d message(s) wait for the sweep",
                        type(exc).__name__, len(ids))
            return "sweep"
    if not inline:
        return "sweep"
    try:
        deliver_ids(ids)
    except Exception:
        log.exception("notify: inline delivery failed; the sweep retries")
    return "inline"


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():      # a savepoint: the outer transaction may still fail
        return
    ids = session.info.pop(PENDING_KEY, None)
    if ids:
        dispatch(ids)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)
    for key in ("notify_channels", "notify_templates", "notify_settings"):
        session.info.pop(key, None)


def sweep(session: Session, at: datetime, tenant_id: str | None = None) -> int:
    return deliver_due(session, at, tenant_id=tenant_id)

