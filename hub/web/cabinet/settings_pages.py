"""Stores and cashiers, API keys, connections (МойСклад, Evotor, 1С) with their inbox.

Everything goes through the hub's own functions: hub.tenants.operations (points, keys),
connectors.registry (connections, never their credentials) and connectors.inbox (events and
the retry of a failed one)."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import case, func, select

from hub.errors import DomainError
from hub.extensions import db
from hub.tenants.models import Cashier, Store
from hub.connections.models import InboundEvent
from hub.text import EVENT_STATUS_NAMES
from hub.web.cabinet.blueprint import bp
from hub.web.ui.auth import CABINET_ROLES, EDIT_ROLES, actor, require_roles
from connectors.registry import describe
from connectors.registry import get_connection
from hub.tenants.operations import list_api_keys
from hub.tenants.operations import save_point
from connectors.inbox import reason
from connectors.inbox import retry_event
from hub.tenants.operations import revoke_api_key
from hub.tenants.operations import issue_api_key
from connectors.registry import list_connections
from hub.tenants.operations import list_points
from connectors.inbox import list_events

POINTS = {"store": (Store, "Магазин"), "cashier": (Cashier, "Кассир")}
KIND_NAMES = {"moysklad": "МойСклад", "evotor": "Эвотор", "onec": "1С"}
EVENT_STATUSES = EVENT_STATUS_NAMES     # one label table for statuses (hub.text)


# --- stores and cashiers ---------------------------------------------------------------------

def _points_page(errors: dict | None = None, form=None, status: int = 200):
    stores = list_points(db.session, g.tenant_id, Store)
    cashiers = list_points(db.session, g.tenant_id, Cashier)
    db.session.rollback()
    return render_template("cabinet/points.html", stores=stores, cashiers=cashiers, errors=errors or {},
                           form=form or {}), status


@bp.get("/points")
@require_roles(*CABINET_ROLES)
def points():
    return _points_page()


@bp.post("/points")
@require_roles(*EDIT_ROLES)
def point_save():
    form = request.form
    kind = form.get("kind", "")
    code, name = (form.get("code") or "").strip(), (form.get("name") or "").strip()
    errors: dict[str, list[str]] = {}
    if kind not in POINTS:
        errors["kind"] = ["Выберите: магазин или кассир."]
    if not code:
        errors["code"] = ["Укажите код — так его называет касса."]
    elif len(code) > 100:
        errors["code"] = ["Код — не длиннее 100 символов."]
    if len(name) > 200:
        errors["name"] = ["Название — не длиннее 200 символов."]
    if errors:
        return _points_page(errors, form, 422)
    model, title = POINTS[kind]
    row, created = save_point(db.session, g.tenant_id, model, code, name, by=actor())
    flash(f"{title} «{row.name}» {'добавлен' if created else 'сохранён'}.", "success")
    return redirect(url_for("cabinet.points"), code=303)


# --- API keys ----------------------------------------------------------------------------------

def _keys_page(new_key: str | None = None, errors: dict | None = None, status: int = 200):
    keys = list_api_keys(db.session, g.tenant_id)
    db.session.rollback()
    return render_template("cabinet/keys.html", keys=keys, new_key=new_key, errors=errors or {}), status


@bp.get("/keys")
@require_roles("owner", "manager")
def keys():
    return _keys_page()


@bp.post("/keys")
@require_roles("owner")
def key_create():
    name = (request.form.get("name") or "").strip()
    if not name:
        return _keys_page(errors={"name": ["Назовите ключ: для какой кассы или интеграции он."]}, status=422)
    if len(name) > 200:
        return _keys_page(errors={"name": ["Название — не длиннее 200 символов."]}, status=422)
    raw = issue_api_key(db.session, g.tenant_id, name, by=actor())
    # Shown on this answer only: never stored, never put in the session or a redirect.
    return _keys_page(new_key=raw)


@bp.post("/keys/<key_id>/revoke")
@require_roles("owner")
def key_revoke(key_id: str):
    # Only by id here: a prefix typed into the URL is not a key.
    if not any(k.id == key_id for k in list_api_keys(db.session, g.tenant_id)):
        db.session.rollback()
        abort(404)
    key, _ = revoke_api_key(db.session, g.tenant_id, key_id, by=actor())
    flash(f"Ключ {key.prefix}… отозван: запросы с ним получат 401.", "success")
    return redirect(url_for("cabinet.keys"), code=303)


# --- connections and their inbox ---------------------------------------------------------------

@bp.get("/connections")
@require_roles(*CABINET_ROLES)
def connections():
    rows = list_connections(db.session, g.tenant_id)
    stats = {}
    if rows:
        for cid, last, failed in db.session.execute(
                select(InboundEvent.connection_id, func.max(InboundEvent.received_at),
                       func.sum(case((InboundEvent.status == "failed", 1), else_=0)))
                .where(InboundEvent.tenant_id == g.tenant_id,
                       InboundEvent.connection_id.in_([r.id for r in rows]))
                .group_by(InboundEvent.connection_id)):
            stats[cid] = {"last": last, "failed": int(failed or 0)}
    items = [{**describe(r), "last": stats.get(r.id, {}).get("last"), "failed": stats.get(r.id, {}).get("failed", 0),
              "created": r.created_at} for r in rows]
    db.session.rollback()
    return render_template("cabinet/connections.html", items=items, kinds=KIND_NAMES)


def _connection_or_404(connection_id: str):
    try:
        return get_connection(db.session, g.tenant_id, connection_id)
    except DomainError:
        abort(404)


def _events(conn, status: str | None) -> list[InboundEvent]:
    return [e for e in list_events(db.session, g.tenant_id, status=status, source=conn.kind, limit=500)
            if e.connection_id == conn.id][:100]


@bp.get("/connections/<connection_id>")
@require_roles(*CABINET_ROLES)
def connection(connection_id: str):
    conn = _connection_or_404(connection_id)
    status = request.args.get("status", "failed")
    if status not in EVENT_STATUSES and status != "all":
        status = "failed"
    events = _events(conn, None if status == "all" else status)
    info = describe(conn)
    db.session.rollback()
    return render_template("cabinet/connection.html", c=info, events=events, status=status,
                           statuses=EVENT_STATUSES, kinds=KIND_NAMES, reason=reason)


@bp.post("/connections/<connection_id>/events/<event_id>/retry")
@require_roles(*EDIT_ROLES)
def event_retry(connection_id: str, event_id: str):
    conn = _connection_or_404(connection_id)
    event = db.session.get(InboundEvent, event_id)
    if event is None or event.tenant_id != g.tenant_id or event.connection_id != conn.id:
        abort(404)
    try:
        event = retry_event(db.session, g.tenant_id, event_id, by=actor())
    except DomainError:
        db.session.rollback()
        abort(404)
    outcome = event.status
    db.session.rollback()
    if outcome == "done":
        flash("Событие обработано.", "success")
    else:
        flash(f"Событие снова не обработано ({EVENT_STATUSES.get(outcome, outcome)}): "
              f"{event.last_error or 'причина не указана'}", "error")
    return redirect(url_for("cabinet.connection", connection_id=conn.id, status=request.args.get("status", "failed")),
                    code=303)
