"""Issue 25.4: what a person reads says the same thing everywhere — «Доступно», «Ожидает» and
«Сгорит» defined once; numbers with a decimal comma; the audit log in words and roubles;
«Оцените покупку» without returned purchases or store codes; returns found by phone, card or date."""
from __future__ import annotations

from datetime import timedelta

from hub.clock import frozen
from tests.web.conftest import text
from tests.web.test_cabinet import NOW


def test_sms_numbers_have_a_decimal_comma_even_when_given_as_text():
    from hub.notify.templates import DEFAULTS, render
    # A context stored as JSON or typed in a form brings "5.52", not kopecks.
    assert render(DEFAULTS["sale"], {"bonuses": "5.52", "spent": "0", "balance": "330.50", "shop": "Зерно"}) == \
        "Начислено 5,52 бонуса, списано 0. Баланс: 330,50. Зерно"
    assert render(DEFAULTS["sale"], {"bonuses_kopecks": 552, "spent_kopecks": 0, "balance_kopecks": 33050,
                                     "shop": "Зерно"}) == "Начислено 5,52 бонуса, списано 0. Баланс: 330,50. Зерно"


def _lots(session, tenant_id, customer, now):
    """330,00 available and 76,50 pending, all burning on the same day: the shape that showed
    «Сгорят 406,50 Б» under «Доступно 330,00 Б» and «Баланс 406,50» in the client list."""
    from hub.ledger.accounts import lock_account
    from hub.ledger.postings import accrue
    account = lock_account(session, tenant_id, customer.id)
    burns = now + timedelta(days=30)
    accrue(session, account, 33000, now, active_from=now - timedelta(days=1), expires_at=burns, now=now)
    accrue(session, account, 7650, now, active_from=now + timedelta(days=7), expires_at=burns, now=now)
    session.commit()


def test_available_pending_and_expiry_agree_in_list_card_and_home(client, session, shop, as_role, customer_of):
    from tests.web.test_my import _login
    mine = customer_of(shop["a"], first_name="Анна")
    with frozen(NOW):
        _lots(session, shop["a"], mine, NOW)
        as_role("readonly")
        listing = text(client.get("/cabinet/clients"))
        card = text(client.get(f"/cabinet/clients/{mine.id}"))
    assert "<th class=\"num\">Доступно</th>" in listing and "Баланс</th>" not in listing
    assert "330,00 Б" in listing and "76,50 Б ожидают" in listing and "406,50" not in listing
    assert "330,00 Б" in card and "76,50 Б" in card
    client.post("/cabinet/logout", data={})
    with frozen(NOW):
        _login(client, session, shop["a"])
        home = text(client.get(f"/my/{shop['a']}/"))
    assert 'id="balance">330,00 Б' in home and 'id="pending">76,50 Б' in home
    # «Сгорят» counts only what «Доступно» counts.
    assert "Сгорят 330,00 Б после" in home and "406,50" not in home


def test_expiry_never_exceeds_the_available_bonuses(session, shop, customer_of):
    from hub.ledger.accounts import lock_account
    from hub.ledger.postings import accrue
    from hub.notify.bots import nearest_expiry
    mine = customer_of(shop["a"])
    account = lock_account(session, shop["a"], mine.id)
    accrue(session, account, 7650, NOW, active_from=NOW + timedelta(days=7),
           expires_at=NOW + timedelta(days=10), now=NOW)
    session.commit()
    assert nearest_expiry(session, shop["a"], mine.id, NOW) is None          # pending only: nothing burns yet
    assert nearest_expiry(session, shop["a"], mine.id, NOW + timedelta(days=8))[0] == 7650


def test_rate_a_purchase_offers_no_returned_one_and_names_the_store(client, session, shop, customer_of):
    from hub.clock import utcnow
    from hub.receipts.models import ReceiptReturn
    from hub.tenants.models import Store
    from tests.web.test_my import _login
    from tests.web.test_reviews import _receipt
    c = customer_of(shop["a"])
    kept = _receipt(session, shop["a"], c.id, store="S1")
    unnamed = _receipt(session, shop["a"], c.id, amount=5000, store="S2")
    brought_back = _receipt(session, shop["a"], c.id, amount=77700, store="S1")
    session.add(Store(tenant_id=shop["a"], code="S1", name="Кофейня на Ленина"))
    # S2 as the hub remembers a store from a till's first receipt: named by its own code.
    session.add(Store(tenant_id=shop["a"], code="S2", name="S2"))
    session.add(ReceiptReturn(tenant_id=shop["a"], source="test", external_id="R1", receipt_id=brought_back,
                              moment=utcnow(), quantities={"1": "1"}, amount=77700, amount_returned=77700,
                              bonus_spent_restored=0, bonus_earned_reversed=0))
    session.commit()
    _login(client, session, shop["a"])
    home = text(client.get(f"/my/{shop['a']}/"))
    assert f"/review/{kept}" in home and f"/review/{unnamed}" in home
    assert f"/review/{brought_back}" not in home and "777,00" not in home.split('id="rate"')[1].split("</section>")[0]
    assert "Кофейня на Ленина" in home and ">S1<" not in home and "S2<" not in home
    form = text(client.get(f"/my/{shop['a']}/review/{kept}"))
    assert "Кофейня на Ленина" in form and ", S1." not in form
    assert ", S2." not in text(client.get(f"/my/{shop['a']}/review/{unnamed}"))


def test_the_audit_log_reads_in_words_and_roubles(client, session, shop, as_role):
    from hub.clock import utcnow
    from hub.staff.models import AuditEntry
    entries = [("sale.commit", "receipt", "W-1", {"amount": 123456, "bonus_spent": 5050, "promo_codes": [],
                                                  "certificate": None}),
               ("bonuses.manual", "customer", "c1", {"amount": 15000, "reason": "Компенсация", "valid_days": None}),
               ("certificate.sell", "certificate", "C-1", {"nominal": 300000}),
               ("user.create", "user", "u1", {"email": "new@zerno.test", "role": "manager"}),
               ("automation.triggers", "automation", None, {"gifts": [{"event": "birthday"}], "activation": True})]
    for action, kind, oid, details in entries:
        session.add(AuditEntry(tenant_id=shop["a"], user_email="owner@zerno.test", action=action,
                               object_type=kind, object_id=oid, details=details, created_at=utcnow()))
    session.commit()
    as_role("manager")
    log = text(client.get("/cabinet/audit"))
    body = log.split("<tbody>")[1]
    assert "сумма: 1 234,56 ₽" in body and "списано бонусов: 50,50 бонуса" in body
    assert "сумма: 150 бонусов" in body and "причина: Компенсация" in body
    assert "номинал: 3 000,00 ₽" in body and "роль: менеджер" in body
    assert "изменены подарки и уведомления" in body and "продан сертификат (касса)" in body
    for raw in ("123456", "15000", "300000", "{", "receipt", "certificate", "automation", "manager<", "birthday"):
        assert raw not in body, raw
    assert ">чек<" in body and ">сертификат<" in body


def test_the_cashier_finds_returns_by_phone_card_or_date(client, session, shop, as_role, customer_of):
    from datetime import datetime, timezone

    from hub.receipts.models import Receipt
    from tests.web.test_cashier import _start
    anna = customer_of(shop["a"], "+79161112233", card_number="2000300040")
    other = customer_of(shop["a"], "+79165556677")

    def receipt(number, customer, moment, source="web_cashier"):
        session.add(Receipt(tenant_id=shop["a"], source=source, external_id=number, customer_id=customer.id,
                            moment=moment, amount=10000, amount_to_pay=10000, response={},
                            lines=[{"id": "1", "name": "Кофе", "price": 10000, "quantity": "1", "amount": 10000}]))
    # 4 December 23:30 in Moscow is 20:30 UTC; 5 December 00:30 in Moscow is 21:30 UTC of the 4th.
    receipt("W-ANNA1", anna, datetime(2026, 12, 4, 20, 30, tzinfo=timezone.utc))
    receipt("W-ANNA2", anna, datetime(2026, 12, 4, 21, 30, tzinfo=timezone.utc))
    receipt("W-OTHER", other, datetime(2026, 12, 4, 21, 45, tzinfo=timezone.utc))
    receipt("EVO-1", anna, datetime(2026, 12, 4, 22, 0, tzinfo=timezone.utc), source="evotor")
    session.commit()
    _start(client, as_role)
    by_phone = text(client.get("/cashier/returns?number=8 916 111-22-33"))
    assert "W-ANNA1" in by_phone and "W-ANNA2" in by_phone and "W-OTHER" not in by_phone and "EVO-1" not in by_phone
    by_card = text(client.get("/cashier/returns?number=2000300040"))
    assert "W-ANNA1" in by_card and "W-ANNA2" in by_card and "W-OTHER" not in by_card
    by_day = text(client.get("/cashier/returns?number=05.12.2026"))
    assert "W-ANNA2" in by_day and "W-OTHER" in by_day and "W-ANNA1" not in by_day and "EVO-1" not in by_day
    assert "W-ANNA1" in text(client.get("/cashier/returns?number=2026-12-04"))
    missing = client.get("/cashier/returns?number=31.02.2026")
    assert missing.status_code == 404 and "не найдены" in text(missing)
    # a number still opens the receipt itself
    assert "Оформить возврат" in text(client.get("/cashier/returns?number=w-anna1"))
