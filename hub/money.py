"""Money at the edge: the one reading of roubles typed by a person or sent by an integrator
(`parse_rub`, used by the API's fields, the cabinets' forms, the CLI and the adapters' schemas),
with one limit (`MAX_KOPECKS`) and one set of Russian messages; and the reading of numbers from
wire formats (`wire_decimal`) it is built on.

JSON numbers arrive as ints, floats or strings. A float is read through its shortest
round-trip form (1234.5 stays exactly 1234.5), and the magnitude and digit count are bounded
before any arithmetic: Decimal("1E+999999999") * 100 overflows, quantize() of a huge
number raises, and 1E-999999999 would quietly round to 0.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from hub.engine.text import rub as format_rub

# One maximum for any amount anyone enters: 100 billion roubles (10^13 kopecks). Why this one:
# the adapters read wholesale documents of 1С and МойСклад and the API's receipts through it, so
# it must sit above any real document (a cabinet limit of 100 M ₽ would refuse in a form what a
# till was allowed to send); it keeps a receipt's total of 1,000 lines (10^16) and any sum of
# postings far inside BIGINT (9.2 * 10^18), and Decimal arithmetic far from overflow. It is the
# maximum the API already documented, so the OpenAPI document does not change.
MAX_KOPECKS = 10 ** 13


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
    """Roubles (at most 2 decimals) as kopecks through parse_rub (negative allowed: a wire's
    discount or correction line); a BadNumber, whose message is parse_rub's, when refused."""
    try:
        return parse_rub(value, allow_negative=True)
    except MoneyError as exc:
        raise BadNumber(exc.kind, value) from exc


# What every face says when it refuses an amount (the API's `details`, a form's field, the CLI's
# line, an adapter's error): the same words everywhere.
MONEY_MESSAGES = {
    "type": "Нужна сумма в рублях, например 1 234,56.",
    "fraction": "Не больше двух знаков после запятой (копейки).",
    "negative": "Сумма не может быть отрицательной.",
    "large": f"Слишком большая сумма: не больше {format_rub(MAX_KOPECKS).removesuffix(',00')} ₽.",
}
_TYPED = str.maketrans({"\u00a0": None, "\u202f": None, "\u2009": None, " ": None, "₽": None,
                        ",": ".", "−": "-"})


class MoneyError(ValueError):
    """An amount refused: `kind` (type, fraction, negative, large) and `message` in Russian."""

    def __init__(self, kind: str, value):
        self.kind, self.value = kind, value
        self.message = MONEY_MESSAGES[kind]
        super().__init__(self.message)


def parse_rub(value, *, allow_negative: bool = False) -> int:
    """Roubles typed or sent -> kopecks: an int, a float (read through its shortest form), a
    Decimal or a string ("1 234,56", "1234.5", "−10", "500 ₽"); at most 2 decimals; not above
    MAX_KOPECKS in magnitude; negative only when `allow_negative`. Raises MoneyError."""
    if isinstance(value, str):
        value = value.translate(_TYPED)
        if len(value) > 40:      # far more digits than any amount: not worth reading
            raise MoneyError("large" if value.lstrip("-").replace(".", "").isdigit() else "type", value)
    try:
        number = wire_decimal(value)
    except BadNumber as exc:     # too many digits can only be after the point: > 15 before is "large"
        raise MoneyError({"large": "large", "digits": "fraction"}.get(exc.kind, "type"), value) from exc
    kopecks = number * 100
    if kopecks != kopecks.to_integral_value():
        raise MoneyError("fraction", value)
    if kopecks < 0 and not allow_negative:
        raise MoneyError("negative", value)
    if abs(kopecks) > MAX_KOPECKS:
        raise MoneyError("large", value)
    return int(kopecks)


def kopecks_json(kopecks: int):
    """Kopecks as a JSON number of roubles: an int when whole (70), else a float with at most
    2 decimals (62.95). Floats exist only in the output text, never in arithmetic."""
    return kopecks // 100 if kopecks % 100 == 0 else kopecks / 100
