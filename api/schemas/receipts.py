from __future__ import annotations

from marshmallow import ValidationError, validates_schema

from api import fields, validate
from api.fields import MAX_KOPECKS, Money, Quantity
from api.schemas.base import Schema
from api.schemas.customers import LevelRefSchema
from api.schemas.promotions import AppliedPromotionSchema, LinePromotionSchema

_ID = validate.Length(min=1, max=200)
MAX_POSITIONS = 1000


class CustomerRefSchema(Schema):
    phone = fields.String(validate=validate.Length(min=5, max=30))
    card = fields.String(validate=validate.Length(min=1, max=64))
    id = fields.String(validate=validate.Length(min=1, max=36))

    @validates_schema
    def _one(self, data, **kwargs):
        if len(data) != 1:
            raise ValidationError("Укажите ровно одно из полей: phone, card, id.", "_schema")


class PositionSchema(Schema):
    id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    product = fields.String(allow_none=True, validate=validate.Length(max=200))
    name = fields.String(allow_none=True, validate=validate.Length(max=500))
    groups = fields.List(fields.String(validate=validate.Length(min=1, max=100)), load_default=list)
    price = Money(required=True)
    quantity = Quantity(required=True)
    till_discount = Money(load_default=0)   # what the till itself already took off the line
    certificate = fields.Boolean(load_default=False, metadata={
        "description": "a gift certificate sold: no bonuses, discounts or promotions on it, "
                       "not a purchase for levels"})


class PaymentSchema(Schema):
    method = fields.String(required=True, validate=validate.OneOf(("cash", "card", "mixed")))


class CertificatePaymentSchema(Schema):
    number = fields.String(required=True, validate=validate.Length(min=4, max=40))
    amount = Money(required=True, validate=validate.Range(min=1, error="Сумма должна быть больше 0."))


class ReceiptInSchema(Schema):
    external_id = fields.String(required=True, validate=_ID, metadata={"description": (
        "required: the till's own id of the receipt (idempotency key: the same id again "
        "answers the first commit); returns name the receipt by it; calculate needs it too")})
    moment = fields.String(allow_none=True)
    store = fields.String(allow_none=True, validate=validate.Length(min=1, max=100))
    cashier = fields.String(allow_none=True, validate=validate.Length(min=1, max=100))
    customer = fields.Nested(CustomerRefSchema, allow_none=True)
    positions = fields.List(fields.Nested(PositionSchema), required=True, min_length=1,
                            max_length=MAX_POSITIONS)
    payment = fields.Nested(PaymentSchema, allow_none=True)
    spend_bonuses = fields.Spend(allow_none=True, metadata={"description": 'roubles or "max"'})
    promo_codes = fields.List(fields.String(validate=validate.Length(min=1, max=40)), max_length=20,
                              load_default=list, metadata={"description": "promo codes (coupons)"})
    certificates = fields.List(fields.Nested(CertificatePaymentSchema), max_length=20, load_default=list,
                               metadata={"description": (
                                   "gift certificates paying for this sale (POST /receipts only; "
                                   "calculate ignores them): redeemed in the sale's own "
                                   "transaction, at most amount_to_pay in all; a return of the "
                                   "sale refunds them first")})

    @validates_schema
    def _positions(self, data, **kwargs):
        ids = [p["id"] for p in data.get("positions") or []]
        if len(set(ids)) != len(ids):
            raise ValidationError("Номера позиций (id) в чеке не должны повторяться.", "positions")
        total = 0
        for i, p in enumerate(data.get("positions") or []):
            gross = p["price"] * p["quantity"]
            if p["till_discount"] > gross:
                raise ValidationError({i: {"till_discount": ["Больше, чем цена × количество."]}}, "positions")
            if gross > MAX_KOPECKS:
                raise ValidationError({i: {"quantity": ["Цена × количество — слишком большая сумма."]}}, "positions")
            total += gross
        if total > MAX_KOPECKS:
            raise ValidationError("Сумма чека слишком большая.", "positions")


class ReturnPositionSchema(Schema):
    id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    quantity = Quantity(required=True)


class ReturnInSchema(Schema):
    external_id = fields.String(required=True, validate=_ID, metadata={"description": (
        "required: the till's own id of the return (idempotency key: the same id again "
        "answers the first return and refunds nothing twice)")})
    moment = fields.String(allow_none=True)
    positions = fields.List(fields.Nested(ReturnPositionSchema), allow_none=True, min_length=1,
                            max_length=MAX_POSITIONS)

    @validates_schema
    def _unique(self, data, **kwargs):
        ids = [p["id"] for p in data.get("positions") or []]
        if len(set(ids)) != len(ids):
            raise ValidationError("Каждая позиция — один раз в возврате.", "positions")


class PositionQuoteSchema(Schema):
    id = fields.String()
    amount = Money()
    discount = Money()
    level_discount = Money()
    bonus_spent = Money()
    amount_to_pay = Money()
    bonus_earned = Money()
    promo_discount = Money()
    promotions = fields.List(fields.Nested(LinePromotionSchema))


class TotalsSchema(Schema):
    amount = Money()
    discount = Money()
    level_discount = Money()
    bonus_spent = Money()
    max_spendable = Money()
    amount_to_pay = Money()
    bonus_earned = Money()
    promo_discount = Money()


class QuoteCustomerSchema(Schema):
    id = fields.String()
    balance = Money(allow_negative=True)
    balance_after = Money(allow_negative=True)
    level = fields.Nested(LevelRefSchema)
    next_level = fields.Nested(LevelRefSchema, allow_none=True)
    to_next_level = Money(allow_none=True)
    level_after = fields.Nested(LevelRefSchema)


class MessagesSchema(Schema):
    cashier = fields.String()
    receipt = fields.String()


class CertificatePaidSchema(Schema):
    number = fields.String()
    amount = Money(metadata={"description": "redeemed by the sale, or refunded by the return"})
    balance = Money(metadata={"description": "the certificate's balance after it"})


class QuoteSchema(Schema):
    id = fields.String()
    external_id = fields.String()
    positions = fields.List(fields.Nested(PositionQuoteSchema))
    totals = fields.Nested(TotalsSchema)
    customer = fields.Nested(QuoteCustomerSchema, allow_none=True)
    bonus_earned_active_from = fields.String(allow_none=True)
    bonus_earned_expires_at = fields.String(allow_none=True)
    messages = fields.Nested(MessagesSchema)
    promotions = fields.List(fields.Nested(AppliedPromotionSchema))
    offers = fields.List(fields.String())
    certificates = fields.List(fields.Nested(CertificatePaidSchema), metadata={
        "description": "the gift certificates the sale was paid with (only when there were any)"})


class ReturnCustomerSchema(Schema):
    id = fields.String()
    balance = Money(allow_negative=True)
    debt = Money()
    level = fields.Nested(LevelRefSchema)


class ReturnOutSchema(Schema):
    id = fields.String()
    external_id = fields.String()
    receipt_external_id = fields.String()
    amount = Money()
    amount_returned = Money()
    bonus_spent_restored = Money()
    bonus_earned_reversed = Money()
    promo_withheld = Money(allow_negative=True, metadata={
        "description": "a set promotion's discount the kept goods no longer deserve (negative: given back)"})
    message = fields.String(metadata={"description": "why, for the cashier (Russian)"})
    customer = fields.Nested(ReturnCustomerSchema, allow_none=True)
    certificate_refunded = Money(metadata={
        "description": "the part of amount_returned given back to the gift certificates the sale "
                       "was paid with (refunded first); the rest goes back in money"})
    certificates = fields.List(fields.Nested(CertificatePaidSchema), metadata={
        "description": "each certificate refunded by this return (only when there were any)"})
