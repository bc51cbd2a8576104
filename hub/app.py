"""The application factory."""
from __future__ import annotations

import logging

from typing import Callable

from flask import Flask, Response, g, has_request_context, jsonify, request
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError

from hub.config import Config
from hub.extensions import db


def create_app(config: Config | None = None) -> Flask:
    config = config or Config()
    app = Flask(__name__)
    app.config.update(config.as_flask())
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    db.configure(config.DATABASE_URL, echo=config.SQL_ECHO)

    from api import init_api
    from hub.adapters import init_adapters
    from hub.web import init_web
    init_web(app)       # body and JSON limits of every surface, the front page
    init_api(app)
    init_adapters(app)
    from hub.web.notify import init_app as init_notify
    init_notify(app)
    from hub.web.ui import init_cabinets; init_cabinets(app)   # /cabinet, /cashier, /my

    @app.teardown_appcontext
    def _end_session(exc):  # noqa: ANN001
        # One transaction per request: whatever a failed request began is rolled back.
        if exc is not None:
            _quiet_rollback()
        db.session.remove()
        key_id = g.pop("api_key_used", None)
        if key_id and exc is None:
            _touch_key(key_id)

    @app.errorhandler(DBAPIError)
    @app.errorhandler(SQLAlchemyTimeoutError)
    def _database_error(exc):  # noqa: ANN001
        if not database_unavailable(exc):
            return _unexpected(exc)
        logging.getLogger("kopilka").warning("database unavailable: %s", str(exc).splitlines()[0])
        _quiet_rollback()
        return unavailable_response()

    @app.errorhandler(Exception)
    def _unexpected(exc):  # noqa: ANN001
        from werkzeug.exceptions import HTTPException
        if isinstance(exc, HTTPException):
            return exc
        logging.getLogger("kopilka").exception("unhandled error")
        _quiet_rollback()
        from api.errors import error_response
        return error_response(500, "internal_error",
                              "Внутренняя ошибка сервера; операция не проведена.")

    @app.get("/health")
    def health():
        try:
            db.session.execute(text("SELECT 1"))
            db.session.rollback()
        except Exception:  # noqa: BLE001 - any database failure means "not healthy"
            _quiet_rollback()
            return (jsonify({"status": "unavailable", "database": "down"}), 503,
                    {"Retry-After": str(RETRY_AFTER_SECONDS)})
        return jsonify({"status": "ok", "database": "up"})

    return app


# --- the database is down: 503 with Retry-After on every endpoint --------------------------

RETRY_AFTER_SECONDS = 5
UNAVAILABLE_MESSAGE = "База данных временно недоступна; операция не проведена, повторите позже."

# Surfaces with an error format of their own register a renderer for their blueprints:
# register_unavailable_renderer("evotor_cloud", lambda message: response). Others answer in
# the API's {"error": {...}} format.
_UNAVAILABLE_RENDERERS: dict[str, Callable[[str], Response]] = {}


def register_unavailable_renderer(blueprint: str, render: Callable[[str], Response]) -> None:
    _UNAVAILABLE_RENDERERS[blueprint] = render


def database_unavailable(exc: BaseException) -> bool:
    """Whether a database error means "cannot reach or use the database now" (a 503 to retry)
    rather than a bug: connection refused or lost, pool exhausted, the database locked
    (SQLite), a serialization failure or lock timeout (PostgreSQL)."""
    if isinstance(exc, SQLAlchemyTimeoutError):
        return True
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated) or isinstance(exc, (OperationalError, InterfaceError))
    return False


def unavailable_response() -> Response:
    render = _UNAVAILABLE_RENDERERS.get(request.blueprint or "") if has_request_context() else None
    if render is not None:
        response = render(UNAVAILABLE_MESSAGE)
        response.status_code = 503
    else:
        from api.errors import error_response
        response = error_response(503, "database_unavailable", UNAVAILABLE_MESSAGE)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _quiet_rollback() -> None:
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection may be gone; the session is removed anyway
        logging.getLogger("kopilka").debug("rollback failed", exc_info=True)


def _touch_key(key_id: str) -> None:
    """Record an API key's use after the request, in a short transaction of its own."""
    from hub.tenants.operations import touch_api_key
    try:
        touch_api_key(db.session, key_id)
        db.session.commit()
    except Exception:  # noqa: BLE001 - "last used" must never fail a request
        _quiet_rollback()
        logging.getLogger("kopilka").warning("could not record API key use", exc_info=True)
    finally:
        db.session.remove()
