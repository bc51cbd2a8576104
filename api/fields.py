"""Field types at the JSON edge: roubles <-> kopecks, percents, quantities."""
from __future__ import annotations

from decimal import Decimal

from marshmallow import ValidationError, fields

from connectors.numbers import MAX_KOPECKS, BadNumber, wire_decimal  # noqa: F401 - MAX_KOPECKS for the schemas

_MESSAGES = {"type": "Must be a number ({what}).", "finite": "Must be a finite number.",
             "large": "Number is too large.", "digits": "Too many digits."}


def _decimal(value, what: str) -> Decimal:  # noqa: ANN001
    try:
        return wire_decimal(value)
    except BadNumber as exc:
        raise ValidationError(_MESSAGES[exc.kind].format(what=what)) from exc


class Money(fields.Field):
    """Roubles as a JSON number with at most 2 decimals; kopecks (int) inside."""

    def __init__(self, *, allow_negative: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.allow_negative = allow_negative

    def _deserialize(self, value, attr, data, **kwargs) -> int:  # noqa: ANN001
        number = _decimal(value, "roubles")
        kopecks = number * 100
        if kopecks != kopecks.to_integral_value():
            raise ValidationError("At most 2 decimal places (kopecks).")
        if number < 0 and not self.allow_negative:
            raise ValidationError("Must not be negative.")
        if abs(kopecks) > MAX_KOPECKS:
            raise ValidationError("Amount is too large.")
        return int(kopecks)

    def _serialize(self, value, attr, obj, **kwargs):  # noqa: ANN001
        # k / 100 is the float nearest to the exact rouble amount, and JSON writes it
        # back as that exact decimal (e.g. 1350 -> 13.5): floats exist only in the output text.
        if value is None:
            return None
        return value // 100 if value % 100 == 0 else value / 100


class Percent(fields.Field):
    """A percent from 0 to `maximum` with at most 2 decimals; a decimal string inside."""

    def __init__(self, *, maximum: int = 100, **kwargs):
        super().__init__(**kwargs)
        self.maximum = maximum

    def _deserialize(self, value, attr, data, **kwargs) -> str:  # noqa: ANN001
        number = _decimal(value, "percent")
        if number < 0 or number > self.maximum:
            raise ValidationError(f"Must be between 0 and {self.maximum}.")
        if number != number.quantize(Decimal("0.01")):
            raise ValidationError("At most 2 decimal places.")
        # Fixed-point text: Decimal(10).normalize() would be stored as "1E+1".
        return format(number.normalize(), "f")

    def _serialize(self, value, attr, obj, **kwargs):  # noqa: ANN001
        if value is None:
            return None
        number = Decimal(str(value))
        return int(number) if number == number.to_integral_value() else float(number)


class Quantity(fields.Field):
    """A positive quantity with at most 3 decimals (weighed goods); Decimal inside."""

    def _deserialize(self, value, attr, data, **kwargs) -> Decimal:  # noqa: ANN001
        number = _decimal(value, "quantity")
        if number <= 0:
            raise ValidationError("Must be greater than 0.")
        if number != number.quantize(Decimal("0.001")):
            raise ValidationError("At most 3 decimal places.")
        if number > 10**6:
            raise ValidationError("Quantity is too large.")
        return number

    def _serialize(self, value, attr, obj, **kwargs):  # noqa: ANN001
        if value is None:
            return None
        number = Decimal(str(value))
        return int(number) if number == number.to_integral_value() else float(number)
