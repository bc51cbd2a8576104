"""Automation through the API: shapes and units only (roubles <-> kopecks, percents).

What makes a trigger, chain, segment or mailing valid is the hub's rule (hub/automation),
checked when it is stored, with the same field paths in `details`.
"""
from __future__ import annotations

from marshmallow import ValidationError

from api import fields, validate
from api.fields import Money, Percent
from api.schemas.base import Schema
from hub.automation import segments

_DAYS = validate.Range(min=0, max=3650)
_CODES = fields.List(fields.String(validate=validate.Length(min=1, max=50)), max_length=50)


class GiftRuleSchema(Schema):
    id = fields.String(validate=validate.Length(min=1, max=36))
    event = fields.String(required=True, metadata={"enum": ["registration", "first_purchase", "birthday",
                                                            "relative_birthday"]})
    enabled = fields.Boolean(load_default=True)
    amount = Money(required=True)
    valid_days = fields.Integer(required=True, validate=_DAYS)
    delay_days = fields.Integer(load_default=0, validate=_DAYS)
    days_before = fields.Integer(load_default=0, validate=validate.Range(min=0, max=60),
                                 metadata={"description": "birthdays: how many days before the date"})
    levels = _CODES
    sources = _CODES
    since = fields.String(allow_none=True, metadata={"description": "when it was switched on (set by the hub)"})


class ExpiryWarningSchema(Schema):
    enabled = fields.Boolean(load_default=False)
    days_before = fields.Integer(load_default=7, validate=validate.Range(min=1, max=90))
    since = fields.String(allow_none=True, metadata={"description": "when it was switched on (set by the hub)"})


class ActivationSchema(Schema):
    enabled = fields.Boolean(load_default=False)
    since = fields.String(allow_none=True, metadata={"description": "when it was switched on (set by the hub)"})


class SegmentParamsSchema(Schema):
    interval_days = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=1, max=365),
                                   metadata={"description": "T by hand; empty: the median interval"})
    core_purchases = fields.Integer(load_default=4, validate=validate.Range(min=2, max=100))


class GiftSchema(Schema):
    amount = Money(required=True)
    valid_days = fields.Integer(required=True, validate=validate.Range(min=1, max=3650))
    delay_days = fields.Integer(load_default=0, validate=_DAYS)


class ReferralLevelSchema(Schema):
    percent = Percent()
    amount = Money()


class ReferralSettingsSchema(Schema):
    enabled = fields.Boolean(load_default=False)
    newcomer_gift = fields.Nested(GiftSchema, allow_none=True, load_default=None)
    mode = fields.String(load_default="first", metadata={"enum": ["first", "every"]})
    levels = fields.List(fields.Nested(ReferralLevelSchema), max_length=10, load_default=list)
    period_days = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=1, max=3650))
    valid_days = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=1, max=3650))
    since = fields.String(allow_none=True, metadata={"description": "when it was switched on (set by the hub)"})


class AutomationSettingsSchema(Schema):
    gifts = fields.List(fields.Nested(GiftRuleSchema), max_length=50, load_default=list)
    expiry_warning = fields.Nested(ExpiryWarningSchema, load_default=dict)
    activation = fields.Nested(ActivationSchema, load_default=dict)
    segments = fields.Nested(SegmentParamsSchema, load_default=dict)
    referral = fields.Nested(ReferralSettingsSchema, load_default=dict)


class FiltersSchema(Schema):
    """Custom segment filters (all optional, combined with AND)."""
    rfm = fields.List(fields.String(), max_length=7, metadata={
        "description": "recency segments: no_purchases, newcomers, potential, core, dozing, sleeping, lost"})
    levels = _CODES
    tags_any = fields.List(fields.String(validate=validate.Length(min=1, max=50)), max_length=50)
    gender = fields.String(metadata={"enum": ["male", "female"]})
    age_min = fields.Integer(validate=validate.Range(min=0, max=150))
    age_max = fields.Integer(validate=validate.Range(min=0, max=150))
    birthday_in_days = fields.Integer(validate=validate.Range(min=0, max=366))
    birth_month = fields.Integer(validate=validate.Range(min=1, max=12))
    last_purchase_days_min = fields.Integer(validate=validate.Range(min=0, max=36500))
    last_purchase_days_max = fields.Integer(validate=validate.Range(min=0, max=36500))
    purchase_count_min = fields.Integer(validate=validate.Range(min=0, max=10**9))
    purchase_count_max = fields.Integer(validate=validate.Range(min=0, max=10**9))
    total_min = Money()
    total_max = Money()
    balance_min = Money()
    balance_max = Money()
    segment_id = fields.String(validate=validate.Length(max=36))
    joined_from = fields.String(validate=validate.Regexp(r"^\d{4}-\d{2}-\d{2}$"), metadata={"format": "date"})
    joined_to = fields.String(validate=validate.Regexp(r"^\d{4}-\d{2}-\d{2}$"), metadata={"format": "date"})


class ChainStepSchema(Schema):
    days = fields.Integer(required=True, validate=validate.Range(min=1, max=3650))
    amount = Money(load_default=0)
    valid_days = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=1, max=3650))
    delay_days = fields.Integer(load_default=0, validate=_DAYS)
    text = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=1000),
                         metadata={"description": "own text instead of the winback template"})


class ChainInSchema(Schema):
    name = fields.String(load_default="Реанимация", validate=validate.Length(min=1, max=200))
    enabled = fields.Boolean(load_default=True)
    audience = fields.Nested(FiltersSchema, load_default=dict)
    steps = fields.List(fields.Nested(ChainStepSchema), required=True, min_length=1, max_length=10)


class ChainSchema(ChainInSchema):
    id = fields.String()
    since = fields.DateTime()
    created_at = fields.DateTime()


class ChainListSchema(Schema):
    items = fields.List(fields.Nested(ChainSchema))


class ProposalQuerySchema(Schema):
    average_check = Money(metadata={"description": "empty: the shop's average receipt over a year"})
    margin_percent = Percent(required=True)
    share_percent = Percent(required=True)


class ProposalSchema(Schema):
    average_check = Money()
    margin_percent = Percent()
    share_percent = Percent()
    gift = Money()


class _SegmentName(validate.Length):
    """The segment name's length, refused in the words of hub.automation.segments.create_segment
    (the cabinet and the CLI say the same); the OpenAPI document keeps minLength/maxLength."""

    def __call__(self, value):
        if len(value) < self.min:
            raise ValidationError(segments.NAME_MISSING)
        if len(value) > self.max:
            raise ValidationError(segments.NAME_TOO_LONG)
        return value


class SegmentInSchema(Schema):
    name = fields.String(required=True, validate=_SegmentName(min=1, max=segments.NAME_MAX))
    filters = fields.Nested(FiltersSchema, load_default=dict)


class SegmentSchema(SegmentInSchema):
    id = fields.String()
    count = fields.Integer()
    created_at = fields.DateTime()


class RfmCountSchema(Schema):
    code = fields.String()
    name = fields.String()
    count = fields.Integer()
    share = fields.Float()


class SegmentListSchema(Schema):
    rfm = fields.List(fields.Nested(RfmCountSchema))
    custom = fields.List(fields.Nested(SegmentSchema))


class InviterSchema(Schema):
    phone = fields.String(validate=validate.Length(max=30))
    card = fields.String(validate=validate.Length(max=64))
    code = fields.String(validate=validate.Length(max=20))


class ReferralInSchema(Schema):
    customer_id = fields.String(required=True, validate=validate.Length(max=36))
    inviter = fields.Nested(InviterSchema, required=True)


class ReferralSchema(Schema):
    customer_id = fields.String()
    inviter_id = fields.String()
    via = fields.String()
    gift = Money()


class ReferralCodeSchema(Schema):
    customer_id = fields.String()
    code = fields.String()
    link = fields.String()


class MailingInSchema(Schema):
    name = fields.String(load_default="Рассылка", validate=validate.Length(min=1, max=200))
    audience = fields.Nested(FiltersSchema, load_default=dict)
    text = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    gift = fields.Nested(GiftSchema, allow_none=True, load_default=None)
    scheduled_at = fields.DateTime(allow_none=True, load_default=None)


class EstimateSchema(Schema):
    audience = fields.Integer()
    recipients = fields.Integer()
    without_consent = fields.Integer()
    by_channel = fields.Dict(keys=fields.String(), values=fields.Integer())
    sms_parts = fields.Integer()
    estimated_cost = Money()


class MailingSchema(Schema):
    id = fields.String()
    name = fields.String()
    audience = fields.Nested(FiltersSchema)
    text = fields.String()
    gift = fields.Nested(GiftSchema, allow_none=True)
    scheduled_at = fields.DateTime(allow_none=True)
    status = fields.String()
    recipients = fields.Integer()
    estimated_cost = Money()
    sent_at = fields.DateTime(allow_none=True)
    estimate = fields.Nested(EstimateSchema)
    queued = fields.Integer()


class StatsQuerySchema(Schema):
    since = fields.DateTime()
    until = fields.DateTime()


class MechanicStatsSchema(Schema):
    mechanic = fields.String()
    events = fields.Integer()
    customers = fields.Integer()
    granted = Money()
    spent = Money()
    converted = fields.Integer()
    conversion = fields.Float()
    revenue = Money()
    message_cost = Money()
    cost = Money()
    profit = Money()


class StatsSchema(Schema):
    items = fields.List(fields.Nested(MechanicStatsSchema))
