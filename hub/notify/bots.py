"""What the Telegram and MAX bots answer: /start, the phone through the contact button
(checked against the sender), balance, card, nearest expiry, and "СТОП"."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.clock import utcnow
from hub.errors import DomainError
from hub.ledger import account_view
from hub.customers.models import Customer
from hub.ledger.models import Account, Lot
from hub.notify.models import ChatLink
from hub.text import bonus_amount, bonuses_text, plural_amount
from hub.notify.rules import is_stop, withdraw
from hub.phones import normalize_phone
from hub.notify.rules import tenant_timezone

MENU = ("Баланс", "Карта", "Сгорание")
GREETING = ("Здравствуйте! Это бот программы лояльности. Нажмите «Поделиться номером», "
            "чтобы привязать карту: здесь будут баланс, карта и напоминания о бонусах.")


def _rub(kopecks: int) -> str:
    return bonus_amount(kopecks)        # "150", "150,50": a decimal comma


def linked_customer(session: Session, tenant_id: str, channel: str, chat_id: str) -> Customer | None:
    link = session.scalar(select(ChatLink).where(ChatLink.tenant_id == tenant_id,
                                                 ChatLink.channel == channel,
                                                 ChatLink.chat_id == chat_id))
    if link is None or link.customer_id is None:
        return None
    return session.get(Customer, link.customer_id)


def link_phone(session: Session, tenant_id: str, channel: str, chat_id: str, raw_phone: str) -> Customer | None:
    try:
        phone = normalize_phone(raw_phone if raw_phone.startswith("+") else "+" + raw_phone.lstrip("+"))
    except DomainError:
        return None
    customer = session.scalar(select(Customer).where(Customer.tenant_id == tenant_id,
                                                     Customer.phone == phone))
    link = session.scalar(select(ChatLink).where(ChatLink.tenant_id == tenant_id,
                                                 ChatLink.channel == channel,
                                                 ChatLink.chat_id == chat_id))
    if link is None:
        link = ChatLink(tenant_id=tenant_id, channel=channel, chat_id=chat_id, created_at=utcnow())
        session.add(link)
    link.phone, link.customer_id, link.active = phone, customer.id if customer else None, True
    return customer


def nearest_expiry(session: Session, tenant_id: str, customer_id: str, now: datetime) -> tuple[int, datetime] | None:
    """«Сгорит»: how many of the bonuses counted in «Доступно» burn first, and when — the one
    definition the participant's cabinet, the Wallet pass and the bots show. Pending lots are
    «Ожидают» and not counted here (they showed «Сгорят 406,50» under «Доступно 330,00»), and
    the amount never exceeds «Доступно» (a debt is netted there)."""
    account_id = select(Account.id).where(Account.tenant_id == tenant_id,
                                          Account.customer_id == customer_id).scalar_subquery()
    active = (Lot.account_id == account_id, Lot.remaining > 0, Lot.active_from <= now, Lot.expires_at > now)
    first = session.scalar(select(func.min(Lot.expires_at)).where(*active))
    if first is None:
        return None
    amount = session.scalar(select(func.coalesce(func.sum(Lot.remaining), 0)).where(
        *active, Lot.expires_at == first))
    amount = min(int(amount), account_view(session, tenant_id, customer_id, now).available)
    return (amount, first) if amount > 0 else None


def balance_text(session: Session, tenant_id: str, customer: Customer) -> str:
    view = account_view(session, tenant_id, customer.id, utcnow())
    text = f"Ваш баланс: {bonuses_text(view.available)}."
    if view.pending:
        text += f" Ожидают активации: {_rub(view.pending)}."
    return text


def card_text(customer: Customer) -> str:
    number = customer.card_number or customer.phone
    level = f" Уровень: {customer.level_code}." if customer.level_code else ""
    return f"Ваша карта: {number}.{level} Назовите номер на кассе или покажите это сообщение."


def expiry_text(session: Session, tenant_id: str, customer: Customer) -> str:
    from zoneinfo import ZoneInfo

    found = nearest_expiry(session, tenant_id, customer.id, utcnow())
    if found is None:
        return "Сгорающих бонусов нет."
    amount, when = found
    # Bonuses burn at `when`; the customer's last day to spend them is the local day before
    # that instant (a burn at local midnight means "through the previous day").
    last_day = (when.astimezone(ZoneInfo(tenant_timezone(session, tenant_id)))
                - timedelta(microseconds=1)).date()
    # The verb and the pronoun agree with the amount: «1 бонус сгорит … его», «25 бонусов сгорят … их».
    one = plural_amount(_rub(amount), "one", "many", "many") == "one"
    return (f"{bonuses_text(amount)} {'сгорит' if one else 'сгорят'} после {last_day.strftime('%d.%m.%Y')}: "
            f"потратьте {'его' if one else 'их'} до конца этого дня.")


def handle(session: Session, tenant_id: str, channel: str, chat_id: str, *, text: str | None = None,
           contact_phone: str | None = None, contact_is_sender: bool = True,
           started: bool = False) -> tuple[str, bool]:
    """(reply text, show the contact button). Writes links/opt-outs; the caller commits."""
    if contact_phone is not None:
        if not contact_is_sender:
            return "Пожалуйста, отправьте свой собственный номер кнопкой «Поделиться номером».", True
        customer = link_phone(session, tenant_id, channel, chat_id, contact_phone)
        if customer is None:
            return ("Этот номер не найден в программе лояльности. Зарегистрируйтесь на кассе "
                    "и отправьте номер ещё раз."), True
        return "Карта привязана! " + balance_text(session, tenant_id, customer), False
    command = (text or "").strip()
    if started or command.startswith("/start"):
        return GREETING, True
    customer = linked_customer(session, tenant_id, channel, chat_id)
    if is_stop(command):
        if customer is not None:
            withdraw(customer, (channel,), utcnow(), f"{channel}_stop")
        return "Вы отписались от рекламных сообщений. Сервисные уведомления о бонусах сохранятся.", False
    if customer is None:
        return "Сначала привяжите карту: нажмите «Поделиться номером».", True
    low = command.lower().lstrip("/")
    if low in ("баланс", "balance"):
        return balance_text(session, tenant_id, customer), False
    if low in ("карта", "card"):
        return card_text(customer), False
    if low in ("сгорание", "expiry"):
        return expiry_text(session, tenant_id, customer), False
    return "Команды: " + ", ".join(MENU) + ". Отписаться от рекламы: СТОП.", False


def telegram_keyboard(ask_contact: bool) -> dict:
    if ask_contact:
        return {"keyboard": [[{"text": "Поделиться номером", "request_contact": True}]],
                "resize_keyboard": True, "one_time_keyboard": True}
    return {"keyboard": [[{"text": t} for t in MENU]], "resize_keyboard": True}


def max_keyboard(ask_contact: bool) -> list:
    if ask_contact:
        buttons = [[{"type": "request_contact", "text": "Поделиться номером"}]]
    else:
        buttons = [[{"type": "message", "text": t} for t in MENU]]
    return [{"type": "inline_keyboard", "payload": {"buttons": buttons}}]
