"""`kopilka messages …` and `kopilka mechanics …` (issue 10, "API and CLI") on a fresh SQLite
file and on the run's PostgreSQL: the hub's validation refuses with one Russian line, exit 1 and
nothing written; credentials are never printed."""
from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy import select

from hub.cli.main import main
from hub.clock import utcnow
from hub.extensions import db
from hub.automation.models import AutomationSettings, Mailing, Segment, WinbackChain
from hub.money import MONEY_MESSAGES
from hub.notify.models import NotifyChannel, NotifySettings, NotifyTemplate, OutboxMessage
from hub.staff.models import AuditEntry
from tests.automation.test_api import SEGMENT_WORDS


class Kopilka:
    """Runs `kopilka …` against one database; each call gets a fresh session, as a process would."""

    def __init__(self, env: dict):
        self.env = env
        self.tenant = ""

    def __call__(self, *args, input=None, env=None):
        result = CliRunner().invoke(main, [str(a) for a in args], env={**self.env, **(env or {})}, input=input)
        db.session.remove()
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    def t(self, *args, **kw):
        """A command of this test's tenant."""
        return self(*args, "--tenant", self.tenant, **kw)

    def rows(self, model, *where):
        out = db.session.scalars(select(model).where(model.tenant_id == self.tenant, *where)).all()
        db.session.remove()
        return out


@pytest.fixture(params=["sqlite", "postgres"])
def kp(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'k.sqlite3'}"
    else:
        url = request.getfixturevalue("pg_engine").url.render_as_string(hide_password=False)
    run = Kopilka({"DATABASE_URL": url, "KOPILKA_ENCRYPTION_KEY": Fernet.generate_key().decode(),
                   "KOPILKA_PUBLIC_URL": "https://hub.example.ru"})
    try:
        if request.param == "sqlite":
            assert run("db", "upgrade").exit_code == 0
        out = run("tenant", "create", "--name", f"Кофейня {uuid.uuid4().hex[:6]}", "--json")
        run.tenant = json.loads(out.output)["tenant_id"]
        yield run
    finally:
        db.session.remove()


def refused(result, text: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Ошибка: ") and text in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


BIRTHDAY = ("{name}, с днём рождения! Дарим {bonuses} бонусов до {date}, ждём вас в {shop} — "
            "приходите с друзьями и близкими")


def test_templates_edit_preview_reset_and_topics(kp):
    listed = kp.t("messages", "templates")
    assert listed.exit_code == 0, listed.output
    assert "13 тем, изменено: 0, выключено: 0. Часть SMS: 2,50 ₽." in listed.output
    assert "birthday" in listed.output and "по умолчанию" in listed.output

    bad = kp.t("messages", "template", "set", "--topic", "birthday", "--text", "{name}, с ДР! {bonusez}")
    refused(bad, "Неизвестные подстановки: {bonusez}.")
    assert kp.rows(NotifyTemplate) == []
    refused(kp.t("messages", "template", "set", "--topic", "birthday", "--text", "x" * 2001), "--text: Длина")
    assert kp.rows(NotifyTemplate) == []

    ok = kp.t("messages", "template", "set", "--topic", "birthday", "--file", "-", input=BIRTHDAY + "\n")
    assert ok.exit_code == 0, ok.output
    assert "Шаблон «Поздравление с днём рождения» сохранён." in ok.output
    # 108 Cyrillic characters: two UCS-2 parts of 67 at 2,50 ₽ each.
    assert "Пример: Анна, с днём рождения! Дарим 150 бонусов до 31.12.2026" in ok.output
    assert "Длина: 2 части SMS, 108 симв., ≈ 5,00 ₽" in ok.output
    [row] = kp.rows(NotifyTemplate)
    assert (row.topic, row.channel, row.text, row.enabled) == ("birthday", "*", BIRTHDAY, True)
    assert "изменено: 1" in kp.t("messages", "templates").output

    shown = kp.t("messages", "template", "show", "--topic", "birthday", "--json")
    assert json.loads(shown.output)["customized"] is True and json.loads(shown.output)["sms"]["expected_cost"] == 5

    preview = kp.t("messages", "preview", "--topic", "code", "--text", "Код {code} {oops}")
    assert preview.exit_code == 0 and "Пример: Код 123456 {oops}" in preview.output
    assert "Неизвестные подстановки: {oops}" in preview.output
    assert len(kp.rows(NotifyTemplate)) == 1, "a preview writes nothing"

    assert kp.t("messages", "topic", "off", "--topic", "review_request").exit_code == 0
    off = kp.rows(NotifyTemplate, NotifyTemplate.topic == "review_request")
    assert [r.enabled for r in off] == [False]
    assert "выключено: 1" in kp.t("messages", "templates").output
    refused(kp.t("messages", "topic", "off", "--topic", "nope"), "Неизвестная тема сообщения «nope».")

    reset = kp.t("messages", "template", "reset", "--topic", "birthday")
    assert reset.exit_code == 0 and "восстановлен текст по умолчанию" in reset.output
    assert [r.text for r in kp.rows(NotifyTemplate, NotifyTemplate.topic == "birthday")] == [None]


def test_channels_keep_credentials_secret(kp, monkeypatch):
    from hub.notify.registry import decrypt
    monkeypatch.setenv("KOPILKA_ENCRYPTION_KEY", kp.env["KOPILKA_ENCRYPTION_KEY"])
    assert "Каналы не настроены" in kp.t("messages", "channels").output
    refused(kp.t("messages", "channel", "set", "--channel", "sms", "--option", "sender=Kofe"),
            "укажите провайдера канала sms")
    refused(kp.t("messages", "channel", "set", "--channel", "pigeon"), "неизвестный канал «pigeon»")
    refused(kp.t("messages", "channel", "set", "--channel", "smsru", "--option", "sender"), "ключ=значение")
    assert kp.rows(NotifyChannel) == []

    sms = kp.t("messages", "channel", "set", "--channel", "smsru", "--option", "sender=Kofe",
               env={"KOPILKA_SMSRU_API_ID": "api-id-SECRET-1"})
    assert sms.exit_code == 0, sms.output
    assert "api-id-SECRET-1" not in sms.output
    assert "Канал sms (smsru) сохранён, включён. Учётные данные заданы: api_id" in sms.output
    assert "https://hub.example.ru/notify/sms/" in sms.output

    bot = kp.t("messages", "channel", "set", "--channel", "telegram", input="bot-token-SECRET-2\n")
    assert bot.exit_code == 0, bot.output
    assert "bot-token-SECRET-2" not in bot.output, "the prompt hides the input"
    assert "Секрет вебхука (показывается один раз): " in bot.output

    rows = {r.channel: r for r in kp.rows(NotifyChannel)}
    assert rows["sms"].settings == {"sender": "Kofe"} and rows["sms"].enabled
    assert decrypt(rows["sms"].credentials)["api_id"] == "api-id-SECRET-1"
    assert decrypt(rows["telegram"].credentials)["token"] == "bot-token-SECRET-2"
    assert "SECRET" not in rows["sms"].credentials

    listed = kp.t("messages", "channels")
    assert "SECRET" not in listed.output and "sender=Kofe" in listed.output
    assert "Тихие часы: 21:00–09:00" in listed.output
    listed_json = json.loads(kp.t("messages", "channels", "--json").output)
    assert [i["channel"] for i in listed_json["items"]] == ["telegram", "sms"]
    assert "SECRET" not in json.dumps(listed_json) and listed_json["items"][1]["webhook_url"].endswith("?secret=…")

    assert kp.t("messages", "channel", "off", "--channel", "sms").output.startswith("Канал sms (smsru) выключен.")
    [sms_row] = kp.rows(NotifyChannel, NotifyChannel.channel == "sms")
    assert sms_row.enabled is False and decrypt(sms_row.credentials)["api_id"] == "api-id-SECRET-1"
    refused(kp.t("messages", "channel", "off", "--channel", "email"), "канал «email» не настроен")


def test_quiet_hours_and_the_message_log(kp):
    refused(kp.t("messages", "quiet-hours", "--from", "25:00", "--to", "08:00"), "Время «25:00»")
    refused(kp.t("messages", "quiet-hours", "--from", "22:00", "--to", "8"), "--to: Неверный формат.")
    assert kp.rows(NotifySettings) == []
    ok = kp.t("messages", "quiet-hours", "--from", "22:00", "--to", "08:00")
    assert ok.exit_code == 0 and "Тихие часы: 22:00–08:00 (Europe/Moscow)." in ok.output
    assert kp.rows(NotifySettings)[0].settings["quiet_hours"] == {"start": "22:00", "end": "08:00"}

    now = utcnow()
    db.session.add_all([
        OutboxMessage(tenant_id=kp.tenant, topic="sale", channel="sms", recipient="+79160000001", text="a",
                      dedupe_key="k1", status="delivered", cost=500, parts=2, created_at=now - timedelta(hours=1)),
        OutboxMessage(tenant_id=kp.tenant, topic="birthday", channel="sms", recipient="+79160000002", text="b",
                      dedupe_key="k2", status="failed", reason="smsru: 207 нет маршрута", expected_cost=250,
                      created_at=now - timedelta(hours=2)),
        OutboxMessage(tenant_id=kp.tenant, topic="sale", channel="telegram", recipient="42", text="c",
                      dedupe_key="k3", status="sent", cost=0, created_at=now - timedelta(days=5))])
    db.session.commit()
    db.session.remove()

    log = kp.t("messages", "log", "--since", "2d")
    assert log.exit_code == 0, log.output
    assert "2 сообщения (доставлено: 1, не доставлено: 1); стоимость 5,00 ₽." in log.output
    assert "smsru: 207 нет маршрута" in log.output and "2,50 ₽ (ожид.)" in log.output
    failed = kp.t("messages", "log", "--status", "failed", "--json")
    items = json.loads(failed.output)["items"]
    assert [(i["topic"], i["reason"]) for i in items] == [("birthday", "smsru: 207 нет маршрута")]
    assert "3 сообщения" in kp.t("messages", "log", "--limit", "50").output
    refused(kp.t("messages", "log", "--status", "lost"), "--status: Допустимые значения")
    refused(kp.t("messages", "log", "--limit", "0"), "--limit:")
    assert kp.t("messages", "log", "--since", "вчера").exit_code == 2


def _settings(kp) -> dict:
    rows = kp.rows(AutomationSettings)
    return rows[0].settings if rows else {}


def test_triggers_warnings_and_referrals(kp):
    # Seed 003: 500 bonuses 7 days before the birthday, valid 15 days.
    out = kp.t("mechanics", "triggers", "set", "--event", "birthday", "--amount", "500", "--valid-days", "15",
               "--days-before", "7")
    assert out.exit_code == 0, out.output
    assert "«день рождения»" in out.output and "500 бонусов на 15 дней, за 7 дней до даты — включён." in out.output
    [gift] = _settings(kp)["gifts"]
    assert (gift["event"], gift["amount"], gift["valid_days"], gift["days_before"]) == ("birthday", 50000, 15, 7)

    before = _settings(kp)
    refused(kp.t("mechanics", "triggers", "set", "--event", "birthday", "--amount", "500", "--valid-days", "5000"),
            "--valid-days: Должно быть не меньше 0 и не больше 3650.")
    refused(kp.t("mechanics", "triggers", "set", "--event", "registration", "--amount", "100", "--valid-days", "30",
                 "--level", "platinum"), "Нет уровней platinum в программе.")
    refused(kp.t("mechanics", "triggers", "set", "--event", "first_purchase", "--amount", "1,005",
                 "--valid-days", "3"), "--amount: Не больше двух знаков")
    assert _settings(kp) == before, "nothing written"

    again = kp.t("mechanics", "triggers", "set", "--event", "birthday", "--amount", "300", "--valid-days", "10")
    assert again.exit_code == 0
    [gift2] = _settings(kp)["gifts"]
    assert (gift2["id"], gift2["amount"], gift2["days_before"]) == (gift["id"], 30000, 7), "the same rule edited"
    assert kp.t("mechanics", "triggers", "set", "--event", "relative_birthday", "--amount", "200",
                "--valid-days", "7").exit_code == 0
    warn = kp.t("mechanics", "triggers", "warnings", "--expiry-days", "5", "--activation")
    assert "за 5 дней; уведомление об активации: включено." in warn.output
    shown = kp.t("mechanics", "triggers", "show")
    assert "день рождения родственника" in shown.output and "300 бонусов на 10 дней" in shown.output
    removed = kp.t("mechanics", "triggers", "remove", "--event", "relative_birthday")
    assert "Удалено: 1 правило." in removed.output
    s = _settings(kp)
    assert [g["event"] for g in s["gifts"]] == ["birthday"]
    assert s["expiry_warning"]["enabled"] and s["expiry_warning"]["days_before"] == 5 and s["activation"]["enabled"]

    ref = kp.t("mechanics", "referrals", "set", "--on", "--newcomer-gift", "100", "--newcomer-valid-days", "30",
               "--mode", "every", "--level", "5", "--level", "2,5%", "--level", "50₽")
    assert ref.exit_code == 0, ref.output
    assert "Уровни: 1-й — 5\u00a0%, 2-й — 2,5\u00a0%, 3-й — 50,00 ₽" in ref.output   # a decimal comma
    r = _settings(kp)["referral"]
    assert r["enabled"] and r["mode"] == "every" and r["newcomer_gift"]["amount"] == 10000
    assert r["levels"] == [{"percent": "5"}, {"percent": "2.5"}, {"amount": 5000}]
    before = _settings(kp)
    refused(kp.t("mechanics", "referrals", "set", "--level", "150"), "процент от 0 до 100")
    assert _settings(kp) == before
    assert json.loads(kp.t("mechanics", "referrals", "show", "--json").output)["levels"][2] == {"amount": 50}


def test_segments_chains_and_mailings(kp):
    from hub.customers.operations import register_customer
    now = utcnow()
    for i, consents in enumerate(({"sms": True}, {"sms": True}, {"messengers": True}, {})):
        register_customer(db.session, kp.tenant, {"phone": f"+7916000100{i}", "gender": "female",
                                                  "consents": consents}, source="test", moment=now)
    db.session.commit()
    db.session.remove()

    refused(kp.t("mechanics", "segment", "add", "--name", "X", "--gender", "x"), "Пол: male или female.")
    refused(kp.t("mechanics", "segment", "add", "--name", "X", "--age-min", "abc"), "--age-min: Должно быть целое")
    refused(kp.t("mechanics", "segment", "add", "--name", "X", "--rfm", "dozing,bogus"), "Нет сегментов bogus.")
    assert kp.rows(Segment) == []
    added = kp.t("mechanics", "segment", "add", "--name", "Девушки", "--gender", "female", "--total-max", "10 000")
    assert added.exit_code == 0 and "4 клиента сейчас" in added.output
    [seg] = kp.rows(Segment)
    assert seg.filters == {"gender": "female", "total_max": 1000000}
    assert "Девушки" in kp.t("mechanics", "segment", "list").output

    # Seed 001: 66 days -> 100 bonuses for 7 days, then 180 days.
    refused(kp.t("mechanics", "chains", "add", "--step", "66:100"), "Шаг 1: для подарка укажите срок действия.")
    refused(kp.t("mechanics", "chains", "add", "--step", "66", "--step", "30"), "Шаг 2: дни должны расти")
    refused(kp.t("mechanics", "chains", "add", "--step", "66:100:7", "--segment", "nope"), "Сегмент не найден.")
    assert kp.rows(WinbackChain) == []
    chain = kp.t("mechanics", "chains", "add", "--step", "66:100:7", "--step", "180:200:14", "--segment", seg.id)
    assert chain.exit_code == 0, chain.output
    [row] = kp.rows(WinbackChain)
    assert row.steps[0] == {"days": 66, "amount": 10000, "valid_days": 7, "delay_days": 0, "text": None}
    assert row.audience == {"segment_id": seg.id}
    assert "66 дн. → 100 бонусов на 7 дней; 180 дн. → 200 бонусов на 14 дней" in kp.t("mechanics", "chains",
                                                                                      "list").output
    assert kp.t("mechanics", "chains", "remove", "--id", row.id).output.startswith("Цепочка «Реанимация» удалена.")
    assert kp.rows(WinbackChain) == []
    refused(kp.t("mechanics", "chains", "remove", "--id", row.id), "Цепочка не найдена.")

    # Two SMS recipients x 1 part x 2,50 ₽; the messenger one is free; one has no consent.
    est = kp.t("mechanics", "mailings", "estimate", "--text", "Скидки всю неделю!", "--segment", seg.id)
    assert est.exit_code == 0, est.output
    assert "Аудитория: 4 клиента, получат: 3 (мессенджер 1, SMS 2, email 0; без согласия 1)." in est.output
    assert "≈ 5,00 ₽" in est.output
    assert kp.rows(Mailing) == []
    refused(kp.t("mechanics", "mailings", "create", "--text", "x", "--gift", "100"), "--gift-valid-days: Обязательное")
    created = kp.t("mechanics", "mailings", "create", "--name", "Весна", "--text", "{name}, весна!", "--gift", "100",
                   "--gift-valid-days", "7")
    assert created.exit_code == 0, created.output
    [mailing] = kp.rows(Mailing)
    assert (mailing.status, mailing.recipients, mailing.gift["amount"]) == ("draft", 3, 10000)
    assert "Весна" in kp.t("mechanics", "mailings", "list").output
    declined = kp.t("mechanics", "mailings", "send", "--id", mailing.id, input="n\n")
    assert "Рассылка не запущена." in declined.output and kp.rows(Mailing)[0].status == "draft"
    sent = kp.t("mechanics", "mailings", "send", "--id", mailing.id, "--yes")
    assert sent.exit_code == 0 and "в очереди 3 сообщения" in sent.output
    assert kp.rows(Mailing)[0].status == "sent"
    again = kp.t("mechanics", "mailings", "send", "--id", mailing.id, "--yes")
    assert "в очереди 0 сообщений" in again.output, "each customer at most once"
    refused(kp.t("mechanics", "mailings", "send", "--id", str(uuid.uuid4()), "--yes"), "Рассылка не найдена.")

    assert kp.t("mechanics", "segment", "remove", "--id", seg.id).exit_code == 0
    assert kp.rows(Segment) == []

    seg_out = kp.t("mechanics", "segments", "--interval-days", "30", "--core-purchases", "5")
    assert "Интервал T: 30 дней; «Активное ядро» — от 5 покупок." in seg_out.output
    assert _settings(kp)["segments"] == {"interval_days": 30, "core_purchases": 5}
    refused(kp.t("mechanics", "segments", "--core-purchases", "1"), "--core-purchases:")


def test_other_tenants_things_are_not_found(kp):
    other = json.loads(kp("tenant", "create", "--name", f"Чужой {uuid.uuid4().hex[:6]}", "--json").output)
    kp.t("mechanics", "segment", "add", "--name", "Мой")
    [seg] = kp.rows(Segment)
    refused(kp("mechanics", "segment", "remove", "--id", seg.id, "--tenant", other["tenant_id"]),
            "Сегмент не найден.")
    assert len(kp.rows(Segment)) == 1
    refused(kp("messages", "templates", "--tenant", "нет такой организации"), "не найдена")


def test_settings_and_the_bots_webhook(kp):
    import responses as rsps_lib
    out = kp.t("messages", "settings", "--sms-fallback", "on", "--sms-part-price", "3,50",
               "--review-requests", "on", "--codes-per-ip-hour", "40")
    assert out.exit_code == 0, out.output
    assert "SMS как запасной канал: да" in out.output and "3,50 ₽" in out.output
    assert "Просьба об отзыве после покупки: да" in out.output and "с одного адреса: 40" in out.output
    shown = json.loads(kp.t("messages", "settings", "--json").output)
    assert shown["sms_fallback"] is True and shown["sms_part_price"] == 3.5
    assert shown["code_limit"]["per_ip_hour"] == 40
    bad = kp.t("messages", "settings", "--max-attempts", "500")
    assert bad.exit_code == 1 and "--max-attempts" in bad.output
    assert json.loads(kp.t("messages", "settings", "--json").output) == shown      # nothing written

    missing = kp.t("messages", "channel", "webhook", "--channel", "telegram")
    assert missing.exit_code == 1 and "не настроен" in missing.output
    assert kp.t("messages", "channel", "set", "--channel", "telegram", "--option", "token=123:ABC").exit_code == 0
    with rsps_lib.RequestsMock() as rsps:
        rsps.post("https://api.telegram.org/bot123:ABC/setWebhook", json={"ok": True, "result": True})
        out = kp.t("messages", "channel", "webhook", "--channel", "telegram")
        assert out.exit_code == 0, out.output
        sent = json.loads(rsps.calls[0].request.body)
    assert sent["url"].startswith("https://hub.example.ru/notify/telegram/") and len(sent["secret_token"]) > 20
    assert sent["url"] in out.output and "123:ABC" not in out.output


def test_a_segment_added_from_the_cli_is_audited_in_the_words_of_every_face(kp):
    refused(kp.t("mechanics", "segment", "add", "--name", "   "), "Назовите сегмент.")
    refused(kp.t("mechanics", "segment", "add", "--name", "x" * 201), "Название сегмента — не длиннее 200 символов.")
    refused(kp.t("mechanics", "segment", "add", "--name", "X", "--total-min", "100 000 000 000,01"),
            MONEY_MESSAGES["large"])
    assert kp.rows(Segment) == [] and kp.rows(AuditEntry) == []
    added = kp.t("mechanics", "segment", "add", "--name", "Женщины с бонусами", "--gender", "female",
                 "--balance-min", "1 000")
    assert added.exit_code == 0, added.output
    [seg] = kp.rows(Segment)
    [entry] = kp.rows(AuditEntry)
    assert entry.action == "segment.create" and entry.object_id == seg.id
    assert entry.details["text"] == SEGMENT_WORDS and entry.user_email == "командная строка (kopilka)"
