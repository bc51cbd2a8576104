"""A PAYBACK is matched to its sale as the terminal matches it — the sale's position uuid, then
the product, then the name and price — so a return whose lines carry no product where the sale
had one (or the other way round) still reverses what it returns; a payback of the whole rest of
the sale reverses everything; one that still cannot be applied fails in the inbox with a
Russian reason the owner sees in the cabinet (summary, connection page) and the API.

The figures: 500,00 bonuses; a sale of 375,00 (2 × 150 + 75) spending 50,00 and earning 10 %
of the 325,00 paid leaves 482,50; a full return brings back 500,00 (not 482,50), a return of
one cappuccino 489,50 (its 20,00 of the spending back, its 13,00 of the earning taken)."""
from __future__ import annotations

import json
from datetime import timedelta, timezone

import pytest
from sqlalchemy import select

from hub.ledger import account_view, check_ledger
from hub.connections.models import InboundEvent
from hub.receipts.models import Receipt, ReceiptReturn
from hub.moments import utcnow
from hub.customers.bonuses import adjust_bonuses
from hub.customers.operations import register_customer
from tests.evotor.conftest import DEVICE, STORE, USER_ID
from tests.web.conftest import PASSWORD, sign_in, text

PHONE = "+79160000321"
START, AFTER_SALE, AFTER_ONE_CAPPUCCINO = 50000, 48250, 48950


@pytest.fixture
def member(session, linked):
    now = utcnow()
    c = register_customer(session, linked.tenant_id, {"phone": PHONE}, source="test", moment=now)
    adjust_bonuses(session, linked.tenant_id, c.id, amount=START, kind="manual", reason="старт",
                   valid_days=None, moment=now - timedelta(hours=1), idempotency_key=None, source="test", body={})
    session.commit()
    linked.customer_id = c.id
    return linked


def _balance(session, term) -> int:
    view = account_view(session, term.tenant_id, term.customer_id, utcnow())
    session.rollback()
    return view.available


def _sale(session, term, *, products: bool = True, names: bool = True) -> None:
    """The terminal sells 2 cappuccinos at 150 and an éclair at 75, spending 50 bonuses."""
    lines = [{"uuid": "p1", "product_id": "cap", "name": "Капучино", "price": 150, "quantity": 2},
             {"uuid": "p2", "product_id": "ecl", "name": "Эклер", "price": 75, "quantity": 1}]
    for line in lines:
        if not products:
            del line["product_id"]
        if not names:
            del line["name"]
    q = term.ok("/receipts/quote", {"receipt_uuid": "R-1", "customer": {"phone": PHONE}, "spend_bonuses": 50,
                                    "positions": lines})
    assert q["discount"] == 50
    term.ok("/receipts/commit", {"receipt_uuid": "R-1"})
    assert _balance(session, term) == AFTER_SALE


def _line(uuid: str, name: str, price, qty, product: str | None = None) -> dict:
    """A PAYBACK position as the v2 document carries it: its own uuid, not the sale's."""
    line = {"uuid": uuid, "product_name": name, "quantity": qty, "price": price, "sum": price * qty,
            "result_sum": price * qty}
    if product:
        line["product_id"] = product
    return line


def _payback(doc_id: str, positions: list[dict]) -> dict:
    close = (utcnow() - timedelta(seconds=5)).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    return {"type": "PAYBACK", "id": doc_id, "close_date": close, "store_id": STORE, "device_id": DEVICE,
            "body": {"positions": positions, "base_document_id": "R-1",
                     "payments": [{"sum": sum(p["result_sum"] for p in positions), "type": "CASH"}]}}


def _deliver(term, doc: dict) -> None:
    r = term.client.post("/evotor/api/v2/documents", data=json.dumps(doc, ensure_ascii=False),
                         content_type="application/json",
                         headers={"Authorization": f"Bearer {term.token}", "X-Evotor-User-Id": USER_ID})
    r.close()       # on the embedded default the inbox is processed once the answer is sent
    assert r.status_code == 200, r.get_data(as_text=True)


def _event(session, doc_id: str) -> InboundEvent:
    return session.scalar(select(InboundEvent).where(InboundEvent.dedupe_key.like(f"%:{doc_id}"))
                          .execution_options(populate_existing=True))


def _returned(session, term) -> dict:
    receipt = session.scalar(select(Receipt).where(Receipt.tenant_id == term.tenant_id, Receipt.external_id == "R-1")
                             .execution_options(populate_existing=True))
    out = dict(receipt.returned or {})
    session.rollback()
    return out


def test_a_full_payback_without_product_ids_reverses_the_whole_sale(session, member):
    # The sale had product ids (and no names: the app did not send them); the return document
    # carries neither the sale's uuids nor product ids — but all of it comes back.
    _sale(session, member, names=False)
    _deliver(member, _payback("PB-FULL", [_line("pb-1", "Капучино", 150, 2), _line("pb-2", "Эклер", 75, 1)]))
    event = _event(session, "PB-FULL")
    assert (event.status, event.last_error) == ("done", None)
    session.rollback()
    assert _balance(session, member) == START            # 500,00, not 482,50
    assert _returned(session, member) == {"p1": "2", "p2": "1"}
    assert check_ledger(session, member.tenant_id) == []
    session.rollback()


def test_a_partial_payback_without_product_ids_is_matched_by_name_and_price(session, member):
    _sale(session, member)
    _deliver(member, _payback("PB-1", [_line("pb-1", "капучино ", 150, 1)]))
    assert _event(session, "PB-1").status == "done"
    session.rollback()
    assert _returned(session, member) == {"p1": "1"}
    assert _balance(session, member) == AFTER_ONE_CAPPUCCINO
    # The second cappuccino by another payback: the first line is full, name and price still match.
    _deliver(member, _payback("PB-2", [_line("pb-1", "Капучино", 150, 1)]))
    assert _returned(session, member) == {"p1": "2"}
    ret = session.scalar(select(ReceiptReturn).where(ReceiptReturn.tenant_id == member.tenant_id,
                                                     ReceiptReturn.external_id == "PB-2"))
    assert (ret.bonus_spent_restored, ret.bonus_earned_reversed) == (2000, 1300)
    session.rollback()
    assert check_ledger(session, member.tenant_id) == []
    session.rollback()


def test_a_payback_with_product_ids_of_a_sale_without_them_is_matched_by_name_and_price(session, member):
    _sale(session, member, products=False)
    _deliver(member, _payback("PB-1", [_line("pb-1", "Капучино", 150, 1, product="cap")]))
    assert _event(session, "PB-1").status == "done"
    session.rollback()
    assert _returned(session, member) == {"p1": "1"}
    assert _balance(session, member) == AFTER_ONE_CAPPUCCINO
    # The rest of the sale, keyed by products the sale never had: everything else comes back.
    _deliver(member, _payback("PB-2", [_line("pb-2", "Капучино", 150, 1, product="cap"),
                                       _line("pb-3", "Эклер", 75, 1, product="ecl")]))
    assert _event(session, "PB-2").status == "done"
    session.rollback()
    assert _returned(session, member) == {"p1": "2", "p2": "1"}
    assert _balance(session, member) == START


def test_a_payback_that_still_matches_nothing_is_shown_to_the_owner(session, member, tenant, client):
    from hub.web.ui.auth import create_user
    _sale(session, member, names=False)
    _deliver(member, _payback("PB-X", [_line("pb-1", "Раф", 150, 1)]))
    event = _event(session, "PB-X")
    assert event.status == "failed"
    reason = "Возврат PB-X по чеку R-1 не проведён: В чеке «R-1» нет позиций pb-1."
    assert reason in event.last_error
    session.rollback()
    assert session.scalar(select(ReceiptReturn.id).where(ReceiptReturn.tenant_id == member.tenant_id)) is None
    assert _balance(session, member) == AFTER_SALE
    # The API's inbox gives the reason in Russian, without the exception's class name.
    r = client.get("/api/v1/inbox?status=failed", headers={"Authorization": f"Bearer {tenant['key']}"})
    assert r.status_code == 200
    assert [(e["dedupe_key"].split(":")[-1], e["reason"]) for e in r.get_json()["items"]] == [("PB-X", reason)]
    # The owner's summary warns, and the connection's page gives the reason.
    create_user(session, member.tenant_id, "owner@kopilka.test", "owner", PASSWORD, "Владелец")
    session.commit()
    sign_in(client, "owner@kopilka.test")
    page = text(client.get("/cabinet/"))
    assert "Не обработано событий от касс: 1" in page and "/cabinet/connections" in page
    page = text(client.get(f"/cabinet/connections/{member.connection_id}"))
    assert "не проведён: В чеке «R-1» нет позиций pb-1." in page
    assert ">PermanentError" not in page


def test_the_terminal_payback_matches_by_name_and_price_and_a_full_one_reverses_everything(session, member):
    _sale(session, member, products=False)
    # The app sends the returned line by name and price (no uuid of the sale, no product).
    one = member.ok("/receipts/payback", {"payback_uuid": "TPB-1", "base_receipt_uuid": "R-1",
                                          "positions": [{"name": "Капучино", "price": 150, "quantity": 1}]})
    assert (one["bonus_spent_restored"], one["bonus_earned_reversed"]) == (20, 13)
    assert _balance(session, member) == AFTER_ONE_CAPPUCCINO
    # The rest, keyed by products the sale never had: as many units for as much money — all of it.
    rest = member.ok("/receipts/payback", {"payback_uuid": "TPB-2", "base_receipt_uuid": "R-1",
                                           "positions": [{"product_id": "cap", "name": "Латте", "price": 150,
                                                          "quantity": 1},
                                                         {"product_id": "ecl", "price": 75, "quantity": 1}]})
    assert rest["repeated"] is False
    assert _balance(session, member) == START
    assert _returned(session, member) == {"p1": "2", "p2": "1"}
    # A line with nothing to match it by is a 422 with a Russian message; nothing is written.
    r = member.post("/receipts/payback", {"payback_uuid": "TPB-3", "base_receipt_uuid": "R-1",
                                          "positions": [{"name": "Капучино", "quantity": 1}]})
    assert r.status_code == 422 and "название и цену" in r.get_json()["error"]["message"]
    assert check_ledger(session, member.tenant_id) == []
    session.rollback()
