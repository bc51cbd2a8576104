"""The owner's clients list with filters (the custom segments' filter language), «Сохранить
как сегмент», and the client card: profile edit through the API's PATCH service, a gift with
its validity, block/unblock with a reason, the messages sent; everything audited."""
from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from hub.clock import frozen
from hub.customers.models import Customer
from hub.automation.models import CustomerSegment, Segment
from hub.ledger.models import Account, Lot
from hub.staff.models import AuditEntry
from hub.money import MONEY_MESSAGES
from tests.automation.test_api import SEGMENT_WORDS
from tests.web.conftest import text, token

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def base(session, shop, customer_of):
    """Five clients of tenant A, each standing out on one or more filters; one of tenant B."""
    def make(phone, name, **stats):
        c = customer_of(shop["a"], phone, last_name=name)
        balance = stats.pop("balance", 0)
        segment = stats.pop("segment", None)
        for k, v in stats.items():
            setattr(c, k, v)
        session.execute(Account.__table__.update().where(Account.customer_id == c.id).values(balance=balance))
        if segment:
            session.add(CustomerSegment(tenant_id=shop["a"], customer_id=c.id, segment=segment,
                                        valuable=False, computed_at=NOW))
        session.commit()
        return c
    people = {
        "Анина": make("+79160000001", "Анина", gender="female", birth_date=date(2000, 11, 25), tags=["vip"],
                      level_code="gold", total_purchases=5_000_000, purchase_count=9, balance=150_000,
                      last_purchase_at=NOW - timedelta(days=3), created_at=datetime(2025, 1, 10, tzinfo=timezone.utc),
                      segment="core"),
        "Борисов": make("+79160000002", "Борисов", gender="male", birth_date=date(1970, 3, 1), tags=["опт"],
                        level_code="base", total_purchases=100_000, purchase_count=1, balance=0,
                        last_purchase_at=NOW - timedelta(days=200), created_at=datetime(2026, 6, 1, tzinfo=timezone.utc),
                        segment="sleeping"),
        "Венина": make("+79160000003", "Венина", gender="female", birth_date=date(1990, 6, 15), tags=[],
                       level_code="base", total_purchases=0, purchase_count=0, balance=2_000,
                       created_at=datetime(2026, 11, 1, tzinfo=timezone.utc), segment="no_purchases"),
    }
    customer_of(shop["b"], "+79160000001", last_name="Чужая", gender="female", tags=["vip"])
    return people


def names(page: str) -> set[str]:
    return set(re.findall(r'/cabinet/clients/[0-9a-f-]{36}">([^<]+)</a>', page)) & {"Анина", "Борисов", "Венина", "Чужая"}


@pytest.mark.parametrize("query, expected", [
    ("", {"Анина", "Борисов", "Венина"}),
    ("level=gold", {"Анина"}),
    ("segment=rfm:sleeping", {"Борисов"}),
    ("tags=опт, vip", {"Анина", "Борисов"}),
    ("gender=female", {"Анина", "Венина"}),
    ("age_min=30&age_max=40", {"Венина"}),
    ("birthday_days=7", {"Анина"}),
    ("joined_from=2026-06-01&joined_to=2026-06-01", {"Борисов"}),
    ("joined_from=2026-01-01", {"Борисов", "Венина"}),
    ("last_days_min=100", {"Борисов"}),
    ("last_days_max=10", {"Анина"}),
    ("total_min=1 000&total_max=10 000", {"Борисов"}),
    ("balance_min=10,50&balance_max=1000", {"Венина"}),
    ("gender=female&balance_min=1000", {"Анина"}),
    ("q=бор", {"Борисов"}),
    ("q=Венина&gender=male", set()),
])
def test_each_filter_selects_its_clients(client, shop, as_role, base, query, expected):
    as_role("readonly")
    with frozen(NOW):
        r = client.get(f"/cabinet/clients?{query}")
    assert r.status_code == 200, text(r)[-2000:]
    assert names(text(r)) == expected


@pytest.mark.parametrize("query, field, message", [
    ("age_min=abc", "age_min", "Целое число от 0 до 150"),
    ("birthday_days=400", "birthday_days", "Целое число от 0 до 366"),
    ("joined_from=2026-13-01", "joined_from", "Дата в формате ГГГГ-ММ-ДД"),
    ("total_min=сто", "total_min", "Введите сумму"),
    ("balance_min=10&balance_max=5", "balance_max", "«от» больше, чем «до»"),
    ("gender=other", "gender", "Пол: male или female"),
    ("segment=rfm:nope", "segment", "Нет сегментов nope"),
    ("segment=seg:" + "0" * 36, "segment", "Сегмент не найден"),
    ("segment=whatever", "segment", "Выберите сегмент из списка"),
])
def test_bad_filters_are_422_with_the_message_at_the_field(client, shop, as_role, base, query, field, message):
    as_role("owner")
    r = client.get(f"/cabinet/clients?{query}")
    assert r.status_code == 422
    page = text(r)
    assert message in page and not names(page)
    assert re.search(rf'name="{field}"[^>]*>.*?<span class="err">{re.escape(message)}', page, re.S) or \
        re.search(rf'<legend class="label">[^<]*</legend>.*?name="{field}".*?<span class="err">[^<]*{re.escape(message)}', page, re.S)


def test_filters_keep_keyset_pages(client, session, shop, as_role, customer_of):
    from hub.web import cabinet
    for i in range(cabinet.PAGE + 5):
        customer_of(shop["a"], f"+7916100{i:04d}", last_name=f"Ж{i}", gender="female")
    for i in range(20):
        customer_of(shop["a"], f"+7916200{i:04d}", last_name=f"М{i}", gender="male")
    as_role("manager")
    first = text(client.get("/cabinet/clients?gender=female"))
    assert len(re.findall(r'">Ж\d+</a>', first)) == cabinet.PAGE and not re.search(r'">М\d+</a>', first)
    nxt = re.search(r'href="(/cabinet/clients\?[^"]*after=[^"]+)"', first).group(1).replace("&amp;", "&")
    assert "gender=female" in nxt
    second = text(client.get(nxt, headers={"HX-Request": "true"}))
    shown = re.findall(r'">(Ж\d+|М\d+)</a>', second)
    assert len(shown) == 5 and all(n.startswith("Ж") for n in shown)
    all_shown = set(re.findall(r'">(Ж\d+)</a>', first)) | set(shown)
    assert len(all_shown) == cabinet.PAGE + 5


def test_save_the_filters_as_a_segment(client, session, shop, as_role, base):
    from hub.automation.segments import count_members
    t = as_role("manager") and token(client, "/cabinet/clients?gender=female")
    form = {"csrf_token": t, "gender": "female", "balance_min": "1000", "segment_name": "Женщины с бонусами"}
    r = client.post("/cabinet/clients/segments", data=form)
    assert r.status_code == 303
    seg = session.scalars(select(Segment).where(Segment.tenant_id == shop["a"])).one()
    assert seg.name == "Женщины с бонусами" and seg.filters == {"gender": "female", "balance_min": 100_000}
    seg_id, filters = seg.id, seg.filters
    assert count_members(session, shop["a"], filters, NOW, "Europe/Moscow") == 1
    entry = session.scalars(select(AuditEntry).where(AuditEntry.tenant_id == shop["a"],
                                                     AuditEntry.action == "segment.create")).one()
    assert entry.object_id == seg_id and entry.details["filters"]["gender"] == "female"
    # it is in the dropdown, and choosing it lists the same clients
    page = text(client.get(r.headers["Location"]))
    assert f'value="seg:{seg_id}" selected' in page and "Женщины с бонусами" in page
    assert names(page) == {"Анина"}
    assert names(text(client.get(f"/cabinet/clients?segment=seg:{seg_id}&gender=female&birthday_days=1"))) == set()
    # no name, no filters, a bad filter: 422, nothing saved
    assert client.post("/cabinet/clients/segments", data={**form, "segment_name": ""}).status_code == 422
    r = client.post("/cabinet/clients/segments", data={"csrf_token": t, "segment_name": "Все"})
    assert r.status_code == 422 and "хотя бы один фильтр" in text(r)
    r = client.post("/cabinet/clients/segments", data={**form, "age_min": "x"})
    assert r.status_code == 422 and "Целое число" in text(r)
    assert client.post("/cabinet/clients/segments", data={**form, "csrf_token": ""}).status_code in (400, 403)
    assert session.scalar(select(func.count()).select_from(Segment).where(Segment.tenant_id == shop["a"])) == 1


def test_readonly_cannot_save_a_segment_nor_touch_a_client(client, session, shop, as_role, base):
    c = base["Анина"]
    t = as_role("readonly") and token(client, f"/cabinet/clients/{c.id}")
    page = text(client.get(f"/cabinet/clients/{c.id}"))
    assert "Заблокировать" not in page and "Изменить профиль" not in page
    assert client.post("/cabinet/clients/segments", data={"csrf_token": t, "gender": "male",
                                                           "segment_name": "x"}).status_code == 403
    assert client.post(f"/cabinet/clients/{c.id}/block", data={"csrf_token": t, "action": "block",
                                                               "reason": "x"}).status_code == 403
    assert client.post(f"/cabinet/clients/{c.id}/profile", data={"csrf_token": t, "last_name": "X"}).status_code == 403
    session.expire_all()
    assert session.get(Customer, c.id).blocked_at is None and session.get(Customer, c.id).last_name == "Анина"


def test_name_search_ignores_case(client, shop, as_role, customer_of):
    customer_of(shop["a"], "+79160000009", last_name="Иванова", first_name="Анна")
    customer_of(shop["a"], "+79160000010", last_name="Петров", first_name="Иван")
    as_role("owner")
    assert {"Иванова", "Петров"} <= set(re.findall(r'">(Иванова|Петров) ', text(client.get("/cabinet/clients?q=Иван"))))
    found = text(client.get("/cabinet/clients?q=Иванова Анна"))
    assert "Иванова Анна" in found and "Петров" not in found


def test_profile_edit_uses_the_hubs_rules_and_is_audited(client, session, shop, as_role, customer_of):
    c = customer_of(shop["a"], last_name="Старая", email="old@example.ru")
    t = as_role("manager") and token(client, f"/cabinet/clients/{c.id}")
    good = {"csrf_token": t, "last_name": "Новая", "first_name": "Анна", "middle_name": "", "gender": "female",
            "birth_date": "1990-05-17", "email": "anna@example.ru", "tags": "vip, опт", "comment": "Любит капучино"}
    r = client.post(f"/cabinet/clients/{c.id}/profile", data={**good, "email": "не почта", "gender": "x",
                                                               "birth_date": "17.05.1990"})
    assert r.status_code == 422
    page = text(r)
    assert "Неверный адрес электронной почты." in page and "Нужна дата в формате ГГГГ-ММ-ДД." in page
    assert "Допустимые значения" in page
    session.expire_all()
    assert session.get(Customer, c.id).last_name == "Старая"
    r = client.post(f"/cabinet/clients/{c.id}/profile", data=good)
    assert r.status_code == 303
    session.expire_all()
    row = session.get(Customer, c.id)
    assert (row.last_name, row.first_name, row.gender, row.birth_date, row.email, row.tags, row.comment) == \
        ("Новая", "Анна", "female", date(1990, 5, 17), "anna@example.ru", ["vip", "опт"], "Любит капучино")
    entry = session.scalars(select(AuditEntry).where(AuditEntry.tenant_id == shop["a"],
                                                     AuditEntry.action == "customer.update")).one()
    assert entry.details["last_name"] == ["Старая", "Новая"] and entry.details["tags"] == [None, ["vip", "опт"]]
    page = text(client.get(f"/cabinet/clients/{c.id}"))
    assert "Любит капучино" in page and "vip, опт" in page
    # too long a tag: the API schema's message
    r = client.post(f"/cabinet/clients/{c.id}/profile", data={**good, "tags": "x" * 51})
    assert r.status_code == 422 and "Длина должна быть" in text(r)


def test_gift_with_validity_is_a_lot_that_burns_and_is_audited(client, session, shop, as_role, customer_of):
    c = customer_of(shop["a"])
    t = as_role("owner") and token(client, f"/cabinet/clients/{c.id}")
    page = text(client.get(f"/cabinet/clients/{c.id}"))
    assert "Подарить бонусы" in page and 'id="gift-form"' in page
    form = {"csrf_token": t, "kind": "gift", "amount": "500", "valid_days": "10", "reason": "Извинение",
            "op_key": str(uuid.uuid4())}
    with frozen(NOW):
        assert client.post(f"/cabinet/clients/{c.id}/bonuses", data=form).status_code == 303
    lot = session.scalars(select(Lot).where(Lot.tenant_id == shop["a"])).one()
    assert lot.kind == "gift" and lot.amount == 50_000
    assert NOW + timedelta(days=9) < lot.expires_at <= NOW + timedelta(days=11)
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "bonuses.gift",
                                                     AuditEntry.tenant_id == shop["a"])).one()
    assert entry.details == {"amount": 50_000, "reason": "Извинение", "valid_days": 10}
    r = client.post(f"/cabinet/clients/{c.id}/bonuses", data={**form, "valid_days": "", "op_key": str(uuid.uuid4())})
    assert r.status_code == 422 and "срок действия" in text(r)


def test_block_and_unblock_with_a_reason(client, session, shop, as_role, customer_of):
    c = customer_of(shop["a"])
    t = as_role("manager") and token(client, f"/cabinet/clients/{c.id}")
    r = client.post(f"/cabinet/clients/{c.id}/block", data={"csrf_token": t, "action": "block", "reason": " "})
    assert r.status_code == 422 and "Укажите причину блокировки" in text(r)
    session.expire_all()
    assert session.get(Customer, c.id).blocked_at is None
    r = client.post(f"/cabinet/clients/{c.id}/block", data={"csrf_token": t, "action": "block", "reason": "Мошенничество"})
    assert r.status_code == 303
    session.expire_all()
    assert session.get(Customer, c.id).blocked_reason == "Мошенничество"
    page = text(client.get(f"/cabinet/clients/{c.id}"))
    assert 'id="blocked"' in page and "Мошенничество" in page and "Разблокировать" in page
    assert "заблокирован" in text(client.get("/cabinet/clients"))
    r = client.post(f"/cabinet/clients/{c.id}/block", data={"csrf_token": t, "action": "unblock"})
    assert r.status_code == 303
    session.expire_all()
    assert session.get(Customer, c.id).blocked_at is None
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.tenant_id == shop["a"],
                                                              AuditEntry.object_id == c.id)
                              .order_by(AuditEntry.created_at, AuditEntry.id)).all()
    assert sorted(actions) == ["customer.block", "customer.unblock"]
    other = customer_of(shop["b"], "+79161110000")
    assert client.post(f"/cabinet/clients/{other.id}/block",
                       data={"csrf_token": t, "action": "block", "reason": "x"}).status_code == 404
    assert client.post(f"/cabinet/clients/{other.id}/profile",
                       data={"csrf_token": t, "last_name": "x"}).status_code == 404


def test_the_cashiers_workplace_refuses_a_blocked_client(client, session, shop, as_role, customer_of):
    from hub.customers.operations import set_blocked
    c = customer_of(shop["a"])
    set_blocked(session, shop["a"], c.id, True, reason="Долг", moment=NOW)
    session.commit()
    as_role("cashier", "cashier")
    t = token(client, "/cashier/shift")
    client.post("/cashier/shift", data={"csrf_token": t, "store": "Центральный", "cashier": "Анна"})
    h = {"HX-Request": "true", "X-CSRFToken": token(client, "/cashier/")}
    sale = {"op_key": str(uuid.uuid4()), "customer_id": c.id, "amount": "1 000", "payment_method": "card"}
    for url in ("/cashier/quote", "/cashier/sale"):
        r = client.post(url, data=sale, headers=h)
        assert r.status_code == 422 and "Клиент заблокирован" in text(r)


def test_the_card_lists_the_newest_20_messages(client, session, shop, as_role, customer_of):
    from hub.notify.models import OutboxMessage
    c = customer_of(shop["a"])
    other = customer_of(shop["a"], "+79169998877")
    for i in range(25):
        session.add(OutboxMessage(tenant_id=shop["a"], customer_id=c.id, topic="sale", channel="sms",
                                  recipient=c.phone, text=f"Сообщение №{i:02d}", dedupe_key=f"t-{i}", status="sent",
                                  created_at=NOW + timedelta(minutes=i)))
    session.add(OutboxMessage(tenant_id=shop["a"], customer_id=other.id, topic="sale", channel="sms",
                              text="Чужое сообщение", dedupe_key="other", created_at=NOW))
    session.commit()
    as_role("readonly")
    page = text(client.get(f"/cabinet/clients/{c.id}"))
    shown = re.findall(r"Сообщение №(\d\d)", page)
    assert shown == [f"{i:02d}" for i in range(24, 4, -1)]
    assert "Чужое сообщение" not in page and "журнале сообщений" in page


def test_the_saved_segment_is_audited_in_the_words_of_every_face(client, session, shop, as_role, base):
    t = as_role("manager") and token(client, "/cabinet/clients?gender=female")
    form = {"csrf_token": t, "gender": "female", "balance_min": "1 000", "segment_name": "Женщины с бонусами"}
    for bad, words in (({"segment_name": "   "}, "Назовите сегмент."),
                       ({"segment_name": "x" * 201}, "Название сегмента — не длиннее 200 символов."),
                       ({"balance_min": "100 000 000 000,01"}, MONEY_MESSAGES["large"])):
        r = client.post("/cabinet/clients/segments", data={**form, **bad})
        assert r.status_code == 422 and words in text(r), bad
    assert session.scalars(select(Segment).where(Segment.tenant_id == shop["a"])).all() == []
    assert client.post("/cabinet/clients/segments", data=form).status_code == 303
    entry = session.scalars(select(AuditEntry).where(AuditEntry.tenant_id == shop["a"],
                                                     AuditEntry.action == "segment.create")).one()
    assert entry.details["text"] == SEGMENT_WORDS and entry.user_email
