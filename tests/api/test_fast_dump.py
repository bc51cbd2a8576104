"""api/fast_dump.py plans a schema's dump once: on any answer shaped like the schema's (keys
present or missing, None, nested lists) it gives exactly what `schema.dump` gives."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st
from marshmallow import Schema, fields

from api.fast_dump import plan_dump
from api.fields import Money
from api.schemas.receipts import QuoteSchema


def shaped_like(schema: Schema, depth: int = 0) -> st.SearchStrategy[dict]:
    """Mappings with any subset of the schema's keys, values of each field's kind (or None)."""
    def value(field: fields.Field) -> st.SearchStrategy:
        if isinstance(field, fields.Nested):
            inner = shaped_like(field.schema, depth + 1)
            return st.lists(inner, max_size=3) if field.many else inner
        if isinstance(field, fields.List):
            return st.lists(value(field.inner), max_size=3)
        if isinstance(field, Money):
            return st.integers(min_value=-10**12, max_value=10**12)
        if isinstance(field, fields.String):
            return st.one_of(st.text(max_size=8), st.integers())
        return st.integers()
    return st.fixed_dictionaries({}, optional={
        name: st.one_of(st.none(), value(field)) for name, field in schema.dump_fields.items()})


QUOTE = QuoteSchema()
DUMP = plan_dump(QUOTE)


@settings(max_examples=300, deadline=None)
@given(shaped_like(QUOTE))
def test_the_planned_quote_dump_is_the_schemas_dump(answer):
    assert DUMP(answer) == QUOTE.dump(answer)


def test_shapes_it_cannot_plan_are_refused_not_guessed():
    class WithMethod(Schema):
        x = fields.Method("get_x")

        def get_x(self, obj):
            return 1

    class WithDefault(Schema):
        y = fields.String(dump_default="z")

    for schema in (WithMethod(), WithDefault(), QuoteSchema(many=True)):
        with pytest.raises(TypeError):
            plan_dump(schema)
