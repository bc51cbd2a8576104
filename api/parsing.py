"""Request parsing at the edge: any body that is not sound JSON is a 4xx, never a 500.

The body is read by the app's JSON provider (hub/web/limits.py: nesting is bounded there, for
every surface); any ValueError it raises (bad JSON, an integer of more than 4300 digits, JSON
nested too deeply) is a 400.
Strings with NUL characters or lone surrogates cannot be stored (PostgreSQL refuses them),
so they are rejected here with the path of the field, before any service runs.
"""
from __future__ import annotations

import re

from flask import current_app, request
from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import ValidationError
from webargs.core import missing
from webargs.flaskparser import FlaskParser, is_json_request

from hub.errors import Invalid, NotFound


_ESCAPES = re.compile(rb"\\u(0000|[dD][89a-fA-F])")


def _unstorable(text: str) -> bool:
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def bad_strings(value, path: tuple = ()) -> dict:
    """{field: {...: [message]}} for every string (or key) that cannot be stored."""
    errors: dict = {}
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(key, str) and _unstorable(key):
            errors[key.encode("utf-8", "backslashreplace").decode().replace("\x00", "\\u0000")] = [
                "Имя поля не может содержать символ NUL или одиночный суррогат."]
        elif isinstance(item, str):
            if _unstorable(item):
                errors[key] = ["Не может содержать символ NUL или одиночный суррогат."]
        elif isinstance(item, (dict, list)):
            nested = bad_strings(item)
            if nested:
                errors[key] = nested
    return errors


class Parser(FlaskParser):
    DEFAULT_VALIDATION_MESSAGE = "Недопустимое значение."

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return missing
        return current_app.json.loads(req.get_data(cache=True))

    def load_json(self, req, schema):
        try:
            data = super().load_json(req, schema)
        except (ValueError, RecursionError) as exc:
            return self._handle_invalid_json_error(exc, req)
        # NUL and lone surrogates reach a JSON string only as \\u escapes: no escape, no walk.
        errors = bad_strings(data) if _ESCAPES.search(req.get_data(cache=True)) else {}
        if errors:
            raise ValidationError(errors)
        return data


class Blueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = Parser()


def reject_unstorable_url() -> None:
    """No id in a path can contain NUL (404: there is no such resource); a query value with
    one is a validation error."""
    if _unstorable(request.path):
        raise NotFound("not_found", "Не найдено.")
    bad = {name: ["Не может содержать символ NUL."] for name, value in request.args.items(multi=True)
           if _unstorable(name) or _unstorable(value)}
    if bad:
        raise Invalid("validation_error", f"Проверьте поля запроса: {', '.join(sorted(bad))}.", bad)
