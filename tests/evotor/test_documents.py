"""Reconciliation: the document webhook and the pull from a fake Evotor cloud feed the inbox;
a SELL whose commit was lost is committed once, duplicates are applied once, a PAYBACK
returns its base sale, paging and 429 are handled."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from hub.ledger import account_view, check_ledger
from hub.connections.models import Connection, InboundEvent
from hub.receipts.models import Receipt
from hub.moments import utcnow
from hub.customers.bonuses import adjust_bonuses
from hub.customers.operations import register_customer
from evotor.client import EvotorCloud, sync_catalog, sync_documents
from evotor.models import EvotorDevice, EvotorProduct
from tests.evotor.conftest import CLOUD, DEVICE, STORE, USER_ID, assert_error, counts, set_settings

PHONE, OTHER = "+79160000777", "+79160000888"
APP_UUID = "f7a6b0d2-1e6a-4c1c-9e16-8d6d0d1f0001"


def _close_date(dt: datetime | None = None) -> str:
    return (dt or utcnow() - timedelta(minutes=1)).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def doc_position(uuid: str, product: str, price, qty, ours=0, own=0) -> dict:
    total = price * qty
    return {"uuid": uuid, "product_id": product, "product_name": product, "quantity": qty, "price": price,
            "sum": total, "result_price": (total - ours - own) / qty, "result_sum": total - ours - own,
            "position_discount": {"discount_sum": own} if own else None,
            "doc_distributed_discount": ours}


def sell(doc_id: str, positions: list[dict], extras: dict | None = None, **body) -> dict:
    total = sum(p["result_sum"] for p in positions)
    return {"type": "SELL", "id": doc_id, "number": 17, "close_date": _close_date(), "time_zone_offset": 10800000,
            "store_id": STORE, "device_id": DEVICE, "user_id": USER_ID, "close_user_id": "emp-1",
            "extras": extras or {},
            "body": {"positions": positions, "doc_discounts": [], "sum": sum(p["sum"] for p in positions),
                     "result_sum": total, "payments": [{"sum": total, "type": "ELECTRON"}], **body}}


def payback(doc_id: str, base: str, positions: list[dict]) -> dict:
    return {"type": "PAYBACK", "id": doc_id, "close_date": _close_date(), "store_id": STORE, "device_id": DEVICE,
            "body": {"positions": positions, "base_document_id": base,
                     "payments": [{"sum": sum(p["result_sum"] for p in positions), "type": "CASH"}]}}


@pytest.fixture
def member(session, linked):
    now = utcnow()
    c = register_customer(session, linked.tenant_id, {"phone": PHONE}, source="test", moment=now)
    adjust_bonuses(session, linked.tenant_id, c.id, amount=10000, kind="manual", reason="старт",
                   valid_days=None, moment=now - timedelta(hours=1), idempotency_key=None, source="test", body={})
    linked.customer_id = c.id
    return linked


def _deliver(term, payload, path: str = f"/evotor/api/v1/inventories/stores/{STORE}/documents",
             method: str = "put", token: str | None = ...):
    token = term.token if token is ... else token
    headers = {"X-Evotor-User-Id": USER_ID}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    r = getattr(term.client, method)(path, data=json.dumps(payload, ensure_ascii=False),
                                     content_type="application/json", headers=headers)
    r.close()       # on the embedded default the inbox is processed once the answer is sent
    return r


def _view(session, term):
    view = account_view(session, term.tenant_id, term.customer_id, utcnow())
    session.rollback()
    return view


def _receipts(session, member) -> int:
    """The member's tenant's receipts (the run's PostgreSQL database also holds what the
    concurrency tests committed)."""
    n = len(list(session.scalars(select(Receipt.id).where(Receipt.tenant_id == member.tenant_id))))
    session.rollback()
    return n


def _lost_commit(term) -> tuple[dict, dict]:
    """The app quoted 50 bonuses for R-L and the receipt closed, but its commit never came."""
    q = term.ok("/receipts/quote", {"receipt_uuid": "R-L", "customer": {"phone": PHONE}, "spend_bonuses": 50,
                                    "positions": [{"uuid": "p1", "product_id": "coffee", "price": 300, "quantity": 2},
                                                  {"uuid": "p2", "product_id": "cake", "price": 100, "quantity": 1}]})
    assert q["discount"] == 50
    m = q["positionUuidToDiscountMap"]
    doc = sell("R-L", [doc_position("p1", "coffee", 300, 2, ours=m["p1"]),
                       doc_position("p2", "cake", 100, 1, ours=m["p2"])],
               extras={APP_UUID: q["extra"]})
    return q, doc


def test_a_sell_whose_commit_was_lost_is_committed_once(session, member):
    q, doc = _lost_commit(member)
    assert _view(session, member).held == 5000
    r = _deliver(member, [doc, {"type": "OPEN_SESSION", "id": "x-1"}])
    assert r.status_code == 200 and r.get_json() == {"accepted": 1, "new": 1}
    view = _view(session, member)
    # 100 - 50 spent + 10 % of the 650 paid = 115.
    assert view.held == 0 and view.available == 11500
    # Evotor delivers it again, through the other address too: nothing new.
    assert _deliver(member, doc, path="/evotor/api/v2/documents", method="post").get_json() == {"accepted": 1, "new": 0}
    assert _deliver(member, [doc]).get_json()["new"] == 0
    # The app's commit arrives late: the first answer is replayed.
    late = member.ok("/receipts/commit", {"receipt_uuid": "R-L", "extra": q["extra"]})
    assert late["repeated"] is True and late["bonus"]["spent"] == 50
    assert _view(session, member).available == 11500 and _receipts(session, member) == 1
    assert check_ledger(session, member.tenant_id) == []


def test_a_committed_sale_is_not_applied_again_by_its_document(session, member):
    q, doc = _lost_commit(member)
    member.ok("/receipts/commit", {"receipt_uuid": "R-L"})
    _deliver(member, [doc])
    assert _view(session, member).available == 11500 and _receipts(session, member) == 1


def test_a_payback_returns_its_base_sale(session, member):
    q, doc = _lost_commit(member)
    _deliver(member, [doc])
    pb = payback("PB-1", "R-L", [doc_position("pb-p2", "cake", 100, 1, ours=q["positionUuidToDiscountMap"]["p2"])])
    r = _deliver(member, pb, path="/evotor/api/v2/documents", method="post")
    assert r.status_code == 200
    # The éclair (100 of 700): its share of the 50 spent comes back, what it earned goes.
    ret = session.scalar(select(Receipt).where(Receipt.tenant_id == member.tenant_id, Receipt.external_id == "R-L"))
    assert ret.returned == {"p2": "1"}
    line = next(ln for ln in ret.lines if ln["id"] == "p2")
    assert line["bonus_spent"] == 714
    expected = 11500 + line["bonus_spent"] - line["bonus_earned"]
    session.rollback()
    assert _view(session, member).available == expected
    _deliver(member, pb, path="/evotor/api/v2/documents", method="post")
    assert _view(session, member).available == expected
    assert check_ledger(session, member.tenant_id) == []


def test_a_sell_without_our_extra_accrues_only_when_the_tenant_enables_it(session, member):
    register_customer(session, member.tenant_id, {"phone": OTHER}, source="test", moment=utcnow())
    plain = sell("S-1", [doc_position("q1", "coffee", 300, 1)], client_phone=OTHER)
    _deliver(member, [plain])
    assert _receipts(session, member) == 0
    set_settings(session, member.connection_id, accrue_without_app=True)
    plain2 = sell("S-2", [doc_position("q1", "coffee", 300, 1)], client_phone="8 916 000-08-88")
    _deliver(member, [plain2])
    receipt = session.scalar(select(Receipt).where(Receipt.tenant_id == member.tenant_id, Receipt.external_id == "S-2"))
    assert receipt.bonus_earned == 3000 and receipt.bonus_spent == 0
    session.rollback()


def test_the_document_webhook_rejects_wrong_tokens_and_bad_bodies(session, member):
    _, doc = _lost_commit(member)
    before = counts(session)
    for token in (None, "wrong"):
        assert_error(_deliver(member, [doc], token=token), 401)
    for bad in ([{"type": "SELL"}], [{"id": "x"}], "text", [1, 2], {"id": "x"}):
        assert_error(_deliver(member, bad), 400)
    assert counts(session) == before


def test_a_document_that_cannot_be_applied_fails_in_the_inbox_not_the_answer(session, member):
    broken = sell("B-1", [{"uuid": "z", "price": "abc", "quantity": 1, "sum": 0, "result_sum": 0}], extras={"kopilka": {
        "customer_id": member.customer_id, "receipt_uuid": "B-1", "bonus_spent": 0}})
    assert _deliver(member, [broken]).status_code == 200
    event = session.scalar(select(InboundEvent).where(InboundEvent.dedupe_key.like("%:B-1"))
                           .execution_options(populate_existing=True))
    assert event.status == "failed" and "price" in event.last_error
    session.rollback()


def test_sync_pulls_the_catalog_and_documents_with_paging_and_429(session, member, cloud, fake_cloud):
    assert cloud.post("/api/v1/user/token", {"userId": USER_ID, "token": "cloud-token-1"}).status_code == 200
    set_settings(session, member.connection_id, accrue_without_app=True)
    register_customer(session, member.tenant_id, {"phone": OTHER}, source="test", moment=utcnow())
    fake_cloud.catalog.update({
        "stores": [{"id": STORE, "name": "Кофейня на Тверской"}],
        "devices": [{"id": DEVICE, "name": "Эвотор 7.2", "store_id": STORE}],
        "employees": [{"id": "emp-1", "name": "Иван", "last_name": "Петров", "stores": [STORE]}],
        "groups": {STORE: [{"id": "g-drinks", "name": "Напитки"}, {"id": "g-hot", "name": "Горячие", "parent_id": "g-drinks"}]},
        "products": {STORE: [{"id": "coffee", "name": "Капучино", "parent_id": "g-hot"},
                             {"uuid": "cake", "name": "Эклер", "parentUuid": None}]},
    })
    q, doc = _lost_commit(member)
    fake_cloud.documents[STORE] = [
        doc,
        sell("S-9", [doc_position("s1", "cake", 100, 2)], client_phone=OTHER),
        {"type": "CLOSE_SESSION", "id": "cs-1"},
        payback("PB-9", "R-L", [doc_position("pb1", "coffee", 300, 1)]),
        sell("S-10", [doc_position("s2", "cake", 100, 1)]),       # nobody's: skipped
    ]
    fake_cloud.throttle = [{"Retry-After": "2"}]
    conn = session.get(Connection, member.connection_id)
    cloud_api = EvotorCloud(conn, base=CLOUD)
    catalog = sync_catalog(session, conn, cloud_api)
    assert catalog == {"stores": 1, "devices": 1, "employees": 1, "products": 2, "store_ids": [STORE]}
    coffee = session.scalar(select(EvotorProduct).where(EvotorProduct.product_id == "coffee"))
    assert coffee.groups == ["g-hot", "Горячие", "g-drinks", "Напитки"]
    assert session.scalar(select(EvotorDevice.store_uuid).where(EvotorDevice.device_uuid == DEVICE)) == STORE
    session.rollback()
    since = utcnow() - timedelta(days=1)
    result = sync_documents(session, conn, cloud_api, [STORE], since)
    assert result == {"documents": 4, "new": 4}
    assert 2 in fake_cloud.sleeps                                   # Retry-After honoured
    doc_calls = [c for c in fake_cloud.calls if "/documents" in c.url]
    assert len(doc_calls) == 4 and "cursor=4" in doc_calls[-1].url  # 429 + three pages
    assert _receipts(session, member) == 2                                  # R-L and S-9
    again = sync_documents(session, conn, cloud_api, [STORE], since)
    assert again == {"documents": 4, "new": 0}
    assert _receipts(session, member) == 2
    view = _view(session, member)
    assert view.held == 0
    statuses = {e.dedupe_key.split(":")[-1]: e.status for e in session.scalars(select(InboundEvent))}
    assert statuses == {"R-L": "done", "S-9": "done", "PB-9": "done", "S-10": "done"}
    session.rollback()
    assert check_ledger(session, member.tenant_id) == []


def _receipt_created(doc: dict, extras: dict | None = None, **data) -> dict:
    """The same sale as Evotor's receipt webhook v2 sends it (camelCase, one discount per item)."""
    items = [{"id": p["uuid"], "productId": p["product_id"], "name": p["product_name"],
              "quantity": p["quantity"], "price": p["price"], "sumPrice": p["sum"],
              "discount": round(p["sum"] - p["result_sum"], 2)} for p in doc["body"]["positions"]]
    return {"type": "ReceiptCreated", "data": {
        "id": doc["id"], "storeId": STORE, "deviceId": DEVICE, "employeeId": "emp-1",
        "dateTime": doc["close_date"], "type": "SELL", "paymentSource": "PAY_CARD", "items": items,
        "totalAmount": doc["body"]["sum"], "totalDiscount": sum(i["discount"] for i in items),
        "extras": extras if extras is not None else doc["extras"], **data}}


def test_the_receipt_webhook_v2_commits_a_lost_sale_once(session, member):
    q, doc = _lost_commit(member)
    event = _receipt_created(doc)
    r = _deliver(member, event, path="/evotor/api/v2/receipts", method="post")
    assert r.status_code == 200 and r.get_json() == {"accepted": 1, "new": 1}
    view = _view(session, member)
    assert view.held == 0 and view.available == 11500        # as by the document webhook
    # The same receipt again, and as a document: nothing new.
    assert _deliver(member, event, path="/evotor/api/v2/receipts", method="post").get_json()["new"] == 0
    _deliver(member, [doc])
    assert _view(session, member).available == 11500 and _receipts(session, member) == 1
    assert check_ledger(session, member.tenant_id) == []


def test_the_receipt_webhook_v2_without_our_extra_accrues_by_the_buyers_phone(session, member):
    set_settings(session, member.connection_id, accrue_without_app=True)
    plain = sell("S-v2", [doc_position("q1", "coffee", 300, 1, own=30)])
    _deliver(member, _receipt_created(plain, extras={}, clientPhone=PHONE),
             path="/evotor/api/v2/receipts", method="post")
    receipt = session.scalar(select(Receipt).where(Receipt.tenant_id == member.tenant_id,
                                                   Receipt.external_id == "S-v2"))
    # Without our extra the item's discount is the till's own: the customer paid 270 and
    # earned 10 % of that.
    assert (receipt.amount, receipt.amount_to_pay, receipt.bonus_spent, receipt.bonus_earned) == \
        (27000, 27000, 0, 2700)
    session.rollback()


@pytest.mark.parametrize("event", [
    {}, {"type": "ReceiptCreated"}, {"type": "ReceiptCreated", "data": []},
    {"type": "ReceiptCreated", "data": {"id": "x", "type": "SELL"}},
    {"type": "ReceiptCreated", "data": {"id": "x", "type": "SELL", "items": ["nope"]}},
    [1, 2],
])
def test_a_malformed_receipt_webhook_v2_is_400_and_stores_nothing(session, member, event):
    before = counts(session)
    r = _deliver(member, event, path="/evotor/api/v2/receipts", method="post")
    assert r.status_code == 400 and r.get_json()["errors"], r.get_json()
    assert counts(session) == before


def test_a_terminal_commit_that_differs_from_the_applied_document_is_409(session, member):
    """The document came first and showed no discount of ours (the app's discount was not
    applied): the sale counts without spending, and the app's late commit with a spending
    is refused with 409 instead of being replayed as if it had gone through."""
    q, doc = _lost_commit(member)
    bare = sell("R-L", [doc_position("p1", "coffee", 300, 2), doc_position("p2", "cake", 100, 1)],
                extras=doc["extras"])
    _deliver(member, [bare])
    assert _receipts(session, member) == 1
    r = member.post("/receipts/commit", {"receipt_uuid": "R-L", "extra": q["extra"]})
    assert r.status_code == 409 and "50" in r.get_data(as_text=True), r.get_data(as_text=True)
    assert _view(session, member).held == 0
    assert check_ledger(session, member.tenant_id) == []


def test_catalog_sync_upserts_in_bulk(session, member, cloud, fake_cloud):
    """One SELECT of a store's known products (and of the terminals), however many there are."""
    from sqlalchemy import event
    assert cloud.post("/api/v1/user/token", {"userId": USER_ID, "token": "cloud-token-1"}).status_code == 200
    products = [{"id": f"prod-{i}", "name": f"Товар {i}", "parent_id": "g-1"} for i in range(60)]
    fake_cloud.catalog.update({"stores": [{"id": STORE, "name": "Кофейня"}],
                               "devices": [{"id": f"dev-{i}", "store_id": STORE} for i in range(5)],
                               "employees": [], "groups": {STORE: [{"id": "g-1", "name": "Напитки"}]},
                               "products": {STORE: products}})
    conn = session.get(Connection, member.connection_id)
    cloud_api = EvotorCloud(conn, base=CLOUD)
    selects: list[str] = []

    def count(conn_, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT") and ("evotor_products" in statement
                                                                or "evotor_devices" in statement):
            selects.append(statement)

    bind = session.connection().engine
    event.listen(bind, "before_cursor_execute", count)
    try:
        assert sync_catalog(session, conn, cloud_api)["products"] == 60
        first_run = len(selects)
        products[0]["name"] = "Новое имя"
        assert sync_catalog(session, conn, cloud_api)["products"] == 60      # an update run
    finally:
        event.remove(bind, "before_cursor_execute", count)
    assert first_run <= 2 and len(selects) <= 4, selects
    rows = session.scalars(select(EvotorProduct).where(EvotorProduct.connection_id == member.connection_id)).all()
    assert len(rows) == 60 and {r.name for r in rows if r.product_id == "prod-0"} == {"Новое имя"}
    assert rows[0].groups == ["g-1", "Напитки"]
    session.rollback()
