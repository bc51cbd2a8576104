"""What every HTTP surface of the hub shares before its own code runs: a bound on the body's
size and on the nesting of JSON.

* Body size: 1 MiB by default (``MAX_CONTENT_LENGTH``); a blueprint or an endpoint whose
  protocol needs more (catalog uploads) gets it through ``BODY_LIMITS``, e.g.
  ``app.config["BODY_LIMITS"]["onec_exchange"] = 64 << 20`` (keys are blueprint names or
  endpoint names). A larger body is refused with 413 before any view or authentication runs;
  each surface renders the 413 in its own error format through its error handler.
* JSON nesting: the app's JSON provider refuses documents nested deeper than
  ``MAX_JSON_DEPTH`` (and Python's own RecursionError) with ``JSONTooDeep``, which is both a
  ``ValueError`` (so ``request.get_json(silent=True)`` gives None and the surface answers its
  usual "body must be a JSON object" 400) and a 400 ``BadRequest`` (when raised outside a
  silent read).
"""
from __future__ import annotations

import io

from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

DEFAULT_MAX_BODY = 1 << 20          # 1 MiB
MAX_JSON_DEPTH = 64                 # far above any wire format the hub speaks (receipts: 5)
_BODY_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))


def _size(limit: int) -> str:
    if limit % (1 << 20) == 0:
        return f"{limit >> 20} МБ"
    if limit % 1024 == 0:
        return f"{limit >> 10} КБ"
    return f"{limit} байт"


class BodyTooLarge(RequestEntityTooLarge):
    def __init__(self, limit: int):
        super().__init__(f"Тело запроса больше допустимого: не больше {_size(limit)}.")
        self.limit = limit


class JSONTooDeep(BadRequest, ValueError):
    def __init__(self) -> None:
        super().__init__(f"JSON вложен слишком глубоко: не больше {MAX_JSON_DEPTH} уровней.")


def _too_deep(data, limit: int) -> bool:
    """Level by level (no recursion): containers nested deeper than `limit`."""
    level, depth = [data], 1
    while level:
        if depth > limit:
            return True
        deeper: list = []
        for node in level:
            deeper.extend(c for c in (node.values() if type(node) is dict else node)
                          if type(c) is dict or type(c) is list)
        level, depth = deeper, depth + 1
    return False


class JSONProvider(DefaultJSONProvider):
    ensure_ascii = False
    sort_keys = False

    def loads(self, s, **kwargs):
        try:
            data = super().loads(s, **kwargs)
        except RecursionError:
            raise JSONTooDeep() from None
        if isinstance(data, (dict, list)):
            opening = s.count(b"[") + s.count(b"{") if isinstance(s, (bytes, bytearray)) \
                else s.count("[") + s.count("{")
            if opening > MAX_JSON_DEPTH and _too_deep(data, MAX_JSON_DEPTH):
                raise JSONTooDeep()
        return data


def body_limit() -> int:
    """The body limit of the current request: its endpoint's, its blueprint's, or the app's."""
    limits = current_app.config.get("BODY_LIMITS") or {}
    for name in (request.endpoint, *request.blueprints):
        if name and name in limits:
            return int(limits[name])
    return int(current_app.config.get("MAX_CONTENT_LENGTH") or DEFAULT_MAX_BODY)


def enforce_body_limit() -> None:
    limit = body_limit()
    request.max_content_length = limit
    length = request.content_length
    if length is not None and length > limit:
        raise BodyTooLarge(limit)
    environ = request.environ
    if length is None and request.method in _BODY_METHODS and environ.get("wsgi.input_terminated"):
        # No Content-Length (chunked): read it now, one byte past the limit at most, before any
        # view runs (werkzeug's own guard would silently cut the body at the limit).
        data = environ["wsgi.input"].read(limit + 1)
        if len(data) > limit:
            raise BodyTooLarge(limit)
        environ["wsgi.input"] = io.BytesIO(data)
        environ["CONTENT_LENGTH"] = str(len(data))
        del environ["wsgi.input_terminated"]


def install(app: Flask) -> None:
    previous = app.json
    app.json = JSONProvider(app)
    app.json.ensure_ascii = getattr(previous, "ensure_ascii", False)
    app.json.sort_keys = getattr(previous, "sort_keys", False)
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = DEFAULT_MAX_BODY
    app.config.setdefault("BODY_LIMITS", {})
    app.before_request(enforce_body_limit)
