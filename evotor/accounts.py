"""The Evotor cloud's acts on its users (the adapter's operations behind evotor/cloud.py):
linking an Evotor user to a new or an existing tenant, its cloud token, installation and
subscription events. Each act is one transaction through hub.extensions.unit_of_work, so the
cloud's views never commit (ARCHITECTURE.md, "Transactions"; issue 18)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import logging
import secrets
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from connectors.registry import (
    connection_by_account, create_connection, credentials_of, set_credentials,
)
from hub.errors import Conflict
from hub.extensions import unit_of_work
from hub.orm import utcnow
from hub.secrets import token_hash
from hub.tenants.operations import create_tenant
from evotor.common import (
    ALREADY_REGISTERED, INCORRECT, KIND, LINKED_ELSEWHERE, MISSING, EvotorError, first, update_settings,
)
from evotor.models import EvotorCloudEvent, EvotorPendingEvent, EvotorSubscription

if TYPE_CHECKING:   # annotations only: the adapter reads rows the hub's queries return
    from hub.connections.models import Connection

log = logging.getLogger("kopilka.evotor.cloud")

LINKED_ELSEWHERE_MESSAGE = "Этот пользователь Эвотор уже подключён к другой организации в Копилке."


# --- the acts ------------------------------------------------------------------------------

def start_user(session, user_id: str, name: str, profile: dict) -> str:
    """A new Evotor user starts with the app: a new tenant, linked to that user (a user
    linked already gets its token back, its connection active again); the user's token."""
    conn = linked(session, user_id)
    if conn is None:
        try:
            with unit_of_work(session):
                tenant, _key = create_tenant(session, name)   # its API key: `kopilka apikey create`
                _conn, token = _link(session, tenant.id, user_id, name, profile)
            return token
        except (Conflict, IntegrityError) as exc:     # a concurrent delivery of the same call won
            conn = linked(session, user_id)
            if conn is None:
                raise EvotorError(409, ALREADY_REGISTERED, "Учётная запись уже зарегистрирована.") from exc
    return reactivate(session, conn)


def join_user(session, tenant_id: str, user_id: str, profile: dict) -> str:
    """An Evotor user joins an existing tenant (whose credentials the caller checked); the
    user's token. A user linked to another tenant is refused."""
    conn = linked(session, user_id)
    if conn is not None and conn.tenant_id != tenant_id:
        raise EvotorError(409, LINKED_ELSEWHERE, LINKED_ELSEWHERE_MESSAGE, "userId")
    if conn is None:
        try:
            with unit_of_work(session):
                _conn, token = _link(session, tenant_id, user_id, f"Эвотор {user_id}", profile)
            return token
        except (Conflict, IntegrityError):
            conn = linked(session, user_id)
            if conn is None or conn.tenant_id != tenant_id:
                raise EvotorError(409, LINKED_ELSEWHERE, LINKED_ELSEWHERE_MESSAGE, "userId") from None
    return reactivate(session, conn)


def reactivate(session, conn: Connection) -> str:
    """A user already linked: the same token (a repeat of the call, or the app installed
    again), its connection active."""
    with unit_of_work(session):
        return _reactivate(conn)


def store_cloud_token(session, conn: Connection, token: str) -> None:
    """The user's Evotor cloud token (the hub calls api.evotor.ru with it)."""
    with unit_of_work(session):
        creds = credentials_of(conn)
        if creds.get("cloud_token") != token:
            set_credentials(conn, {**creds, "cloud_token": token})


def apply_installation_event(session, conn: Connection, body: dict) -> None:
    with unit_of_work(session):
        _apply_installation(session, conn, body)


def apply_subscription_event(session, conn: Connection, body: dict) -> None:
    with unit_of_work(session):
        _apply_subscription(session, conn, body)


# --- their steps ---------------------------------------------------------------------------

def linked(session, user_id: str) -> Connection | None:
    return connection_by_account(session, KIND, user_id)


def _token_of(conn: Connection) -> str:
    return credentials_of(conn).get("user_token") or ""


def _issue_token(conn: Connection) -> str:
    """A fresh user token for the connection: its hash for lookups, the token itself
    encrypted so a repeated create/verify answers the same token."""
    token = secrets.token_urlsafe(48)          # 64 characters, within Evotor's 128
    conn.inbound_token_hash = token_hash(token)
    set_credentials(conn, {**credentials_of(conn), "user_token": token})
    return token


def _reactivate(conn: Connection) -> str:
    """The answer for a user already linked: the same token (a repeat of the call, or the
    app installed again)."""
    if conn.status != "active":
        conn.status = "active"
        conn.updated_at = utcnow()
    token = _token_of(conn)
    if not token or conn.inbound_token_hash != token_hash(token):
        token = _issue_token(conn)
    return token


def _link(session, tenant_id: str, user_id: str, name: str, profile: dict) -> tuple[Connection, str]:
    conn, token = create_connection(session, tenant_id, kind=KIND, external_account=user_id,
                                    name=name, settings={"profile": profile}, vendor_flow=True)
    set_credentials(conn, {"user_token": token})
    apply_pending(session, conn)
    return conn, token


def _remember(session, conn: Connection, key: str, kind: str, body: dict) -> bool:
    """Record that the event is applied; False if it already was (a repeated delivery)."""
    exists = session.scalar(select(EvotorCloudEvent.id).where(
        EvotorCloudEvent.connection_id == conn.id, EvotorCloudEvent.event_key == key))
    if exists:
        return False
    session.add(EvotorCloudEvent(tenant_id=conn.tenant_id, connection_id=conn.id,
                                 event_key=key[:200], type=kind[:60], body=body))
    session.flush()
    return True


def timestamp(value, field: str = "timestamp") -> int:
    """Evotor's timestamps: milliseconds since the epoch (or an ISO 8601 moment)."""
    if value is None:
        return 0
    if isinstance(value, bool):
        raise EvotorError(400, INCORRECT, f"Неверное время события ({field}).", field)
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str):
        if value.strip().isdigit():
            return int(value.strip())
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise EvotorError(400, INCORRECT, f"Неверное время события ({field}).", field) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return int(moment.timestamp() * 1000)
    raise EvotorError(400, INCORRECT, f"Неверное время события ({field}).", field)


INSTALLATION_TYPES = ("ApplicationInstalled", "ApplicationUninstalled")


def keep_event(session, user_id: str, key: str, kind: str, body: dict) -> None:
    """An event for a user not linked yet: kept (once) and applied when the user links."""
    exists = session.scalar(select(EvotorPendingEvent.id).where(
        EvotorPendingEvent.user_id == user_id, EvotorPendingEvent.event_key == key[:200]))
    if exists is None:
        try:
            with unit_of_work(session):
                session.add(EvotorPendingEvent(user_id=user_id, event_key=key[:200], type=kind[:60],
                                               body=body))
        except IntegrityError:          # the same event delivered twice at once (rolled back)
            pass
    else:
        session.rollback()
    log.info("Evotor user %s is not linked yet: %s kept until it links", user_id, kind)


def _apply_installation(session, conn: Connection, body: dict, *, before_link: bool = False) -> None:
    """`before_link`: an event kept from before the user linked — linking came after it and
    means the app is installed, so it only moves the clock (older events stay ignored)."""
    kind = body.get("type")
    stamp = timestamp(body.get("timestamp"))
    key = f"installation:{body.get('id') or f'{kind}:{stamp}'}"
    if _remember(session, conn, key, kind, body) and kind in INSTALLATION_TYPES:
        last = int((conn.settings or {}).get("installation_ts") or 0)
        if stamp >= last:          # an older event delivered late changes nothing
            if not before_link:
                conn.status = "active" if kind == "ApplicationInstalled" else "uninstalled"
            update_settings(conn, installation_ts=stamp, installation=kind)
            conn.updated_at = utcnow()
            log.info("Evotor user %s: %s", conn.external_account, kind)


def event_type(body: dict, data: dict, what: str) -> str:
    kind = body.get("type") or data.get("type")
    if not isinstance(kind, str) or not kind.strip() or len(kind) > 60:
        raise EvotorError(400, MISSING if not kind else INCORRECT,
                          f"Не указан или неверен тип события {what} (type).", "type")
    return kind.strip()


SUBSCRIPTION_STATUS = {
    "SubscriptionCreated": "active", "SubscriptionActivated": "active",
    "SubscriptionRenewed": "active", "SubscriptionTermsChanged": "active",
    "SubscriptionReactivated": "active",
    "SubscriptionTerminationRequested": "cancelled",   # runs to the end of the paid period
    "SubscriptionCancelled": "cancelled",
    "SubscriptionTerminated": "terminated",  # the POS calls stop
}
# Every type Evotor's docs list; others (future ones) are acknowledged and recorded too.
SUBSCRIPTION_TYPES = ("SubscriptionCreated", "AddonsUpdated", "SubscriptionActivated",
                      "SubscriptionRenewed", "SubscriptionTermsChanged",
                      "SubscriptionTerminationRequested", "SubscriptionTerminated")


def subscription_fields(body: dict) -> tuple[dict, str, str, int, int]:
    data = body.get("data") if isinstance(body.get("data"), dict) else body
    kind = event_type(body, data, "подписки")
    sub_id = first(data, "subscriptionId", "subscriptionUuid")
    if not isinstance(sub_id, str) or not sub_id.strip() or len(sub_id) > 100:
        raise EvotorError(400, MISSING, "Не указан идентификатор подписки (subscriptionId).",
                          "subscriptionId", "missing")
    seq = first(data, "sequenceNumber")
    try:
        seq = int(seq) if seq is not None and not isinstance(seq, bool) else 0
    except (TypeError, ValueError):
        raise EvotorError(400, INCORRECT, "Неверный номер события (sequenceNumber).", "sequenceNumber") from None
    stamp = timestamp(first(data, "timestamp") or body.get("timestamp"))
    return data, kind, sub_id.strip(), seq, stamp


def _apply_subscription(session, conn: Connection, body: dict) -> None:
    data, kind, sub_id, seq, stamp = subscription_fields(body)
    row = session.scalar(select(EvotorSubscription).where(EvotorSubscription.subscription_id == sub_id))
    if row is not None and row.connection_id != conn.id:
        raise EvotorError(409, LINKED_ELSEWHERE, "Подписка принадлежит другому пользователю Эвотор.", "userId")
    key = f"subscription:{sub_id}:{seq}:{kind}"
    if not _remember(session, conn, key, kind, body):
        return
    if row is None:
        row = EvotorSubscription(tenant_id=conn.tenant_id, connection_id=conn.id,
                                 subscription_id=sub_id, status="active", last_event=kind,
                                 sequence_number=-1, details={})
        session.add(row)
    if kind == "AddonsUpdated":            # the paid options chosen: no change of status
        row.details = {**(row.details or {}), "addons": data.get("addons", data.get("addonIds"))}
    if seq > row.sequence_number:     # events may arrive out of order
        row.sequence_number = seq
        row.last_event = kind
        row.status = SUBSCRIPTION_STATUS.get(kind, row.status)
        row.product_id = str(first(data, "productId") or row.product_id or "")[:100] or None
        row.plan_id = str(first(data, "planId") or row.plan_id or "")[:100] or None
        row.event_at = datetime.fromtimestamp(stamp / 1000, timezone.utc) if stamp else None
        row.details = {**{k: v for k, v in (row.details or {}).items() if k == "addons"},
                       **{k: data[k] for k in ("nextBillingDate", "trialPeriodDuration", "deviceNumber",
                                               "chargedSum") if k in data}}
    row.updated_at = utcnow()
    session.flush()
    statuses = list(session.scalars(select(EvotorSubscription.status).where(
        EvotorSubscription.connection_id == conn.id)))
    overall = "terminated" if statuses and all(s == "terminated" for s in statuses) else \
        ("active" if "active" in statuses else statuses[0] if statuses else "active")
    update_settings(conn, subscription_status=overall, subscription_plan=row.plan_id)
    log.info("Evotor user %s subscription %s: %s", conn.external_account, sub_id, kind)


def apply_pending(session, conn: Connection) -> int:
    """Apply the events kept for the user before it was linked (in the linking transaction).

    Linking means the app is installed now: installation events from before it do not
    switch the user off. An event that cannot be applied is logged and dropped, never
    blocking the link."""
    rows = list(session.scalars(select(EvotorPendingEvent).where(
        EvotorPendingEvent.user_id == conn.external_account).order_by(EvotorPendingEvent.received_at)))
    for row in rows:
        try:
            with session.begin_nested():
                if row.event_key.startswith("installation:"):
                    _apply_installation(session, conn, row.body, before_link=True)
                else:
                    _apply_subscription(session, conn, row.body)
        except EvotorError as err:
            log.warning("kept Evotor event %s of %s not applied: %s", row.event_key,
                        conn.external_account, err.message)
        session.delete(row)
    session.flush()
    return len(rows)
