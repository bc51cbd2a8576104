"""Issue 17.18, pages as a user sees them: the cashier's client panel shows the balance after
«Провести», the store is chosen from the tenant's stores, keyboard hints are hidden on touch
screens; the participant's home puts the balance first under the shop's name, the consent links
to its text, the history is a list; the front page links to the demo participant's cabinet and
every page has a favicon shipped with the hub."""
from __future__ import annotations

import re
import uuid

from hub.tenants.models import Cashier, Store
from hub.tenants.operations import save_point
from tests.web.conftest import text, token
from tests.web.test_my import _login
from tests.web.test_reviews import _receipt

HX = {"HX-Request": "true"}


def _start(client, as_role, store="Центральный"):
    as_role("cashier", "cashier")
    t = token(client, "/cashier/shift")
    r = client.post("/cashier/shift", data={"csrf_token": t, "store": store, "cashier": "Анна"})
    assert r.status_code == 302, text(r)
    return {**HX, "X-CSRFToken": token(client, "/cashier/")}


def test_after_sale_the_client_panel_shows_the_new_balance(client, session, shop, as_role, customer_of):
    c = customer_of(shop["a"], "+79165550011", first_name="Ольга")
    h = _start(client, as_role)
    panel = text(client.get("/cashier/find?q=5550011", headers=h))
    assert re.search(r'id="client-balance">0,00 Б<', panel)
    r = client.post("/cashier/sale", headers=h, data={"op_key": str(uuid.uuid4()), "customer_id": c.id,
                                                      "amount": "1 000", "payment_method": "card"})
    page = text(r)
    assert r.status_code == 200 and "Продажа проведена" in page
    # 5 % of 1 000 ₽ (the default program) swapped into #client out of band
    oob = page[page.index('<div id="client"'):]
    assert 'hx-swap-oob="true"' in oob[:120]
    assert re.search(r'id="client-balance">50,00 Б<', oob) and "Баланс после продажи" in oob
    # an anonymous sale has no panel to refresh
    r = client.post("/cashier/sale", headers=h, data={"op_key": str(uuid.uuid4()), "amount": "100",
                                                      "payment_method": "cash"})
    assert r.status_code == 200 and 'id="client"' not in text(r)


def test_shift_store_is_chosen_from_the_tenants_stores(client, session, shop, as_role):
    save_point(session, shop["a"], Store, "S-01", "Магазин на Ленина")
    save_point(session, shop["a"], Store, "S-02", "Магазин у вокзала")
    save_point(session, shop["b"], Store, "X-99", "Чужой магазин")
    save_point(session, shop["a"], Cashier, "K1", "Анна")
    session.commit()
    as_role("cashier", "cashier")
    page = text(client.get("/cashier/shift"))
    select = page[page.index('<select name="store"'):page.index("</select>")]
    assert re.findall(r'<option value="([^"]*)"', select) == ["", "S-01", "S-02"]
    assert "Магазин на Ленина (S-01)" in select and "X-99" not in page
    t = token(client, "/cashier/shift")
    assert client.post("/cashier/shift", data={"csrf_token": t, "store": "S-02", "cashier": "K1"}).status_code == 302
    assert "S-02" in text(client.get("/cashier/"))
    # the shift page remembers the chosen store
    assert re.search(r'<option value="S-02" selected>', text(client.get("/cashier/shift")))
    # a store not yet in the list is typed under it
    r = client.post("/cashier/shift", data={"csrf_token": t, "store": "", "store_new": "S-03", "cashier": "K1"})
    assert r.status_code == 302 and "S-03" in text(client.get("/cashier/"))
    r = client.post("/cashier/shift", data={"csrf_token": t, "store": "", "store_new": " ", "cashier": "K1"})
    assert r.status_code == 422 and "Выберите магазин" in text(r)


def test_keyboard_hints_are_hidden_on_touch_screens(client, shop, as_role):
    _start(client, as_role)
    page = text(client.get("/cashier/"))
    assert 'class="small muted kbd-hint">Клавиши:' in page
    css = text(client.get("/ui/static/app.css"))
    rule = re.search(r"@media \(hover: none\) and \(pointer: coarse\) \{([^}]*)\}", css)
    assert rule and ".kbd" in rule.group(1) and ".kbd-hint" in rule.group(1) and "display: none" in rule.group(1)


def test_participant_home_balance_first_shop_name_in_header_history_list(client, session, shop, customer_of):
    c = customer_of(shop["a"])
    _receipt(session, shop["a"], c.id)          # a purchase to rate: the block that came first
    _login(client, session, shop["a"])
    page = text(client.get(f"/my/{shop['a']}/"))
    assert re.search(r'<a class="brand" href="[^"]*">Кофейня «Зерно»</a>', page)
    assert 'id="rate"' in page
    where = {name: page.index(marker) for name, marker in (
        ("balance", 'id="balance"'), ("rate", 'id="rate"'), ("card", 'id="qr"'), ("history", 'id="history"'))}
    assert where["balance"] == min(where.values()), where
    assert '<ul class="history" id="history">' in page and "<table" not in page


def test_consent_links_to_its_text(client, session, shop, customer_of):
    login = text(client.get(f"/my/{shop['a']}/login"))
    assert f'href="/my/{shop["a"]}/consent" target="_blank" rel="noopener" id="consent-link">обработку персональных данных</a>' in login
    r = client.get(f"/my/{shop['a']}/consent")
    assert r.status_code == 200
    assert "152-ФЗ" in text(r) and "Кофейня «Зерно»" in text(r) and "Отозвать" in text(r)
    customer_of(shop["a"])
    _login(client, session, shop["a"])
    assert f'href="/my/{shop["a"]}/consent"' in text(client.get(f"/my/{shop['a']}/profile"))
    assert client.get("/my/nope/consent").status_code == 404


def test_front_page_links_to_the_demo_participants_cabinet(client, session, tmp_path, monkeypatch):
    from hub.tenants.operations import create_tenant
    assert 'id="demo-my"' not in text(client.get("/"))      # no demo tenant: no link
    tenant, key = create_tenant(session, "Демо-магазин")
    session.commit()
    tenant_id = tenant.id
    (tmp_path / "demo-api-key.txt").write_text(key + "\n")
    monkeypatch.setattr("hub.web.demo_key_path", lambda url: str(tmp_path / "demo-api-key.txt"))
    page = text(client.get("/"))
    assert f'<a href="/my/{tenant_id}/" id="demo-my">' in page
    assert client.get(f"/my/{tenant_id}/").status_code == 302      # to its login page


def test_demo_key_path_is_beside_the_embedded_database():
    from hub.web import demo_key_path
    assert demo_key_path("sqlite:////srv/kopilka/instance/hub.sqlite3") == "/srv/kopilka/instance/demo-api-key.txt"
    assert demo_key_path("postgresql+psycopg://u@h/db") is None


def test_favicon_is_a_static_file_on_every_page(client, shop):
    r = client.get("/ui/static/favicon.svg")
    assert r.status_code == 200 and r.mimetype == "image/svg+xml" and b"<svg" in r.data
    icon = '<link rel="icon" href="/ui/static/favicon.svg" type="image/svg+xml">'
    for url in ("/", "/cabinet/login", "/cashier/login", f"/my/{shop['a']}/login"):
        assert icon in text(client.get(url)), url
    r = client.get("/favicon.ico")
    assert r.status_code == 301 and r.headers["Location"].endswith("/ui/static/favicon.svg")
