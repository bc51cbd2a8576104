"""The application factory."""
from __future__ import annotations

import logging

from flask import Flask, jsonify
from sqlalchemy import text

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
    init_api(app)
    init_adapters(app)

    @app.teardown_appcontext
    def _end_session(exc):  # noqa: ANN001
        # One transaction per request: whatever a failed request began is rolled back.
        if exc is not None:
            db.session.rollback()
        db.session.remove()

    @app.errorhandler(Exception)
    def _unexpected(exc):  # noqa: ANN001
        from werkzeug.exceptions import HTTPException
        if isinstance(exc, HTTPException):
            return exc
        logging.getLogger("kopilka").exception("unhandled error")
        db.session.rollback()
        from api.errors import error_response
        return error_response(500, "internal_error",
                              "Внутренняя ошибка сервера; операция не проведена.")

    @app.get("/health")
    def health():
        try:
            db.session.execute(text("SELECT 1"))
            db.session.rollback()
        except Exception:  # noqa: BLE001 - any database failure means "not healthy"
            db.session.rollback()
            return jsonify({"status": "unavailable", "database": "down"}), 503
        return jsonify({"status": "ok", "database": "up"})

    return app
