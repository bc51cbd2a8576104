from __future__ import annotations

from api import fields, validate
from api.fields import Money
from api.schemas.base import Schema

_NAME = validate.Length(max=100)


class ConsentsSchema(Schema):
    sms = fields.Boolean()
    personal_data = fields.Boolean()
    email = fields.Boolean()
    messengers = fields.Boolean()


class RelativeSchema(Schema):
    name = fields.String(load_default=None, allow_none=True, validate=_NAME)
    relation = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=50))
    birth_date = fields.Date(required=True)


class CustomerInSchema(Schema):
    phone = fields.String(required=True, validate=validate.Length(min=5, max=30))
    card_number = fields.String(allow_none=True, validate=validate.Regexp(
        r"^[0-9A-Za-z-]{1,64}$", error="Только цифры, латинские буквы и «-», не длиннее 64."))
    first_name = fields.String(allow_none=True, validate=_NAME)
    last_name = fields.String(allow_none=True, validate=_NAME)
    middle_name = fields.String(allow_none=True, validate=_NAME)
    gender = fields.String(allow_none=True, validate=validate.OneOf(("male", "female")))
    birth_date = fields.Date(allow_none=True)
    email = fields.Email(allow_none=True)
    address = fields.String(allow_none=True, validate=validate.Length(max=500))
    comment = fields.String(allow_none=True, validate=validate.Length(max=2000))
    tags = fields.List(fields.String(validate=validate.Length(min=1, max=50)), max_length=50)
    relatives = fields.List(fields.Nested(RelativeSchema), max_length=20)
    consents = fields.Nested(ConsentsSchema)


class CustomerPatchSchema(CustomerInSchema):
    phone = fields.String(validate=validate.Length(min=5, max=30))


class CustomerQuerySchema(Schema):
    phone = fields.String()
    card = fields.String()
    # The cabinet's search box: a card, a phone, any 4+ digits of either, a name's first letters.
    q = fields.String(validate=validate.Length(max=100),
                      metadata={"description": "card, phone, any 4+ digits of either, or a name's first letters"})


class ConsentStateSchema(Schema):
    given = fields.Boolean()
    at = fields.String()
    source = fields.String()


class BalanceSchema(Schema):
    available = Money()
    pending = Money()
    debt = Money()


class LevelRefSchema(Schema):
    code = fields.String()
    name = fields.String()


class CustomerOutSchema(Schema):
    id = fields.String()
    phone = fields.String()
    card_number = fields.String(allow_none=True)
    first_name = fields.String(allow_none=True)
    last_name = fields.String(allow_none=True)
    middle_name = fields.String(allow_none=True)
    gender = fields.String(allow_none=True)
    birth_date = fields.Date(allow_none=True)
    email = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    comment = fields.String(allow_none=True)
    tags = fields.List(fields.String())
    relatives = fields.List(fields.Dict())
    consents = fields.Dict(keys=fields.String(), values=fields.Nested(ConsentStateSchema))
    balance = fields.Nested(BalanceSchema)
    level = fields.Nested(LevelRefSchema)
    next_level = fields.Nested(LevelRefSchema, allow_none=True)
    total_purchases = Money()
    to_next_level = Money(allow_none=True)
    purchase_count = fields.Integer()
    last_purchase_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    blocked = fields.Boolean(metadata={"description": "Blocked in the cabinet: earns and spends nothing"})


class CustomerListSchema(Schema):
    items = fields.List(fields.Nested(CustomerOutSchema))


class PostingSchema(Schema):
    id = fields.String()
    kind = fields.String()
    amount = Money(allow_negative=True)
    moment = fields.DateTime()
    receipt_id = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)


class LedgerSchema(Schema):
    items = fields.List(fields.Nested(PostingSchema))


class LedgerQuerySchema(Schema):
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10**9))


class BonusInSchema(Schema):
    amount = Money(required=True, allow_negative=True,
                   validate=validate.Predicate("__bool__", error="Не может быть 0."))
    kind = fields.String(load_default="manual", validate=validate.OneOf(("gift", "manual")))
    reason = fields.String(allow_none=True, validate=validate.Length(max=500))
    valid_days = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=3650))
    moment = fields.String(allow_none=True)


class BonusOutSchema(Schema):
    id = fields.String()
    kind = fields.String()
    amount = Money(allow_negative=True)
    moment = fields.String()
    reason = fields.String(allow_none=True)
    balance = fields.Nested(BalanceSchema)
