"""Public REST API v1: blueprints registered in one place, OpenAPI served by flask-smorest."""
from __future__ import annotations

from flask import Flask
from flask_smorest import Api as SmorestApi

from api.auth import require_tenant
from api.errors import handle_domain_error, handle_http_exception
from api.parsing import reject_unstorable_url
from hub.errors import DomainError


class Api(SmorestApi):
    def handle_http_exception(self, error):  # noqa: ANN001
        return handle_http_exception(error)


def init_api(app: Flask) -> Api:
    app.config.update(
        API_TITLE="Kopilka API", API_VERSION="v1", OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1", OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL="https://cdn.jsdelivr.net/npm/swagger-ui-dist/",
        OPENAPI_REDOC_PATH="/redoc",
        OPENAPI_REDOC_URL="https://cdn.jsdelivr.net/npm/redoc/bundles/redoc.standalone.js",
    )
    api = Api(app, spec_kwargs={
        "info": {"description": "Loyalty programs for retail: customers, bonuses, receipts. "
                                "Money is in roubles with at most 2 decimals."}})
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearer": []}]
    from api.views import connections, customers, points, program, receipts
    for blp in (program.blp, customers.blp, receipts.blp, points.blp, connections.blp):
        blp.before_request(reject_unstorable_url)
        blp.before_request(require_tenant)
        api.register_blueprint(blp)
    app.register_error_handler(DomainError, handle_domain_error)
    return api
