"""Russian wording helpers for user-facing text (CLI output, messages)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo

from hub.engine.text import rub


def plural_form(n: int, one: str, few: str, many: str) -> str:
    """The noun form for n: 1 счёт, 2 счёта, 5 счетов, 11 счетов, 21 счёт, 22 счёта."""
    n = abs(n)
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def plural(n: int, one: str, few: str, many: str) -> str:
    """"3 счёта": the number and the right form of the noun."""
    return f"{n} {plural_form(n, one, few, many)}"


NBSP = "\u00a0"


def decimal_text(value, places: int | None = None) -> str:
    """A number as a Russian reader writes it: a decimal comma, no exponent, no trailing
    zeros unless `places` fixes them: Decimal("12.50") -> "12,5", (50, 1) -> "50,0"."""
    from decimal import Decimal
    number = Decimal(str(value)) if not isinstance(value, Decimal) else value
    if places is not None:
        number = number.quantize(Decimal(1).scaleb(-places))
        text = f"{number:f}"
    else:
        text = f"{number.normalize():f}" if number != number.to_integral_value() else f"{number.to_integral_value():f}"
    return text.replace("-", "−").replace(".", ",")


def percent_text(value, places: int | None = None) -> str:
    """"50,0 %": the decimal comma and a no-break space before the sign."""
    return f"{decimal_text(value, places)}{NBSP}%"


def bonus_amount(kopecks: int) -> str:
    """Bonuses in a message: whole ones without decimals ("150"), else with two ("150,50")."""
    kopecks = int(kopecks)
    return decimal_text(kopecks // 100) if kopecks % 100 == 0 else decimal_text(kopecks / 100, 2)


def plural_amount(text: str, one: str, few: str, many: str) -> str:
    """The noun form after an amount written as text: a fraction takes the genitive singular
    (1,5 бонуса), a whole number the usual forms (1 бонус, 2 бонуса, 5 бонусов)."""
    digits = text.replace(NBSP, "").replace(" ", "").replace("−", "")
    if "," in digits or "." in digits:
        return few
    return plural_form(int(digits or 0), one, few, many)


def bonuses_text(kopecks: int) -> str:
    """"1 бонус", "2 бонуса", "150,50 бонуса", "25 бонусов"."""
    amount = bonus_amount(kopecks)
    return f"{amount} {plural_amount(amount, 'бонус', 'бонуса', 'бонусов')}"


# What staff read for the ledger's codes (cabinets, CLI): one table, used everywhere they show.
LOT_KIND_NAMES = {"purchase": "за покупку", "gift": "подарок", "referral": "за приглашение",
                  "manual": "ручное начисление", "restore": "возврат списанных", "debt": "долг"}
POSTING_KIND_NAMES = {"accrual": "начисление за покупку", "spend": "списание в покупке", "expiry": "сгорание",
                      "manual_credit": "ручное начисление", "manual_debit": "ручное списание", "gift": "подарок",
                      "restore": "возврат списанных", "reversal": "отмена начисления", "debit": "списание",
                      "hold": "резерв на списание", "hold_release": "снятие резерва"}
# The same codes as the participant reads them in his cabinet.
POSTING_KIND_NAMES_CUSTOMER = {"accrual": "Начисление за покупку", "spend": "Оплата бонусами", "expiry": "Сгорание",
                               "manual_credit": "Начисление", "manual_debit": "Списание", "gift": "Подарок",
                               "restore": "Возврат бонусов", "reversal": "Отмена начисления (возврат)"}
# A mailing: "sent" only means its messages were queued; delivery is each message's own status.
MAILING_STATUS_NAMES = {"draft": "черновик", "scheduled": "запланирована", "sent": "запущена"}
# A till's webhook event in the hub's inbox: what is true of it now.
EVENT_STATUS_NAMES = {"received": "ждёт обработки", "retry": "не применено, будет повтор",
                      "done": "применено", "failed": "не применено (ошибка)"}


MONTHS = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
          "сентября", "октября", "ноября", "декабря")


def number(kopecks: int | None) -> str:
    """123456 -> "1 234,56" (no-break spaces between thousands, "−" before a negative): the
    engine's rub() with the spacing of the cabinets and messages."""
    return rub(int(kopecks or 0), space=NBSP, minus="−")


def bonuses(kopecks: int | None) -> str:
    """123456 -> "1 234,56 Б"."""
    return number(kopecks) + NBSP + "Б"


def day_text(moment: datetime | date | None, tz: tzinfo) -> str:
    """"30 ноября 2026" (a datetime in the time zone `tz`)."""
    if moment is None:
        return ""
    value = moment.astimezone(tz) if isinstance(moment, datetime) else moment
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def last_day_text(moment: datetime | None, tz: tzinfo) -> str:
    """The last local day before `moment` (an expiry at local midnight burns after that day)."""
    return "" if moment is None else day_text(moment - timedelta(microseconds=1), tz)
