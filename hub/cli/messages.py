"""`kopilka messages …`: templates (list, show, edit, reset, preview, topics on/off), channels
(SMS.ru, SMS Aero, Telegram, MAX, SMTP), quiet hours and the message log.

Every rule is the hub's: input goes through the API's schemas (api/schemas/notify.py, the same
Russian messages) and then hub.notify's services (catalog, registry, rules), so a command
refuses exactly what `PUT /api/v1/notify/…` refuses -- one line `Ошибка: …`, exit 1, nothing
written. The small helpers at the top are shared with `kopilka mechanics` (hub/cli/mechanics.py).
"""
from __future__ import annotations

import json
import os
from typing import NoReturn

import click

from hub.cli.support import cli_session as _session
from hub.text import plural
from hub.cli.support import _table
from api.schemas.notify import PreviewInSchema, PreviewSchema
from hub.notify import registry
from hub.cli.support import resolve_tenant_id
from hub.notify import catalog
from hub.notify.channels import CHANNELS
from hub.notify.channels import CHANNEL_OF
from api.schemas.notify import ChannelListSchema
from hub.notify.channels import ChannelError
from api.schemas.notify import TemplateInSchema
from hub.cli.support import CliError
from hub.cli.support import _moment
from hub.notify.templates import PLACEHOLDERS
from hub.config import Config
from hub.notify import rules
from api.schemas.notify import MessageListSchema, MessageQuerySchema
from api.schemas.notify import TemplateListSchema
from hub.money import kopecks_json
from hub.cli.support import parse_since
from api.schemas.notify import NotifySettingsInSchema, NotifySettingsSchema
from api.schemas.notify import ChannelInSchema
from api.schemas.notify import TemplateSchema
from hub.notify.models import OutboxMessage
from hub.engine.text import rub as number
from hub.notify.channels import PROVIDERS
from hub.notify.registry import REQUIRED_CREDENTIALS
from hub.web.cabinet.messages import MESSAGE_STATUSES

TENANT_HELP = "ID или название организации"


# --- shared with hub/cli/mechanics.py ---------------------------------------------------------

def fail(message: str) -> NoReturn:
    """One Russian line `Ошибка: …` on stderr, exit code 1."""
    raise CliError(message)


def tenant_id(ref: str) -> str:
    return resolve_tenant_id(ref)


def rub(kopecks: int | None) -> str:
    """12345 -> "123,45 ₽"."""
    return number(int(kopecks or 0)) + " ₽"


def moment(value) -> str:
    return _moment(value)


def table(rows: list[list], header: list[str]) -> None:
    _table([[str(v) for v in r] for r in rows], header)


def _flatten(messages, path: tuple = ()) -> list[tuple[tuple, str]]:
    if isinstance(messages, dict):
        return [item for key, value in messages.items() for item in _flatten(value, path + (key,))]
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [(path, " ".join(messages))]
    if isinstance(messages, list):
        return [item for i, value in enumerate(messages) for item in _flatten(value, path + (i,))]
    return [(path, str(messages))]


def load(schema, data: dict, labels: dict | None = None) -> dict:
    """`data` through an API schema (its Russian messages): the loaded dict, or one line
    naming the options at fault ("--valid-days: Должно быть не больше 3650.")."""
    from marshmallow import ValidationError
    try:
        return schema.load(data)
    except ValidationError as exc:
        parts = []
        for path, text in _flatten(exc.messages):
            dotted = ".".join(str(p) for p in path)
            names = [str(p) for p in path if not isinstance(p, int) and p != "_schema"]
            label = (labels or {}).get(dotted) or (labels or {}).get(names[-1] if names else "") \
                or ("--" + names[-1].replace("_", "-") if names else "")
            parts.append(f"{label}: {text}" if label else text)
        fail("; ".join(parts))


def money_text(value: str | None) -> str | None:
    """A rouble amount as typed ("2,5", "1 000 ₽"), tidied for comparisons ("0,00" is "0.00");
    the API's Money field reads it with hub.money.parse_rub, the one parser of every face."""
    return None if value is None else value.replace("\u00a0", "").replace(" ", "").replace(",", ".").rstrip("₽р")


def json_option(what: str = "как API"):
    return click.option("--json", "as_json", is_flag=True, help=f"вывести JSON ({what})")


def dump_json(schema, data) -> None:
    click.echo(json.dumps(schema.dump(data), ensure_ascii=False, indent=2, default=str))


def read_text(text: str | None, file, required: bool = True) -> str | None:
    if text is not None and file is not None:
        fail("укажите либо --text, либо --file.")
    if file is not None:
        return file.read().rstrip("\n")
    if text is None and required:
        fail("укажите текст: --text … или --file ФАЙЛ (- для stdin).")
    return text


def parts_text(sms: dict) -> str:
    parts = plural(sms["parts"], "часть", "части", "частей")
    return f"{parts} SMS, {sms['length']} симв., ≈ {rub(sms['expected_cost'])}"


# --- the `messages` group ----------------------------------------------------------------------

@click.group("messages")
def cli() -> None:
    """Сообщения клиентам: шаблоны, каналы, тихие часы, журнал."""


def _topic_option(f):
    # Checked by the hub (catalog.check_topic): a Russian line listing the topics.
    return click.option("--topic", required=True, help="тема сообщения (см. kopilka messages templates)")(f)


def _tenant_option(f):
    return click.option("--tenant", "tenant_ref", required=True, help=TENANT_HELP)(f)


def _channel_template_option(f):
    return click.option("--channel", default="*", type=click.Choice(("*",) + CHANNELS),
                        show_default=True, help="свой текст для одного канала (* — для всех)")(f)


def _describe(session, tid: str, topic: str) -> dict:
    catalog.check_topic(topic)
    return next(t for t in catalog.describe_all(session, tid) if t["topic"] == topic)


def _show_preview(preview: dict) -> None:
    click.echo(f"Пример: {preview['text']}")
    click.echo(f"Длина: {parts_text(preview['sms'])}")
    if preview.get("unknown_placeholders"):
        click.echo("Неизвестные подстановки: " + ", ".join("{" + p + "}" for p in preview["unknown_placeholders"]))


@cli.command("templates")
@_tenant_option
@json_option("как GET /api/v1/notify/templates")
def templates_cmd(tenant_ref: str, as_json: bool) -> None:
    """Темы сообщений: включена ли, свой текст или по умолчанию, части SMS и стоимость."""
    session = _session()
    tid = tenant_id(tenant_ref)
    items = catalog.describe_all(session, tid)
    if as_json:
        dump_json(TemplateListSchema(), {"items": items, "placeholders": PLACEHOLDERS})
        return
    table([[t["topic"], t["title"], "вкл" if t["enabled"] else "выкл",
            "изменён" if t["customized"] else "по умолчанию", t["sms"]["parts"], rub(t["sms"]["expected_cost"])]
           for t in items], ["Тема", "Название", "Вкл", "Текст", "SMS", "Стоимость"])
    edited = sum(1 for t in items if t["customized"])
    off = sum(1 for t in items if not t["enabled"])
    price = rules.get_settings(session, tid).get("sms_part_price", 0)
    click.echo(f"{plural(len(items), 'тема', 'темы', 'тем')}, изменено: {edited}, выключено: {off}. "
               f"Часть SMS: {rub(price)}.")


@cli.group("template")
def template_group() -> None:
    """Текст одной темы: показать, изменить, вернуть по умолчанию."""


@template_group.command("show")
@_tenant_option
@_topic_option
@json_option()
def template_show(tenant_ref: str, topic: str, as_json: bool) -> None:
    """Текст темы, текст по умолчанию, пример с подстановками и длина SMS."""
    session = _session()
    t = _describe(session, tenant_id(tenant_ref), topic)
    if as_json:
        dump_json(TemplateSchema(), t)
        return
    state = "включена" if t["enabled"] else "выключена"
    click.echo(f"{t['title']} ({topic}): {state}, {'свой текст' if t['customized'] else 'текст по умолчанию'}")
    click.echo(f"Текст: {t['text']}")
    if t["customized"]:
        click.echo(f"По умолчанию: {t['default_text']}")
    for channel, own in sorted(t["channels"].items()):
        click.echo(f"Канал {channel}: {own['text'] or '(общий текст)'}{'' if own['enabled'] else ' — выключен'}")
    click.echo(f"Пример: {t['sample']}")
    click.echo(f"Длина: {parts_text(t['sms'])}")
    click.echo("Подстановки: " + ", ".join("{" + p + "}" for p in PLACEHOLDERS))


@template_group.command("set")
@_tenant_option
@_topic_option
@click.option("--text", default=None, help="новый текст с подстановками {name}, {bonuses}…")
@click.option("--file", "file", type=click.File("r", encoding="utf-8"), default=None,
              help="взять текст из файла (- — из stdin)")
@click.option("--subject", default=None, help="тема письма (для email)")
@_channel_template_option
def template_set(tenant_ref: str, topic: str, text: str | None, file, subject: str | None,
                 channel: str) -> None:
    """Сохранить свой текст темы (проверяются подстановки) и показать пример."""
    text = read_text(text, file)
    body = {"channel": channel, "text": text, **({"subject": subject} if subject is not None else {})}
    data = load(TemplateInSchema(), body)
    session = _session()
    tid = tenant_id(tenant_ref)
    out = catalog.put_template(session, tid, topic, **data)
    session.commit()
    where = "" if channel == "*" else f" для канала {channel}"
    click.echo(f"Шаблон «{out['title']}»{where} сохранён.")
    _show_preview(catalog.preview(session, tid, topic, channel=None if channel == "*" else channel))


@template_group.command("reset")
@_tenant_option
@_topic_option
@_channel_template_option
def template_reset(tenant_ref: str, topic: str, channel: str) -> None:
    """Вернуть текст по умолчанию."""
    session = _session()
    tid = tenant_id(tenant_ref)
    out = catalog.put_template(session, tid, topic, channel=channel, reset=True)
    session.commit()
    click.echo(f"Шаблон «{out['title']}»: восстановлен текст по умолчанию.")
    _show_preview(catalog.preview(session, tid, topic, channel=None if channel == "*" else channel))


@cli.command("preview")
@_tenant_option
@_topic_option
@click.option("--text", default=None, help="проверить этот текст вместо сохранённого")
@click.option("--file", "file", type=click.File("r", encoding="utf-8"), default=None, help="текст из файла")
@click.option("--channel", default=None, help="текст канала (sms, telegram, max, email)")
@json_option()
def preview_cmd(tenant_ref: str, topic: str, text: str | None, file, channel: str | None,
                as_json: bool) -> None:
    """Текст с примерными данными, части SMS и стоимость; ничего не сохраняется."""
    text = read_text(text, file, required=False)
    body = {k: v for k, v in (("text", text), ("channel", channel)) if v is not None}
    data = load(PreviewInSchema(), body)
    session = _session()
    out = catalog.preview(session, tenant_id(tenant_ref), topic, **data)
    session.rollback()
    if as_json:
        dump_json(PreviewSchema(), out)
        return
    if not out["enabled"]:
        click.echo("Тема выключена: такие сообщения не отправляются.")
    _show_preview(out)


@cli.group("topic")
def topic_group() -> None:
    """Включить или выключить тему сообщений."""


def _toggle(tenant_ref: str, topic: str, enabled: bool) -> None:
    session = _session()
    out = catalog.put_template(session, tenant_id(tenant_ref), topic, enabled=enabled)
    session.commit()
    click.echo(f"«{out['title']}» ({topic}): {'включено' if enabled else 'выключено'}.")


@topic_group.command("on")
@_tenant_option
@_topic_option
def topic_on(tenant_ref: str, topic: str) -> None:
    """Включить тему."""
    _toggle(tenant_ref, topic, True)


@topic_group.command("off")
@_tenant_option
@_topic_option
def topic_off(tenant_ref: str, topic: str) -> None:
    """Выключить тему: её сообщения не отправляются."""
    _toggle(tenant_ref, topic, False)


# --- channels ----------------------------------------------------------------------------------

# Keys of --option kept encrypted as credentials (besides each provider's required ones,
# hub.notify.registry.REQUIRED_CREDENTIALS); the rest goes to the channel's settings.
SECRET_WORDS = frozenset({"api_id", "api_key", "token", "login", "username", "password", "secret"})
CHANNEL_HELP = "smsru, smsaero, smsc, telegram, max, smtp (или канал: sms, email)"


def _provider(session, tid: str, name: str) -> str:
    """--channel takes a provider or a channel; `sms` means the configured SMS gateway."""
    if name in PROVIDERS:
        return name
    if name not in CHANNELS:
        fail(f"неизвестный канал «{name}»: {CHANNEL_HELP}.")
    row = registry.channel_rows(session, tid).get(name)
    if row is not None:
        return row.provider
    choices = [p for p, c in CHANNEL_OF.items() if c == name]
    if len(choices) > 1:
        fail(f"укажите провайдера канала {name}: {', '.join(choices)}.")
    return choices[0]


def _public_url() -> str:
    return Config().PUBLIC_URL


def _channel_line(row) -> list:
    d = registry.describe(row)
    settings = ", ".join(f"{k}={v}" for k, v in sorted(d["settings"].items())) or "—"
    return [d["channel"], d["provider"], "вкл" if d["enabled"] else "выкл",
            ", ".join(d["credentials_set"]) or "—", settings]


@cli.command("channels")
@_tenant_option
@json_option("как GET /api/v1/notify/channels")
def channels_cmd(tenant_ref: str, as_json: bool) -> None:
    """Настроенные каналы: провайдер, включён ли, какие учётные данные заданы (без значений)."""
    session = _session()
    tid = tenant_id(tenant_ref)
    rows = registry.channel_rows(session, tid)
    ordered = [rows[c] for c in CHANNELS if c in rows]
    if as_json:
        items = []
        for row in ordered:
            d = {**registry.describe(row), "webhook_url": registry.webhook_url(row, _public_url())}
            if row.channel == "sms":
                d["webhook_url"] = d["webhook_url"].split("?")[0] + "?secret=…"
            items.append(d)
        dump_json(ChannelListSchema(), {"items": items})
        return
    if not ordered:
        click.echo("Каналы не настроены: kopilka messages channel set --tenant … --channel smsru|smsaero|"
                   "telegram|max|smtp --option ключ=значение")
    else:
        table([_channel_line(r) for r in ordered], ["Канал", "Провайдер", "Состояние", "Учётные данные", "Настройки"])
    settings = rules.get_settings(session, tid)
    quiet = settings.get("quiet_hours") or {}
    click.echo(("Тихие часы: " + f"{quiet['start']}–{quiet['end']}" if quiet else "Тихие часы: нет")
               + f"; SMS как запасной канал: {'да' if settings.get('sms_fallback') else 'нет'}"
               + f"; часть SMS: {rub(settings.get('sms_part_price'))}.")


@cli.group("channel")
def channel_group() -> None:
    """Настроить или выключить канал."""


def _options(pairs: tuple[str, ...]) -> dict:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            fail(f"--option «{pair.split('=')[0][:40]}»: нужен вид ключ=значение.")
        out[key.strip()] = value
    return out


@channel_group.command("set")
@_tenant_option
@click.option("--channel", "name", required=True, help=CHANNEL_HELP)
@click.option("--option", "pairs", multiple=True,
              help="ключ=значение: sender, host, port, from… и учётные данные (api_id, api_key, email для SMS Aero, "
                   "login, token, username, password; лучше через переменные KOPILKA_<ПРОВАЙДЕР>_<КЛЮЧ> или запрос)")
@click.option("--off", "disabled", is_flag=True, help="сохранить выключенным")
def channel_set(tenant_ref: str, name: str, pairs: tuple[str, ...], disabled: bool) -> None:
    """Настроить канал. Учётные данные шифруются и не выводятся; недостающие берутся из
    переменных окружения KOPILKA_<ПРОВАЙДЕР>_<КЛЮЧ> (например, KOPILKA_SMSRU_API_ID) или
    запрашиваются без отображения ввода."""
    session = _session()
    tid = tenant_id(tenant_ref)
    provider = _provider(session, tid, name)
    given = _options(pairs)
    required = REQUIRED_CREDENTIALS.get(provider, ())
    secret_keys = tuple(required) + tuple(sorted(SECRET_WORDS - set(required)))
    credentials = {k: v for k, v in given.items() if k in secret_keys}
    settings = {k: v for k, v in given.items() if k not in secret_keys}
    row = registry.channel_rows(session, tid).get(CHANNEL_OF[provider])
    stored = registry.decrypt(row.credentials) if row is not None and row.provider == provider else {}
    for key in secret_keys:
        if credentials.get(key) or stored.get(key):
            continue
        env = os.environ.get(f"KOPILKA_{provider.upper()}_{key.upper()}")
        if env:
            credentials[key] = env
        elif key in required or (key == "password" and (credentials.get("username") or credentials.get("login"))):
            credentials[key] = click.prompt(f"{provider} {key}", hide_input=True, err=True)
    data = load(ChannelInSchema(), {"provider": provider, "enabled": not disabled,
                                    "settings": settings, "credentials": credentials},
                {"provider": "--channel", "settings": "--option", "credentials": "--option"})
    row, secret = registry.configure(session, tid, provider, settings=data["settings"],
                                     credentials=data["credentials"], enabled=data["enabled"])
    session.commit()
    d = registry.describe(row)
    click.echo(f"Канал {d['channel']} ({provider}) сохранён, {'включён' if d['enabled'] else 'выключен'}. "
               f"Учётные данные заданы: {', '.join(d['credentials_set']) or '—'} (значения не показываются).")
    url = registry.webhook_url(row, _public_url())
    if secret:
        click.echo(f"Адрес для уведомлений провайдера (содержит секрет, показывается один раз): {url}"
                   if row.channel == "sms" else f"Вебхук: {url}\nСекрет вебхука (показывается один раз): {secret}")
    elif row.channel != "sms":
        click.echo(f"Вебхук: {url}")


def _switch(tenant_ref: str, name: str, enabled: bool) -> None:
    session = _session()
    tid = tenant_id(tenant_ref)
    channel = CHANNEL_OF.get(name, name)
    row = registry.channel_rows(session, tid).get(channel)
    if row is None:
        fail(f"канал «{name}» не настроен: kopilka messages channels --tenant {tenant_ref}.")
    registry.configure(session, tid, row.provider, enabled=enabled)
    session.commit()
    click.echo(f"Канал {channel} ({row.provider}) {'включён' if enabled else 'выключен'}.")


@channel_group.command("off")
@_tenant_option
@click.option("--channel", "name", required=True, help="sms, telegram, max, email (или провайдер)")
def channel_off(tenant_ref: str, name: str) -> None:
    """Выключить канал (настройки и учётные данные сохраняются)."""
    _switch(tenant_ref, name, False)


@channel_group.command("on")
@_tenant_option
@click.option("--channel", "name", required=True, help="sms, telegram, max, email (или провайдер)")
def channel_on(tenant_ref: str, name: str) -> None:
    """Снова включить настроенный канал."""
    _switch(tenant_ref, name, True)


@cli.command("quiet-hours")
@_tenant_option
@click.option("--from", "start", default=None, help="начало, ЧЧ:ММ (по умолчанию 21:00)")
@click.option("--to", "end", default=None, help="конец, ЧЧ:ММ (по умолчанию 09:00)")
@click.option("--off", "off", is_flag=True, help="без тихих часов")
def quiet_hours_cmd(tenant_ref: str, start: str | None, end: str | None, off: bool) -> None:
    """Тихие часы в часовом поясе программы: реклама ждёт утра. Без --from/--to — показать."""
    session = _session()
    tid = tenant_id(tenant_ref)
    if off or start is not None or end is not None:
        if off and (start or end):
            fail("укажите либо --from и --to, либо --off.")
        if not off and (start is None or end is None):
            fail("укажите и --from, и --to (например, --from 21:00 --to 09:00).")
        body = {"quiet_hours": None if off else {"start": start, "end": end}}
        data = load(NotifySettingsInSchema(partial=True), body,
                    {"quiet_hours.start": "--from", "quiet_hours.end": "--to"})
        rules.put_settings(session, tid, data)
        session.commit()
    quiet = rules.get_settings(session, tid).get("quiet_hours") or {}
    if quiet:
        click.echo(f"Тихие часы: {quiet['start']}–{quiet['end']} ({rules.tenant_timezone(session, tid)}).")
    else:
        click.echo("Тихих часов нет: реклама отправляется в любое время.")


ON_OFF = click.Choice(("on", "off"))


@cli.command("settings")
@_tenant_option
@click.option("--sms-fallback", type=ON_OFF, default=None, help="SMS, когда мессенджер не доставил")
@click.option("--sms-part-price", default=None, help="цена одной части SMS, ₽ (для оценки стоимости)")
@click.option("--max-attempts", default=None, help="попыток отправки одного сообщения (1–50)")
@click.option("--first-purchase-message", type=ON_OFF, default=None,
              help="после первой покупки — приветствие вместо сообщения о бонусах")
@click.option("--review-requests", type=ON_OFF, default=None, help="просить отзыв после покупки")
@click.option("--codes-per-ip-hour", default=None, help="кодов в час с одного адреса (личный кабинет)")
@json_option("как GET /api/v1/notify/settings")
def settings_cmd(tenant_ref: str, sms_fallback: str | None, sms_part_price: str | None, max_attempts: str | None,
                 first_purchase_message: str | None, review_requests: str | None, codes_per_ip_hour: str | None,
                 as_json: bool) -> None:
    """Настройки сообщений организации; без параметров — показать."""
    session = _session()
    tid = tenant_id(tenant_ref)
    body: dict = {}
    for key, value in (("sms_fallback", sms_fallback), ("first_purchase_message", first_purchase_message),
                       ("review_requests", review_requests)):
        if value is not None:
            body[key] = value == "on"
    if sms_part_price is not None:
        body["sms_part_price"] = money_text(sms_part_price)
    if max_attempts is not None:
        body["max_attempts"] = max_attempts
    if codes_per_ip_hour is not None:
        body["code_limit"] = {"per_ip_hour": codes_per_ip_hour}
    if body:
        data = load(NotifySettingsInSchema(partial=True), body,
                    {"sms_part_price": "--sms-part-price", "max_attempts": "--max-attempts",
                     "code_limit.per_ip_hour": "--codes-per-ip-hour"})
        rules.put_settings(session, tid, data)
        session.commit()
    current = rules.get_settings(session, tid)
    if as_json:
        dump_json(NotifySettingsSchema(), current)
        return
    yes = {True: "да", False: "нет"}
    click.echo(f"SMS как запасной канал: {yes[bool(current.get('sms_fallback'))]}")
    click.echo(f"Цена части SMS: {rub(current.get('sms_part_price'))}")
    click.echo(f"Попыток отправки: {current.get('max_attempts')}")
    click.echo(f"Приветствие после первой покупки: {yes[bool(current.get('first_purchase_message'))]}")
    click.echo(f"Просьба об отзыве после покупки: {yes[bool(current.get('review_requests'))]}")
    click.echo(f"Кодов в час с одного адреса: {(current.get('code_limit') or {}).get('per_ip_hour', 20)}")


@channel_group.command("webhook")
@_tenant_option
@click.option("--channel", "name", required=True, type=click.Choice(("telegram", "max")), help="бот")
def channel_webhook(tenant_ref: str, name: str) -> None:
    """Подключить вебхук бота (адрес хаба — PUBLIC_URL) с новым секретом."""
    session = _session()
    tid = tenant_id(tenant_ref)
    row = registry.channel_rows(session, tid).get(name)
    if row is None:
        fail(f"канал «{name}» не настроен: kopilka messages channel set --channel {name} --option token=…")
    registry.rotate_secret(session, row)
    try:
        out = registry.register_webhook(row, _public_url())
    except ChannelError as exc:
        session.rollback()
        fail(f"провайдер не принял вебхук: {exc.reason}")
    session.commit()
    click.echo(f"Вебхук {name} подключён: {out.get('url', '')}")


@cli.command("log")
@_tenant_option
@click.option("--since", default=None, help="с какого момента: ISO 8601, миллисекунды или 2d/6h")
@click.option("--status", default=None, help="состояние: queued, sending, sent, delivered, failed, suppressed")
@click.option("--topic", default=None, help="тема сообщения")
@click.option("--channel", default=None, help="канал: sms, telegram, max, email")
@click.option("--limit", default="50", show_default=True, help="сколько последних сообщений (до 1000)")
@json_option("как GET /api/v1/notify/messages")
def log_cmd(tenant_ref: str, since: str | None, status: str | None, topic: str | None,
            channel: str | None, limit: str, as_json: bool) -> None:
    """Журнал сообщений: время, тема, канал, получатель, статус, стоимость, причина."""
    from sqlalchemy import select

    args = load(MessageQuerySchema(), {k: v for k, v in (("status", status), ("topic", topic),
                                                         ("channel", channel), ("limit", limit)) if v is not None})
    since_at = parse_since(since) if since else None
    session = _session()
    tid = tenant_id(tenant_ref)
    stmt = select(OutboxMessage).where(OutboxMessage.tenant_id == tid)
    for key in ("status", "topic", "channel"):
        if args.get(key):
            stmt = stmt.where(getattr(OutboxMessage, key) == args[key])
    if since_at is not None:
        stmt = stmt.where(OutboxMessage.created_at >= since_at)
    rows = list(session.scalars(stmt.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id)
                                .limit(args["limit"])))
    counts: dict = {}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    cost = sum(r.cost or 0 for r in rows)
    if as_json:
        dump_json(MessageListSchema(), {"items": rows, "totals": {**counts, "cost": kopecks_json(cost)}})
        return
    if not rows:
        click.echo("Сообщений нет.")
        return
    table([[moment(r.created_at), r.topic, r.channel or "—", r.recipient or "—",
            MESSAGE_STATUSES.get(r.status, r.status), rub(r.cost if r.cost is not None else r.expected_cost)
            + ("" if r.cost is not None else " (ожид.)"), (r.reason or "")[:80]] for r in rows],
          ["Создано", "Тема", "Канал", "Получатель", "Статус", "Стоимость", "Причина"])
    by_status = ", ".join(f"{MESSAGE_STATUSES.get(k, k)}: {v}" for k, v in sorted(counts.items()))
    click.echo(f"{plural(len(rows), 'сообщение', 'сообщения', 'сообщений')} ({by_status}); "
               f"стоимость {rub(cost)}.")
