"""End-to-end in headless Chromium: the cashier finds the client by scanning the card's QR with
the camera (BarcodeDetector and the camera stubbed: Chromium on Linux has neither), sells with
a promo code, a gift certificate paying part of it and a spending confirmed by the client's
code; checks a certificate's balance and sells a new one. Shares the browser and the server
of test_e2e_browser (skipped the same way when Chromium or Playwright is missing)."""
from __future__ import annotations

import re

from tests.web.test_e2e_browser import PASSWORD, _code, browser, page, server, shot  # noqa: F401 - fixtures

PHONE = "+79165550033"
# A camera that shows a canvas, and a detector that reads the card's QR (the phone) off it.
FAKE_CAMERA = """
window.BarcodeDetector = class { async detect() { return [{ rawValue: "%s", format: "qr_code" }]; } };
navigator.mediaDevices.getUserMedia = async () => {
  const c = document.createElement("canvas"); c.width = 64; c.height = 48;
  c.getContext("2d").fillRect(0, 0, 64, 48);
  return c.captureStream(5);
};
""" % PHONE


def _setup(srv) -> tuple[str, str]:
    from hub.clock import utcnow
    from hub.certificates import operations as certificates
    from hub.customers.bonuses import adjust_bonuses
    from hub.customers.operations import register_customer
    from hub.programs.operations import DEFAULT_SETTINGS, put_program
    from hub.promotions.operations import create_codes, create_promotion
    s, tenant = srv["session"], srv["tenant"]
    put_program(s, tenant, {**DEFAULT_SETTINGS, "verify_spending": True})
    c = register_customer(s, tenant, {"phone": PHONE, "first_name": "Вера"}, source="api", moment=utcnow())
    adjust_bonuses(s, tenant, c.id, amount=10000, kind="gift", reason="Подарок", valid_days=30,
                   moment=utcnow(), idempotency_key=None, source="cabinet", body={})
    p = create_promotion(s, tenant, {"name": "Осенняя −10%", "reward": "percent_off", "percent": "10"})
    code = create_codes(s, tenant, p["id"], {"count": 1})["codes"][0]
    number = certificates.issue(s, tenant, {"nominal": 50000, "count": 1}, utcnow())[0]["number"]
    certificates.activate(s, tenant, number, "E2E-1", utcnow(), utcnow())
    s.commit()
    return code, number


def test_cashier_scans_sells_with_promo_certificate_and_confirmed_spend(page, server):
    promo, number = _setup(server)
    base = server["base"]
    page.add_init_script(FAKE_CAMERA)
    page.goto(f"{base}/cashier/login")
    page.fill("input[name=email]", "cashier@kolos.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/cashier/shift")
    page.fill("input[name=store]", "Центральный")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/cashier/$"))
    # the scan button shows where the browser can scan; the QR finds the client
    page.click("#btn-scan-client-q")
    page.wait_for_selector("#client-balance")
    assert page.input_value("#client-q") == PHONE
    assert page.inner_text("#client-balance").replace("\u00a0", " ") == "100,00 Б"
    # 1 000 ₽, the promo code (−100 ₽), 30 bonuses, the certificate pays 500 ₽
    page.keyboard.press("F4")
    page.keyboard.type("1000")
    page.fill("#sale-promo", "NOSUCH")
    page.keyboard.press("F8")
    page.wait_for_selector("#promo-status")
    assert "Промокод не найден" in page.inner_text("#promo-status")
    shot(page, "cashier-promo-refused")
    page.fill("#sale-promo", promo)
    page.fill("#sale-spend", "30")
    page.click("#btn-cert")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'sale-cert'")
    page.keyboard.type(number)
    page.fill("#sale-cert-amount", "500")
    page.keyboard.press("F8")
    page.wait_for_selector("#promo-status >> text=применён:")
    assert page.inner_text("#to-pay").replace("\u00a0", " ") == "370,00 ₽"      # 1000 − 100 − 30 − 500
    assert page.is_visible("#spend-code")
    page.click("#btn-spend-code")
    page.wait_for_selector("#spend-code-sent")
    shot(page, "cashier-promo-cert-code")
    page.fill("#spend-code", "000000" if _code(server) != "000000" else "111111")
    page.keyboard.press("Enter")
    page.wait_for_selector(".err >> text=Неверный или просроченный код")
    shot(page, "cashier-wrong-code")
    page.fill("#spend-code", _code(server))
    page.keyboard.press("Enter")
    page.wait_for_selector("#sale-done")
    done = page.inner_text("#sale-done").replace("\u00a0", " ")
    assert "Акция «Осенняя −10%»" in done and "оплачено 500,00 ₽, на нём осталось 0,00 ₽" in done
    shot(page, "cashier-sale-promo-cert-done")
    # the certificate's balance, then a new one sold
    page.click("nav >> text=Сертификаты")
    page.wait_for_url("**/cashier/certificates")
    page.fill("#cert-q", number)
    page.keyboard.press("Enter")
    page.wait_for_selector("#cert-balance")
    assert page.inner_text("#cert-balance").replace("\u00a0", " ") == "0,00 ₽"
    shot(page, "cashier-certificates-check")
    page.fill("#sell-nominal", "3000")
    page.click("#btn-sell")
    page.wait_for_selector("#cert-sold")
    assert page.inner_text("#cert-balance").replace("\u00a0", " ") == "3 000,00 ₽"
    shot(page, "cashier-certificates-sold")
