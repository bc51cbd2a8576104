"""The moysklad adapter's part of the application: its blueprints and its 503 format (called by
hub.adapters)."""
from __future__ import annotations
from moysklad.loyalty.views import bp as loyalty_bp
from moysklad.jsonapi.webhook import bp as webhook_bp
from hub.unavailable import register_unavailable_renderer
from moysklad.loyalty.errors import INTERNAL, MsError, error_response


def init_app(app) -> None:
    app.register_blueprint(loyalty_bp)
    app.register_blueprint(webhook_bp)

    def unavailable(message: str):
        return error_response(MsError(503, INTERNAL, message, title="Сервис временно недоступен"))
    register_unavailable_renderer("moysklad_loyalty", unavailable)
    register_unavailable_renderer("moysklad_webhook", unavailable)
