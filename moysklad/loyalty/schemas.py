"""Marshmallow schemas of the Loyalty API 1.0 requests. Unknown fields are ignored (the
till sends many); what we use is checked, and a failure becomes a МойСклад error whose
`parameter` names the field ("positions[0].quantity") and whose message is Russian."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate, validates_schema

from hub.money import MAX_KOPECKS, BadNumber, MoneyError, parse_rub, wire_decimal
from moysklad.common import entity_id
from moysklad.loyalty.errors import VALIDATION, MsError

REQUIRED = {"required": "обязательное поле", "null": "не может быть null"}


def _number(value, what: str) -> Decimal:
    try:
        return wire_decimal(value)
    except BadNumber as exc:
        raise ValidationError({"finite": "должно быть конечным числом",
                               "large": "слишком большое число",
                               "digits": "слишком много знаков"}.get(exc.kind, f"должно быть числом ({what})")) from exc


class Roubles(fields.Field):
    """Roubles with at most 2 decimals in, kopecks (int) out."""

    def __init__(self, **kwargs):
        kwargs.setdefault("error_messages", REQUIRED)
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> int:
        try:
            return parse_rub(value)      # the one parser: its limit and words on every face
        except MoneyError as exc:
            raise ValidationError(exc.message) from exc


class Kopecks(fields.Field):
    """Kopecks as a whole non-negative number (gift-card payment sums)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("error_messages", REQUIRED)
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> int:
        number = _number(value, "копейки")
        if number != number.to_integral_value() or number < 0 or number > MAX_KOPECKS:
            raise ValidationError("должно быть целым неотрицательным числом копеек")
        return int(number)


class Quantity(fields.Field):
    """A positive quantity with at most 3 decimals."""

    def __init__(self, **kwargs):
        kwargs.setdefault("error_messages", REQUIRED)
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> Decimal:
        number = _number(value, "количество")
        if number <= 0:
            raise ValidationError("количество должно быть больше нуля")
        if number != number.quantize(Decimal("0.001")):
            raise ValidationError("не больше 3 знаков после запятой")
        if number > 10 ** 6:
            raise ValidationError("слишком большое количество")
        return number.normalize() if number == number.to_integral_value() else number


class Percent(fields.Field):
    def __init__(self, **kwargs):
        kwargs.setdefault("error_messages", REQUIRED)
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> Decimal:
        number = _number(value, "процент")
        if number < 0 or number > 100:
            raise ValidationError("процент должен быть от 0 до 100")
        return number


def Str(max_length: int = 255, required: bool = False, **kwargs) -> fields.String:
    return fields.String(required=required, validate=validate.Length(
        min=1 if required else 0, max=max_length,
        error="длина от {min} до {max} символов"),
        error_messages={**REQUIRED, "invalid": "должно быть строкой"}, **kwargs)


class Base(Schema):
    class Meta:
        unknown = EXCLUDE


class MetaSchema(Base):
    href = Str(2000, allow_none=True)
    id = Str(200, allow_none=True)
    type = Str(100, allow_none=True)
    idType = Str(20, allow_none=True)

    @post_load
    def _id(self, data, **kwargs):
        ident = entity_id(data)
        if not ident:
            raise ValidationError({"id": ["обязательное поле: нужен id или href"]})
        data["id"] = ident
        return data


def MetaRef(required: bool = True, **kwargs) -> fields.Nested:
    return fields.Nested(MetaSchema, required=required,
                         error_messages={**REQUIRED, "type": "должно быть объектом"}, **kwargs)


def Obj(schema, required: bool = False, **kwargs) -> fields.Nested:
    return fields.Nested(schema, required=required,
                         error_messages={**REQUIRED, "type": "должно быть объектом"}, **kwargs)


class RetailStoreSchema(Base):
    meta = MetaRef()
    name = Str(255, allow_none=True)


class AgentFields(Base):
    name = Str(500, allow_none=True)
    discountCardNumber = Str(64, allow_none=True)
    phone = Str(50, allow_none=True)
    email = Str(200, allow_none=True)
    legalFirstName = Str(255, allow_none=True)
    legalMiddleName = Str(255, allow_none=True)
    legalLastName = Str(255, allow_none=True)
    birthDate = Str(40, allow_none=True)
    sex = fields.String(allow_none=True, validate=validate.OneOf(
        ("MALE", "FEMALE"), error="допустимые значения: MALE, FEMALE"))

    @validates_schema
    def _birth_date(self, data, **kwargs):
        if data.get("birthDate"):
            try:
                date.fromisoformat(data["birthDate"][:10])
            except ValueError as exc:
                raise ValidationError("дата в формате ГГГГ-ММ-ДД ЧЧ:ММ:СС", "birthDate") from exc


class AgentSchema(AgentFields):
    meta = MetaRef(required=False, allow_none=True)
    href = Str(2000, allow_none=True)   # a return's agent arrives flat: {href, id}
    id = Str(200, allow_none=True)

    @post_load
    def _ms_id(self, data, **kwargs):
        data["ms_id"] = entity_id(data.get("meta")) or entity_id(
            {"id": data.get("id"), "href": data.get("href")})
        return data


class AssortmentSchema(Base):
    meta = MetaRef()
    syncId = Str(200, allow_none=True)


class PositionSchema(Base):
    assortment = Obj(AssortmentSchema, required=True)
    quantity = Quantity(required=True)
    price = Roubles(required=True)
    discountPercent = Percent(allow_none=True)
    discountedPrice = Roubles(allow_none=True)
    sn = fields.List(fields.Dict(), allow_none=True,
                     error_messages={"invalid": "должно быть списком"})
    pack = fields.Dict(allow_none=True, error_messages={"invalid": "должно быть объектом"})

    @validates_schema
    def _serials(self, data, **kwargs):
        sn = data.get("sn") or []
        qty = data.get("quantity")
        # A weighed (fractional) line cannot carry one serial number per unit.
        if sn and qty is not None and qty == qty.to_integral_value() and Decimal(len(sn)) != qty:
            raise ValidationError("число серийных номеров должно совпадать с количеством", "sn")


class ReturnPositionSchema(PositionSchema):
    price = Roubles(allow_none=True)


def Positions(schema=PositionSchema, required: bool = True) -> fields.List:
    return fields.List(fields.Nested(schema), required=required,
                       validate=validate.Length(min=1 if required else 0, max=1000,
                                                error="от {min} до {max} позиций"),
                       error_messages={**REQUIRED, "invalid": "должно быть списком"})


class CounterpartyCreateSchema(AgentFields):
    retailStore = Obj(RetailStoreSchema, required=True)
    meta = MetaRef()
    syncId = Str(200, allow_none=True)
    statusCheck = fields.String(allow_none=True, validate=validate.OneOf(
        ("UNCHECKED", "CHECKED", "IGNORE"), error="допустимые значения: UNCHECKED, CHECKED, IGNORE"))


class CounterpartyDetailSchema(AgentFields):
    retailStore = Obj(RetailStoreSchema, required=True)
    meta = MetaRef()


class CounterpartyVerifySchema(AgentFields):
    retailStore = Obj(RetailStoreSchema, allow_none=True)  # not in the docs' example
    meta = MetaRef(required=False, allow_none=True)


class CounterpartySearchSchema(Base):
    search = Str(200, required=True)
    retailStoreId = Str(200, required=True)


class RecalcBonusSchema(Base):
    transactionType = fields.String(
        allow_none=True, load_default="EARNING",
        validate=validate.OneOf(("EARNING", "SPENDING"), error="допустимые значения: EARNING, SPENDING"))
    preferredBonusToSpend = Roubles(allow_none=True)


class RecalcSchema(Base):
    retailStore = Obj(RetailStoreSchema, required=True)
    agent = Obj(AgentSchema, required=True)
    positions = Positions()
    bonusProgram = Obj(RecalcBonusSchema, allow_none=True)
    preferredBonusToSpend = Roubles(allow_none=True)


class DemandVerifySchema(Base):
    retailStore = Obj(RetailStoreSchema, required=True)
    counterpartyId = Str(200, required=True)
    phone = Str(50, allow_none=True)


class SaleBonusSchema(Base):
    bonusValueToSpend = Roubles(allow_none=True)
    bonusValueToEarn = Roubles(allow_none=True)


class GiftCardPaymentSchema(Base):
    id = Str(200, allow_none=True)
    name = Str(200, allow_none=True)
    paymentSum = Kopecks(required=True)


class RetailDemandSchema(Base):
    retailStore = Obj(RetailStoreSchema, required=True)
    name = Str(255, allow_none=True)
    moment = Str(40, allow_none=True)
    meta = MetaRef()
    agent = Obj(AgentSchema, allow_none=True)
    positions = Positions()
    bonusProgram = Obj(SaleBonusSchema, allow_none=True)
    cashSum = Roubles(allow_none=True)
    noCashSum = Roubles(allow_none=True)
    giftCards = fields.List(fields.Nested(GiftCardPaymentSchema), allow_none=True)


class DemandRefSchema(Base):
    meta = MetaRef()


class RetailSalesReturnSchema(Base):
    retailStore = Obj(RetailStoreSchema, required=True)
    name = Str(255, allow_none=True)
    moment = Str(40, allow_none=True)
    meta = MetaRef()
    demand = Obj(DemandRefSchema, allow_none=True)
    agent = Obj(AgentSchema, allow_none=True)
    positions = Positions(ReturnPositionSchema, required=False)
    cashSum = Roubles(allow_none=True)
    noCashSum = Roubles(allow_none=True)


class GiftCardQuerySchema(Base):
    name = Str(200, required=True)
    retailStoreId = Str(200, required=True)


# --- errors -----------------------------------------------------------------------------------

_RU = {
    "Missing data for required field.": "обязательное поле",
    "Field may not be null.": "не может быть null",
    "Not a valid string.": "должно быть строкой",
    "Invalid input type.": "неверный тип значения",
    "Not a valid list.": "должно быть списком",
    "Not a valid mapping type.": "должно быть объектом",
    "Invalid type.": "неверный тип значения",
    "Not a valid utf-8 string.": "должно быть строкой в UTF-8",
    "Invalid value.": "недопустимое значение",
    "Unknown field.": "неизвестное поле",
    "Not a valid integer.": "должно быть целым числом",
    "Not a valid number.": "должно быть числом",
    "Not a valid boolean.": "должно быть true или false",
}


def _first(messages, path: str = "") -> tuple[str, str]:
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key == "_schema":
                sub = path
            elif isinstance(key, int):
                sub = f"{path}[{key}]"
            else:
                sub = f"{path}.{key}" if path else str(key)
            return _first(value, sub)
    if isinstance(messages, list) and messages:
        if isinstance(messages[0], (dict, list)):
            return _first(messages[0], path)
        return path, str(messages[0])
    return path, str(messages)


def load(schema: Schema, data) -> dict:
    """Validated data, or a МойСклад 400 error naming the first offending field."""
    if not isinstance(data, dict):
        raise MsError(400, VALIDATION, "Тело запроса должно быть JSON-объектом.")
    try:
        return schema.load(data)
    except ValidationError as exc:
        path, message = _first(exc.messages)
        message = _RU.get(message, message)
        raise MsError(400, VALIDATION, f"Некорректные данные запроса: {path or 'тело'} — {message}.",
                      path or None) from exc
