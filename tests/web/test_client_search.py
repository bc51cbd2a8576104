"""Issue 17.16: clients found by any part of the phone (its last four digits), a card number or
a name — the same search (hub.customers.operations.search_conditions) in the owner's list, at the
cashier's workplace and in the API; lists show the level's name and formatted phones."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import text as sql

from tests.web.conftest import text, token

HX = {"HX-Request": "true"}


@pytest.fixture
def people(session, shop, customer_of):
    return {
        "Анина": customer_of(shop["a"], "+79161234567", last_name="Анина", card_number="2000000101"),
        "Борисов": customer_of(shop["a"], "+79167654321", last_name="Борисов", card_number="2000000202"),
        "Венина": customer_of(shop["a"], "+79035554567", last_name="Венина"),
        "Чужая": customer_of(shop["b"], "+79161234567", last_name="Чужая"),
    }


def names(page: str) -> set[str]:
    return set(re.findall(r'/cabinet/clients/[0-9a-f-]{36}">([^<]+)</a>', page))


@pytest.mark.parametrize("q, expected", [
    ("4567", {"Анина", "Венина"}),               # the last four digits of two phones
    ("+7 916 123", {"Анина"}),                    # the beginning, typed with spaces
    ("12345", {"Анина"}),                         # from the middle
    ("7654321", {"Борисов"}),
    ("0202", {"Борисов"}),                        # a part of a card number
    ("2000000101", {"Анина"}),                    # a whole card number
    ("8 916 765-43-21", {"Борисов"}),             # a whole phone in the Russian spelling
    ("вени", {"Венина"}),                         # a name's first letters
    ("456", set()),                               # three digits: too short to search
])
def test_cabinet_list_finds_by_any_part_of_phone_card_or_name(client, people, as_role, q, expected):
    as_role("owner")
    r = client.get("/cabinet/clients", query_string={"q": q})
    assert r.status_code == 200
    assert names(text(r)) == expected


def test_cabinet_list_shows_level_name_and_formatted_phone(client, people, as_role):
    as_role("owner")
    page = text(client.get("/cabinet/clients?q=Анина"))
    row = page[page.index("Анина</a>"):]
    row = row[:row.index("</tr>")]
    assert "+7 916 123-45-67" in row and "+79161234567" not in row
    assert "<td>Стандарт</td>" in row and "<td>base</td>" not in row


def test_cashier_finds_by_last_four_digits_and_offers_a_choice(client, session, shop, as_role, people):
    as_role("cashier", "cashier")
    t = token(client, "/cashier/shift")
    store = client.get("/cashier/shift")
    assert store.status_code == 200
    client.post("/cashier/shift", data={"csrf_token": t, "store": "Центральный", "cashier": "Анна"})
    h = {**HX, "X-CSRFToken": token(client, "/cashier/")}
    # One client: her panel opens at once.
    r = client.get("/cashier/find?q=4321", headers=h)
    assert "Борисов" in text(r) and 'name="customer_id"' in text(r) and people["Борисов"].id in text(r)
    assert "+7 916 765-43-21" in text(r)
    # Two: the cashier chooses; the foreign tenant's client with the same phone is not offered.
    r = client.get("/cashier/find?q=4567", headers=h)
    page = text(r)
    assert 'id="client-choices"' in page and "Анина" in page and "Венина" in page and "Чужая" not in page
    assert 'name="customer_id"' not in page
    r = client.get(f"/cashier/find?id={people['Венина'].id}", headers=h)
    assert 'name="customer_id"' in text(r) and people["Венина"].id in text(r)
    assert client.get(f"/cashier/find?id={people['Чужая'].id}", headers=h).status_code == 404
    # A whole phone still opens the one client (also among partial matches), and a card too.
    assert people["Анина"].id in text(client.get("/cashier/find?q=+79161234567", headers=h))
    assert people["Анина"].id in text(client.get("/cashier/find?q=2000000101", headers=h))
    assert "Клиент не найден" in text(client.get("/cashier/find?q=9999", headers=h))


def test_api_customer_search(api, session, tenant):
    from hub.clock import utcnow
    from hub.customers.operations import register_customer
    for phone, name in (("+79161234567", "Анина"), ("+79035554567", "Венина"), ("+79167654321", "Борисов")):
        register_customer(session, tenant["id"], {"phone": phone, "last_name": name}, source="api", moment=utcnow())
    session.commit()
    r = api.get("/api/v1/customers?q=4567")
    assert r.status_code == 200
    assert sorted(c["last_name"] for c in r.get_json()["items"]) == ["Анина", "Венина"]
    assert [c["last_name"] for c in api.get("/api/v1/customers?q=Бор").get_json()["items"]] == ["Борисов"]
    assert api.get("/api/v1/customers?q=" + "1" * 101).status_code == 422


def test_postgres_searches_digits_through_trigram_indexes(session, backend):
    """At a million clients `LIKE '%3210%'` must not scan the table (bench/clients_page.py)."""
    if backend != "postgres":
        pytest.skip("PostgreSQL's indexes")
    found = set(session.execute(sql("SELECT indexname FROM pg_indexes WHERE tablename = 'customers' "
                                    "AND indexdef LIKE '%gin_trgm_ops%'")).scalars())
    assert found == {"ix_customers_phone_trgm", "ix_customers_card_trgm"}
