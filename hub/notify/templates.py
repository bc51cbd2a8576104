"""Message topics, their Russian default texts, rendering and SMS arithmetic.

Placeholders are written `{name}`; the known ones are listed in PLACEHOLDERS. A placeholder
the context lacks renders empty (never an exception in a worker), an unknown one stays as
typed so the owner sees the typo in the preview.
"""
from __future__ import annotations

import math
import re
import string
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from hub.text import bonus_amount, decimal_text, plural_amount

TOPICS: tuple[str, ...] = (
    "registration", "first_purchase", "sale", "referral_bonus", "gift", "expiry_warning",
    "activation", "level_change", "birthday", "relative_birthday", "code", "winback",
    "review_request",
)

# Topics that are advertising by nature (38-ФЗ art. 18): they need the channel's consent
# whatever the caller says. Everything else is a service message unless the caller marks it.
ADVERTISING_TOPICS = frozenset({"winback", "birthday", "relative_birthday"})

TITLES = {
    "registration": "Поздравление с регистрацией",
    "first_purchase": "Поздравление с первой покупкой",
    "sale": "Начисление и списание бонусов после покупки",
    "referral_bonus": "Бонусы за покупки приглашённых друзей",
    "gift": "Подарочные бонусы",
    "expiry_warning": "Скорое сгорание бонусов",
    "activation": "Активация бонусов",
    "level_change": "Изменение уровня карты",
    "birthday": "Поздравление с днём рождения",
    "relative_birthday": "Поздравление с днём рождения родственника",
    "code": "Код подтверждения",
    "winback": "Возвращение клиента (цепочка)",
    "review_request": "Просьба оставить отзыв",
}

# The shop's name is never declined: after a preposition it follows a noun and stands in
# quotes («в магазине «Кофейня»», not «в «Кофейне»»); at a text's end it is a signature. A verb
# next to an amount would have to agree with it («1 бонус сгорит», «5 бонусов сгорят»), so the
# amount follows a colon instead; "N бонусов" itself is agreed when rendered (agree_bonuses).
DEFAULTS: dict[str, str] = {
    "registration": "{name}, добро пожаловать в программу лояльности магазина «{shop}»! Ваш баланс: {balance} бонусов.",
    "first_purchase": "{name}, спасибо за первую покупку! Начислено {bonuses} бонусов, баланс {balance}.",
    "sale": "Начислено {bonuses} бонусов, списано {spent}. Баланс: {balance}. {shop}",
    "referral_bonus": "{name}, ваш друг совершил покупку: вам начислено {bonuses} бонусов. Баланс: {balance}.",
    "gift": "{name}, вам подарок: {bonuses} бонусов до {date}. Баланс: {balance}. {shop}",
    "expiry_warning": "{name}, {date} сгорят ваши бонусы: {bonuses}. Успейте потратить! {shop}",
    "activation": "{name}, стали доступны ваши бонусы: {bonuses}. Баланс: {balance}.",
    "level_change": "{name}, ваш уровень карты теперь «{level}». {shop}",
    "birthday": "{name}, с днём рождения! Дарим {bonuses} бонусов, действуют до {date}. {shop}",
    "relative_birthday": "{name}, поздравляем с днём рождения близкого ({relative})! Дарим {bonuses} бонусов до {date}. {shop}",
    "code": "Код подтверждения: {code}. Никому его не сообщайте.",
    "winback": "{name}, мы скучаем! Дарим {bonuses} бонусов до {date}. Ждём вас в магазине «{shop}».",
    "review_request": "{name}, спасибо за покупку! Оцените нас: {link}",
}

SUBJECTS: dict[str, str] = {topic: TITLES[topic] for topic in TOPICS}

PLACEHOLDERS = {
    "name": "имя клиента (или «Уважаемый клиент»)",
    "bonuses": "сумма бонусов события",
    "spent": "списано бонусов",
    "balance": "баланс бонусов",
    "date": "дата (сгорания, действия подарка)",
    "level": "уровень карты",
    "link": "ссылка (отзыв, приглашение)",
    "shop": "название магазина",
    "code": "код подтверждения",
    "relative": "имя родственника",
    "card": "номер карты",
}

SAMPLE_CONTEXT = {"name": "Анна", "bonuses": 150, "spent": 50, "balance": 1250,
                  "date": "31.12.2026", "level": "Золото", "link": "https://example.ru/r/abc",
                  "shop": "Кофейня", "code": "123456", "relative": "Маша", "card": "1000200030"}

_FIELD = re.compile(r"\{([a-z_]+)\}")
_DOT_NUMBER = re.compile(r"-?\d+\.\d+")


def _format_value(value) -> str:
    """Bonuses come in roubles or kopecks? Kopecks ints are named *_kopecks by callers;
    plain numbers render as they are, dates as ДД.ММ.ГГГГ."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, (Decimal, float)):
        return decimal_text(value)          # a decimal comma: "150,5"
    if isinstance(value, str) and _DOT_NUMBER.fullmatch(value.strip()):
        return value.strip().replace(".", ",")   # "5.52" from a caller or a stored context: "5,52"
    return str(value)


def prepare_context(context: dict) -> dict:
    """Money given in kopecks (`bonuses_kopecks`, `balance_kopecks`, ...) becomes roubles
    for the text: 15050 -> "150,50"; whole roubles show without decimals."""
    out = dict(context or {})
    for key, value in list(out.items()):
        if key.endswith("_kopecks") and isinstance(value, int):
            out.setdefault(key[: -len("_kopecks")], bonus_amount(value))
    return out


_BONUS_NOUN = re.compile(r"(?<![\d,])(\d[\d\u00a0 ]*(?:,\d+)?) (бонусов|бонуса|бонус)(?![а-яё])")


def agree_bonuses(text: str) -> str:
    """"1 бонусов" -> "1 бонус", "2 бонусов" -> "2 бонуса", "1,5 бонусов" -> "1,5 бонуса": the
    noun after an amount takes the amount's form (owners' edited texts too)."""
    return _BONUS_NOUN.sub(lambda m: f"{m.group(1)} {plural_amount(m.group(1).strip(), 'бонус', 'бонуса', 'бонусов')}",
                           text)


def render(text: str, context: dict) -> str:
    ctx = prepare_context(context)
    if not ctx.get("name"):
        ctx["name"] = "Уважаемый клиент"

    def repl(m: re.Match) -> str:
        key = m.group(1)
        if key in ctx:
            return _format_value(ctx[key])
        if key in PLACEHOLDERS:
            return ""
        return m.group(0)
    out = agree_bonuses(_FIELD.sub(repl, text))
    return re.sub(r"[ \t]{2,}", " ", out).strip()


def unknown_placeholders(text: str) -> list[str]:
    """Names in braces that are not known placeholders (a typo in an owner's edit)."""
    names = [f for _, f, _, _ in string.Formatter().parse(text.replace("{{", "").replace("}}", ""))
             if f] if "{" in text else []
    return sorted({n for n in names if n not in PLACEHOLDERS})


# --- SMS arithmetic -----------------------------------------------------------------------

_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM_EXT = set("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SmsSize:
    encoding: str   # gsm7 | ucs2
    length: int     # characters (GSM extension characters count twice)
    parts: int


def sms_size(text: str) -> SmsSize:
    """GSM-7: 160 characters in one part, 153 per part when split; anything else (Cyrillic)
    is UCS-2: 70 in one part, 67 per part."""
    if all(ch in _GSM_BASIC or ch in _GSM_EXT for ch in text):
        length = sum(2 if ch in _GSM_EXT else 1 for ch in text)
        single, multi, enc = 160, 153, "gsm7"
    else:
        length = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)   # surrogate pairs
        single, multi, enc = 70, 67, "ucs2"
    parts = 1 if length <= single else math.ceil(length / multi)
    return SmsSize(enc, length, max(parts, 1) if text else 0)
