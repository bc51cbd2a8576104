"""Shapes of `/api/v1/analytics` (specs/analytics.md §9): money in roubles, percents as
numbers; a ratio over nothing is null."""
from __future__ import annotations

from api import fields, validate
from api.schemas.base import Schema


class IndicatorQuerySchema(Schema):
    from_ = fields.Date(required=True, data_key="from",
                        metadata={"description": "first local date of the period (program's time zone)"})
    to = fields.Date(required=True, metadata={"description": "last local date, included"})
    compare = fields.String(load_default="previous", validate=validate.OneOf(("previous", "year", "none")),
                            metadata={"description": "previous period of equal length, the same dates a year "
                                                     "earlier, or none"})


class PeriodSchema(Schema):
    from_ = fields.Date(data_key="from")
    to = fields.Date()


class IndicatorSchema(Schema):
    code = fields.String(metadata={"description": "stable code of the indicator"})
    n = fields.Integer(allow_none=True, metadata={"description": "its number among seed 000's 17; null otherwise"})
    name = fields.String(metadata={"description": "Russian name shown"})
    unit = fields.String(metadata={"description": "rub | bonus | count | percent"})
    value = fields.Float(allow_none=True)
    base = fields.Float(allow_none=True, metadata={"description": "the comparison period's value"})
    delta = fields.Float(allow_none=True)
    delta_percent = fields.Float(allow_none=True, metadata={"description": "null when base is 0"})
    percent = fields.Float(allow_none=True, metadata={"description": "average_discount: discount / purchase total, %"})
    reversed = fields.Float(allow_none=True, metadata={"description": "bonuses_accrued: cancelled by returns"})
    total = fields.Float(allow_none=True, metadata={"description": "bonuses_accrued: credits less cancelled"})


class BreakdownSchema(Schema):
    store = fields.String()
    cashier = fields.String()
    revenue = fields.Float()
    receipts = fields.Integer()
    average_check = fields.Float(allow_none=True)
    average_discount = fields.Float(allow_none=True)
    average_discount_percent = fields.Float(allow_none=True)


class IndicatorsSchema(Schema):
    period = fields.Nested(PeriodSchema)
    compare = fields.Nested(PeriodSchema, allow_none=True)
    indicators = fields.List(fields.Nested(IndicatorSchema))
    by_store = fields.List(fields.Nested(BreakdownSchema), metadata={"description": "indicators 1–4 per store"})
    by_cashier = fields.List(fields.Nested(BreakdownSchema), metadata={"description": "indicators 1–4 per cashier"})
