"""`kopilka mechanics …`: gift triggers, win-back chains, segments (recency and custom),
mailings, referral settings, the win-back gift proposal and results per mechanic.

(The sweep itself runs with `kopilka automation run --at MOMENT`.) Input goes through the
API's schemas (api/schemas/automation.py: roubles -> kopecks, the same Russian messages) and
then hub.automation's services, so a command refuses what the API refuses: one line
`Ошибка: …`, exit 1, nothing written.
"""
from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal, InvalidOperation

import click

from hub.cli.support import cli_session as _session
from hub.cli.messages import dump_json, fail, json_option, load, money_text, moment, read_text, rub, table
from hub.cli.messages import tenant_id as _tenant
from hub.text import MAILING_STATUS_NAMES, bonuses_text, percent_text, plural
from api.schemas.automation import EstimateSchema, MailingInSchema
from hub.automation import mailings, segments
from hub.automation.segments import recompute as do_recompute, segment_counts
from api.schemas.automation import AutomationSettingsSchema
from hub.clock import utcnow
from hub.money import MoneyError, parse_rub
from hub.staff.operations import CLI
from hub.automation import settings as auto_settings
from api.schemas.automation import SegmentSchema
from api.schemas.automation import ChainInSchema
from api.schemas.automation import MailingSchema
from hub.automation.chains import save_chain
from hub.automation.segments import count_members
from hub.automation.models import Mailing
from api.schemas.automation import SegmentInSchema
from hub.programs.operations import get_program
from api.schemas.automation import ChainSchema
from hub.automation.models import WinbackChain
from hub.automation.chains import get_chain
from hub.automation.segments import get_segment
from hub.cli.support import parse_since
from hub.automation.chains import average_check, propose_gift
from api.schemas.automation import ReferralSettingsSchema
from hub.automation.stats import mechanic_stats
from hub.automation.models import Segment

TENANT_HELP = "ID или название организации"


def _tenant_option(f):
    return click.option("--tenant", "tenant_ref", required=True, help=TENANT_HELP)(f)


@click.group("mechanics")
def cli() -> None:
    """Подарки, реанимация, сегменты, рассылки, рефералы и результаты механик."""


# --- audience filters (custom segments, chains, mailings) ---------------------------------------

# option, filter key, kind (list | money | int | str), help
AUDIENCE = (
    ("--rfm", "rfm", "list", "сегмент давности (можно несколько): newcomers, potential, core, dozing, sleeping, "
                             "lost, no_purchases"),
    ("--level", "levels", "list", "уровень карты (можно несколько)"),
    ("--tag", "tags_any", "list", "любой из тегов (можно несколько)"),
    ("--gender", "gender", "str", "male или female"),
    ("--age-min", "age_min", "int", "возраст от"),
    ("--age-max", "age_max", "int", "возраст до"),
    ("--birthday-in-days", "birthday_in_days", "int", "день рождения в ближайшие N дней"),
    ("--birth-month", "birth_month", "int", "месяц рождения 1–12"),
    ("--no-purchase-days", "last_purchase_days_min", "int", "без покупок не меньше N дней"),
    ("--bought-within-days", "last_purchase_days_max", "int", "последняя покупка не раньше N дней назад"),
    ("--purchases-min", "purchase_count_min", "int", "покупок не меньше"),
    ("--purchases-max", "purchase_count_max", "int", "покупок не больше"),
    ("--total-min", "total_min", "money", "сумма покупок от, ₽"),
    ("--total-max", "total_max", "money", "сумма покупок до, ₽"),
    ("--balance-min", "balance_min", "money", "баланс бонусов от"),
    ("--balance-max", "balance_max", "money", "баланс бонусов до"),
    ("--segment", "segment_id", "str", "ID своего сегмента"),
)
AUDIENCE_LABELS = {key: option for option, key, _, _ in AUDIENCE}


def _param(key: str) -> str:
    return "f_" + key


def audience_options(f):
    for option, key, kind, help_text in reversed(AUDIENCE):
        f = click.option(option, _param(key), multiple=kind == "list", default=None, help=help_text)(f)
    return f


def audience_body(kwargs: dict) -> dict:
    """The filters as the API takes them (FiltersSchema)."""
    out = {}
    for _, key, kind, _ in AUDIENCE:
        value = kwargs.pop(_param(key), None)
        if kind == "list":
            values = [v.strip() for item in value or () for v in item.split(",") if v.strip()]
            if values:
                out[key] = values
        elif value is not None:
            out[key] = money_text(value) if kind == "money" else value
    return out


def audience_text(filters: dict) -> str:
    if not filters:
        return "все клиенты"
    parts = []
    for option, key, kind, _ in AUDIENCE:
        if key in filters and filters[key] is not None:
            value = filters[key]
            value = ",".join(value) if kind == "list" else rub(value) if kind == "money" else value
            parts.append(f"{option.lstrip('-')}={value}")
    return " ".join(parts)


# --- segments ----------------------------------------------------------------------------------

@cli.command("segments")
@_tenant_option
@click.option("--recompute", is_flag=True, help="пересчитать сегменты сейчас")
@click.option("--interval-days", default=None,
              help="типичный интервал T между покупками, дней (auto — медиана по магазину)")
@click.option("--core-purchases", default=None, help="покупок для «Активного ядра» (по умолчанию 4)")
def segments_cmd(tenant_ref: str, recompute: bool, interval_days: str | None, core_purchases: str | None) -> None:
    """Сегменты по давности покупок (RFM) и число клиентов в каждом; пороги T и F."""
    session = _session()
    tid = _tenant(tenant_ref)
    if interval_days is not None or core_purchases is not None:
        part = {}
        if interval_days is not None:
            part["interval_days"] = None if interval_days.strip().lower() == "auto" else interval_days
        if core_purchases is not None:
            part["core_purchases"] = core_purchases
        _save_settings(session, tid, lambda doc: doc["segments"].update(part))
    if recompute:
        do_recompute(session, tid, get_program(session, tid).timezone, utcnow())
    for code, row in segment_counts(session, tid).items():
        click.echo(f"{row['name']:<15} {row['count']:>9}  {percent_text(row['share'], 2):>8}  ({code})")
    if interval_days is not None or core_purchases is not None:
        seg = auto_settings.load(session, tid)["segments"]
        t = f"{plural(seg['interval_days'], 'день', 'дня', 'дней')}" if seg["interval_days"] else "медиана по магазину"
        click.echo(f"Интервал T: {t}; «Активное ядро» — от {seg['core_purchases']} покупок.")


@cli.group("segment")
def segment_group() -> None:
    """Свои сегменты: фильтры по уровню, тегам, полу, возрасту, покупкам, балансу."""


def _segment_row(session, tid: str, seg) -> dict:
    return {"id": seg.id, "name": seg.name, "filters": seg.filters, "created_at": seg.created_at,
            "count": count_members(session, tid, seg.filters, utcnow(), get_program(session, tid).timezone)}


@segment_group.command("list")
@_tenant_option
@json_option()
def segment_list(tenant_ref: str, as_json: bool) -> None:
    """Свои сегменты с числом клиентов сейчас."""
    from sqlalchemy import select

    session = _session()
    tid = _tenant(tenant_ref)
    rows = [_segment_row(session, tid, s) for s in session.scalars(
        select(Segment).where(Segment.tenant_id == tid).order_by(Segment.created_at))]
    if as_json:
        dump_json(SegmentSchema(many=True), rows)
        return
    if not rows:
        click.echo("Своих сегментов нет: kopilka mechanics segment add --tenant … --name … [фильтры]")
        return
    table([[r["id"], r["name"], r["count"], audience_text(r["filters"])] for r in rows],
          ["ID", "Название", "Клиентов", "Фильтры"])
    click.echo(plural(len(rows), "сегмент", "сегмента", "сегментов") + ".")


@segment_group.command("add")
@_tenant_option
@click.option("--name", required=True, help="название сегмента")
@audience_options
def segment_add(tenant_ref: str, name: str, **filters) -> None:
    """Создать сегмент по фильтрам (условия складываются через И)."""
    data = load(SegmentInSchema(), {"name": name, "filters": audience_body(filters)}, AUDIENCE_LABELS)
    session = _session()
    tid = _tenant(tenant_ref)
    seg = segments.create_segment(session, tid, data["name"], data.get("filters"), CLI)
    session.commit()
    row = _segment_row(session, tid, seg)
    click.echo(f"Сегмент «{seg.name}» создан: {seg.id}, "
               f"{plural(row['count'], 'клиент', 'клиента', 'клиентов')} сейчас.")


@segment_group.command("remove")
@_tenant_option
@click.option("--id", "segment_id", required=True, help="ID сегмента")
def segment_remove(tenant_ref: str, segment_id: str) -> None:
    """Удалить свой сегмент."""
    _delete(get_segment, tenant_ref, segment_id, "Сегмент «{}» удалён.")


def _delete(getter, tenant_ref: str, row_id: str, done: str) -> None:
    """Delete the tenant's row that `getter` finds (its NotFound otherwise)."""
    session = _session()
    row = getter(session, _tenant(tenant_ref), row_id)
    name = row.name
    session.delete(row)
    session.commit()
    click.echo(done.format(name))


# --- gift triggers, warnings and referral settings (one settings document) ----------------------

def _save_settings(session, tid: str, change, labels: dict | None = None) -> dict:
    """Load the tenant's settings in the API's form (roubles), let `change` edit the document,
    load it back through AutomationSettingsSchema and save it with the hub's validation."""
    doc = AutomationSettingsSchema().dump(auto_settings.load(session, tid))
    change(doc)
    data = load(AutomationSettingsSchema(), doc, labels)
    return auto_settings.save(session, tid, data, utcnow())


EVENT_NAMES = {"registration": "регистрация", "first_purchase": "первая покупка",
               "birthday": "день рождения", "relative_birthday": "день рождения родственника"}


def _gift_text(amount: int, valid_days: int | None, delay_days: int = 0) -> str:
    out = bonuses_text(amount)
    if valid_days:
        out += f" на {plural(valid_days, 'день', 'дня', 'дней')}"
    if delay_days:
        out += f" через {plural(delay_days, 'день', 'дня', 'дней')}"
    return out


@cli.group("triggers")
def triggers_group() -> None:
    """Подарочные бонусы за события, предупреждения о сгорании, уведомления об активации."""


@triggers_group.command("show")
@_tenant_option
@json_option()
def triggers_show(tenant_ref: str, as_json: bool) -> None:
    """Все правила подарков и уведомлений организации."""
    session = _session()
    s = auto_settings.load(session, _tenant(tenant_ref))
    if as_json:
        dump_json(AutomationSettingsSchema(), s)
        return
    if s["gifts"]:
        rows = []
        for g in s["gifts"]:
            extra = []
            if g.get("days_before"):
                extra.append(f"за {plural(g['days_before'], 'день', 'дня', 'дней')} до даты")
            if g.get("levels"):
                extra.append("уровни: " + ",".join(g["levels"]))
            if g.get("sources"):
                extra.append("источники: " + ",".join(g["sources"]))
            rows.append([g["id"], EVENT_NAMES.get(g["event"], g["event"]), "вкл" if g["enabled"] else "выкл",
                         _gift_text(g["amount"], g.get("valid_days"), g.get("delay_days") or 0),
                         "; ".join(extra) or "—"])
        table(rows, ["ID", "Событие", "Состояние", "Подарок", "Условия"])
    else:
        click.echo("Подарков за события нет: kopilka mechanics triggers set --tenant … --event birthday "
                   "--amount 500 --valid-days 15 --days-before 7")
    ew, act, ref = s["expiry_warning"], s["activation"], s["referral"]
    click.echo("Предупреждение о сгорании: " + (f"за {plural(ew['days_before'], 'день', 'дня', 'дней')}"
                                                if ew["enabled"] else "выключено"))
    click.echo("Уведомление об активации бонусов: " + ("включено" if act["enabled"] else "выключено"))
    gift = ref.get("newcomer_gift")
    click.echo("Подарок за регистрацию по приглашению: " + (
        _gift_text(gift["amount"], gift.get("valid_days"), gift.get("delay_days") or 0) if gift else "нет")
        + ("" if ref["enabled"] else " (реферальная программа выключена)"))


@triggers_group.command("set")
@_tenant_option
@click.option("--event", required=True, type=click.Choice(tuple(EVENT_NAMES)), help="событие")
@click.option("--amount", required=True, help="подарок, бонусов (рублей)")
@click.option("--valid-days", required=True, help="сколько дней действуют подарочные бонусы")
@click.option("--days-before", default=None, help="дни рождения: за сколько дней до даты (0–60)")
@click.option("--delay-days", default=None, help="начислить через N дней после события")
@click.option("--level", "levels", multiple=True, help="только для уровня (можно несколько)")
@click.option("--source", "sources", multiple=True, help="регистрация: только из источника (можно несколько)")
@click.option("--id", "rule_id", default=None, help="изменить правило с этим ID (иначе — единственное правило события)")
@click.option("--off", "disabled", is_flag=True, help="сохранить выключенным")
def triggers_set(tenant_ref: str, event: str, amount: str, valid_days: str, days_before: str | None,
                 delay_days: str | None, levels: tuple, sources: tuple, rule_id: str | None, disabled: bool) -> None:
    """Подарок за событие: регистрация, первая покупка, день рождения, день рождения родственника."""
    session = _session()
    tid = _tenant(tenant_ref)
    saved: dict = {}

    def change(doc: dict) -> None:
        gifts = doc["gifts"]
        if rule_id:
            matches = [i for i, g in enumerate(gifts) if g.get("id") == rule_id]
            if not matches:
                fail(f"правила {rule_id} нет: kopilka mechanics triggers show --tenant {tenant_ref}.")
        else:
            matches = [i for i, g in enumerate(gifts) if g["event"] == event]
            if len(matches) > 1:
                fail(f"у события {event} несколько правил: укажите --id (kopilka mechanics triggers show).")
        rule = dict(gifts[matches[0]]) if matches else {}
        rule.update({"event": event, "enabled": not disabled, "amount": money_text(amount), "valid_days": valid_days})
        rule.pop("since", None)
        for key, value in (("days_before", days_before), ("delay_days", delay_days)):
            if value is not None:
                rule[key] = value
        if levels:
            rule["levels"] = list(levels)
        if sources:
            rule["sources"] = list(sources)
        if matches:
            gifts[matches[0]] = rule
            saved["index"] = matches[0]
        else:
            gifts.append(rule)
            saved["index"] = len(gifts) - 1

    settings = _save_settings(session, tid, change)
    g = settings["gifts"][saved["index"]]
    click.echo(f"Подарок за событие «{EVENT_NAMES[event]}» ({g['id']}): "
               f"{_gift_text(g['amount'], g['valid_days'], g['delay_days'])}"
               + (f", за {plural(g['days_before'], 'день', 'дня', 'дней')} до даты" if g["days_before"] else "")
               + (" — включён." if g["enabled"] else " — выключен."))


@triggers_group.command("remove")
@_tenant_option
@click.option("--event", default=None, type=click.Choice(tuple(EVENT_NAMES)), help="все правила события")
@click.option("--id", "rule_id", default=None, help="правило с этим ID")
def triggers_remove(tenant_ref: str, event: str | None, rule_id: str | None) -> None:
    """Удалить подарок за событие."""
    if (event is None) == (rule_id is None):
        fail("укажите либо --event, либо --id.")
    session = _session()
    tid = _tenant(tenant_ref)
    removed: list = []

    def change(doc: dict) -> None:
        keep = [g for g in doc["gifts"] if not (g["event"] == event or g.get("id") == rule_id)]
        removed.extend(g for g in doc["gifts"] if g not in keep)
        if not removed:
            fail("такого правила нет: kopilka mechanics triggers show --tenant " + tenant_ref + ".")
        doc["gifts"] = keep

    _save_settings(session, tid, change)
    click.echo(f"Удалено: {plural(len(removed), 'правило', 'правила', 'правил')}.")


@triggers_group.command("warnings")
@_tenant_option
@click.option("--expiry-days", default=None, help="предупреждать о сгорании за N дней (1–90)")
@click.option("--expiry/--no-expiry", default=None, help="включить или выключить предупреждение о сгорании")
@click.option("--activation/--no-activation", default=None, help="уведомлять, когда бонусы стали доступны")
def triggers_warnings(tenant_ref: str, expiry_days: str | None, expiry: bool | None,
                      activation: bool | None) -> None:
    """Предупреждения о сгорании бонусов и уведомления об активации."""
    session = _session()
    tid = _tenant(tenant_ref)

    def change(doc: dict) -> None:
        ew = doc["expiry_warning"]
        ew.pop("since", None)
        doc["activation"].pop("since", None)
        if expiry_days is not None:
            ew["days_before"], ew["enabled"] = expiry_days, True if expiry is None else expiry
        elif expiry is not None:
            ew["enabled"] = expiry
        if activation is not None:
            doc["activation"]["enabled"] = activation

    s = _save_settings(session, tid, change, {"expiry_warning.days_before": "--expiry-days"})
    ew = s["expiry_warning"]
    click.echo("Предупреждение о сгорании: " + (f"за {plural(ew['days_before'], 'день', 'дня', 'дней')}"
                                                if ew["enabled"] else "выключено")
               + "; уведомление об активации: " + ("включено." if s["activation"]["enabled"] else "выключено."))


# --- referrals ---------------------------------------------------------------------------------

@cli.group("referrals")
def referrals_group() -> None:
    """Реферальная программа: подарок новичку, вознаграждение пригласившим по уровням."""


def _level_text(level: dict) -> str:
    return percent_text(level["percent"]) if level.get("percent") is not None else rub(level["amount"])


def _show_referral(ref: dict) -> None:
    click.echo("Реферальная программа: " + ("включена" if ref["enabled"] else "выключена"))
    gift = ref.get("newcomer_gift")
    click.echo("Подарок новичку: " + (_gift_text(gift["amount"], gift.get("valid_days"), gift.get("delay_days") or 0)
                                      if gift else "нет"))
    click.echo("Вознаграждение: " + ("с каждой покупки приглашённого" if ref["mode"] == "every"
                                     else "с первой покупки приглашённого"))
    click.echo("Уровни: " + (", ".join(f"{i + 1}-й — {_level_text(lv)}" for i, lv in enumerate(ref["levels"]))
                             or "нет"))
    if ref.get("period_days"):
        click.echo(f"За покупки в течение {plural(ref['period_days'], 'дня', 'дней', 'дней')} после приглашения")
    if ref.get("valid_days"):
        click.echo(f"Вознаграждение действует {plural(ref['valid_days'], 'день', 'дня', 'дней')}")


@referrals_group.command("show")
@_tenant_option
@json_option()
def referrals_show(tenant_ref: str, as_json: bool) -> None:
    """Настройки реферальной программы."""
    ref = auto_settings.load(_session(), _tenant(tenant_ref))["referral"]
    if as_json:
        dump_json(ReferralSettingsSchema(), ref)
        return
    _show_referral(ref)


def _level_body(value: str) -> dict:
    text = value.strip()
    if text.endswith(("₽", "р", "руб")):
        return {"amount": money_text(text.removesuffix("руб"))}
    return {"percent": text.rstrip("%").replace(",", ".").strip()}


@referrals_group.command("set")
@_tenant_option
@click.option("--on/--off", "enabled", default=None, help="включить или выключить программу")
@click.option("--newcomer-gift", default=None, help="подарок новичку, бонусов (0 — без подарка)")
@click.option("--newcomer-valid-days", default=None, help="сколько дней действует подарок новичку")
@click.option("--newcomer-delay-days", default=None, help="начислить подарок новичку через N дней")
@click.option("--mode", default=None, type=click.Choice(("first", "every")),
              help="вознаграждение с первой (first) или с каждой (every) покупки приглашённого")
@click.option("--level", "levels", multiple=True,
              help="вознаграждение уровня 1, 2, 3… по порядку: «5» или «5%» — процент, «100₽» — сумма")
@click.option("--period-days", default=None, help="платить за покупки в течение N дней (0 — без срока)")
@click.option("--valid-days", default=None, help="срок жизни вознаграждения, дней (0 — как у программы)")
def referrals_set(tenant_ref: str, enabled: bool | None, newcomer_gift: str | None, newcomer_valid_days: str | None,
                  newcomer_delay_days: str | None, mode: str | None, levels: tuple, period_days: str | None,
                  valid_days: str | None) -> None:
    """Изменить реферальную программу (не указанное остаётся как было)."""
    session = _session()
    tid = _tenant(tenant_ref)

    def change(doc: dict) -> None:
        ref = doc["referral"]
        ref.pop("since", None)
        if enabled is not None:
            ref["enabled"] = enabled
        if newcomer_gift is not None and money_text(newcomer_gift) in ("0", "0.0", "0.00", ""):
            ref["newcomer_gift"] = None
        elif newcomer_gift is not None or newcomer_valid_days is not None or newcomer_delay_days is not None:
            gift = dict(ref.get("newcomer_gift") or {})
            for key, value in (("amount", money_text(newcomer_gift)), ("valid_days", newcomer_valid_days),
                               ("delay_days", newcomer_delay_days)):
                if value is not None:
                    gift[key] = value
            ref["newcomer_gift"] = gift
        if mode is not None:
            ref["mode"] = mode
        if levels:
            ref["levels"] = [_level_body(v) for v in levels]
        for key, value in (("period_days", period_days), ("valid_days", valid_days)):
            if value is not None:
                ref[key] = None if value.strip() == "0" else value

    labels = {"referral.newcomer_gift.amount": "--newcomer-gift",
              "referral.newcomer_gift.valid_days": "--newcomer-valid-days",
              "referral.newcomer_gift.delay_days": "--newcomer-delay-days",
              "referral.period_days": "--period-days", "referral.valid_days": "--valid-days",
              "percent": "--level", "amount": "--level", "levels": "--level"}
    _show_referral(_save_settings(session, tid, change, labels)["referral"])


# --- win-back chains ---------------------------------------------------------------------------

@cli.group("chains")
def chains_group() -> None:
    """Цепочки реанимации: «N дней без покупок → подарок на K дней → сообщение»."""


def _step_body(text: str) -> dict:
    """DAYS[:AMOUNT[:VALID_DAYS[:TEXT]]], e.g. 66:100:7."""
    parts = text.split(":", 3)
    keys = ("days", "amount", "valid_days", "text")
    out = {}
    for key, value in zip(keys, parts):
        value = value.strip()
        if value:
            out[key] = money_text(value) if key == "amount" else value
    return out


def _steps_text(steps: list[dict]) -> str:
    out = []
    for st in steps:
        what = _gift_text(st["amount"], st.get("valid_days")) if st.get("amount") else "напоминание"
        out.append(f"{st['days']} дн. → {what}")
    return "; ".join(out)


@chains_group.command("list")
@_tenant_option
@json_option()
def chains_list(tenant_ref: str, as_json: bool) -> None:
    """Цепочки организации: шаги, аудитория, включена ли."""
    from sqlalchemy import select

    session = _session()
    tid = _tenant(tenant_ref)
    rows = session.scalars(select(WinbackChain).where(WinbackChain.tenant_id == tid)
                           .order_by(WinbackChain.created_at)).all()
    if as_json:
        dump_json(ChainSchema(many=True), rows)
        return
    if not rows:
        click.echo("Цепочек нет: kopilka mechanics chains add --tenant … --step 66:100:7 --step 180:200:14")
        return
    table([[c.id, c.name, "вкл" if c.enabled else "выкл", _steps_text(c.steps), audience_text(c.audience)]
           for c in rows], ["ID", "Название", "Состояние", "Шаги", "Аудитория"])
    click.echo(plural(len(rows), "цепочка", "цепочки", "цепочек") + ".")


@chains_group.command("add")
@_tenant_option
@click.option("--name", default="Реанимация", show_default=True, help="название цепочки")
@click.option("--step", "steps", multiple=True, required=True,
              help="ДНЕЙ[:БОНУСОВ[:ДЕЙСТВУЕТ_ДНЕЙ[:ТЕКСТ]]], например 66:100:7 (можно несколько)")
@click.option("--off", "disabled", is_flag=True, help="сохранить выключенной")
@audience_options
def chains_add(tenant_ref: str, name: str, steps: tuple, disabled: bool, **filters) -> None:
    """Новая цепочка реанимации для аудитории (по умолчанию — все клиенты)."""
    body = {"name": name, "enabled": not disabled, "audience": audience_body(filters),
            "steps": [_step_body(s) for s in steps]}
    labels = {**AUDIENCE_LABELS, "days": "--step (дни)", "amount": "--step (бонусы)",
              "valid_days": "--step (срок)", "text": "--step (текст)", "steps": "--step"}
    data = load(ChainInSchema(), body, labels)
    session = _session()
    chain = save_chain(session, _tenant(tenant_ref), data, utcnow())
    click.echo(f"Цепочка «{chain.name}» создана ({chain.id}), {'включена' if chain.enabled else 'выключена'}: "
               f"{_steps_text(chain.steps)}.")


@chains_group.command("remove")
@_tenant_option
@click.option("--id", "chain_id", required=True, help="ID цепочки")
def chains_remove(tenant_ref: str, chain_id: str) -> None:
    """Удалить цепочку."""
    _delete(get_chain, tenant_ref, chain_id, "Цепочка «{}» удалена.")


# --- mailings ----------------------------------------------------------------------------------

@cli.group("mailings")
def mailings_group() -> None:
    """Рассылки по сегменту: оценка стоимости, создание, отправка."""


def _mailing_body(name: str | None, text: str | None, file, gift: str | None,
                  gift_valid_days: str | None, at: str | None, filters: dict) -> dict:
    body = {"text": read_text(text, file), "audience": audience_body(filters)}
    if name is not None:
        body["name"] = name
    if gift is not None:
        body["gift"] = {"amount": money_text(gift), **({"valid_days": gift_valid_days} if gift_valid_days else {})}
    if at is not None:
        body["scheduled_at"] = parse_since(at).isoformat()
    return body


MAILING_LABELS = {**AUDIENCE_LABELS, "gift.amount": "--gift", "gift.valid_days": "--gift-valid-days",
                  "scheduled_at": "--at"}


def _estimate_text(est: dict) -> str:
    ch = est["by_channel"]
    return (f"Аудитория: {plural(est['audience'], 'клиент', 'клиента', 'клиентов')}, получат: {est['recipients']} "
            f"(мессенджер {ch['messenger']}, SMS {ch['sms']}, email {ch['email']}; без согласия {ch['none']}). "
            f"SMS: {plural(est['sms_parts'], 'часть', 'части', 'частей')}, ≈ {rub(est['estimated_cost'])}.")


def _mailing_options(f):
    f = audience_options(f)
    for decorator in reversed((
            click.option("--text", default=None, help="текст рассылки с подстановками {name}, {balance}…"),
            click.option("--file", "file", type=click.File("r", encoding="utf-8"), default=None,
                         help="текст из файла (- — из stdin)"),
            click.option("--gift", default=None, help="подарок каждому получателю, бонусов"),
            click.option("--gift-valid-days", default=None, help="сколько дней действует подарок"))):
        f = decorator(f)
    return f


@mailings_group.command("estimate")
@_tenant_option
@_mailing_options
@json_option()
def mailings_estimate(tenant_ref: str, text: str | None, file, gift: str | None,
                      gift_valid_days: str | None, as_json: bool, **filters) -> None:
    """Сколько клиентов получат рассылку и сколько она будет стоить; ничего не сохраняется."""
    data = load(MailingInSchema(), _mailing_body(None, text, file, gift, gift_valid_days, None, filters),
                MAILING_LABELS)
    session = _session()
    tid = _tenant(tenant_ref)
    est = mailings.estimate(session, tid, segments.check_audience(session, tid, data.get("audience") or {}),
                            data["text"], utcnow())
    session.rollback()
    if as_json:
        dump_json(EstimateSchema(), est)
        return
    click.echo(_estimate_text(est))


@mailings_group.command("create")
@_tenant_option
@click.option("--name", default="Рассылка", show_default=True, help="название рассылки")
@_mailing_options
@click.option("--at", default=None, help="отправить в этот момент (ISO 8601); без него — черновик")
def mailings_create(tenant_ref: str, name: str, text: str | None, file, gift: str | None,
                    gift_valid_days: str | None, at: str | None, **filters) -> None:
    """Создать рассылку (черновик или запланированную) и показать оценку стоимости."""
    data = load(MailingInSchema(), _mailing_body(name, text, file, gift, gift_valid_days, at, filters),
                MAILING_LABELS)
    session = _session()
    mailing, est = mailings.create_mailing(session, _tenant(tenant_ref), data, utcnow())
    when = f"запланирована на {moment(mailing.scheduled_at)}" if mailing.scheduled_at else \
        "черновик (kopilka mechanics mailings send --id …)"
    click.echo(f"Рассылка «{mailing.name}» создана ({mailing.id}): {when}.")
    click.echo(_estimate_text(est))


@mailings_group.command("list")
@_tenant_option
@json_option()
def mailings_list(tenant_ref: str, as_json: bool) -> None:
    """Рассылки: состояние, получатели, оценка стоимости."""
    from sqlalchemy import select

    session = _session()
    tid = _tenant(tenant_ref)
    rows = session.scalars(select(Mailing).where(Mailing.tenant_id == tid)
                           .order_by(Mailing.created_at.desc(), Mailing.id)).all()
    if as_json:
        dump_json(MailingSchema(many=True), rows)
        return
    if not rows:
        click.echo("Рассылок нет: kopilka mechanics mailings create --tenant … --text …")
        return
    states = MAILING_STATUS_NAMES
    table([[m.id, m.name, states.get(m.status, m.status),
            moment(m.sent_at or m.scheduled_at) if (m.sent_at or m.scheduled_at) else "—",
            m.recipients, rub(m.estimated_cost), audience_text(m.audience)] for m in rows],
          ["ID", "Название", "Состояние", "Когда", "Получателей", "Оценка", "Аудитория"])
    click.echo(plural(len(rows), "рассылка", "рассылки", "рассылок") + ".")


@mailings_group.command("send")
@_tenant_option
@click.option("--id", "mailing_id", required=True, help="ID рассылки")
@click.option("--yes", is_flag=True, help="не спрашивать подтверждения")
def mailings_send(tenant_ref: str, mailing_id: str, yes: bool) -> None:
    """Отправить рассылку сейчас (каждому клиенту не больше одного раза)."""
    session = _session()
    tid = _tenant(tenant_ref)
    mailing = mailings.get_mailing(session, tid, mailing_id)
    if not yes:
        est = mailings.estimate(session, tid, mailing.audience, mailing.text, utcnow())
        session.rollback()
        click.echo(_estimate_text(est))
        if not click.confirm(f"Отправить рассылку «{mailing.name}»?"):
            click.echo("Рассылка не запущена.")
            return
    result = mailings.send_mailing(session, tid, mailing_id, utcnow())
    click.echo(f"Рассылка запущена: в очереди {plural(result['queued'], 'сообщение', 'сообщения', 'сообщений')} "
               f"(доставку каждого показывает `kopilka messages log`).")


# --- the win-back gift proposal and the results ----------------------------------------------

@cli.command("propose-gift")
@click.option("--check", "check", default=None, help="средний чек, ₽ (по умолчанию: средний чек магазина за год)")
@click.option("--margin", required=True, help="валовая маржа, %")
@click.option("--share", required=True, help="доля маржи на возврат клиента, %")
@click.option("--tenant", "tenant_ref", default=None, help="для среднего чека магазина")
def propose_cmd(check: str | None, margin: str, share: str, tenant_ref: str | None) -> None:
    """Размер подарка для реанимации: чек × маржа × доля (900 × 40% × 50% = 180)."""
    try:
        if check is not None:
            try:
                kopecks = parse_rub(check)
            except MoneyError as exc:
                raise click.BadParameter(exc.message, param_hint="--check") from None
        elif tenant_ref:
            kopecks = average_check(_session(), _tenant(tenant_ref), utcnow())
        else:
            raise click.BadParameter("укажите --check или --tenant", param_hint="--check")
        gift = propose_gift(kopecks, Decimal(margin), Decimal(share))
    except (InvalidOperation, ValueError) as exc:
        raise click.BadParameter(f"нужны числа, проценты от 0 до 100 ({exc})") from None
    click.echo(f"Средний чек {rub(kopecks)} → подарок {bonuses_text(gift)}")


@cli.command("stats")
@_tenant_option
@click.option("--days", default=30, show_default=True, help="за сколько последних дней")
def stats_cmd(tenant_ref: str, days: int) -> None:
    """Конверсия, выручка, затраты и прибыль по механикам (JSON, суммы в копейках)."""
    session = _session()
    now = utcnow()
    click.echo(json.dumps(mechanic_stats(session, _tenant(tenant_ref), now - timedelta(days=days), now),
                          ensure_ascii=False, indent=2))
