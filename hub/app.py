"""The application factory: the composition root. It registers every blueprint, sweep and
handler by name (hub.adapters lists the parts); nothing registers itself on import."""
from __future__ import annotations

import logging

from flask import Flask, g, jsonify, request
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from werkzeug.exceptions import HTTPException

from api.app import init_api
from api.errors import error_response
from hub.adapters import init_adapters, wire
from hub.config import Config
from hub.db import pending_migrations
from hub.extensions import db
from hub.jobs import redis_client
from hub.logs import incoming_id, install as install_log_ids, request_id
from hub.tenants.operations import touch_api_key
from hub.unavailable import (
    RETRY_AFTER_SECONDS, database_unavailable, set_default_renderer, unavailable_response,
)
from hub.web import init_web
from hub.web.cabinet import bp as cabinet_bp
from hub.web.cashier import bp as cashier_bp
from hub.web.my import bp as my_bp
from hub.web.notify import init_app as init_notify
from hub.web.ui import init_cabinets


def create_app(config: Config | None = None) -> Flask:
    config = config or Config()
    app = Flask(__name__)
    app.config.update(config.as_flask())
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    db.configure(config.DATABASE_URL, echo=config.SQL_ECHO)
    install_log_ids()

    # First of all hooks, so that even a request another hook refuses carries its id.
    @app.before_request
    def _request_id():
        g.request_id_token = request_id.set(incoming_id(request.headers.get("X-Request-ID")))

    @app.after_request
    def _echo_request_id(response):
        response.headers["X-Request-ID"] = request_id.get()
        return response

    wire()
    set_default_renderer(lambda message: error_response(503, "database_unavailable", message))
    init_web(app)       # body and JSON limits of every surface, the front page
    init_api(app)
    init_adapters(app)
    init_notify(app)
    init_cabinets(app)  # what /cabinet, /cashier and /my share
    for blueprint in (cabinet_bp, cashier_bp, my_bp):
        app.register_blueprint(blueprint)

    @app.teardown_appcontext
    def _end_session(exc):
        # One transaction per request: whatever a failed request began is rolled back.
        if exc is not None:
            _quiet_rollback()
        db.session.remove()
        key_id = g.pop("api_key_used", None)
        if key_id and exc is None:
            _touch_key(key_id)
        token = g.pop("request_id_token", None)
        if token is not None:
            request_id.reset(token)

    @app.errorhandler(DBAPIError)
    @app.errorhandler(SQLAlchemyTimeoutError)
    def _database_error(exc):
        if not database_unavailable(exc):
            return _unexpected(exc)
        logging.getLogger("kopilka").warning("database unavailable: %s", str(exc).splitlines()[0])
        _quiet_rollback()
        return unavailable_response()

    @app.errorhandler(Exception)
    def _unexpected(exc):
        if isinstance(exc, HTTPException):
            return exc
        logging.getLogger("kopilka").exception("unhandled error")
        _quiet_rollback()
        return error_response(500, "internal_error",
                              "Внутренняя ошибка сервера; операция не проведена.")

    @app.get("/health")
    def health():
        try:
            db.session.execute(text("SELECT 1"))
            db.session.rollback()
        except Exception:  # noqa: BLE001 - an unreadable URL is shown as "?"
            _quiet_rollback()
            return (jsonify({"status": "unavailable", "database": "down"}), 503,
                    {"Retry-After": str(RETRY_AFTER_SECONDS)})
        return jsonify({"status": "ok", "database": "up"})

    @app.get("/ready")
    def ready():
        """For a load balancer: send this host requests only when its database answers, its
        Redis (if configured) answers, and the database has every migration this code needs."""
        body, problems = _readiness(config)
        if problems:
            return (jsonify({"status": "unavailable", **body, "problems": problems}), 503,
                    {"Retry-After": str(RETRY_AFTER_SECONDS)})
        return jsonify({"status": "ready", **body})

    return app


def _readiness(config: Config) -> tuple[dict, list[str]]:
    body: dict = {}
    problems: list[str] = []
    try:
        pending = pending_migrations(db.session.connection())
        db.session.rollback()
        body["database"] = "up"
        body["migrations"] = "pending" if pending else "head"
        if pending:
            problems.append(f"не применены миграции ({', '.join(pending)}): выполните `kopilka db upgrade`")
    except (DBAPIError, SQLAlchemyTimeoutError):   # the database cannot be read: not ready
        _quiet_rollback()
        body["database"] = "down"
        problems.append("база данных недоступна")
    if config.REDIS_URL:
        try:
            redis_client(config.REDIS_URL).ping()
            body["redis"] = "up"
        except RedisError:
            body["redis"] = "down"
            problems.append("Redis недоступен")
    return body, problems


def _quiet_rollback() -> None:
    try:
        db.session.rollback()
    except Exception:  # the connection may be gone; the session is removed anyway
        logging.getLogger("kopilka").debug("rollback failed", exc_info=True)


def _touch_key(key_id: str) -> None:
    """Record an API key's use after the request, in a short transaction of its own."""
    try:
        touch_api_key(db.session, key_id)
        db.session.commit()
    except Exception:  # "last used" must never fail a request
        _quiet_rollback()
        logging.getLogger("kopilka").warning("could not record API key use", exc_info=True)
    finally:
        db.session.remove()
