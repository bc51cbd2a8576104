"""marshmallow's validators with Russian messages (see api/fields.py)."""
from __future__ import annotations

from marshmallow import validate as ma


class Length(ma.Length):
    message_min = "Длина должна быть не меньше {min}."
    message_max = "Длина должна быть не больше {max}."
    message_all = "Длина должна быть от {min} до {max}."
    message_equal = "Длина должна быть {equal}."


class Range(ma.Range):
    message_min = "Должно быть {min_op} {{min}}."
    message_max = "Должно быть {max_op} {{max}}."
    message_all = "Должно быть {min_op} {{min}} и {max_op} {{max}}."
    message_gte = "не меньше"
    message_gt = "больше"
    message_lte = "не больше"
    message_lt = "меньше"


class OneOf(ma.OneOf):
    default_message = "Допустимые значения: {choices}."


class Regexp(ma.Regexp):
    default_message = "Неверный формат."


class Predicate(ma.Predicate):
    default_message = "Недопустимое значение."
