"""Request parsing at the edge: any body that is not sound JSON is a 4xx, never a 500.

webargs turns only JSONDecodeError into "invalid JSON"; Python's parser also raises a plain
ValueError (an integer of more than 4300 digits) and RecursionError (deeply nested arrays).
Strings with NUL characters or lone surrogates cannot be stored (PostgreSQL refuses them),
so they are rejected here with the path of the field, before any service runs.
"""
from __future__ import annotations

from flask import request
from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import ValidationError
from webargs.flaskparser import FlaskParser

from hub.errors import Invalid, NotFound


def _unstorable(text: str) -> bool:
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def bad_strings(value, path: tuple = ()) -> dict:  # noqa: ANN001
    """{field: {...: [message]}} for every string (or key) that cannot be stored."""
    errors: dict = {}
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(key, str) and _unstorable(key):
            errors[key.encode("utf-8", "backslashreplace").decode().replace("\x00", "\\u0000")] = [
                "Field names must not contain NUL characters or lone surrogates."]
        elif isinstance(item, str):
            if _unstorable(item):
                errors[key] = ["Must not contain NUL characters or lone surrogates."]
        elif isinstance(item, (dict, list)):
            nested = bad_strings(item)
            if nested:
                errors[key] = nested
    return errors


class Parser(FlaskParser):
    def load_json(self, req, schema):  # noqa: ANN001, ANN201
        try:
            data = super().load_json(req, schema)
        except (ValueError, RecursionError) as exc:
            return self._handle_invalid_json_error(exc, req)
        errors = bad_strings(data)
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
    bad = {name: ["Must not contain NUL characters."] for name, value in request.args.items(multi=True)
           if _unstorable(name) or _unstorable(value)}
    if bad:
        raise Invalid("validation_error", f"Проверьте поля запроса: {', '.join(sorted(bad))}.", bad)
