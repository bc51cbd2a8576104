"""The inbound-event inbox: store first, acknowledge, process in a job, retry with backoff.

Nothing a partner sends is lost (it is committed before the answer) or applied twice (the
(source, dedupe key) pair is unique, and handlers call idempotent core operations).
"""
from __future__ import annotations

import logging
import re
import traceback
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.errors import NotFound
from hub.staff.operations import Actor, record
from hub.extensions import db, unit_of_work
from hub.connections.models import InboundEvent
from hub.orm import utcnow
from hub.jobs import get_queue
from hub.jobs import InlineQueue
from hub.config import Config

log = logging.getLogger("kopilka.inbox")

MAX_ATTEMPTS = 5
BACKOFF = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10),
           timedelta(hours=1), timedelta(hours=6))

Handler = Callable[[Session, InboundEvent], None]
_handlers: dict[tuple[str, str], Handler] = {}


def register_handler(source: str, kind: str, fn: Handler) -> None:
    """The function that applies events of one source and kind (hub.adapters names them all)."""
    _handlers[(source, kind)] = fn


class PermanentError(Exception):
    """An event that can never succeed (e.g. a document of an unknown store): no retries."""


def store_event(session: Session, *, tenant_id: str, connection_id: str | None, source: str,
                kind: str, dedupe_key: str, body: dict | list) -> tuple[InboundEvent, bool]:
    """Commit the event; (event, created). A duplicate delivery returns the stored one."""
    existing = session.scalar(select(InboundEvent).where(InboundEvent.source == source,
                                                         InboundEvent.dedupe_key == dedupe_key))
    if existing is not None:
        session.rollback()
        return existing, False
    try:
        with unit_of_work(session):
            event = InboundEvent(tenant_id=tenant_id, connection_id=connection_id, source=source,
                                 kind=kind, dedupe_key=dedupe_key, body=body, status="received")
            session.add(event)
    except IntegrityError:      # the same delivery stored at once by another call (rolled back)
        event = session.scalar(select(InboundEvent).where(InboundEvent.source == source,
                                                          InboundEvent.dedupe_key == dedupe_key))
        return event, False
    return event, True


def process_event(session: Session, event_id: str, now: datetime | None = None) -> str:
    """Apply one event with its handler; returns the new status.

    Handlers call core services, which own their transactions and are idempotent, so the
    event's bookkeeping is written in transactions of its own around the handler: a crash
    between the two leaves an event that is simply applied (as a no-op) once more.
    """
    event = session.get(InboundEvent, event_id, populate_existing=True)
    if event is None or event.status == "done":
        session.rollback()
        return "done" if event else "missing"
    fn = _handlers.get((event.source, event.kind))
    now = now or utcnow()
    attempts = event.attempts + 1
    error: str | None = None
    permanent = False
    try:
        if fn is None:
            raise PermanentError(f"no handler for {event.source}/{event.kind}")
        with unit_of_work(session):
            fn(session, event)
    except Exception as exc:  # noqa: BLE001 - any failure of a handler is recorded on the event
        session.rollback()      # the handler's writes are undone already; this ends the read
        permanent = isinstance(exc, PermanentError)
        error = f"{type(exc).__name__}: {exc}"[:2000]
        log.warning("inbound event %s attempt %s failed: %s", event_id, attempts, error)
        log.debug("%s", traceback.format_exc())
    with unit_of_work(session):
        event = session.get(InboundEvent, event_id, populate_existing=True)
        event.attempts = attempts
        if error is None:
            event.status, event.last_error, event.processed_at, event.next_attempt_at = "done", None, now, None
        elif permanent or attempts >= MAX_ATTEMPTS:
            event.status, event.last_error, event.next_attempt_at = "failed", error, None
        else:
            event.status, event.last_error = "retry", error
            event.next_attempt_at = now + BACKOFF[min(attempts - 1, len(BACKOFF) - 1)]
        status = event.status
    return status


def process_event_job(event_id: str) -> str:
    """The rq job: a fresh session per job."""
    config = Config()
    db.configure(config.DATABASE_URL)
    try:
        status = process_event(db.session, event_id)
        if status == "retry":
            event = db.session.get(InboundEvent, event_id)
            delay = max(event.next_attempt_at - utcnow(), timedelta(seconds=1))
            get_queue(config).enqueue_in(delay, process_event_job, event_id)
        return status
    finally:
        db.session.remove()


def dispatch(session: Session, event: InboundEvent) -> None:
    """Hand a stored event to the queue (rq), or process it now (embedded default)."""
    queue = get_queue()
    if isinstance(queue, InlineQueue):
        process_event(session, event.id)
    else:
        queue.enqueue(process_event_job, event.id)


def process_after_acknowledging(response, session: Session, events: list[InboundEvent]):
    """The webhook's answer goes out first; then its new events are handed on.

    Partners time their webhooks out (МойСклад waits 1500 ms), so nothing after the commit
    of the inbox rows may delay the answer: once the response is closed the events are
    processed (jobs inline) or enqueued (rq). Enqueueing fails fast when Redis hangs or is
    down (hub.jobs.REDIS_TIMEOUT, no retries), and the first failure leaves the rest alone:
    an event that cannot be handed over stays "received" and the inbox sweep
    (`retry_due`, run by every automation sweep) picks it up.
    """
    if not events:
        return response
    ids = [event.id for event in events]
    response.call_on_close(lambda: hand_over(ids))
    return response


def hand_over(event_ids: list[str]) -> int:
    """Process (inline) or enqueue (rq) stored events; returns how many were handed over.
    Never raises: what is not handed over waits for the sweep."""
    session = db.session
    done = 0
    try:
        queue = get_queue()
        inline = isinstance(queue, InlineQueue)
        for event_id in event_ids:
            try:
                if inline:
                    process_event(session, event_id)
                else:
                    queue.enqueue(process_event_job, event_id)
                done += 1
            except Exception:  # recorded on the event / left for the sweep
                session.rollback()
                if not inline:
                    log.warning("queue unavailable: %d inbound event(s) left for the sweep",
                                len(event_ids) - done)
                    break
                log.exception("processing inbound event %s failed", event_id)
    except Exception:  # e.g. a bad REDIS_URL: the sweep picks them up
        log.exception("inbound events could not be handed over")
    finally:
        db.session.remove()
    return done


def retry_due(session: Session, at: datetime, tenant_id: str | None = None) -> int:
    """Process events whose retry time has come (run by the automation sweep; for one tenant
    when `kopilka automation run --tenant` asks)."""
    stmt = select(InboundEvent.id).where(
        InboundEvent.status.in_(("retry", "received")),
        (InboundEvent.next_attempt_at.is_(None)) | (InboundEvent.next_attempt_at <= at))
    if tenant_id is not None:
        stmt = stmt.where(InboundEvent.tenant_id == tenant_id)
    due = list(session.scalars(stmt))
    session.rollback()
    for event_id in due:
        process_event(session, event_id, now=at)
    return len(due)


def is_pending(session: Session, source: str, dedupe_key: str) -> bool:
    """Is the event with this key stored and still waiting to be applied?"""
    return session.scalar(select(InboundEvent.id).where(
        InboundEvent.source == source, InboundEvent.dedupe_key == dedupe_key,
        InboundEvent.status.in_(("received", "retry")))) is not None


def reopen_event(session: Session, source: str, dedupe_key: str) -> None:
    """What the event with this key waited for has happened after all: apply it again now
    (nothing when it is unknown or already done)."""
    event = session.scalar(select(InboundEvent).where(InboundEvent.source == source,
                                                      InboundEvent.dedupe_key == dedupe_key))
    if event is None or event.status == "done":
        session.rollback()
        return
    with unit_of_work(session):
        event.status, event.next_attempt_at = "retry", None
        event_id = event.id
    process_event(session, event_id)


def retry_event(session: Session, tenant_id: str, event_id: str, by: Actor | None = None) -> InboundEvent:
    """A person asks for one more try of a failed event (`by`: audited first, in its own
    transaction, so the request stays on record whatever the try does)."""
    event = session.scalar(select(InboundEvent).where(InboundEvent.tenant_id == tenant_id,
                                                      InboundEvent.id == event_id))
    if event is None:
        raise NotFound("event_not_found", "Событие не найдено.")
    if by is not None:
        with unit_of_work(session):
            record(session, tenant_id, by, "inbox.retry", "event", event.id,
                   {"connection": event.connection_id, "kind": event.kind, "status_before": event.status})
    if event.status != "done":
        with unit_of_work(session):
            event.status, event.next_attempt_at = "retry", None
        process_event(session, event_id)
    return session.get(InboundEvent, event_id, populate_existing=True)


def list_events(session: Session, tenant_id: str, status: str | None = None, source: str | None = None,
                limit: int = 100) -> list[InboundEvent]:
    stmt = select(InboundEvent).where(InboundEvent.tenant_id == tenant_id)
    if status:
        stmt = stmt.where(InboundEvent.status == status)
    if source:
        stmt = stmt.where(InboundEvent.source == source)
    return list(session.scalars(stmt.order_by(InboundEvent.received_at.desc()).limit(limit)))


def reason(event: InboundEvent) -> str | None:
    """Why the event is not applied, in words for the shop's owner: the handler's own Russian
    message without the exception's class name (`last_error` keeps both, for support); an
    unexpected error with no message for people is named as one."""
    if not event.last_error:
        return None
    _, _, message = event.last_error.partition(": ")
    if re.search("[а-яА-ЯёЁ]", message):
        return message
    return f"Внутренняя ошибка при обработке события ({event.last_error}). Повторите позже."


def failed_count(session: Session, tenant_id: str) -> int:
    """How many of the tenant's events failed for good (the cabinet's summary warns of them)."""
    return int(session.scalar(select(func.count()).select_from(InboundEvent).where(
        InboundEvent.tenant_id == tenant_id, InboundEvent.status == "failed")) or 0)


def describe(event: InboundEvent) -> dict:
    return {"id": event.id, "source": event.source, "kind": event.kind,
            "dedupe_key": event.dedupe_key, "status": event.status, "attempts": event.attempts,
            "last_error": event.last_error, "reason": reason(event),
            "received_at": event.received_at.isoformat(),
            "next_attempt_at": event.next_attempt_at.isoformat() if event.next_attempt_at else None,
            "processed_at": event.processed_at.isoformat() if event.processed_at else None}


