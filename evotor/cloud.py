"""What the Evotor cloud calls on the hub's behalf of the app: linking an Evotor user to a
tenant, its cloud token, installation and subscription events.

Every call carries the app token (`Authorization: Bearer <EVOTOR_APP_TOKEN>`); a wrong or
missing one is 401 with nothing written. Evotor re-sends what was not answered 200 in time,
so each handler applies an event once and answers a repeat as it answered the first time.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import logging
from datetime import datetime, timezone
from functools import wraps

from flask import Blueprint, g, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from connectors.registry import (
    connection_by_account, create_connection, credentials_of, set_credentials,
)
from hub.secrets import token_hash
from hub.errors import Conflict, DomainError
from hub.extensions import db
from hub.connections.queries import connection_row
from hub.orm import utcnow
from hub.tenants.operations import create_tenant, tenant_for_key
from hub.unavailable import database_unavailable
from evotor.common import (
    ALREADY_REGISTERED, BAD_CREDENTIALS, BAD_TOKEN, INCORRECT, KIND, LINKED_ELSEWHERE, MISSING,
    PREFIX, SYNTAX, EvotorError, app_token_ok, cloud_error, first, update_settings, user_connection,
)
from evotor.models import EvotorCloudEvent, EvotorPendingEvent, EvotorSubscription

if TYPE_CHECKING:   # annotations only: the adapter reads rows the hub's queries return
    from hub.connections.models import Connection

log = logging.getLogger("kopilka.evotor.cloud")

bp = Blueprint("evotor_cloud", __name__, url_prefix=PREFIX)

@bp.errorhandler(413)
def _too_large(exc):  # the body limit (hub/web/limits.py), in Evotor's format
    return cloud_error(EvotorError(413, INCORRECT, exc.description, reason="too large"))

USER_ID_MAX = 100


def cloud_call(fn=None, *, user_token: bool = False):
    """App-token authentication, a JSON object body, Evotor's error format; whatever a failed
    call began is rolled back. With `user_token`, the user's own token is accepted too
    (Evotor's docs show it on installation and subscription notifications): the handler
    then gets the caller's connection in `g.evotor_caller` and checks the event is its."""
    if fn is None:
        return lambda f: cloud_call(f, user_token=user_token)

    @wraps(fn)
    def wrapper(*args, **kwargs):
        session = db.session
        try:
            g.evotor_caller = None
            if not app_token_ok():
                caller = user_connection(session, any_status=True) if user_token else None
                if caller is None:
                    raise EvotorError(401, BAD_TOKEN, "Неверный или отсутствующий токен приложения Эвотор.",
                                      "Authorization")
                g.evotor_caller = caller
            body = request.get_json(silent=True, force=True)
            if not isinstance(body, dict):
                raise EvotorError(400, SYNTAX, "Тело запроса должно быть JSON-объектом.")
            return fn(session, body, *args, **kwargs)
        except EvotorError as err:
            session.rollback()
            return cloud_error(err)
        except DomainError as exc:
            session.rollback()
            status = exc.status if exc.status in (400, 401, 404, 409) else 400
            return cloud_error(EvotorError(status, INCORRECT, exc.message))
        except Exception as exc:  # Evotor retries on an error; nothing half-written stays
            if database_unavailable(exc):
                raise   # the app answers 503 with Retry-After in this surface's format
            log.exception("Evotor cloud call %s failed", request.path)
            session.rollback()
            return cloud_error(EvotorError(500, 0, "Внутренняя ошибка Копилки; повторите запрос.",
                                           reason="internal"))
    return wrapper


def user_id_of(body: dict, *, required: bool = True) -> str | None:
    """The Evotor user: `userId` (new) or `userUuid` (old), at the top or inside `data`."""
    value = first(body, "userId", "userUuid")
    if value is None and isinstance(body.get("data"), dict):
        value = first(body["data"], "userId", "userUuid")
    if value is None:
        if required:
            raise EvotorError(400, MISSING, "Не указан идентификатор пользователя Эвотор (userId).",
                              "userId", "missing")
        return None
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > USER_ID_MAX:
        raise EvotorError(400, INCORRECT, "Неверный идентификатор пользователя Эвотор (userId).", "userId")
    return value.strip()


def _linked(session, user_id: str) -> Connection | None:
    return connection_by_account(session, KIND, user_id)


def _token_of(conn: Connection) -> str:
    return credentials_of(conn).get("user_token") or ""


def _issue_token(conn: Connection) -> str:
    """A fresh user token for the connection: its hash for lookups, the token itself
    encrypted so a repeated create/verify answers the same token."""
    import secrets
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


PROFILE_FIELDS = ("name", "companyName", "company", "organization", "email", "phone", "inn")


def _profile(body: dict) -> dict:
    return {k: str(body[k])[:200] for k in PROFILE_FIELDS if isinstance(body.get(k), (str, int))
            and not isinstance(body.get(k), bool)}


@bp.post("/api/v1/user/create")
@cloud_call
def user_create(session, body: dict):
    """A new Evotor user starts with the app: a new tenant, linked to that user."""
    user_id = user_id_of(body)
    conn = _linked(session, user_id)
    if conn is None:
        profile = _profile(body)
        name = (profile.get("companyName") or profile.get("company") or profile.get("organization")
                or profile.get("name") or f"Эвотор {user_id}")
        try:
            tenant, _key = create_tenant(session, name)   # its API key: `kopilka apikey create`
            conn, token = _link(session, tenant.id, user_id, name, profile)
            session.commit()
        except (Conflict, IntegrityError) as exc:     # a concurrent delivery of the same call won
            session.rollback()
            conn = _linked(session, user_id)
            if conn is None:
                raise EvotorError(409, ALREADY_REGISTERED, "Учётная запись уже зарегистрирована.") from exc
            token = _reactivate(conn)
            session.commit()
    else:
        token = _reactivate(conn)
        session.commit()
    return jsonify({"userId": user_id, "userUuid": user_id, "token": token})


def _api_key(body: dict) -> str | None:
    """The tenant's credentials: its API key as the password (or in a console field)."""
    for name in ("password", "apiKey", "api_key", "key", "username"):
        value = body.get(name)
        if isinstance(value, str) and value.strip().startswith("kp_"):
            return value.strip()
    value = body.get("password")
    return value.strip() if isinstance(value, str) and value.strip() else None


@bp.post("/api/v1/user/verify")
@cloud_call
def user_verify(session, body: dict):
    """An Evotor user joins an existing tenant by the tenant's credentials."""
    user_id = user_id_of(body)
    key = _api_key(body)
    if not key:
        raise EvotorError(400, MISSING, "Укажите API-ключ организации в Копилке в поле «Пароль».",
                          "password", "missing")
    tenant_id = tenant_for_key(session, key) if len(key) <= 200 else None
    if tenant_id is None:
        session.rollback()
        raise EvotorError(401, BAD_CREDENTIALS, "Неверный API-ключ Копилки: проверьте ключ организации.",
                          "password")
    conn = _linked(session, user_id)
    if conn is not None and conn.tenant_id != tenant_id:
        raise EvotorError(409, LINKED_ELSEWHERE,
                          "Этот пользователь Эвотор уже подключён к другой организации в Копилке.",
                          "userId")
    if conn is None:
        try:
            conn, token = _link(session, tenant_id, user_id, f"Эвотор {user_id}", _profile(body))
            session.commit()
        except (Conflict, IntegrityError):
            session.rollback()
            conn = _linked(session, user_id)
            if conn is None or conn.tenant_id != tenant_id:
                raise EvotorError(409, LINKED_ELSEWHERE,
                                  "Этот пользователь Эвотор уже подключён к другой организации в Копилке.",
                                  "userId") from None
            token = _reactivate(conn)
            session.commit()
    else:
        token = _reactivate(conn)
        session.commit()
    return jsonify({"userId": user_id, "userUuid": user_id, "hasBilling": False, "token": token})


@bp.post("/api/v1/user/token")
@cloud_call
def user_token(session, body: dict):
    """The cloud token of the user: the hub calls api.evotor.ru with it."""
    user_id = user_id_of(body)
    token = body.get("token")
    if not isinstance(token, str) or not token.strip():
        raise EvotorError(400, MISSING, "Не указан токен облака Эвотор (token).", "token", "missing")
    if len(token) > 1000:
        raise EvotorError(400, INCORRECT, "Токен облака Эвотор слишком длинный.", "token")
    conn = _linked(session, user_id)
    if conn is None:
        raise EvotorError(404, INCORRECT, "Пользователь Эвотор не подключён к Копилке.", "userId",
                          "not found")
    creds = credentials_of(conn)
    if creds.get("cloud_token") != token.strip():
        set_credentials(conn, {**creds, "cloud_token": token.strip()})
    session.commit()
    return jsonify({})


# --- installation and subscription events ------------------------------------------------

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


def _timestamp(value, field: str = "timestamp") -> int:
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


def _event_connection(session, user_id: str | None) -> Connection | None:
    """The connection an event is for; a caller authenticated by a user token may only
    send its own user's events."""
    caller = g.get("evotor_caller")
    if caller is not None and user_id and user_id != caller.external_account:
        raise EvotorError(401, BAD_TOKEN, "Токен выдан другому пользователю Эвотор.", "Authorization")
    return _linked(session, user_id) if user_id else caller


def _keep(session, user_id: str, key: str, kind: str, body: dict) -> None:
    """An event for a user not linked yet: kept (once) and applied when the user links."""
    exists = session.scalar(select(EvotorPendingEvent.id).where(
        EvotorPendingEvent.user_id == user_id, EvotorPendingEvent.event_key == key[:200]))
    if exists is None:
        session.add(EvotorPendingEvent(user_id=user_id, event_key=key[:200], type=kind[:60], body=body))
        try:
            session.commit()
        except IntegrityError:          # the same event delivered twice at once
            session.rollback()
    else:
        session.rollback()
    log.info("Evotor user %s is not linked yet: %s kept until it links", user_id, kind)


def _apply_installation(session, conn: Connection, body: dict, *, before_link: bool = False) -> None:
    """`before_link`: an event kept from before the user linked — linking came after it and
    means the app is installed, so it only moves the clock (older events stay ignored)."""
    kind = body.get("type")
    stamp = _timestamp(body.get("timestamp"))
    key = f"installation:{body.get('id') or f'{kind}:{stamp}'}"
    if _remember(session, conn, key, kind, body) and kind in INSTALLATION_TYPES:
        last = int((conn.settings or {}).get("installation_ts") or 0)
        if stamp >= last:          # an older event delivered late changes nothing
            if not before_link:
                conn.status = "active" if kind == "ApplicationInstalled" else "uninstalled"
            update_settings(conn, installation_ts=stamp, installation=kind)
            conn.updated_at = utcnow()
            log.info("Evotor user %s: %s", conn.external_account, kind)


def _event_type(body: dict, data: dict, what: str) -> str:
    kind = body.get("type") or data.get("type")
    if not isinstance(kind, str) or not kind.strip() or len(kind) > 60:
        raise EvotorError(400, MISSING if not kind else INCORRECT,
                          f"Не указан или неверен тип события {what} (type).", "type")
    return kind.strip()


@bp.post("/api/v2/installation/event")
@bp.post("/api/v1/installation/event")
@cloud_call(user_token=True)
def installation_event(session, body: dict):
    """ApplicationInstalled / ApplicationUninstalled (other, future types are acknowledged
    and recorded). A user not linked yet: the event is kept and applied when it links."""
    kind = _event_type(body, body.get("data") if isinstance(body.get("data"), dict) else {}, "установки")
    user_id = user_id_of(body)
    stamp = _timestamp(body.get("timestamp"))
    conn = _event_connection(session, user_id)
    if conn is None:
        _keep(session, user_id, f"installation:{body.get('id') or f'{kind}:{stamp}'}", kind, body)
        return jsonify({})
    _apply_installation(session, conn, body)
    session.commit()
    return jsonify({})


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


def _subscription_fields(body: dict) -> tuple[dict, str, str, int, int]:
    data = body.get("data") if isinstance(body.get("data"), dict) else body
    kind = _event_type(body, data, "подписки")
    sub_id = first(data, "subscriptionId", "subscriptionUuid")
    if not isinstance(sub_id, str) or not sub_id.strip() or len(sub_id) > 100:
        raise EvotorError(400, MISSING, "Не указан идентификатор подписки (subscriptionId).",
                          "subscriptionId", "missing")
    seq = first(data, "sequenceNumber")
    try:
        seq = int(seq) if seq is not None and not isinstance(seq, bool) else 0
    except (TypeError, ValueError):
        raise EvotorError(400, INCORRECT, "Неверный номер события (sequenceNumber).", "sequenceNumber") from None
    stamp = _timestamp(first(data, "timestamp") or body.get("timestamp"))
    return data, kind, sub_id.strip(), seq, stamp


def _apply_subscription(session, conn: Connection, body: dict) -> None:
    data, kind, sub_id, seq, stamp = _subscription_fields(body)
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


@bp.post("/api/v1/subscription/event")
@bp.post("/api/v2/subscription/event")
@cloud_call(user_token=True)
def subscription_event(session, body: dict):
    """Records the subscription by `sequenceNumber` (late, older events change nothing).
    Every type answers 200 (AddonsUpdated and future ones too); an event of a user not
    linked yet is kept and applied when the user links — Evotor retries for three days, a
    404 would help nobody."""
    data, kind, sub_id, seq, _stamp = _subscription_fields(body)
    user_id = user_id_of(data, required=False) or user_id_of(body, required=False)
    row = session.scalar(select(EvotorSubscription).where(EvotorSubscription.subscription_id == sub_id))
    conn = connection_row(session, row.connection_id) if row is not None else None
    if conn is not None and g.get("evotor_caller") is not None and g.evotor_caller.id != conn.id:
        raise EvotorError(401, BAD_TOKEN, "Токен выдан другому пользователю Эвотор.", "Authorization")
    if conn is None:
        conn = _event_connection(session, user_id)
    if conn is None:
        if not user_id:
            raise EvotorError(400, MISSING, "Не указан идентификатор пользователя Эвотор (userId).",
                              "userId", "missing")
        _keep(session, user_id, f"subscription:{sub_id}:{seq}:{kind}", kind, body)
        return jsonify({})
    if user_id and user_id != conn.external_account:
        raise EvotorError(409, LINKED_ELSEWHERE, "Подписка принадлежит другому пользователю Эвотор.", "userId")
    _apply_subscription(session, conn, body)
    session.commit()
    return jsonify({})


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
