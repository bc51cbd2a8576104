"""The owner's setup checklist (issue 25.1): what is left before the first card sale.

Each step's state is read from the data the hub already keeps — nothing is ticked by hand —
so the list disappears from the dashboard on its own once every step is done. The poster is
a link, not a step with a state: the hub cannot know whether it hangs at the counter.
"""
from __future__ import annotations

import io
import secrets
from datetime import datetime

import segno
from flask import current_app, g, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import func, select

from connectors.inbox import failed_count
from connectors.registry import add_connection
from hub.errors import DomainError
from hub.connections.models import Connection, InboundEvent
from hub.extensions import db
from hub.notify.models import NotifyChannel
from hub.receipts.models import Receipt
from hub.staff.models import WebUser
from hub.tenants.models import ProgramSettings
from hub.web.cabinet.blueprint import ACTIONS, bp
from hub.web.ui.auth import CABINET_ROLES, actor, require_roles
from hub.web.ui.formatting import dt, rub

ACTIONS.update({"connection.create": "создано подключение кассы"})
TILL_NAMES = {"evotor": "Эвотор", "moysklad": "МойСклад", "onec": "1С"}
CHANNEL_NAMES = {"sms": "SMS", "telegram": "Telegram", "max": "MAX", "email": "почта"}

# What to paste where, per till: the owner reads this in the cabinet, not in the README.
TILL_STEPS = {
    "evotor": ["Установите приложение «Копилка» из Эвотор.Маркета в личном кабинете Эвотора.",
               "Облако Эвотора само свяжет кассу с вашей организацией: подключение появится в разделе "
               "«Подключения» этого кабинета.",
               "Пробейте на кассе любой чек: он придёт сюда, и подключение будет проверено."],
    "moysklad": ["В МойСклад создайте токен доступа: Настройки → Обмен данными → Токены.",
                 "Передайте токен и ID аккаунта тому, кто обслуживает хаб: подключение и подписку на "
                 "события МойСклад создают команды kopilka connection create и kopilka moysklad subscribe.",
                 "Проведите в МойСклад розничную продажу: событие придёт сюда."],
    "onec": ["Создайте подключение ниже: хаб покажет адрес, логин и пароль.",
             "В 1С (Розница, УНФ, РМК) откройте настройки «Сервер лояльности», включите «Использовать "
             "сервер лояльности» и вставьте адрес, логин и пароль.",
             "Проведите в 1С чек по карте: событие придёт сюда, и подключение будет проверено."],
}


def _qr(text: str) -> Markup:
    buf = io.BytesIO()
    segno.make(text, error="m").save(buf, kind="svg", scale=4, border=2, xmldecl=False, svgns=True,
                                     omitsize=True)
    return Markup(buf.getvalue().decode())  # noqa: S704 - segno's SVG of our own URL, not user markup


def first_event(session, tenant_id: str) -> InboundEvent | None:
    """The first event any till sent this tenant: the proof that a connection works."""
    return session.scalars(select(InboundEvent).where(InboundEvent.tenant_id == tenant_id)
                           .order_by(InboundEvent.received_at, InboundEvent.id).limit(1)).first()


def _channel_text(row: NotifyChannel) -> str:
    """«SMS (баланс 100,50 ₽ на 02.03.2026 12:00)» when the provider's last send answer told the
    balance (hub.notify.delivery keeps it); providers that never tell it show none."""
    name = CHANNEL_NAMES.get(row.channel, row.channel)
    if row.provider == "console":
        name += " — демо, сообщения никуда не уходят"
    balance = (row.settings or {}).get("balance")
    if not isinstance(balance, int):
        return name
    try:
        at = " на " + dt(datetime.fromisoformat(row.settings["balance_at"]))
    except (KeyError, TypeError, ValueError):
        at = ""
    return f"{name} (баланс {rub(balance)}{at})"


def checklist(session, tenant_id: str) -> dict:
    """The steps with their state, read from the data (see the module's docstring)."""
    def exists(stmt) -> bool:
        return session.scalar(select(func.count()).select_from(stmt.limit(1).subquery())) > 0

    channels = list(session.scalars(select(NotifyChannel).where(
        NotifyChannel.tenant_id == tenant_id, NotifyChannel.enabled.is_(True)).order_by(NotifyChannel.created_at)))
    tills = list(session.scalars(select(Connection).where(Connection.tenant_id == tenant_id)
                                 .order_by(Connection.created_at)))
    event = first_event(session, tenant_id)
    steps = [
        {"key": "program", "title": "Настройте программу",
         "done": exists(select(ProgramSettings.id).where(ProgramSettings.tenant_id == tenant_id)),
         "hint": "Уровни, начисление и правила — словами, с готовыми шаблонами для кафе, магазина одежды, салона.",
         "url": url_for("cabinet.program"), "action": "Настроить программу"},
        {"key": "channel", "title": "Подключите канал сообщений",
         "done": bool(channels),
         "hint": ("Подключено: " + ", ".join(_channel_text(c) for c in channels) + "."
                  if channels else "Через него клиенты получают коды входа и сообщения о бонусах."),
         "url": url_for("cabinet.channels"), "action": "Подключить канал"},
        {"key": "till", "title": "Подключите кассу",
         "done": event is not None,
         "hint": (f"Первое событие получено от {TILL_NAMES.get(event.source, event.source)}."
                  if event else "Подключение добавлено, ждём первое событие от кассы." if tills
                  else "Эвотор, МойСклад или 1С: что куда вставить — по шагам."),
         "url": url_for("cabinet.setup_till"), "action": "Инструкция и проверка"},
        {"key": "cashier", "title": "Пригласите кассира",
         "done": exists(select(WebUser.id).where(WebUser.tenant_id == tenant_id, WebUser.role == "cashier")),
         "hint": "Кассир без интегрированной кассы работает в «Рабочем месте кассира».",
         "url": url_for("cabinet.users"), "action": "Пригласить"},
        {"key": "sale", "title": "Первая продажа по карте",
         "done": exists(select(Receipt.id).where(Receipt.tenant_id == tenant_id, Receipt.customer_id.is_not(None))),
         "hint": "Продажа участнику программы — на кассе или в рабочем месте кассира.",
         "url": None, "action": None},
    ]
    done = sum(s["done"] for s in steps)
    return {"steps": steps, "done": done, "total": len(steps), "complete": done == len(steps),
            "poster": poster_link(tenant_id)}


def poster_link(tenant_id: str) -> dict:
    """The counter poster of item 3 when this hub has it; else the participant's join page and
    its QR code, to print and put by the till."""
    if "cabinet.poster" in current_app.view_functions:
        return {"url": url_for("cabinet.poster"), "qr": None}
    join = url_for("my.login", tenant_id=tenant_id, _external=True)
    return {"url": join, "qr": _qr(join)}


def _till_page(created: dict | None = None, errors: dict | None = None, form=None, status: int = 200):
    tills = list(db.session.scalars(select(Connection).where(Connection.tenant_id == g.tenant_id)
                                    .order_by(Connection.created_at)))
    page = render_template("cabinet/setup_till.html", tills=tills, till_names=TILL_NAMES, steps=TILL_STEPS,
                           created=created, errors=errors or {}, form=form or {})
    db.session.rollback()
    return page, status


@bp.get("/setup/till")
@require_roles(*CABINET_ROLES)
def setup_till():
    return _till_page()


@bp.post("/setup/till/onec")
@require_roles("owner", "manager")
def setup_onec():
    """A 1С cash desk's connection: the hub makes the password and shows it once, with the
    address and login to paste into 1С's «Сервер лояльности» (onec/README.md §1)."""
    base = (request.form.get("base") or "").strip()[:200]
    login = (request.form.get("login") or "").strip()[:100]
    errors = {}
    if not base:
        errors["base"] = ["Назовите базу 1С, например «Розница, магазин на Ленина»."]
    if not login:
        errors["login"] = ["Укажите логин, например kassa."]
    if errors:
        return _till_page(errors=errors, form=request.form, status=422)
    password = secrets.token_urlsafe(12)
    try:
        conn, _ = add_connection(db.session, g.tenant_id, actor(), kind="onec", external_account=base, name=base,
                                 credentials={"login": login, "password": password})
    except DomainError as exc:
        return _till_page(errors={"base": [exc.message]}, form=request.form, status=422)
    # 1С wants the address with /hs/ in it (onec/README.md §1); the password is shown only now.
    created = {"url": request.host_url.rstrip("/") + f"/onec/{conn.id}/hs/loyaltyservice",
               "login": login, "password": password}
    return _till_page(created=created)


@bp.get("/setup/check")
@require_roles(*CABINET_ROLES)
def setup_check():
    """«Проверить подключение»: the first event a till sent, or what to do while none came."""
    event = first_event(db.session, g.tenant_id)
    tills = db.session.scalar(select(func.count(Connection.id)).where(Connection.tenant_id == g.tenant_id))
    failed = failed_count(db.session, g.tenant_id)
    page = render_template("cabinet/_setup_check.html", event=event, tills=tills, failed=failed,
                           till_names=TILL_NAMES)
    db.session.rollback()
    return page
