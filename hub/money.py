"""Numbers from wire formats: one reading of amounts and quantities for every adapter.

JSON numbers arrive as ints, floats or strings. A float is read through its shortest
round-trip form (1234.5 stays exactly 1234.5), and the magnitude and digit count are bounded
before any arithmetic: Decimal("1E+999999999") * 100 overflows, quantize() of a huge
number raises, and 1E-999999999 would quietly round to 0.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

MAX_KOPECKS = 10 ** 13   # 100 billion roubles: far above any receipt, far below overflow


class BadNumber(ValueError):
    """`kind` says what is wrong: type, finite, large, digits or fraction."""

    def __init__(self, kind: str, value):
        super().__init__(f"{value!r}: {kind}")
        self.kind = kind


def wire_decimal(value) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise BadNumber("type", value)
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else \
            Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation as exc:
        raise BadNumber("type", value) from exc
    if not number.is_finite():
        raise BadNumber("finite", value)
    if number and number.adjusted() > 15:
        raise BadNumber("large", value)
    if number and (number.adjusted() < -12 or len(number.as_tuple().digits) > 20):
        raise BadNumber("digits", value)
    return number


def wire_kopecks(value) -> int:
    """Roubles (at most 2 decimals) as kopecks; sub-kopeck values are refused."""
    kopecks = wire_decimal(value) * 100
    if kopecks != kopecks.to_integral_value():
        raise BadNumber("fraction", value)
    return int(kopecks)


def kopecks_json(kopecks: int):
    """Kopecks as a JSON number of roubles: an int when whole (70), else a float with at most
    2 decimals (62.95). Floats exist only in the output text, never in arithmetic."""
    return kopecks // 100 if kopecks % 100 == 0 else kopecks / 100
