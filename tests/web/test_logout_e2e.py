"""After «Выйти», the browser's Back must not show what the signed-in page showed (a shop's
shared tablet): signed-in pages are Cache-Control: no-store. In headless Chromium with the
back-forward cache ON — Playwright turns it off by default (--disable-back-forward-cache),
which would hide the very cache this is about. Shares the server of test_e2e_browser."""
from __future__ import annotations

import re

import pytest

from tests.web.test_e2e_browser import ARGS, PASSWORD, _chromium, server  # noqa: F401 - fixtures

PHONE = "+79165550077"


@pytest.fixture(scope="module")
def bfcache_browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    path = _chromium()
    if path is None:
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=ARGS, headless=True,
                              ignore_default_args=["--disable-back-forward-cache"])
        yield b
        b.close()


@pytest.fixture
def tab(bfcache_browser):
    context = bfcache_browser.new_context(viewport={"width": 1280, "height": 900}, locale="ru-RU")
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda exc: errors.append(str(exc)))
    p.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)   # CSP refusals too
    yield p
    context.close()
    assert not errors, errors


def _client(srv) -> str:
    from hub.clock import utcnow
    from hub.customers.models import Customer
    from hub.customers.operations import register_customer
    s = srv["session"]
    c = s.query(Customer).filter_by(tenant_id=srv["tenant"], phone=PHONE).first() or register_customer(
        s, srv["tenant"], {"phone": PHONE, "first_name": "Тамара"}, source="api", moment=utcnow())
    s.commit()
    return c.id


def test_back_after_logout_does_not_show_the_client_card(tab, server):
    base, customer_id = server["base"], _client(server)
    tab.goto(f"{base}/cabinet/login")
    tab.fill("input[name=email]", "owner@kolos.test")
    tab.fill("input[name=password]", PASSWORD)
    tab.click("main button[type=submit]")
    tab.wait_for_url(re.compile(r".*/cabinet/?$"))
    response = tab.goto(f"{base}/cabinet/clients/{customer_id}")
    assert "Тамара" in tab.content()
    assert response.headers["cache-control"] == "no-store"
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    tab.click("header button:has-text('Выйти')")
    tab.wait_for_url("**/cabinet/login**")
    # A page restored from the back-forward cache fires no "load": wait for the commit only.
    tab.go_back(wait_until="commit")
    tab.wait_for_timeout(500)
    assert "Тамара" not in tab.content() and "/cabinet/login" in tab.url
