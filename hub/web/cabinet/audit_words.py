"""The audit log as the owner reads it: what was done, to what, and the details in words and
roubles — never the stored JSON in kopecks or the code's English object types."""
from __future__ import annotations

from hub.exports.operations import KINDS as EXPORT_KINDS
from hub.text import bonuses_text
from hub.web.cabinet.blueprint import ACTIONS
from hub.web.cabinet.messages import CHANNEL_NAMES
from hub.web.ui.formatting import rub

# Actions the first table (blueprint.ACTIONS) does not name yet.
MORE_ACTIONS = {
    "channel.save": "сохранён канал сообщений", "channel.test": "проверка канала сообщений",
    "channel.webhook": "подключён вебхук канала", "notify.channels": "изменён порядок каналов",
    "automation.triggers": "изменены автоматические подарки", "automation.referral": "изменена программа «Приведи друга»",
    "chain.create": "создана цепочка", "chain.update": "изменена цепочка", "chain.delete": "удалена цепочка",
    "mailing.create": "создана рассылка", "mailing.send": "запущена рассылка",
    "promotion.create": "создана акция", "promotion.update": "изменена акция",
    "promotion.activate": "акция включена", "promotion.deactivate": "акция выключена",
    "promo_codes.create": "выпущены промокоды", "certificate.issue": "выпущены сертификаты",
    "certificate.block": "сертификат заблокирован", "certificate.unblock": "сертификат разблокирован",
    "certificate.sell": "продан сертификат (касса)", "brand.update": "изменены цвет и логотип магазина",
}

OBJECTS = {"customer": "клиент", "receipt": "чек", "user": "пользователь", "program": "программа",
           "export": "выгрузка", "template": "шаблон сообщения", "notify": "сообщения", "segment": "сегмент",
           "store": "магазин", "cashier": "кассир", "apikey": "API-ключ", "event": "входящее событие",
           "channel": "канал сообщений", "automation": "автоматизация", "chain": "цепочка", "mailing": "рассылка",
           "promotion": "акция", "certificate": "сертификат", "brand": "оформление"}

LABELS = {"amount": "сумма", "reason": "причина", "valid_days": "действуют, дней", "bonus_spent": "списано бонусов",
          "promo_codes": "промокоды", "certificate": "сертификат", "return": "возврат", "batch": "партия",
          "count": "количество", "max_uses": "использований на код", "nominal": "номинал", "numbers": "номера",
          "number": "номер", "name": "название", "email": "почта", "role": "роль", "phone": "телефон",
          "version": "версия", "kind": "вид", "enabled": "включено", "text": "текст", "reset": "сброшен к исходному",
          "code": "код", "created": "новый", "prefix": "префикс", "connection": "подключение",
          "status_before": "статус до", "provider": "провайдер", "recipient": "получатель", "ok": "успешно",
          "credentials_changed": "изменены ключи", "queued": "в очереди сообщений", "recipients": "получателей",
          "estimated_cost": "оценка стоимости", "scheduled_at": "запланирована на", "start": "с", "end": "до",
          "quiet_hours": "тихие часы", "newcomer_gift": "подарок новичку", "period_days": "период, дней",
          "mode": "режим", "full_name": "имя", "first_name": "имя", "last_name": "фамилия",
          "birth_date": "дата рождения", "gender": "пол", "comment": "комментарий", "tags": "метки",
          "consents": "согласия", "personal_data": "обработка данных", "sms": "SMS", "marketing": "реклама",
          "active": "активен", "blocked": "заблокирован", "color": "цвет", "logo": "новый логотип"}
RUB_KEYS = {"amount", "nominal", "estimated_cost"}
BONUS_KEYS = {"bonus_spent", "newcomer_gift"}
VALUE_NAMES = {"role": {"owner": "владелец", "manager": "менеджер", "readonly": "только просмотр",
                        "cashier": "кассир"},
               "kind": EXPORT_KINDS, "provider": CHANNEL_NAMES}


def action_name(action: str) -> str:
    return ACTIONS.get(action) or MORE_ACTIONS.get(action) or "другое действие"


def object_name(object_type: str | None) -> str:
    return OBJECTS.get(object_type or "", "—")


def _value(key: str, value, action: str) -> str | None:
    if value is None or value in ("", [], {}):
        return None
    if isinstance(value, bool):
        return "да" if value else "нет"
    if isinstance(value, int) and (key in BONUS_KEYS or (key == "amount" and action.startswith("bonuses."))):
        return bonuses_text(value)
    if isinstance(value, int) and key in RUB_KEYS:
        return rub(value)
    if isinstance(value, dict):
        inner = [d for d in describe(value, action) if d]
        return ", ".join(f"{label} {text}" for label, text in inner) or "изменено"
    if isinstance(value, list):
        if all(isinstance(v, (str, int)) for v in value):
            return ", ".join(str(v) for v in value[:20]) + (" …" if len(value) > 20 else "")
        return "изменено"
    return VALUE_NAMES.get(key, {}).get(value, str(value)) if isinstance(value, str) else str(value)


def describe(details: dict | None, action: str = "") -> list[tuple[str, str]]:
    """[(label, text)] for the details the owner can read; keys without a Russian name are
    summed up as «другие настройки», not shown as code."""
    out, other = [], False
    for key, value in (details or {}).items():
        if key not in LABELS:
            other = True
            continue
        text = _value(key, value, action)
        if text is not None:
            out.append((LABELS[key], text))
    if other:
        out.append(("другие настройки", "изменены"))
    return out
