"""Public REST API v1: blueprints registered in one place, OpenAPI served by flask-smorest,
its reference (Swagger UI) served from the swagger-ui-bundle package: no CDN, works offline."""
from __future__ import annotations

from api.views.automation import register as register_automation
from apispec import BasePlugin
from flask import Flask, send_from_directory
from flask_smorest import Api as SmorestApi
from swagger_ui_bundle import swagger_ui_path

from api import fields
from api.auth import require_tenant
from api.errors import handle_domain_error, handle_http_exception
from api.parsing import reject_unstorable_url
from api.schemas.base import Schema
from hub.errors import DomainError
from api.views import analytics as analytics_views
from api.views import notify as notify_views
from api.views import reviews as review_views
from api.views import certificates as certificate_views, promotions as promotion_views
from api.views import connections, customers, points, program, receipts

PREFIX = "/api/v1"
DOCS_ASSETS = f"{PREFIX}/docs/assets/"


class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"description": "machine-readable code, e.g. validation_error"})
    message = fields.String(required=True, metadata={"description": "a Russian message for people"})
    details = fields.Dict(required=True, metadata={
        "description": "field paths -> Russian messages, e.g. {\"positions\": {\"0\": {\"price\": [\"…\"]}}}"})


class ErrorSchema(Schema):
    """The one error format of the API."""
    error = fields.Nested(ErrorBodySchema, required=True)


class CommonErrors(BasePlugin):
    """Every operation documents the errors it can answer (all in the ErrorSchema shape):
    401 without a valid key, 400/413 for a body that is not JSON or too large, 404 for an
    unknown id in the path; the rest (409, 422, 503, …) fall under `default`."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            responses = operation.setdefault("responses", {})
            responses.setdefault("401", "UNAUTHORIZED")
            if "requestBody" in operation or operation.get("parameters"):
                responses.setdefault("400", "BAD_REQUEST")
            if "requestBody" in operation:
                responses.setdefault("413", "REQUEST_ENTITY_TOO_LARGE")
            if path and "{" in path:
                responses.setdefault("404", "NOT_FOUND")


class Api(SmorestApi):
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        return handle_http_exception(error)


def init_api(app: Flask) -> Api:
    app.config.update(
        API_TITLE="Kopilka API", API_VERSION="v1", OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=PREFIX, OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL=DOCS_ASSETS,
        # No call to the online validator (swagger.io) from the page: the reference works offline.
        OPENAPI_SWAGGER_UI_CONFIG={"validatorUrl": None, "persistAuthorization": True},
    )
    api = Api(app, spec_kwargs={
        "extra_plugins": [CommonErrors()],
        "info": {"description": "Loyalty programs for retail: customers, bonuses, receipts. "
                                "Money is in roubles with at most 2 decimals. Errors are "
                                "{\"error\": {\"code\", \"message\", \"details\"}} with Russian "
                                "messages and field paths in details."}})
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearer": []}]
    api.ma_plugin.converter.add_attribute_function(fields.openapi_properties)
    for blp in (program.blp, customers.blp, receipts.blp, points.blp, connections.blp, notify_views.blp,
                promotion_views.blp, certificate_views.blp, review_views.blp, analytics_views.blp):
        blp.before_request(reject_unstorable_url)
        blp.before_request(require_tenant)
        api.register_blueprint(blp)
    register_automation(api)
    app.register_error_handler(DomainError, handle_domain_error)
    app.add_url_rule(f"{DOCS_ASSETS}<path:filename>", "api_docs_assets",
                     lambda filename: send_from_directory(swagger_ui_path, filename, max_age=86400))
    return api
