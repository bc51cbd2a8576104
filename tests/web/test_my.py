"""The participant's cabinet: code login, balance/pending/expiry/level, QR and barcode,
history, profile and consents; tenants sealed."""
from __future__ import annotations

from datetime import datetime, timezone

from hub.clock import frozen
from tests.web.conftest import last_code, text, token

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


def _login(client, session, tenant_id, phone="+79161234567"):
    t = token(client, f"/my/{tenant_id}/login")
    r = client.post(f"/my/{tenant_id}/login", data={"csrf_token": t, "phone": phone})
    assert r.status_code == 200 and "Мы отправили код" in text(r), text(r)
    code = last_code(session, tenant_id, phone)
    r = client.post(f"/my/{tenant_id}/login", data={"csrf_token": t, "phone": phone, "code": code})
    assert r.status_code == 303, text(r)
    return token(client, f"/my/{tenant_id}/")


def test_unknown_tenant_and_login_required(client, shop):
    assert client.get("/my/nope/").status_code == 404
    r = client.get(f"/my/{shop['a']}/")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/my/{shop['a']}/login")


def test_code_login_errors(client, session, shop, customer_of):
    customer_of(shop["a"])
    t = token(client, f"/my/{shop['a']}/login")
    r = client.post(f"/my/{shop['a']}/login", data={"csrf_token": t, "phone": "123"})
    assert r.status_code == 422 and "Номер телефона" in text(r)
    r = client.post(f"/my/{shop['a']}/login", data={"csrf_token": t, "phone": "+79160000000"})
    assert r.status_code == 422 and "не участвует в программе" in text(r)
    r = client.post(f"/my/{shop['a']}/login", data={"csrf_token": t, "phone": "8 916 123-45-67"})
    assert r.status_code == 200
    code = last_code(session, shop["a"], "+79161234567")
    bad = "000000" if code != "000000" else "111111"
    r = client.post(f"/my/{shop['a']}/login", data={"csrf_token": t, "phone": "+79161234567", "code": bad})
    assert r.status_code == 422 and "Неверный или просроченный код" in text(r)
    # asking again at once is refused by the per-phone limit
    r = client.post(f"/my/{shop['a']}/login", data={"csrf_token": t, "phone": "+79161234567", "resend": "1", "code": ""})
    assert r.status_code == 422 and "Код уже отправлен" in text(r)
    # the same phone registered at another tenant does not open this one
    r = client.post(f"/my/{shop['b']}/login", data={"csrf_token": t, "phone": "+79161234567"})
    assert "не участвует" in text(r)


def test_home_shows_balance_expiry_level_and_card(client, session, shop, customer_of):
    from hub.customers.bonuses import adjust_bonuses
    from hub.programs.operations import put_program, DEFAULT_SETTINGS
    settings = dict(DEFAULT_SETTINGS)
    settings["levels"] = DEFAULT_SETTINGS["levels"] + [
        {"code": "gold", "name": "Золотой", "threshold": 1000000, "accrual": {"scheme": "percent", "percent": "7"},
         "discount": None, "max_spend_percent": "50", "bonus_lifetime_days": None}]
    put_program(session, shop["a"], settings)
    c = customer_of(shop["a"], card_number="2000111122223")
    cid = c.id
    with frozen(NOW):
        adjust_bonuses(session, shop["a"], cid, amount=12345, kind="gift", reason="День рождения", valid_days=10,
                       moment=NOW, idempotency_key=None, source="cabinet", body={})
        _login(client, session, shop["a"])
        page = text(client.get(f"/my/{shop['a']}/"))
    assert "123,45 Б" in page
    assert "Сгорят 123,45 Б после 30 ноября 2026" in page
    assert "До уровня «Золотой» осталось купить на <strong>10 000,00 ₽" in page
    assert '<div class="qr" id="qr"><svg' in page and '<div class="barcode" id="barcode"><svg' in page
    assert "2000111122223" in page and "Подарок" in page
    # the session opens only this tenant
    assert client.get(f"/my/{shop['b']}/").status_code == 302


def test_profile_and_consent_withdrawal(client, session, shop, customer_of):
    from hub.customers.models import Customer
    c = customer_of(shop["a"], consents={"sms": True, "personal_data": True})
    cid = c.id
    t = _login(client, session, shop["a"])
    page = text(client.get(f"/my/{shop['a']}/profile"))
    assert 'name="consent_sms" checked' in page
    r = client.post(f"/my/{shop['a']}/profile", data={"csrf_token": t, "first_name": "Ира", "email": "bad",
                                                      "consent_personal_data": "on"})
    assert r.status_code == 422 and "в адресе ошибка" in text(r)
    r = client.post(f"/my/{shop['a']}/profile", data={"csrf_token": t, "first_name": "Ира", "email": "ira@x.ru",
                                                      "birth_date": "1990-05-17", "consent_personal_data": "on"})
    assert r.status_code == 303
    row = session.get(Customer, cid, populate_existing=True)
    assert row.first_name == "Ира" and row.consents["sms"]["given"] is False
    assert row.consents["sms"]["source"] == "my_cabinet" and row.consents["personal_data"]["given"] is True
    assert 'name="consent_sms" >' in text(client.get(f"/my/{shop['a']}/profile")) or \
        'name="consent_sms" checked' not in text(client.get(f"/my/{shop['a']}/profile"))


def test_logout(client, session, shop, customer_of):
    customer_of(shop["a"])
    t = _login(client, session, shop["a"])
    assert client.post(f"/my/{shop['a']}/logout", data={"csrf_token": t}).status_code == 303
    assert client.get(f"/my/{shop['a']}/").status_code == 302


def test_a_friend_registers_by_the_invitation_link(client, session, shop, customer_of):
    """The participant's invitation (code, link, QR) → the friend opens the link, confirms the
    phone with a code and the consent, becomes a participant with the inviter recorded and the
    newcomer's gift; a link with an unknown code is 404; no consent, no registration."""
    from sqlalchemy import select
    from hub.automation import settings as auto_settings
    from hub.customers.models import Customer
    from hub.automation.models import Referral
    from hub.customers.operations import summarize
    auto_settings.save(session, shop["a"], {"referral": {
        "enabled": True, "newcomer_gift": {"amount": 20000, "valid_days": 14}, "levels": [{"percent": 10}]}},
        datetime.now(timezone.utc))
    inviter = customer_of(shop["a"]).id
    _login(client, session, shop["a"])
    home = text(client.get(f"/my/{shop['a']}/"))
    assert "Пригласите друга" in home and f"/my/{shop['a']}/join/" in home
    link = home.split(f"/my/{shop['a']}/join/", 1)[1].split('"', 1)[0]
    client.post(f"/my/{shop['a']}/logout", data={"csrf_token": token(client, f"/my/{shop['a']}/")})

    assert client.get(f"/my/{shop['a']}/join/NOSUCHCODE").status_code == 404
    r = client.get(f"/my/{shop['a']}/join/{link}")
    assert r.status_code == 303
    page = client.get(f"/my/{shop['a']}/login")
    assert "Вас пригласил друг" in text(page)
    t = token(client, f"/my/{shop['a']}/login")
    friend = "+79165550101"
    r = client.post(f"/my/{shop['a']}/login", data={"csrf_token": t, "phone": friend})
    assert r.status_code == 422 and "согласие на обработку персональных данных" in text(r)
    r = client.post(f"/my/{shop['a']}/login", data={"csrf_token": t, "phone": friend, "personal_data": "on",
                                                   "sms": "on"})
    assert r.status_code == 200 and "Зарегистрироваться" in text(r)
    code = last_code(session, shop["a"], friend)
    r = client.post(f"/my/{shop['a']}/login", data={"csrf_token": t, "phone": friend, "personal_data": "on",
                                                   "sms": "on", "code": code})
    assert r.status_code == 303, text(r)
    newcomer = session.scalars(select(Customer).where(Customer.tenant_id == shop["a"],
                                                      Customer.phone == friend)).one()
    assert newcomer.consents["personal_data"]["given"] and newcomer.consents["sms"]["given"]
    ref = session.scalars(select(Referral).where(Referral.tenant_id == shop["a"],
                                                 Referral.invitee_id == newcomer.id)).one()
    assert ref.inviter_id == inviter
    assert summarize(session, shop["a"], newcomer, datetime.now(timezone.utc)).balance.available == 20000
    assert "Доступно бонусов" in text(client.get(f"/my/{shop['a']}/"))
