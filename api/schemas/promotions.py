"""Promotions, promo codes and gift certificates at the JSON edge (roubles <-> kopecks).

The schemas convert shapes and units; what makes a promotion valid is the hub's rule
(hub/promotions/operations.py), so the API and the cabinet give the same messages.
"""
from __future__ import annotations

from api import fields, validate
from api.schemas.base import Schema

REWARDS = ("percent_off", "amount_off", "free_items", "bonus_multiplier", "bonus_extra", "spend_share",
           "gift_product")
_NAME = validate.Length(min=1, max=200)
_TAG = fields.String(validate=validate.Length(min=1, max=100))


class WhenSchema(Schema):
    starts_at = fields.String(allow_none=True, metadata={
        "description": "ISO 8601; without an offset, the tenant's local time"})
    ends_at = fields.String(allow_none=True, metadata={"description": "exclusive"})
    weekdays = fields.List(fields.Integer(), max_length=7, load_default=list,
                           metadata={"description": "1 = Monday … 7 = Sunday"})
    time_from = fields.String(allow_none=True, metadata={"description": "HH:MM, local, inclusive"})
    time_to = fields.String(allow_none=True, metadata={"description": "HH:MM, local, exclusive; may wrap midnight"})
    stores = fields.List(_TAG, max_length=1000, load_default=list)
    levels = fields.List(_TAG, max_length=100, load_default=list)
    segments = fields.List(_TAG, max_length=100, load_default=list)
    groups = fields.List(_TAG, max_length=1000, load_default=list)
    products = fields.List(_TAG, max_length=1000, load_default=list)
    min_amount = fields.Money(load_default=0, metadata={"description": "roubles of the targeted lines"})
    min_quantity = fields.Percent(maximum=1_000_000, load_default="0",
                                  metadata={"description": "units of the targeted lines"})
    first_purchase = fields.Boolean(load_default=False)
    birthday_days = fields.Integer(allow_none=True, metadata={"description": "± days around the birthday"})
    per_customer_limit = fields.Integer(allow_none=True)
    requires_code = fields.Boolean(load_default=False)


class PromotionSchema(Schema):
    id = fields.String(dump_only=True)
    name = fields.String(required=True, validate=_NAME)
    active = fields.Boolean(load_default=True)
    reward = fields.String(required=True, validate=validate.OneOf(REWARDS))
    percent = fields.Percent(allow_none=True, metadata={"description": "percent_off, spend_share"})
    amount = fields.Money(allow_none=True, metadata={"description": "amount_off, bonus_extra (roubles)"})
    multiplier = fields.Percent(maximum=100, allow_none=True, metadata={"description": "bonus_multiplier"})
    buy = fields.Integer(allow_none=True, metadata={"description": "free_items: N paid"})
    free = fields.Integer(allow_none=True, metadata={"description": "free_items: M free (the cheapest)"})
    gift_product = fields.String(allow_none=True, validate=validate.Length(max=100),
                                 metadata={"description": "gift_product: the gift's product id"})
    gift_name = fields.String(allow_none=True, validate=validate.Length(max=200))
    gift_price = fields.Money(allow_none=True, metadata={"description": "gift_product: roubles per unit (0: free)"})
    gift_quantity = fields.Integer(allow_none=True, metadata={"description": "gift_product: units per receipt"})
    priority = fields.Integer(load_default=0)
    exclusive = fields.Boolean(load_default=False)
    combine = fields.String(load_default="stack", validate=validate.OneOf(("stack", "best")))
    level_discount = fields.Boolean(load_default=True)
    bonus_spend = fields.Boolean(load_default=True)
    when = fields.Nested(WhenSchema, load_default=dict)
    created_at = fields.String(dump_only=True)
    updated_at = fields.String(dump_only=True)


class CodeBatchInSchema(Schema):
    count = fields.Integer(load_default=1)
    max_uses = fields.Integer(allow_none=True, load_default=1,
                              metadata={"description": "null: any number of uses"})
    per_customer_limit = fields.Integer(allow_none=True)
    valid_from = fields.String(allow_none=True)
    valid_to = fields.String(allow_none=True)


class CodeSchema(Schema):
    code = fields.String()
    promotion_id = fields.String()
    batch = fields.String()
    max_uses = fields.Integer(allow_none=True)
    per_customer_limit = fields.Integer(allow_none=True)
    uses = fields.Integer()
    valid_from = fields.String(allow_none=True)
    valid_to = fields.String(allow_none=True)
    blocked = fields.Boolean()


class CodeBatchSchema(Schema):
    batch = fields.String()
    promotion_id = fields.String()
    count = fields.Integer()
    max_uses = fields.Integer(allow_none=True)
    per_customer_limit = fields.Integer(allow_none=True)
    valid_from = fields.String(allow_none=True)
    valid_to = fields.String(allow_none=True)
    codes = fields.List(fields.String())


class CodeBlockSchema(Schema):
    blocked = fields.Boolean(required=True)


class LinePromotionSchema(Schema):
    id = fields.String()
    name = fields.String()
    discount = fields.Money()
    bonus = fields.Money()


class AppliedPromotionSchema(Schema):
    id = fields.String()
    name = fields.String()
    reward = fields.String()
    discount = fields.Money()
    bonus = fields.Money()


# --- gift certificates ------------------------------------------------------------------------

class CertificateIssueSchema(Schema):
    nominal = fields.Money(required=True)
    count = fields.Integer(allow_none=True)
    numbers = fields.List(fields.String(validate=validate.Length(min=1, max=60)), max_length=1000,
                          allow_none=True, metadata={"description": "pre-printed numbers"})
    valid_days = fields.Integer(allow_none=True, metadata={"description": "counted from the sale"})


class CertificateSchema(Schema):
    id = fields.String()
    number = fields.String()
    nominal = fields.Money()
    balance = fields.Money()
    status = fields.String(metadata={"description": "issued | active | blocked | expired"})
    expires_at = fields.String(allow_none=True)
    activated_at = fields.String(allow_none=True)
    valid_days = fields.Integer(allow_none=True)
    redeemed = fields.Money()
    restored = fields.Money()


class CertificateListSchema(Schema):
    certificates = fields.List(fields.Nested(CertificateSchema))


class CertificateActivateSchema(Schema):
    external_id = fields.String(required=True, validate=validate.Length(min=1, max=200),
                                metadata={"description": "required: the till's sale of the certificate (idempotency key)"})
    moment = fields.String(allow_none=True)


class CertificateRedeemSchema(Schema):
    external_id = fields.String(required=True, validate=validate.Length(min=1, max=200),
                                metadata={"description": "required: the payment's id (idempotency key)"})
    amount = fields.Money(required=True)
    moment = fields.String(allow_none=True)


class CertificateRefundSchema(Schema):
    external_id = fields.String(required=True, validate=validate.Length(min=1, max=90),
                                metadata={"description": "required: the refund's id (idempotency key)"})
    redemption_external_id = fields.String(required=True, validate=validate.Length(min=1, max=90),
                                           metadata={"description": "required: the redeem's external_id"})
    amount = fields.Money(required=True)
    moment = fields.String(allow_none=True)


class CertificateBlockSchema(Schema):
    blocked = fields.Boolean(required=True)
