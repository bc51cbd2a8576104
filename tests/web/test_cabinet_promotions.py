"""Promotions, promo codes and gift certificates in the owner's cabinet: forms that save
through hub.services (and show the hub's messages by the field), batches of codes with a
printable page and CSV, certificates issued, listed, blocked; roles, CSRF, tenants sealed."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from hub.clock import frozen
from hub.certificates.models import GiftCertificate
from hub.promotions.models import PromoCode, Promotion
from tests.web.conftest import text, token

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)       # Friday, 12:00 in Moscow


def _form(**over) -> dict:
    data = {"name": "Счастливые часы", "reward": "percent_off", "percent": "15", "amount": "", "multiplier": "",
            "buy": "", "free": "", "priority": "5", "combine": "stack", "level_discount": "1", "bonus_spend": "1",
            "active": "1", "starts_at": "2026-11-01T00:00", "ends_at": "", "time_from": "10:00", "time_to": "12:00",
            "stores": "S1, S2", "segments": "", "groups": "", "products": "", "min_amount": "500",
            "min_quantity": "", "birthday_days": "", "per_customer_limit": ""}
    data.update(over)
    return data


def _post(client, url, data, page="/cabinet/promotions"):
    t = token(client, page)
    weekdays = data.pop("weekdays", [])
    levels = data.pop("levels", [])
    from werkzeug.datastructures import MultiDict
    body = MultiDict({**data, "csrf_token": t})
    for d in weekdays:
        body.add("weekdays", d)
    for lv in levels:
        body.add("levels", lv)
    return client.post(url, data=body)


def _promotions(session, tenant_id):
    return session.scalars(select(Promotion).where(Promotion.tenant_id == tenant_id)).all()


def test_create_promotion_through_the_form(client, session, shop, as_role):
    from hub.staff.models import AuditEntry
    from hub.promotions.operations import active_promotions
    with frozen(NOW):
        as_role("manager")
        page = text(client.get("/cabinet/promotions/new"))
        assert "Новая акция" in page and "Что даёт акция" in page and "N+M: самые дешёвые товары в подарок" in page
        assert "x-show=\"reward === 'free_items'\"" in page            # the mechanic's fields follow the choice
        r = _post(client, "/cabinet/promotions/new", _form(weekdays=["5", "6"], levels=["base"]))
        assert r.status_code == 303, text(r)
        (row,) = _promotions(session, shop["a"])
        promotion_id = row.id
        assert row.name == "Счастливые часы" and row.active is True
        s = row.settings
        assert (s["reward"], s["percent"], s["priority"]) == ("percent_off", "15", 5)
        w = s["when"]
        assert w["weekdays"] == [5, 6] and (w["time_from"], w["time_to"]) == ("10:00", "12:00")
        assert w["starts_at"] == "2026-11-01T00:00:00+03:00" and w["stores"] == ["S1", "S2"]
        assert w["min_amount"] == 50000 and w["levels"] == ["base"] and w["ends_at"] is None
        (engine_promo,) = active_promotions(session, shop["a"])
        assert engine_promo.percent == 15 and engine_promo.when.time_from.hour == 10
        edit = text(client.get(r.headers["Location"]))
        assert "Акция создана." in edit and 'value="2026-11-01T00:00"' in edit and 'value="500"' in edit
        listing = text(client.get("/cabinet/promotions"))
    assert "Действуют" in listing and "Счастливые часы" in listing and "скидка 15%" in listing
    assert "Пт, Сб" in listing and "10:00–12:00" in listing and "чек от 500,00 ₽" in listing
    entry = session.scalars(select(AuditEntry).where(AuditEntry.tenant_id == shop["a"],
                                                     AuditEntry.action == "promotion.create")).one()
    assert entry.object_id == promotion_id and entry.user_email == "manager@zerno.test"


@pytest.mark.parametrize("over, field_message", [
    ({"reward": ""}, "Выберите механику акции."),
    ({"percent": "много"}, "Введите число, например 15 или 7,5."),
    ({"percent": "150"}, "Нужен процент больше 0 и не больше 100."),                     # the hub's rule
    ({"name": ""}, "Укажите название акции."),
    ({"ends_at": "2026-10-01T00:00"}, "Окончание должно быть позже начала."),
    ({"reward": "free_items", "buy": "2", "free": ""}, "Нужно целое число от 1 до 100."),
    ({"reward": "bonus_multiplier", "multiplier": "0"}, "Нужен множитель больше 0 и не больше 100."),
    ({"time_from": "25:99"}, "Нужно время в формате ЧЧ:ММ."),
    ({"min_amount": "пятьсот"}, "Введите сумму, например 1 000 или 999,90."),
    ({"levels": ["platinum"]}, "Нет таких уровней: platinum."),
])
def test_bad_input_shows_the_message_and_writes_nothing(client, session, shop, as_role, over, field_message):
    as_role("owner")
    r = _post(client, "/cabinet/promotions/new", _form(**over))
    assert r.status_code == 422
    page = text(r)
    assert field_message in page and "Акция не сохранена" in page
    assert 'class="err"' in page
    assert _promotions(session, shop["a"]) == []


def test_edit_and_deactivate(client, session, shop, as_role):
    from hub.promotions import operations as service
    promo = service.create_promotion(session, shop["a"], {"name": "2+1 на кофе", "reward": "free_items",
                                                          "buy": 2, "free": 1, "when": {"groups": ["coffee"]}})
    as_role("owner")
    url = f"/cabinet/promotions/{promo['id']}"
    page = text(client.get(url))
    assert 'value="2+1 на кофе"' in page and 'value="coffee"' in page and "Выключить акцию" in page
    r = _post(client, url, _form(name="3+1 на кофе", reward="free_items", buy="3", free="1", percent="",
                                 groups="coffee", starts_at="", time_from="", time_to="", min_amount=""), page=url)
    assert r.status_code == 303, text(r)
    session.expire_all()
    row = session.get(Promotion, promo["id"])
    assert row.name == "3+1 на кофе" and (row.settings["buy"], row.settings["free"]) == (3, 1)
    assert row.settings["when"]["groups"] == ["coffee"]
    r = client.post(f"{url}/active", data={"csrf_token": token(client, url), "active": "0"})
    assert r.status_code == 303
    assert "Акция выключена" in text(client.get(url))
    session.expire_all()
    assert session.get(Promotion, promo["id"]).active is False
    assert service.active_promotions(session, shop["a"]) == ()
    listing = text(client.get("/cabinet/promotions"))
    assert "Завершены и выключены" in listing and "выключена" in listing and "Сейчас ни одна акция не действует." in listing


def test_promo_code_batch_list_print_and_csv(client, session, shop, as_role):
    from hub.promotions import operations as service
    promo = service.create_promotion(session, shop["a"], {"name": "Скидка 10%", "reward": "percent_off", "percent": "10"})
    as_role("manager")
    url = f"/cabinet/promotions/{promo['id']}/codes"
    r = client.post(url, data={"csrf_token": token(client, url), "count": "0", "kind": "single"})
    assert r.status_code == 422 and "Нужно целое число от 1 до 10000." in text(r)
    r = client.post(url, data={"csrf_token": token(client, url), "count": "3", "kind": "single",
                               "valid_from": "2026-12-01", "valid_to": "2026-12-31"})
    assert r.status_code == 303, text(r)
    codes = session.scalars(select(PromoCode).where(PromoCode.tenant_id == shop["a"])).all()
    assert len(codes) == 3 and {c.max_uses for c in codes} == {1} and len({c.batch for c in codes}) == 1
    assert codes[0].valid_to == datetime(2026, 12, 31, 21, 0, tzinfo=timezone.utc)   # through 31 Dec, Moscow
    session.expire_all()
    assert session.get(Promotion, promo["id"]).settings["when"]["requires_code"] is True
    r = client.post(url, data={"csrf_token": token(client, url), "count": "2", "kind": "multi", "max_uses": "",
                               "per_customer_limit": "1"})
    assert r.status_code == 303
    page = text(client.get(url))
    assert "Выпущено кодов: 2." in page and all(c.code in page for c in codes)
    assert "одноразовые" in page and "клиенту — до 1" in page and "по 31 декабря 2026" in page
    batch = codes[0].batch
    printable = text(client.get(f"{url}/print?batch={batch}"))
    assert printable.count("<svg") == 3 and all(c.code in printable for c in codes) and "до 31 декабря 2026" in printable
    dl = client.get(f"{url}.csv" if False else f"/cabinet/promotions/{promo['id']}/codes.csv")
    assert dl.status_code == 200 and "attachment" in dl.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(dl.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert rows[0][0] == "Промокод" and len(rows) == 1 + 5
    assert {r[0] for r in rows[1:]} >= {c.code for c in codes}
    one = list(csv.reader(io.StringIO(client.get(f"/cabinet/promotions/{promo['id']}/codes.csv?batch={batch}")
                                      .get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert len(one) == 4 and one[1][3] == "0" and one[1][4] == "1"


def test_certificates_issue_list_page_and_block(client, session, shop, as_role):
    from hub.errors import DomainError
    from hub.certificates import operations as service
    with frozen(NOW):
        as_role("owner")
        t = token(client, "/cabinet/certificates")
        r = client.post("/cabinet/certificates", data={"csrf_token": t, "nominal": "ноль", "mode": "count", "count": "2"})
        assert r.status_code == 422 and "Введите сумму, например 3 000 или 2 500,50." in text(r)
        r = client.post("/cabinet/certificates", data={"csrf_token": t, "nominal": "3 000", "mode": "count",
                                                       "count": "2", "valid_days": "365"})
        assert r.status_code == 303
        r = client.post("/cabinet/certificates", data={"csrf_token": t, "nominal": "500", "mode": "numbers",
                                                       "numbers": "5550001\n5550002"})
        assert r.status_code == 303
        r = client.post("/cabinet/certificates", data={"csrf_token": t, "nominal": "500", "mode": "numbers",
                                                       "numbers": "5550002"})
        assert r.status_code == 422 and "Сертификат 5550002 уже есть." in text(r)
        r = client.post("/cabinet/certificates", data={"csrf_token": t, "nominal": "500", "mode": "count",
                                                       "count": "5000"})
        assert r.status_code == 422 and "Нужно целое число от 1 до 1000." in text(r)
        certs = session.scalars(select(GiftCertificate).where(GiftCertificate.tenant_id == shop["a"])).all()
        assert sorted(c.nominal for c in certs) == [50000, 50000, 300000, 300000]
        assert {c.valid_days for c in certs if c.nominal == 300000} == {365}
        service.activate(session, shop["a"], "5550001", "sale-1", NOW, NOW)
        service.redeem(session, shop["a"], "5550001", 20000, "pay-1", NOW, NOW)
        listing = text(client.get("/cabinet/certificates"))
        assert "3 000,00 ₽" in listing and "5550002" in listing and "активен" in listing and "не продан" in listing
        only = text(client.get("/cabinet/certificates?status=active"))
        assert "5550001" in only and "5550002" not in only
        found = text(client.get("/cabinet/certificates?number=555000"))
        assert "5550001" in found and "5550002" in found and "3 000,00 ₽" not in found
        cert = next(c for c in certs if c.number == "5550001")
        url = f"/cabinet/certificates/{cert.id}"
        page = text(client.get(url))
        assert "300,00 ₽" in page and "продажа (активация)" in page and "оплата покупки" in page and "−200,00 ₽" in page
        r = client.post(f"{url}/block", data={"csrf_token": token(client, url), "blocked": "1", "reason": " "})
        assert r.status_code == 422 and "Укажите причину блокировки." in text(r)
        session.expire_all()
        assert session.get(GiftCertificate, cert.id).status == "active"
        r = client.post(f"{url}/block", data={"csrf_token": token(client, url), "blocked": "1", "reason": "Потерян"})
        assert r.status_code == 303
        page = text(client.get(url))
        assert "заблокирован" in page and "«Потерян»" in page and "Разблокировать" in page
        session.expire_all()
        assert session.get(GiftCertificate, cert.id).status == "blocked"
        with pytest.raises(DomainError) as refused:
            service.redeem(session, shop["a"], "5550001", 1000, "pay-2", NOW, NOW)
        assert refused.value.message == "Сертификат заблокирован."
        session.rollback()
        other = next(c for c in certs if c.number == "5550002")
        service.block_certificate(session, shop["a"], "5550002", True, "Брак печати", NOW)
        with pytest.raises(DomainError) as refused:
            service.activate(session, shop["a"], "5550002", "sale-2", NOW, NOW)
        assert refused.value.message == "Сертификат заблокирован."
        session.rollback()
        r = client.post(f"{url}/block", data={"csrf_token": token(client, url), "blocked": "0", "reason": ""})
        assert r.status_code == 303
        session.expire_all()
        assert session.get(GiftCertificate, cert.id).status == "active"
        assert session.get(GiftCertificate, other.id).status == "blocked"
        assert service.redeem(session, shop["a"], "5550001", 1000, "pay-3", NOW, NOW)[0]["balance"] == 29000


def test_roles_csrf_and_other_tenants(client, session, shop, as_role):
    from hub.certificates import operations as cert_service
    from hub.promotions import operations as service
    mine = service.create_promotion(session, shop["a"], {"name": "Моя", "reward": "percent_off", "percent": "5"})
    theirs = service.create_promotion(session, shop["b"], {"name": "Чужая", "reward": "percent_off", "percent": "5"})
    service.create_codes(session, shop["b"], theirs["id"], {"count": 1})
    (their_cert,) = cert_service.issue(session, shop["b"], {"nominal": 1000, "count": 1}, NOW)
    as_role("readonly")
    listing = text(client.get("/cabinet/promotions"))
    assert "Моя" in listing and "Чужая" not in listing and "Новая акция" not in listing
    page = text(client.get(f"/cabinet/promotions/{mine['id']}"))
    assert "<fieldset disabled>" in page and "Выключить акцию" not in page and "Сохранить" not in page
    assert 'name="nominal"' not in text(client.get("/cabinet/certificates"))
    assert client.get("/cabinet/promotions/new").status_code == 403
    t = token(client, "/cabinet/promotions")
    assert client.post(f"/cabinet/promotions/{mine['id']}", data={"csrf_token": t, **_form()}).status_code == 403
    assert client.post(f"/cabinet/promotions/{mine['id']}/codes", data={"csrf_token": t, "count": "1"}).status_code == 403
    assert client.post("/cabinet/certificates", data={"csrf_token": t, "nominal": "100", "count": "1"}).status_code == 403
    client.post("/cabinet/logout", data={"csrf_token": t})
    as_role("owner")
    r = client.post("/cabinet/promotions/new", data=_form())
    assert r.status_code == 400 and "Страница устарела" in text(r)
    t = token(client, "/cabinet/promotions")
    for url in (f"/cabinet/promotions/{theirs['id']}", f"/cabinet/promotions/{theirs['id']}/codes",
                f"/cabinet/promotions/{theirs['id']}/codes/print", f"/cabinet/promotions/{theirs['id']}/codes.csv",
                f"/cabinet/certificates/{their_cert['id']}", "/cabinet/promotions/nope"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/cabinet/promotions/{theirs['id']}/active",
                       data={"csrf_token": t, "active": "0"}).status_code == 404
    assert client.post(f"/cabinet/promotions/{theirs['id']}/codes",
                       data={"csrf_token": t, "count": "5", "kind": "single"}).status_code == 404
    assert client.post(f"/cabinet/certificates/{their_cert['id']}/block",
                       data={"csrf_token": t, "blocked": "1", "reason": "x"}).status_code == 404
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(PromoCode).where(PromoCode.tenant_id == shop["b"])) == 1
    assert session.scalars(select(GiftCertificate.status).where(GiftCertificate.id == their_cert["id"])).one() == "issued"
    assert service.get_promotion(session, shop["b"], theirs["id"])["active"] is True
    assert "Чужая" not in text(client.get("/cabinet/certificates"))
