"""Issue 25.5: every page of the three cabinets at 390 px (a phone) and 1280 px (a laptop) in a
real Chromium, failing when any element reaches past the viewport — a cut table, an input off
screen, a page that scrolls sideways. Tables turn into cards on phones (CSS only).

Skipped where Playwright or Chromium is missing (CI installs both). Screenshots go to
$KOPILKA_SCREENSHOTS when it is set."""
from __future__ import annotations

import os
import uuid
from pathlib import Path


from tests.web.test_e2e_browser import PASSWORD, _code, browser, server  # noqa: F401 - the fixtures

WIDTHS = (390, 1280)
SHOTS = os.environ.get("KOPILKA_SCREENSHOTS")

# Past the viewport's edge, or cut by a sideways scroller, fails; the phone menu's hidden
# checkbox and what is hidden does not count.
WIDER = """
() => {
  const vw = document.documentElement.clientWidth;
  const out = [];
  if (document.documentElement.scrollWidth > vw + 1) out.push('page scrolls sideways: ' + document.documentElement.scrollWidth);
  for (const el of document.querySelectorAll('body *')) {
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden' || el.closest('[hidden]')) continue;
    if (el.matches('.nav-toggle, script, style, option, [aria-hidden=true] *')) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    // A scroller that scrolls sideways hides part of what it holds: a cut table.
    if (['auto', 'scroll', 'hidden'].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1
        && el.clientWidth > 1 && !el.matches('input, textarea, select, canvas')) {
      out.push(`cut: ${el.tagName.toLowerCase()}.${el.className} scrolls ${el.scrollWidth} in ${el.clientWidth}`);
    }
    if (r.right > vw + 1 || r.left < -1) {
      const id = el.id ? '#' + el.id : '';
      const cls = el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
      out.push(`${el.tagName.toLowerCase()}${id}${cls} [${Math.round(r.left)}..${Math.round(r.right)}] "${(el.innerText || el.value || '').slice(0, 40)}"`);
    }
  }
  return out.slice(0, 8);
}
"""


def _seed(srv) -> dict:
    """A client with a sale, a promotion-free program: enough rows for every table to show."""
    from hub import engine
    from hub.clock import utcnow
    from hub.customers.operations import register_customer
    from hub.receipts.operations import SaleRequest, commit_sale
    s = srv["session"]
    c = register_customer(s, srv["tenant"], {"phone": "+79165550099", "first_name": "Светлана",
                                            "last_name": "Константинопольская-Щедрина"},
                          source="api", moment=utcnow())
    s.commit()
    req = SaleRequest(external_id="W-" + uuid.uuid4().hex[:12].upper(), moment=utcnow(),
                      positions=(engine.Position(id="1", amount=123456, price=123456, name="Торт «Наполеон» большой"),),
                      customer={"id": c.id}, store="S1", cashier="K1")
    # Sold at the cashier's workplace: its returns page finds the receipt and shows the lines.
    answer = commit_sale(s, srv["tenant"], "web_cashier", req, {"x": req.external_id})[0]
    s.commit()
    return {"customer": c.id, "receipt": answer["id"], "number": req.external_id}


def _check(page, url: str, name: str, problems: dict) -> None:
    page.goto(url)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(50)
        wider = page.evaluate(WIDER)
        if wider:
            problems[f"{name} @ {width}"] = wider
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(SHOTS) / f"{name}-{width}.png"), full_page=True)


def _sign_in(page, base: str, where: str, email: str) -> None:
    page.goto(f"{base}/{where}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")


def test_every_page_fits_390_and_1280(browser, server):
    base, tenant = server["base"], server["tenant"]
    seeded = _seed(server)
    problems: dict = {}
    contexts = []

    def fresh():
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ru-RU")
        contexts.append(context)
        return context.new_page()
    try:
        page = fresh()
        _sign_in(page, base, "cabinet", "owner@kolos.test")
        cabinet = ["", "clients", f"clients/{seeded['customer']}", "receipts", f"receipts/{seeded['receipt']}",
                   "reviews", "program", "promotions", "certificates", "messages", "automation/triggers",
                   "points", "connections", "keys", "exports", "users", "audit", "brand"]
        for path in cabinet:
            _check(page, f"{base}/cabinet/{path}", "cabinet-" + (path.split("/")[0] or "dashboard")
                   + ("-card" if "/" in path else ""), problems)

        page = fresh()
        _sign_in(page, base, "cashier", "cashier@kolos.test")
        page.wait_for_url("**/cashier/shift")
        _check(page, f"{base}/cashier/shift", "cashier-shift", problems)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.fill("input[name=store_new]", "Центральный")   # the sale made store S1 known: a list
        page.click("main button[type=submit]")
        page.wait_for_url("**/cashier/")
        for path, name in (("", "workplace"), ("returns", "returns"), ("returns?number=%2B79165550099", "returns-found"),
                           (f"returns?number={seeded['number']}", "returns-receipt"), ("certificates", "certificates")):
            _check(page, f"{base}/cashier/{path}", "cashier-" + name, problems)

        page = fresh()
        _check(page, f"{base}/my/{tenant}/login", "my-login", problems)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.fill("input[name=phone]", "+79165550099")
        page.click("main button[type=submit]")
        page.fill("input[name=code]", _code(server))
        page.click("button:has-text('Войти')")
        page.wait_for_url(f"{base}/my/{tenant}/")
        for path in ("", "profile", "consent", f"review/{seeded['receipt']}"):
            _check(page, f"{base}/my/{tenant}/{path}", "my-" + (path.split("/")[0] or "home"), problems)
    finally:
        for context in contexts:
            context.close()
    assert not problems, "\n".join(f"{k}: {v}" for k, v in problems.items())
