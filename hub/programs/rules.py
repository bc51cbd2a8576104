"""What makes a program valid: one set of rules for the API, the cabinet's settings form and
anything else that stores settings.

``validate_program(settings)`` reads the stored form (money in kopecks, percents as decimal
strings or numbers, times "HH:MM", dates "MM-DD") and returns every problem as
``(field path, Russian message)``: paths are dotted, list items by index
("levels.1.accrual.steps.0.percent"). Edges convert shapes and units; they show these
messages as they are (the API puts them in `details` by path).
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub.errors import Invalid

PROGRAM_TYPES = ("bonus", "discount", "bonus_discount")
SCHEMES = ("percent", "per_amount", "progressive")
EXPIRY_MODES = ("since_accrual", "since_last_purchase", "fixed_dates")
ROUNDINGS = ("kopeck", "rouble_down")
PAYMENT_METHODS = ("cash", "card", "mixed")
MAX_LIFETIME_DAYS = 3650
MAX_ACTIVATION_DELAY_DAYS = 365
MAX_LEVELS = 50

_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,50}$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_MMDD = re.compile(r"^\d\d-\d\d$")
# Which keys each scheme uses (the others must be absent).
_SCHEME_KEYS = {"percent": {"percent"}, "per_amount": {"every", "bonuses"}, "progressive": {"steps"}}

Problems = list[tuple[str, str]]


def _path(*parts) -> str:
    return ".".join(str(p) for p in parts)


def _one_of(choices) -> str:
    return "Допустимые значения: " + ", ".join(choices) + "."


def _percent(value, maximum: int = 100) -> str | None:
    """None when `value` is a percent from 0 to `maximum`; the message otherwise."""
    if isinstance(value, bool):
        return "Должно быть число."
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return "Должно быть число."
    if not number.is_finite() or number < 0 or number > maximum:
        return f"Должно быть от 0 до {maximum}."
    return None


def _days(value, low: int, high: int) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        return "Должно быть целое число дней."
    if not low <= value <= high:
        return f"Должно быть от {low} до {high}."
    return None


def _kopecks(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _scheme(data, where: tuple, out: Problems, *, discount: bool = False) -> None:
    if data is None:
        return
    if not isinstance(data, dict):
        out.append((_path(*where), "Должен быть объект схемы."))
        return
    kind = data.get("scheme")
    if kind not in SCHEMES:
        out.append((_path(*where, "scheme"), _one_of(SCHEMES)))
        return
    if discount and kind == "per_amount":
        out.append((_path(*where), "Скидка — это фиксированный или прогрессивный процент "
                                   "(percent или progressive)."))
        return
    unused = set().union(*_SCHEME_KEYS.values()) - _SCHEME_KEYS[kind]
    extra = {k for k in unused if data.get(k) is not None}
    if extra:
        out.append((_path(*where, "scheme"), f"Схема {kind} не использует: {', '.join(sorted(extra))}."))
    if kind == "percent":
        if data.get("percent") is None:
            out.append((_path(*where, "percent"), "Обязательно для схемы percent."))
        elif (msg := _percent(data["percent"])):
            out.append((_path(*where, "percent"), msg))
    elif kind == "per_amount":
        for name in ("every", "bonuses"):
            value = data.get(name)
            if not _kopecks(value) or value <= 0:
                out.append((_path(*where, name), "Обязательно для схемы per_amount и больше 0."))
    else:
        steps = data.get("steps")
        if not isinstance(steps, list) or not steps:
            out.append((_path(*where, "steps"), "Нужна хотя бы одна ступень."))
            return
        for i, step in enumerate(steps):
            if not isinstance(step, dict) or not _kopecks(step.get("from")) or step["from"] < 0:
                out.append((_path(*where, "steps", i, "from"), "Нужна сумма не меньше 0."))
                return
            if (msg := _percent(step.get("percent"))):
                out.append((_path(*where, "steps", i, "percent"), msg))
        froms = [s["from"] for s in steps]
        if froms[0] != 0:
            out.append((_path(*where, "steps"), "Первая ступень начинается с 0."))
        if any(b <= a for a, b in zip(froms, froms[1:])):
            out.append((_path(*where, "steps"), "Ступени идут по возрастанию «from» без повторов "
                                                "(без пересечений)."))


def _levels(levels, out: Problems) -> list[str]:
    if not isinstance(levels, list) or not levels:
        out.append(("levels", "Нужен хотя бы один уровень."))
        return []
    if len(levels) > MAX_LEVELS:
        out.append(("levels", f"Не больше {MAX_LEVELS} уровней."))
    codes, thresholds = [], []
    for i, level in enumerate(levels):
        if not isinstance(level, dict):
            out.append((_path("levels", i), "Должен быть объект уровня."))
            continue
        code = level.get("code")
        if not isinstance(code, str) or not _CODE.match(code):
            out.append((_path("levels", i, "code"), "Латинские буквы, цифры, _ . - (от 1 до 50)."))
        codes.append(code)
        name = level.get("name")
        if not isinstance(name, str) or not name.strip():
            out.append((_path("levels", i, "name"), "Укажите название уровня."))
        threshold = level.get("threshold")
        if not _kopecks(threshold) or threshold < 0:
            out.append((_path("levels", i, "threshold"), "Нужна сумма покупок не меньше 0."))
        else:
            thresholds.append(threshold)
        _scheme(level.get("accrual"), ("levels", i, "accrual"), out)
        _scheme(level.get("discount"), ("levels", i, "discount"), out, discount=True)
        if level.get("max_spend_percent") is not None and (msg := _percent(level["max_spend_percent"])):
            out.append((_path("levels", i, "max_spend_percent"), msg))
        if (msg := _days(level.get("bonus_lifetime_days"), 1, MAX_LIFETIME_DAYS)):
            out.append((_path("levels", i, "bonus_lifetime_days"), msg))
    if len(set(codes)) != len(codes):
        out.append(("levels", "Коды уровней не должны повторяться."))
    if len(thresholds) == len(levels):
        if thresholds[0] != 0:
            out.append(("levels", "Порог первого уровня должен быть 0."))
        if any(b <= a for a, b in zip(thresholds, thresholds[1:])):
            out.append(("levels", "Пороги уровней идут по возрастанию без повторов."))
    return [c for c in codes if isinstance(c, str)]


def _rules(rules, level_codes: set[str], out: Problems) -> None:
    if rules is None:
        return
    if not isinstance(rules, list):
        out.append(("rules", "Должен быть список правил."))
        return
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict):
            out.append((_path("rules", i), "Должен быть объект правила."))
            continue
        when, then = rule.get("when") or {}, rule.get("then")
        if not isinstance(then, dict):
            out.append((_path("rules", i, "then"), "Укажите, что делает правило (then)."))
            then = {}
        weekdays = when.get("weekdays") or []
        if any(isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= 7 for d in weekdays):
            out.append((_path("rules", i, "when", "weekdays"), "Дни недели — числа от 1 (пн) до 7 (вс)."))
        for name in ("time_from", "time_to"):
            value = when.get(name)
            if value is not None and (not isinstance(value, str) or not _HHMM.match(value)):
                out.append((_path("rules", i, "when", name), "Время в формате ЧЧ:ММ (24 часа)."))
        if when.get("time_from") and when.get("time_from") == when.get("time_to"):
            out.append((_path("rules", i, "when", "time_to"), "Пустое окно: time_from равно time_to."))
        for j, method in enumerate(when.get("payment_methods") or []):
            if method not in PAYMENT_METHODS:
                out.append((_path("rules", i, "when", "payment_methods", j), _one_of(PAYMENT_METHODS)))
        unknown = sorted({str(x) for x in when.get("levels") or ()} - level_codes)
        if unknown:
            out.append((_path("rules", i, "when", "levels"), f"Нет таких уровней: {', '.join(unknown)}."))
        for name in ("accrual_percent", "accrual_multiplier", "max_spend_percent", "max_discount_percent"):
            if then.get(name) is not None and (msg := _percent(then[name])):
                out.append((_path("rules", i, "then", name), msg))


def validate_program(settings: dict) -> Problems:
    """Every problem of the settings as (field path, Russian message); [] when valid."""
    out: Problems = []
    if not isinstance(settings, dict):
        return [("body", "Настройки программы — это объект.")]
    if settings.get("type") not in PROGRAM_TYPES:
        out.append(("type", _one_of(PROGRAM_TYPES)))
    tz = settings.get("timezone", "Europe/Moscow")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        out.append(("timezone", "Неизвестный часовой пояс (нужно имя IANA, например Europe/Moscow)."))
    codes = _levels(settings.get("levels"), out)
    if (msg := _days(settings.get("bonus_lifetime_days"), 1, MAX_LIFETIME_DAYS)):
        out.append(("bonus_lifetime_days", msg))
    delay = settings.get("activation_delay_days", 0)
    if (msg := _days(delay, 0, MAX_ACTIVATION_DELAY_DAYS)):
        out.append(("activation_delay_days", msg))
        delay = None
    mode = settings.get("expiry_mode", "since_accrual")
    if mode not in EXPIRY_MODES:
        out.append(("expiry_mode", _one_of(EXPIRY_MODES)))
    dates = settings.get("expiry_dates") or []
    for i, d in enumerate(dates):
        try:
            if not isinstance(d, str) or not _MMDD.fullmatch(d):
                raise ValueError
            date.fromisoformat(f"2024-{d}")     # a leap year accepts 02-29
        except ValueError:
            out.append((_path("expiry_dates", i), "Дата в формате ММ-ДД, например 12-31."))
    if mode == "fixed_dates" and not dates:
        out.append(("expiry_dates", "Для режима fixed_dates нужна хотя бы одна дата."))
    if settings.get("rounding", "kopeck") not in ROUNDINGS:
        out.append(("rounding", _one_of(ROUNDINGS)))
    levels = [lv for lv in settings.get("levels") or [] if isinstance(lv, dict)] \
        if isinstance(settings.get("levels"), list) else []
    lifetimes = [settings.get("bonus_lifetime_days")] + [lv.get("bonus_lifetime_days") for lv in levels]
    if mode != "fixed_dates" and isinstance(delay, int) and any(
            isinstance(d, int) and d <= delay for d in lifetimes):
        out.append(("activation_delay_days", "Бонусы сгорели бы раньше, чем станут доступны: срок "
                                             "жизни должен быть больше задержки начисления."))
    _rules(settings.get("rules"), set(codes), out)
    if (msg := _days(settings.get("restored_bonus_grace_days"), 0, MAX_LIFETIME_DAYS)):
        out.append(("restored_bonus_grace_days", msg))
    for name in ("accrue_on_discounted", "accrue_on_bonus_payment", "spend_on_discounted"):
        if name in settings and not isinstance(settings[name], bool):
            out.append((name, "Должно быть true или false."))
    return out


def details_of(problems: Problems) -> dict:
    """The problems as nested `details` ({"levels": {"0": {"code": [message]}}})."""
    details: dict = {}
    for path, message in problems:
        node = details
        *parents, last = path.split(".")
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                # A message on a node that also has children keeps its messages under "_schema".
                child = node[part] = {"_schema": child} if isinstance(child, list) else {}
            node = child
        if isinstance(node.get(last), dict):
            node[last].setdefault("_schema", []).append(message)
        else:
            node.setdefault(last, []).append(message)
    return details


def check_program(settings: dict) -> None:
    """Raise Invalid (422) with every problem by path, or return when the settings are valid."""
    problems = validate_program(settings)
    if problems:
        paths = list(dict.fromkeys(path for path, _ in problems))
        raise Invalid("validation_error", f"Проверьте настройки программы: {', '.join(paths)}.",
                      details_of(problems))
