"""The database is down: 503 with Retry-After on every surface, each in its own format.

Surfaces with an error format of their own (МойСклад's errors array, 1С's plain text and SOAP
faults, Evotor's, the cabinets' page) register a renderer for their blueprints from their
`init_app`; the composition root (hub.app) sets the default, the public API's format."""
from __future__ import annotations

from typing import Callable

from flask import Response, has_request_context, jsonify, request
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError

RETRY_AFTER_SECONDS = 5
UNAVAILABLE_MESSAGE = "База данных временно недоступна; операция не проведена, повторите позже."

Renderer = Callable[[str], Response]
_renderers: dict[str, Renderer] = {}
_default: list[Renderer] = []


def register_unavailable_renderer(blueprint: str, render: Renderer) -> None:
    _renderers[blueprint] = render


def set_default_renderer(render: Renderer) -> None:
    _default[:] = [render]


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
    render = _renderers.get(request.blueprint or "") if has_request_context() else None
    render = render or (_default[0] if _default else None)
    if render is not None:
        response = render(UNAVAILABLE_MESSAGE)
        response.status_code = 503
    else:   # no app wired (a bare script): still a clear answer
        response = jsonify({"error": {"code": "database_unavailable", "message": UNAVAILABLE_MESSAGE}})
        response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
