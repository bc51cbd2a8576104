"""The webhook receiver: POST /moysklad/webhook/<connection id>/<secret>?requestId=…

The secret (random, set and rotated by `kopilka moysklad subscribe`, stored as a hash) is
what proves a delivery is МойСклад's for this connection: without it or with a wrong one the
answer is 404 and nothing is written.

МойСклад wants 200/204 within 1500 ms and retries at once otherwise, with the same
requestId. So the receiver only checks whose events these are, stores each relevant one in
the inbox (dedupe key: requestId + document), commits and answers; processing happens after
the answer — in an rq job, or on the embedded default right after the response is sent — and
its failures never change the answer.
"""
from __future__ import annotations

import hashlib
import logging

from flask import Blueprint, jsonify, request

from connectors.inbox import process_after_acknowledging, store_event
from connectors.registry import connection_by_id
from hub.unavailable import database_unavailable
from hub.extensions import db
from moysklad.common import KIND, UUID_RE, entity_id
from moysklad.jsonapi.client import ENTITY_TYPES, webhook_secret_ok
from moysklad.loyalty.errors import AUTH, INTERNAL, VALIDATION, MsError, error_response

log = logging.getLogger("kopilka.moysklad.webhooks")

bp = Blueprint("moysklad_webhook", __name__)

@bp.errorhandler(413)
def _too_large(exc):  # the body limit (hub/web/limits.py), in МойСклад's format
    return error_response(MsError(413, VALIDATION, exc.description, title="Слишком большой запрос"))


def _not_found():
    return error_response(MsError(404, AUTH, "Подключение МойСклад не найдено."))


@bp.post("/moysklad/webhook/<connection_id>")
def receive_without_secret(connection_id: str):
    """A URL without the connection's secret (or a webhook from before secrets): 404."""
    return _not_found()


@bp.post("/moysklad/webhook/<connection_id>/<secret>")
def receive(connection_id: str, secret: str):
    session = db.session
    try:
        conn = connection_by_id(session, KIND, connection_id) if UUID_RE.match(connection_id) else None
        if conn is None or conn.status != "active" or not webhook_secret_ok(conn, secret):
            session.rollback()
            return _not_found()
        body = request.get_json(silent=True, force=True)
        events = body.get("events") if isinstance(body, dict) else None
        if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
            session.rollback()
            return error_response(MsError(400, VALIDATION, "Ожидается {\"events\": [...]}.", "events"))
        if any(e.get("accountId") != conn.external_account for e in events):
            session.rollback()
            log.warning("webhook for connection %s with a foreign accountId rejected", conn.id)
            return error_response(MsError(401, AUTH, "События другого аккаунта МойСклад.", "accountId"))
        request_id = (request.args.get("requestId") or "").strip()[:100] \
            or hashlib.sha256(request.get_data()).hexdigest()
        tenant_id, conn_id, account = conn.tenant_id, conn.id, conn.external_account
        wanted = []
        for e in events:
            meta = e.get("meta") or {}
            kind, ident = meta.get("type"), entity_id(meta)
            if kind in ENTITY_TYPES and e.get("action") == "CREATE" and UUID_RE.match(ident or ""):
                wanted.append((kind, ident, meta.get("href")))
        session.rollback()
        fresh = []
        for kind, ident, href in wanted:
            event, created = store_event(
                session, tenant_id=tenant_id, connection_id=conn_id, source=KIND, kind=kind,
                dedupe_key=f"{request_id}:{kind}/{ident}",
                body={"id": ident, "type": kind, "action": "CREATE", "href": href,
                      "accountId": account, "requestId": request_id})
            if created:
                fresh.append(event)
    except Exception as exc:  # nothing acknowledged: МойСклад will send it again
        if database_unavailable(exc):
            raise   # the app answers 503 with Retry-After in this surface's format
        log.exception("webhook for connection %s could not be stored", connection_id)
        session.rollback()
        return error_response(MsError(500, INTERNAL, "Событие не сохранено, повторите."))
    return process_after_acknowledging(jsonify({"accepted": len(wanted), "new": len(fresh)}),
                                       session, fresh)
