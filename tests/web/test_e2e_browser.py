"""End-to-end in a real headless Chromium (Debian's `chromium` driven by Playwright for
Python) against the hub served by werkzeug in a thread: a cashier registers a client with a
code and sells with a spend and a return; a participant logs in with a code and sees the
balance and the QR; the owner sees the validation message for a bad threshold.

Skipped when Playwright or Chromium is missing locally; CI installs both (see .ci/run).
Screenshots of every page at 390 px and 1280 px go to $KOPILKA_SCREENSHOTS when it is set.
"""
from __future__ import annotations

import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

PASSWORD = "correct-horse-42"
PHONE = "+79165550011"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    path = _chromium()
    if path is None:
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(app, tmp_path_factory):
    """The hub on a fresh SQLite file, served on 127.0.0.1 by werkzeug in a thread."""
    from werkzeug.serving import make_server

    from hub.db import upgrade
    from hub.extensions import db, make_engine
    from hub.tenants.operations import create_tenant
    from hub.web.ui.auth import create_user
    url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'hub.sqlite3'}"
    upgrade(make_engine(url))
    engine = make_engine(url)
    previous = db.engine
    db.session.remove()
    db.engine = engine
    db.session.configure(bind=engine)
    s = sessionmaker(bind=engine, expire_on_commit=False)()
    tenant, _ = create_tenant(s, "Пекарня «Колос»")
    create_user(s, tenant.id, "owner@kolos.test", "owner", PASSWORD, "Ирина")
    create_user(s, tenant.id, "cashier@kolos.test", "cashier", PASSWORD, "Анна")
    from hub.notify.registry import configure
    configure(s, tenant.id, "console")      # codes reach the phone (printed: the demo channel)
    s.commit()
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield {"base": f"http://127.0.0.1:{srv.server_port}", "tenant": tenant.id, "session": s}
    srv.shutdown()
    s.close()
    db.session.remove()
    db.engine = previous
    db.session.configure(bind=previous)
    engine.dispose()


def _code(srv) -> str:
    from hub.notify.models import OutboxMessage
    s = srv["session"]
    s.expire_all()
    msg = s.scalars(select(OutboxMessage).where(OutboxMessage.topic == "code")
                    .order_by(OutboxMessage.created_at.desc())).first()
    from tests.codes import code_of
    code = code_of(msg)
    s.rollback()            # before anything else reads: SQLite's write lock is taken per transaction
    return code


SHOTS = os.environ.get("KOPILKA_SCREENSHOTS")


def shot(page, name: str) -> None:
    """Screenshots at a phone's and a laptop's width (when KOPILKA_SCREENSHOTS is set), and
    nothing on the page wider than the window at either width."""
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(150)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"{name} at {width}px is {overflow}px wider than the window"
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(SHOTS) / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ru-RU")
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda exc: errors.append(str(exc)))
    # A refused form answers 422 on purpose (its messages are the page); anything else is a fault.
    p.on("console", lambda m: errors.append(m.text)
         if m.type == "error" and "status of 422" not in m.text else None)
    yield p
    context.close()
    assert not errors, errors


def test_cashier_registers_sells_with_a_spend_and_returns(page, server):
    base = server["base"]
    page.goto(f"{base}/cashier/login")
    shot(page, "cashier-login")
    page.fill("input[name=email]", "cashier@kolos.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/cashier/shift")
    shot(page, "cashier-shift")
    page.fill("input[name=store]", "Центральный")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/cashier/$"))
    # keyboard-first: the search has the focus
    page.keyboard.type("8 916 555-00-11")
    page.keyboard.press("Enter")
    page.wait_for_selector("#btn-register")
    shot(page, "cashier-not-found")
    page.click("#btn-register")
    page.wait_for_selector("#btn-send-code")
    page.fill("input[name=first_name]", "Ольга")
    page.check("input[name=personal_data]")
    page.check("input[name=sms]")
    page.click("#btn-send-code")
    page.wait_for_selector("#register-code")
    shot(page, "cashier-register-code")
    page.fill("#register-code", _code(server))
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Клиент зарегистрирован")
    # first purchase: 1 000 ₽ earns 50 bonuses
    page.keyboard.press("F4")
    page.keyboard.type("1000")
    page.keyboard.press("F8")
    page.wait_for_selector("#quote-box")
    assert page.inner_text("#earn").replace("\u00a0", " ") == "50,00 Б"
    shot(page, "cashier-quote")
    page.keyboard.press("F9")
    page.wait_for_selector("#sale-done")
    shot(page, "cashier-sale-done")
    # a double click on "Провести" again is a replay, not a second sale
    page.click("#btn-sale")
    page.wait_for_selector("text=повторное нажатие")
    # second purchase with a spend of 30 bonuses
    page.click("#btn-next")
    page.wait_for_url(re.compile(r".*/cashier/$"))
    page.fill("#client-q", PHONE)
    page.keyboard.press("Enter")
    page.wait_for_selector("#client-balance")
    assert page.inner_text("#client-balance").replace("\u00a0", " ") == "50,00 Б"
    page.fill("#sale-amount", "200")
    page.fill("#sale-spend", "30")
    page.click("#btn-quote")
    page.wait_for_selector("#to-pay")
    assert page.inner_text("#to-pay").replace("\u00a0", " ") == "170,00 ₽"
    page.click("#btn-sale")
    page.wait_for_selector("#receipt-number")
    number = page.inner_text("#receipt-number")
    # the return
    page.click("text=Возврат")
    page.wait_for_url("**/cashier/returns")
    page.fill("input[name=number]", number)
    page.keyboard.press("Enter")
    page.wait_for_selector("#btn-return")
    shot(page, "cashier-return")
    page.click("#btn-return")
    page.wait_for_selector("#return-done")
    assert "170,00" in page.inner_text("#return-done")
    shot(page, "cashier-return-done")


def test_participant_logs_in_with_a_code_and_sees_balance_and_qr(page, server):
    from hub.clock import utcnow
    from hub.customers.operations import register_customer
    from hub.customers.bonuses import adjust_bonuses
    s = server["session"]
    phone = "+79165550022"
    c = register_customer(s, server["tenant"], {"phone": phone, "consents": {"sms": True}}, source="api", moment=utcnow())
    adjust_bonuses(s, server["tenant"], c.id, amount=25050, kind="gift", reason="Подарок", valid_days=30,
                   moment=utcnow(), idempotency_key=None, source="cabinet", body={})
    base = f"{server['base']}/my/{server['tenant']}"
    page.goto(f"{base}/")
    page.wait_for_url("**/login")
    shot(page, "my-login")
    page.fill("input[name=phone]", "8 916 555-00-22")
    page.click("main button[type=submit]")
    page.wait_for_selector("input[name=code]")
    shot(page, "my-code")
    page.fill("input[name=code]", _code(server))
    page.click("button:has-text('Войти')")
    page.wait_for_selector("#balance")
    assert page.inner_text("#balance").replace("\u00a0", " ") == "250,50 Б"
    assert page.locator("#qr svg").count() == 1 and page.locator("#barcode svg").count() == 1
    box = page.locator("#qr svg").bounding_box()
    assert box["width"] > 100 and box["height"] > 100
    assert "Сгорят 250,50 Б" in page.inner_text("#expiry").replace("\u00a0", " ")
    shot(page, "my-home")
    page.click("text=Профиль")
    page.wait_for_url("**/profile")
    page.uncheck("input[name=consent_sms]")
    page.click("button:has-text('Сохранить')")
    page.wait_for_selector("text=Сохранено.")
    assert not page.is_checked("input[name=consent_sms]")
    shot(page, "my-profile")


def test_owner_sees_the_validation_message_for_a_bad_threshold(page, server):
    base = server["base"]
    page.goto(f"{base}/cabinet/")
    page.wait_for_url("**/cabinet/login**")
    shot(page, "cabinet-login")
    page.fill("input[name=email]", "owner@kolos.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector("#revenue-chart")
    page.wait_for_function("window.Chart && Chart.getChart(document.getElementById('revenue-chart'))")
    shot(page, "cabinet-dashboard")
    page.click("nav >> text=Программа")
    page.wait_for_url("**/cabinet/program")
    shot(page, "cabinet-program")
    page.click("button:has-text('Добавить уровень')")
    row = page.locator(".level-row").nth(1)           # the added row: a new level
    row.locator("input[name$='-name']").fill("Золотой")
    row.locator("input[name$='-threshold']").fill("-100")
    row.locator("input[name$='-accrual_percent']").fill("7")
    page.click("button:has-text('Сохранить')")
    page.wait_for_selector(".level-row >> nth=1 >> .err")
    label = page.locator(".level-row").nth(1).locator("label", has=page.locator("input[name$='-threshold']"))
    assert "Нужна сумма покупок не меньше 0." in label.inner_text()
    shot(page, "cabinet-program-error")
    page.locator(".level-row").nth(1).locator("input[name$='-threshold']").fill("10 000")
    page.click("button:has-text('Сохранить')")
    page.wait_for_selector("text=Настройки программы сохранены.")
    page.wait_for_selector("#preview table")          # the preview is live: no button to press
    assert "Золотой" in page.inner_text("#preview")
    shot(page, "cabinet-program-preview")
    for name, link in (("clients", "Клиенты"), ("receipts", "Чеки"), ("users", "Пользователи"), ("audit", "Журнал")):
        page.click(f"nav >> text={link}")
        page.wait_for_url(f"**/cabinet/{name}")
        shot(page, f"cabinet-{name}")
    page.click("nav >> text=Клиенты")
    links = page.locator("#client-rows a")
    if links.count():
        links.first.click()
        page.wait_for_selector("#balance")
        shot(page, "cabinet-client")
        page.click("nav >> text=Чеки")
        receipt_links = page.locator("td a[href*='/cabinet/receipts/']")
        if receipt_links.count():
            receipt_links.first.click()
            page.wait_for_selector("text=Позиции")
            shot(page, "cabinet-receipt")


@pytest.mark.parametrize("touch", [False, True])
def test_keyboard_hints_only_where_there_is_a_keyboard(browser, server, touch):
    """A touch screen (coarse pointer, no hover) has no F-keys: the hints are hidden there."""
    context = browser.new_context(viewport={"width": 390, "height": 900}, locale="ru-RU",
                                  is_mobile=touch, has_touch=touch)
    try:
        page = context.new_page()
        page.goto(f"{server['base']}/cashier/login")
        page.fill("input[name=email]", "cashier@kolos.test")
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url("**/cashier/shift")
        # the first sale of an earlier test made "Центральный" a store of the list
        if page.locator("select[name=store]").count():
            page.select_option("select[name=store]", "Центральный")
        else:
            page.fill("input[name=store]", "Центральный")
        page.click("main button[type=submit]")
        page.wait_for_url(re.compile(r".*/cashier/$"))
        assert page.evaluate("matchMedia('(hover: none) and (pointer: coarse)').matches") == touch
        assert page.is_visible(".kbd-hint") is not touch
        assert page.locator("#btn-sale .kbd").is_visible() is not touch
    finally:
        context.close()


def test_participant_history_reads_at_390px(page, server):
    """Each history row: the operation and its time on the left, the bonuses on the right, all
    inside a 390 px window."""
    from hub.clock import utcnow
    from hub.customers.bonuses import adjust_bonuses
    from hub.customers.operations import register_customer
    s = server["session"]
    phone = "+79165550033"
    c = register_customer(s, server["tenant"], {"phone": phone}, source="api", moment=utcnow())
    adjust_bonuses(s, server["tenant"], c.id, amount=123456, kind="gift", reason="Подарок", valid_days=30,
                   moment=utcnow(), idempotency_key=None, source="cabinet", body={})
    base = f"{server['base']}/my/{server['tenant']}"
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(f"{base}/login")
    page.fill("input[name=phone]", phone)
    page.click("main button[type=submit]")
    page.wait_for_selector("input[name=code]")
    page.fill("input[name=code]", _code(server))
    page.click("button:has-text('Войти')")
    page.wait_for_selector("#history li")
    row = page.locator("#history li").first
    what, amount = row.locator(".what").bounding_box(), row.locator(".num").bounding_box()
    assert what["x"] + what["width"] <= amount["x"] and amount["x"] + amount["width"] <= 390
    assert row.bounding_box()["height"] < 80          # two lines: the operation, then its time
    assert page.inner_text("#history li .num").replace("\u00a0", " ") == "1 234,56 Б"
    header = page.inner_text("header.top .brand")
    assert header == "Пекарня «Колос»"


def test_owner_first_hour_from_the_checklist_to_a_saved_program(page, server):
    """Issue 25.1–2: a fresh tenant's owner opens on the setup checklist, takes the café preset,
    adds a level out of order and a rule from choices (read back as a sentence, the preview
    live beside the form), saves, and the checklist ticks the program."""
    from hub.tenants.operations import create_tenant
    from hub.web.ui.auth import create_user
    s = server["session"]
    tenant, _ = create_tenant(s, "Кофейня «Первый час»")
    create_user(s, tenant.id, "owner@first.test", "owner", PASSWORD, "Вера")
    s.commit()
    base = server["base"]
    page.goto(f"{base}/cabinet/login")
    page.fill("input[name=email]", "owner@first.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector("#setup-checklist")
    assert "сделано 0 из 5" in page.inner_text("#setup-checklist")
    shot(page, "first-hour-checklist")
    page.click("[data-step=till] >> text=Инструкция и проверка")
    page.wait_for_url("**/cabinet/setup/till")
    page.click("#check-connection")
    page.wait_for_selector("#no-event")
    shot(page, "first-hour-till")
    page.goto(f"{base}/cabinet/")
    page.click("[data-step=program] >> text=Настроить программу")
    page.wait_for_url("**/cabinet/program")
    page.click(".presets >> text=Кафе")
    page.wait_for_selector("text=Шаблон «Кафе» подставлен")
    assert page.locator("#rule-sentence-0").inner_text() == "По будням с 8:00 до 11:00 — начисление ×2"
    # a level between two others, typed last
    page.click("button:has-text('Добавить уровень')")
    row = page.locator(".level-row").nth(3)
    row.locator("input[name$='-name']").fill("Завсегдатай")
    row.locator("input[name$='-threshold']").fill("10 000")
    row.locator("input[name$='-accrual_percent']").fill("8")
    # a rule from choices, read back as soon as it is chosen
    page.click("button:has-text('Добавить правило')")
    rule = page.locator(".rule-row").nth(1)
    rule.locator("input[value='6']").check()
    rule.locator("input[value='7']").check()
    rule.locator("select[name$='-effect']").select_option("accrual_multiplier")
    rule.locator("input[name$='-value']").fill("3")
    page.wait_for_function("document.getElementById('rule-sentence-1').innerText.includes('×3')")
    assert page.locator("#rule-sentence-1").inner_text() == "По выходным — начисление ×3"
    page.wait_for_function("document.querySelector('#preview') && "
                           "document.querySelector('#preview').innerText.includes('Завсегдатай')")
    shot(page, "first-hour-program")
    page.click("button:has-text('Сохранить')")
    page.wait_for_selector("text=Настройки программы сохранены.")
    names = [page.locator(".level-row").nth(i).locator("input[name$='-name']").input_value() for i in range(4)]
    assert names == ["Гость", "Постоянный гость", "Завсегдатай", "Друг кафе"]
    assert page.locator("#rule-sentence-1").inner_text() == "По выходным — начисление ×3"
    shot(page, "first-hour-program-saved")
    page.click("nav >> text=Сводка")
    page.wait_for_selector("#setup-checklist")
    assert page.locator("[data-step=program]").get_attribute("data-done") == "yes"
    assert "сделано 1 из 5" in page.inner_text("#setup-checklist")
    shot(page, "first-hour-checklist-after")
