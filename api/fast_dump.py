"""A marshmallow schema's dump, planned once, for the till's hottest answers.

`QuoteSchema.dump` walks ~250 fields per answer with promotions (a line names what each
promotion gave), about a third of a calculate's CPU. The schema stays the one truth — it
documents the answer in OpenAPI and `tests/api/test_fast_dump.py` holds the planned dump equal
to `schema.dump` on random answers — but the walk over it is planned once per schema: which key,
which field, which nested plan. Only the plain shapes the answers use are planned (nested
schemas, lists, strings, and fields whose `_serialize` needs neither attribute name nor object);
anything else is refused when the plan is made, not guessed at.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from flask import Response, current_app
from marshmallow import Schema, fields
from marshmallow.utils import missing

Dump = Callable[[Mapping[str, Any]], dict]

_REFUSED = (fields.Method, fields.Function, fields.Pluck, fields.Constant)


def _value_fn(field: fields.Field) -> Callable[[Any], Any]:
    if isinstance(field, _REFUSED) or field.dump_default is not missing:
        raise TypeError(f"{type(field).__name__} is not planned; use schema.dump")
    if isinstance(field, fields.Nested):
        inner = plan_dump(field.schema)
        if field.many:
            return lambda v: None if v is None else [inner(x) for x in v]
        return lambda v: None if v is None else inner(v)
    if isinstance(field, fields.List):
        item = _value_fn(field.inner)
        return lambda v: None if v is None else [item(x) for x in v]
    if type(field) is fields.String:
        return lambda v: None if v is None else (v if type(v) is str else fields.String()._serialize(v, None, None))
    serialize = field._serialize
    return lambda v: serialize(v, None, None)


def plan_dump(schema: Schema) -> Dump:
    """`schema.dump` for one mapping, planned once (see the module's note)."""
    if schema.many or schema._hooks and any(schema._hooks.values()):
        raise TypeError("schemas with many=True or dump hooks are not planned; use schema.dump")
    plan = []
    for name, field in schema.dump_fields.items():
        attribute = field.attribute or name
        if "." in attribute:
            raise TypeError(f"dotted attribute {attribute!r} is not planned; use schema.dump")
        plan.append((attribute, field.data_key or name, _value_fn(field)))

    def dump(obj: Mapping[str, Any]) -> dict:
        out = {}
        for attribute, key, value_fn in plan:
            value = obj.get(attribute, missing)
            if value is not missing:
                out[key] = value_fn(value)
        return out
    return dump


def json_answer(dump: Dump, obj: Mapping[str, Any], status: int = 200) -> Response:
    """The planned dump as the JSON response flask-smorest would have sent (it passes a
    Response through untouched; the view's @blp.response still documents the schema)."""
    response = current_app.json.response(dump(obj))
    response.status_code = status
    return response
