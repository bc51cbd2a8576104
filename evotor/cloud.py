"""What the Evotor cloud calls on the hub's behalf of the app: linking an Evotor user to a
tenant, its cloud token, installation and subscription events.

Every call carries the app token (`Authorization: Bearer <EVOTOR_APP_TOKEN>`); a wrong or
missing one is 401 with nothing written. Evotor re-sends what was not answered 200 in time,
so each handler applies an event once and answers a repeat as it answered the first time.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import logging
from functools import wraps

from flask import Blueprint, g, jsonify, request
from sqlalchemy import select

from hub.errors import DomainError
from hub.extensions import db
from hub.connections.queries import connection_row
from hub.tenants.operations import tenant_for_key
from hub.unavailable import database_unavailable
from evotor.common import (
    BAD_CREDENTIALS, BAD_TOKEN, INCORRECT, LINKED_ELSEWHERE, MISSING,
    PREFIX, SYNTAX, EvotorError, app_token_ok, cloud_error, first, user_connection,
)
from evotor.accounts import (
    apply_installation_event, apply_subscription_event, event_type, join_user, keep_event, linked,
    start_user, store_cloud_token, subscription_fields, timestamp,
)
from evotor.models import EvotorSubscription

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


PROFILE_FIELDS = ("name", "companyName", "company", "organization", "email", "phone", "inn")


def _profile(body: dict) -> dict:
    return {k: str(body[k])[:200] for k in PROFILE_FIELDS if isinstance(body.get(k), (str, int))
            and not isinstance(body.get(k), bool)}


@bp.post("/api/v1/user/create")
@cloud_call
def user_create(session, body: dict):
    """A new Evotor user starts with the app: a new tenant, linked to that user."""
    user_id = user_id_of(body)
    profile = _profile(body)
    name = (profile.get("companyName") or profile.get("company") or profile.get("organization")
            or profile.get("name") or f"Эвотор {user_id}")
    token = start_user(session, user_id, name, profile)
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
    token = join_user(session, tenant_id, user_id, _profile(body))
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
    conn = linked(session, user_id)
    if conn is None:
        raise EvotorError(404, INCORRECT, "Пользователь Эвотор не подключён к Копилке.", "userId",
                          "not found")
    store_cloud_token(session, conn, token.strip())
    return jsonify({})


# --- installation and subscription events ------------------------------------------------

def _event_connection(session, user_id: str | None) -> Connection | None:
    """The connection an event is for; a caller authenticated by a user token may only
    send its own user's events."""
    caller = g.get("evotor_caller")
    if caller is not None and user_id and user_id != caller.external_account:
        raise EvotorError(401, BAD_TOKEN, "Токен выдан другому пользователю Эвотор.", "Authorization")
    return linked(session, user_id) if user_id else caller


@bp.post("/api/v2/installation/event")
@bp.post("/api/v1/installation/event")
@cloud_call(user_token=True)
def installation_event(session, body: dict):
    """ApplicationInstalled / ApplicationUninstalled (other, future types are acknowledged
    and recorded). A user not linked yet: the event is kept and applied when it links."""
    kind = event_type(body, body.get("data") if isinstance(body.get("data"), dict) else {}, "установки")
    user_id = user_id_of(body)
    stamp = timestamp(body.get("timestamp"))
    conn = _event_connection(session, user_id)
    if conn is None:
        keep_event(session, user_id, f"installation:{body.get('id') or f'{kind}:{stamp}'}", kind, body)
        return jsonify({})
    apply_installation_event(session, conn, body)
    return jsonify({})


@bp.post("/api/v1/subscription/event")
@bp.post("/api/v2/subscription/event")
@cloud_call(user_token=True)
def subscription_event(session, body: dict):
    """Records the subscription by `sequenceNumber` (late, older events change nothing).
    Every type answers 200 (AddonsUpdated and future ones too); an event of a user not
    linked yet is kept and applied when the user links — Evotor retries for three days, a
    404 would help nobody."""
    data, kind, sub_id, seq, _stamp = subscription_fields(body)
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
        keep_event(session, user_id, f"subscription:{sub_id}:{seq}:{kind}", kind, body)
        return jsonify({})
    if user_id and user_id != conn.external_account:
        raise EvotorError(409, LINKED_ELSEWHERE, "Подписка принадлежит другому пользователю Эвотор.", "userId")
    apply_subscription_event(session, conn, body)
    return jsonify({})


