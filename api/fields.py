"""Field types at the JSON edge: roubles <-> kopecks, percents, quantities; and marshmallow's
field types with Russian messages (the API's `details` are Russian throughout).

Every schema of the API takes its fields from here (``from api import fields``) and its
validators from ``api.validate``; ``api.schemas.base.Schema`` carries the schema-level
messages. Each field declares its OpenAPI type (``OPENAPI`` below), so the document says
what the wire takes.
"""
from __future__ import annotations

from decimal import Decimal

from marshmallow import ValidationError
from marshmallow import fields as ma

from api import validate
from hub.money import MAX_KOPECKS, BadNumber, MoneyError, kopecks_json, parse_rub, wire_decimal

__all__ = ["MAX_KOPECKS", "Boolean", "Date", "DateTime", "Dict", "Email", "Float", "Integer", "List",
           "Money", "Nested", "Percent", "Quantity", "Raw", "Spend", "String"]

_BASE = {"required": "Обязательное поле.", "null": "Не может быть null.",
         "validator_failed": "Недопустимое значение."}


class _Russian:
    default_error_messages = _BASE


class Raw(_Russian, ma.Raw):
    pass


class String(_Russian, ma.String):
    default_error_messages = {**_BASE, "invalid": "Должна быть строка.",
                              "invalid_utf8": "Должна быть строка в UTF-8."}


class Boolean(_Russian, ma.Boolean):
    default_error_messages = {**_BASE, "invalid": "Должно быть true или false."}


class Integer(_Russian, ma.Integer):
    default_error_messages = {**_BASE, "invalid": "Должно быть целое число.",
                              "too_large": "Слишком большое число."}


class Float(_Russian, ma.Float):
    """For answers only (shares, ratios): money never travels as a float."""
    default_error_messages = {**_BASE, "invalid": "Должно быть число.", "too_large": "Слишком большое число.",
                              "special": "Должно быть конечное число."}


class Date(_Russian, ma.Date):
    default_error_messages = {**_BASE, "invalid": "Нужна дата в формате ГГГГ-ММ-ДД.",
                              "format": "Дату «{input}» нельзя записать.",
                              "invalid_awareness": "Нужна дата в формате ГГГГ-ММ-ДД."}


class DateTime(_Russian, ma.DateTime):
    default_error_messages = {**_BASE, "invalid": "Нужны дата и время в формате ISO 8601.",
                              "format": "Время «{input}» нельзя записать.",
                              "invalid_awareness": "Нужны дата и время с часовым поясом."}


class Email(_Russian, ma.Email):
    default_error_messages = {**_BASE, "invalid": "Неверный адрес электронной почты.",
                              "invalid_utf8": "Должна быть строка в UTF-8."}


class Nested(_Russian, ma.Nested):
    default_error_messages = {**_BASE, "type": "Должен быть JSON-объект."}


class Dict(_Russian, ma.Dict):
    default_error_messages = {**_BASE, "invalid": "Должен быть JSON-объект."}


class List(_Russian, ma.List):
    """A list whose length is checked before its items are read: a million items are refused
    at once, not after a million nested loads."""

    default_error_messages = {**_BASE, "invalid": "Должен быть список.",
                              "too_long": "Не больше {max} элементов.",
                              "too_short": "Не меньше {min} элементов."}

    def __init__(self, cls_or_instance, *, min_length: int | None = None, max_length: int = 1000, **kwargs):
        super().__init__(cls_or_instance, **kwargs)
        self.min_length, self.max_length = min_length, max_length
        # For the OpenAPI document (minItems/maxItems); the check itself is in _deserialize.
        self.validators.insert(0, validate.Length(min=min_length, max=max_length))

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, (list, tuple)):
            if len(value) > self.max_length:
                raise self.make_error("too_long", max=self.max_length)
            if self.min_length is not None and len(value) < self.min_length:
                raise self.make_error("too_short", min=self.min_length)
        return super()._deserialize(value, attr, data, **kwargs)


# --- numbers of the wire -------------------------------------------------------------------

_NUMBER = {"type": "Должно быть число ({what}).", "finite": "Должно быть конечное число.",
           "large": "Слишком большое число.", "digits": "Слишком много цифр."}


def _decimal(value, what: str) -> Decimal:
    try:
        return wire_decimal(value)
    except BadNumber as exc:
        raise ValidationError(_NUMBER.get(exc.kind, _NUMBER["type"]).format(what=what)) from exc


def _number_out(value):
    if value is None:
        return None
    number = Decimal(str(value))
    return int(number) if number == number.to_integral_value() else float(number)


class Money(_Russian, ma.Field):
    """Roubles as a JSON number with at most 2 decimals; kopecks (int) inside. Read by
    hub.money.parse_rub: the limit and the messages of every face."""

    def __init__(self, *, allow_negative: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.allow_negative = allow_negative

    def openapi(self) -> dict:
        limit = MAX_KOPECKS // 100
        return {"type": "number", "multipleOf": 0.01, "maximum": limit,
                "minimum": -limit if self.allow_negative else 0}

    def _deserialize(self, value, attr, data, **kwargs) -> int:
        try:
            return parse_rub(value, allow_negative=self.allow_negative)
        except MoneyError as exc:
            raise ValidationError(exc.message) from exc

    def _serialize(self, value, attr, obj, **kwargs):
        # k / 100 is the float nearest to the exact rouble amount, and JSON writes it
        # back as that exact decimal (e.g. 1350 -> 13.5): floats exist only in the output text.
        return None if value is None else kopecks_json(value)


class Percent(_Russian, ma.Field):
    """A percent (documented from 0 to `maximum`) with at most 2 decimals; a decimal string inside."""

    def __init__(self, *, maximum: int = 100, **kwargs):
        super().__init__(**kwargs)
        self.maximum = maximum

    def openapi(self) -> dict:
        return {"type": "number", "minimum": 0, "maximum": self.maximum, "multipleOf": 0.01}

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        # The range is the hub's rule (hub/programs/rules.py); `maximum` documents it.
        number = _decimal(value, "проценты")
        if number != number.quantize(Decimal("0.01")):
            raise ValidationError("Не больше двух знаков после запятой.")
        # Fixed-point text: Decimal(10).normalize() would be stored as "1E+1".
        return format(number.normalize(), "f")

    def _serialize(self, value, attr, obj, **kwargs):
        return _number_out(value)


MAX_QUANTITY = 10 ** 6


class Quantity(_Russian, ma.Field):
    """A positive quantity with at most 3 decimals (weighed goods); Decimal inside."""

    def openapi(self) -> dict:
        return {"type": "number", "exclusiveMinimum": True, "minimum": 0, "maximum": MAX_QUANTITY,
                "multipleOf": 0.001}

    def _deserialize(self, value, attr, data, **kwargs) -> Decimal:
        number = _decimal(value, "количество")
        if number <= 0:
            raise ValidationError("Должно быть больше 0.")
        if number != number.quantize(Decimal("0.001")):
            raise ValidationError("Не больше трёх знаков после запятой.")
        if number > MAX_QUANTITY:
            raise ValidationError("Слишком большое количество.")
        return number

    def _serialize(self, value, attr, obj, **kwargs):
        return _number_out(value)


class Spend(_Russian, ma.Field):
    """A number of bonuses (roubles) or the word "max"."""

    def openapi(self) -> dict:
        return {"oneOf": [Money().openapi(), {"type": "string", "enum": ["max"]}]}

    def _deserialize(self, value, attr, data, **kwargs):
        if value == "max":
            return "max"
        return Money()._deserialize(value, attr, data)


def openapi_properties(self, field, **kwargs) -> dict:
    """apispec attribute function: the OpenAPI type of the edge's own fields."""
    if hasattr(field, "openapi"):
        return field.openapi()
    return {}
