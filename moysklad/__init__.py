"""МойСклад adapter: the Loyalty API 1.0 server (the till calls the hub during every sale)
and the JSON API 1.2 client (webhooks on retail sales and returns, documents fetched and
applied from the inbox). See moysklad/README.md."""
from __future__ import annotations

from moysklad import models  # noqa: F401  - the adapter's tables
from moysklad.cli import cli
from moysklad.jsonapi import handlers  # noqa: F401  - registers the inbox handlers


def init_app(app) -> None:  # noqa: ANN001
    from moysklad.jsonapi.webhook import bp as webhook_bp
    from moysklad.loyalty.views import bp as loyalty_bp
    app.register_blueprint(loyalty_bp)
    app.register_blueprint(webhook_bp)
    from hub.app import register_unavailable_renderer
    from moysklad.loyalty.errors import INTERNAL, MsError, error_response

    def unavailable(message: str):  # noqa: ANN202
        return error_response(MsError(503, INTERNAL, message, title="Сервис временно недоступен"))
    register_unavailable_renderer("moysklad_loyalty", unavailable)
    register_unavailable_renderer("moysklad_webhook", unavailable)


__all__ = ["cli", "init_app"]
