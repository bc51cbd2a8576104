"""The program settings as partners send them (API.md, Program): shapes and units only.

Roubles become kopecks and percents decimal strings here; what makes a program valid
(thresholds, schemes, lifetimes, rules naming existing levels, …) is the hub's rule
(hub/programs/rules.py), checked when the settings are stored, with the same
field paths in `details`.
"""
from __future__ import annotations

from api import fields, validate
from api.fields import Money, Percent
from api.schemas.base import Schema
from hub.programs import rules as hub_rules

# For the OpenAPI document: the hub's choices and ranges (the hub checks them).
_DAYS = {"minimum": 1, "maximum": hub_rules.MAX_LIFETIME_DAYS}

_CODE = fields.String(validate=validate.Length(min=1, max=50))
_GROUP = fields.String(validate=validate.Length(min=1, max=100))


class StepSchema(Schema):
    from_ = Money(data_key="from", attribute="from", required=True)
    percent = Percent(required=True)


class SchemeSchema(Schema):
    scheme = fields.String(required=True, validate=validate.Length(max=50),
                           metadata={"enum": list(hub_rules.SCHEMES)})
    percent = Percent()
    every = Money()
    bonuses = Money()
    steps = fields.List(fields.Nested(StepSchema), max_length=100)


class LevelSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(max=50))
    name = fields.String(required=True, validate=validate.Length(max=100))
    threshold = Money(required=True)
    accrual = fields.Nested(SchemeSchema, allow_none=True, load_default=None)
    discount = fields.Nested(SchemeSchema, allow_none=True, load_default=None)
    max_spend_percent = Percent(load_default="0")
    bonus_lifetime_days = fields.Integer(allow_none=True, load_default=None, metadata=_DAYS)


class ConditionSchema(Schema):
    groups = fields.List(_GROUP, load_default=list, max_length=1000)
    # no default: documents stored before products were a condition read back unchanged
    products = fields.List(fields.String(validate=validate.Length(min=1, max=100)), max_length=1000)
    exclude_groups = fields.List(_GROUP, load_default=list, max_length=1000)
    weekdays = fields.List(fields.Integer(metadata={"minimum": 1, "maximum": 7}), load_default=list,
                           max_length=7)
    time_from = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=5))
    time_to = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=5))
    payment_methods = fields.List(fields.String(validate=validate.Length(max=20),
                                                metadata={"enum": list(hub_rules.PAYMENT_METHODS)}),
                                  load_default=list, max_length=3)
    stores = fields.List(fields.String(validate=validate.Length(min=1, max=100)), load_default=list,
                         max_length=1000)
    cashiers = fields.List(fields.String(validate=validate.Length(min=1, max=100)), load_default=list,
                           max_length=1000)
    levels = fields.List(_CODE, load_default=list, max_length=50)


class EffectSchema(Schema):
    accrual_percent = Percent(allow_none=True, load_default=None)
    accrual_multiplier = Percent(allow_none=True, load_default=None)
    no_accrual = fields.Boolean(load_default=False)
    max_spend_percent = Percent(allow_none=True, load_default=None)
    no_spend = fields.Boolean(load_default=False)
    no_discount = fields.Boolean(load_default=False)
    max_discount_percent = Percent(allow_none=True, metadata={
        "description": "promotions plus the level discount take at most this share of a line"})


class RuleSchema(Schema):
    name = fields.String(load_default="", validate=validate.Length(max=200))
    when = fields.Nested(ConditionSchema, load_default=dict)
    then = fields.Nested(EffectSchema, required=True)


class ProgramSchema(Schema):
    type = fields.String(required=True, validate=validate.Length(max=50),
                         metadata={"enum": list(hub_rules.PROGRAM_TYPES)})
    timezone = fields.String(load_default="Europe/Moscow", validate=validate.Length(max=100))
    levels = fields.List(fields.Nested(LevelSchema), required=True, max_length=50)
    bonus_lifetime_days = fields.Integer(allow_none=True, load_default=None, metadata=_DAYS)
    expiry_mode = fields.String(load_default="since_accrual", validate=validate.Length(max=50),
                                metadata={"enum": list(hub_rules.EXPIRY_MODES)})
    expiry_dates = fields.List(fields.String(validate=validate.Length(max=10)), load_default=list,
                               max_length=366)
    activation_delay_days = fields.Integer(load_default=0, metadata={
        "minimum": 0, "maximum": hub_rules.MAX_ACTIVATION_DELAY_DAYS})
    rounding = fields.String(load_default="kopeck", validate=validate.Length(max=50),
                             metadata={"enum": list(hub_rules.ROUNDINGS)})
    rules = fields.List(fields.Nested(RuleSchema), load_default=list, max_length=200)
    accrue_on_discounted = fields.Boolean(load_default=True)
    accrue_on_bonus_payment = fields.Boolean(load_default=False)
    spend_on_discounted = fields.Boolean(load_default=True)
    verify_spending = fields.Boolean(load_default=False, metadata={
        "description": "Списание бонусов в рабочем месте кассира — только по коду, отправленному клиенту."})
    restored_bonus_grace_days = fields.Integer(load_default=0, metadata={
        "minimum": 0, "maximum": hub_rules.MAX_LIFETIME_DAYS})
