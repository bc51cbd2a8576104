"""JSON API path against a fake МойСклад: webhooks stored and acknowledged at once, documents
fetched and applied from the inbox, duplicates applied once, 429 and failures retried."""
from __future__ import annotations

import json
import time
from datetime import timedelta
from uuid import uuid4

import pytest
from sqlalchemy import select

from connectors.inbox import retry_due, retry_event
from hub.certificates import operations as certificates
from hub.certificates.models import CertificatePosting, GiftCertificate
from hub.connections.models import InboundEvent
from hub.receipts.models import Receipt
from hub.moments import utcnow
from hub.customers.operations import register_customer
from hub.receipts.operations import get_receipt
from tests.moysklad.conftest import (
    ACCOUNT, JSON_API, RETAIL_STORE, agent, assert_ms_error, counts, local_moment, position, set_settings,
)

PHONE = "+79160000777"
MEMBER_MS = "7a0c1a3c-1111-4000-8000-000000000001"
STRANGER_MS = "7a0c1a3c-1111-4000-8000-000000000002"
P1, P2 = "7a0c1a3c-2222-4000-8000-000000000001", "7a0c1a3c-2222-4000-8000-000000000002"


def _counterparty(ms_id: str, phone: str | None = None) -> dict:
    return {"meta": {"href": f"{JSON_API}/entity/counterparty/{ms_id}", "type": "counterparty"},
            "id": ms_id, "name": "Покупатель", "phone": phone, "discountCardNumber": None}


def _row(product: str, price_kopecks: float, quantity, discount=0) -> dict:
    return {"id": str(uuid4()), "quantity": quantity, "price": price_kopecks, "discount": discount, "vat": 0,
            "assortment": {"meta": {"href": f"{JSON_API}/entity/product/{product}", "type": "product"}}}


def _events(*items, account: str = ACCOUNT) -> dict:
    return {"auditContext": {"meta": {"type": "audit"}, "uid": "admin@shop", "moment": "2026-01-01 10:00:00"},
            "events": [{"meta": {"type": kind, "href": f"{JSON_API}/entity/{kind}/{ident}"},
                        "action": action, "accountId": account} for kind, ident, action in items]}


def _deliver(ms, body: dict, request_id: str | None = None, connection_id: str | None = None,
             secret: str | None = ...):
    """POST the webhook as МойСклад does (to the URL `subscribe` registered, with the
    connection's secret); returns the response after the hub processed it (on the embedded
    default processing runs once the response is closed). `elapsed` is the time to the
    answer, `elapsed_closed` that plus the hand-over after it."""
    request_id = request_id or str(uuid4())
    secret = ms.webhook_secret if secret is ... else secret
    path = f"/moysklad/webhook/{connection_id or ms.connection_id}" + (f"/{secret}" if secret is not None else "")
    started = time.monotonic()
    r = ms.client.post(f"{path}?requestId={request_id}", data=json.dumps(body), content_type="application/json")
    r.elapsed = time.monotonic() - started
    r.close()
    r.elapsed_closed = time.monotonic() - started
    return r


def _events_of(session, status: str | None = None) -> list[InboundEvent]:
    stmt = select(InboundEvent).where(InboundEvent.source == "moysklad")
    if status:
        stmt = stmt.where(InboundEvent.status == status)
    rows = list(session.scalars(stmt.execution_options(populate_existing=True)))
    session.rollback()
    return rows


def _balance(ms) -> float:
    r = ms.post("/counterparty/detail", {"retailStore": RETAIL_STORE, "meta": agent(MEMBER_MS)["meta"],
                                         "phone": PHONE})
    return r.get_json()["bonusProgram"]["agentBonusBalance"]


@pytest.fixture
def member(session, ms):
    register_customer(session, ms.tenant_id, {"phone": PHONE}, source="test", moment=utcnow())
    return ms


def test_a_sale_is_acknowledged_at_once_and_applied_after(session, member, fake_ms):
    doc_id = str(uuid4())
    # Prices in KOPECKS: 2 x 150.00 and 1 x 99.90 with a 10% till discount.
    fake_ms.retaildemand(doc_id, agent=_counterparty(MEMBER_MS, PHONE),
                         positions=[_row(P1, 15000.0, 2), _row(P2, 9990.0, 1, discount=10)], card=38991)
    r = member.client.post(f"/moysklad/webhook/{member.connection_id}/{member.webhook_secret}?requestId={uuid4()}",
                           data=json.dumps(_events(("retaildemand", doc_id, "CREATE"))),
                           content_type="application/json")
    assert r.status_code == 200 and r.get_json() == {"accepted": 1, "new": 1}
    assert fake_ms.calls == []                       # answered before any fetch
    [event] = _events_of(session)
    assert event.status == "received" and event.dedupe_key.endswith(f"retaildemand/{doc_id}")
    r.close()                                        # the response is sent: now it is processed
    assert len(fake_ms.calls) == 1
    assert [e.status for e in _events_of(session)] == ["done"]
    receipt = get_receipt(session, member.tenant_id, doc_id, "moysklad")
    # 300.00 + 99.90 - 9.99 (the till's 10%) = 389.91 paid; 10% → 38.99 bonuses.
    assert (receipt.amount, receipt.bonus_earned, receipt.payment_method) == (38991, 3899, "card")
    session.rollback()
    assert _balance(member) == 38.99


def test_answer_is_fast_even_when_moysklad_is_slow(session, member, fake_ms):
    doc_id = str(uuid4())
    fake_ms.retaildemand(doc_id, agent=_counterparty(MEMBER_MS, PHONE), positions=[_row(P1, 10000.0, 1)])
    fake_ms.failures = [(503, {"Retry-After": "0"})] * 3
    r = _deliver(member, _events(("retaildemand", doc_id, "CREATE")))
    assert r.status_code == 200 and r.elapsed < 1.5
    assert _balance(member) == 10


def test_duplicate_deliveries_are_applied_once(session, member, fake_ms):
    doc_id = str(uuid4())
    fake_ms.retaildemand(doc_id, agent=_counterparty(MEMBER_MS, PHONE), positions=[_row(P1, 10000.0, 3)])
    body = _events(("retaildemand", doc_id, "CREATE"))
    request_id = str(uuid4())
    first = _deliver(member, body, request_id)
    again = _deliver(member, body, request_id)       # МойСклад's retry: the same requestId
    assert first.get_json() == {"accepted": 1, "new": 1} and again.get_json() == {"accepted": 1, "new": 0}
    other = _deliver(member, body)                   # another delivery of the same document
    assert other.status_code == 200
    assert len(_events_of(session)) == 2 and all(e.status == "done" for e in _events_of(session))
    assert len(fake_ms.calls) == 1                   # the second event saw the sale applied
    assert _balance(member) == 30


def test_several_events_in_one_request_and_irrelevant_ones(session, member, fake_ms):
    d1, d2 = str(uuid4()), str(uuid4())
    fake_ms.retaildemand(d1, agent=_counterparty(MEMBER_MS, PHONE), positions=[_row(P1, 10000.0, 1)])
    fake_ms.retaildemand(d2, agent=_counterparty(MEMBER_MS, PHONE), positions=[_row(P2, 5000.0, 1)])
    r = _deliver(member, _events(("retaildemand", d1, "CREATE"), ("retaildemand", d2, "CREATE"),
                                 ("retaildemand", d1, "UPDATE"), ("product", str(uuid4()), "CREATE")))
    assert r.get_json() == {"accepted": 2, "new": 2}
    assert _balance(member) == 15


def test_429_then_200(session, member, fake_ms):
    doc_id = str(uuid4())
    fake_ms.retaildemand(doc_id, agent=_counterparty(MEMBER_MS, PHONE), positions=[_row(P1, 20000.0, 1)])
    fake_ms.failures = [(429, {"Retry-After": "2", "X-RateLimit-Limit": "45",
                               "X-RateLimit-Remaining": "0"})]
    _deliver(member, _events(("retaildemand", doc_id, "CREATE")))
    assert len(fake_ms.calls) == 2 and fake_ms.sleeps == [2.0]     # Retry-After honoured
    assert [e.status for e in _events_of(session)] == ["done"]
    assert _balance(member) == 20


def test_a_failing_fetch_stays_in_the_inbox_and_succeeds_on_retry(session, member, fake_ms):
    doc_id = str(uuid4())
    fake_ms.retaildemand(doc_id, agent=_counterparty(MEMBER_MS, PHONE), positions=[_row(P1, 10000.0, 1)])
    # Three processing attempts fail (each is one request and three retries, all 500).
    fake_ms.failures = [(500, {})] * 12
    _deliver(member, _events(("retaildemand", doc_id, "CREATE")))
    [event] = _events_of(session)
    assert (event.status, event.attempts) == ("retry", 1) and "HTTP 500" in event.last_error
    moment = utcnow()
    for attempt in (2, 3):
        moment += timedelta(hours=7)                 # past every backoff step
        assert retry_due(session, moment) == 1
        [event] = _events_of(session)
        assert (event.status, event.attempts) == ("retry", attempt)
    assert counts(session, member.tenant_id)["receipts"] == 0
    # МойСклад is back: the next sweep applies it; a manual retry after that changes nothing.
    assert retry_due(session, moment + timedelta(hours=7)) == 1
    [event] = _events_of(session)
    assert (event.status, event.attempts, event.last_error) == ("done", 4, None)
    assert len(fake_ms.calls) == 13
    assert retry_event(session, member.tenant_id, event.id).status == "done"
    assert _balance(member) == 10


def test_a_vanished_document_fails_for_good(session, member, fake_ms):
    _deliver(member, _events(("retaildemand", str(uuid4()), "CREATE")))
    [event] = _events_of(session)
    assert event.status == "failed" and "не найден" in event.last_error


def test_unknown_account_or_connection_is_rejected_and_nothing_stored(session, member, fake_ms):
    doc_id = str(uuid4())
    before = counts(session)
    r = _deliver(member, _events(("retaildemand", doc_id, "CREATE"), account=str(uuid4())))
    assert_ms_error(r, 401)
    r = _deliver(member, _events(("retaildemand", doc_id, "CREATE"),
                                 ("retaildemand", str(uuid4()), "CREATE")) | {"events": [
        _events(("retaildemand", doc_id, "CREATE"))["events"][0],
        _events(("retaildemand", doc_id, "CREATE"), account=str(uuid4()))["events"][0]]})
    assert_ms_error(r, 401)
    assert_ms_error(_deliver(member, _events(("retaildemand", doc_id, "CREATE")), connection_id=str(uuid4())), 404)
    assert_ms_error(_deliver(member, _events(("retaildemand", doc_id, "CREATE")), connection_id="nope"), 404)
    assert_ms_error(_deliver(member, {"events": "nope"}), 400)
    assert counts(session) == before
    assert fake_ms.calls == []


def test_a_sale_of_someone_outside_the_program_is_skipped(session, member, fake_ms):
    doc_id = str(uuid4())
    fake_ms.retaildemand(doc_id, agent=_counterparty(STRANGER_MS, "+79169990000"), positions=[_row(P1, 10000.0, 1)])
    _deliver(member, _events(("retaildemand", doc_id, "CREATE")))
    assert [e.status for e in _events_of(session)] == ["done"]
    assert counts(session, member.tenant_id)["receipts"] == 0


def test_a_return_reverses_its_sale(session, member, fake_ms):
    sale, ret = str(uuid4()), str(uuid4())
    fake_ms.retaildemand(sale, agent=_counterparty(MEMBER_MS, PHONE), positions=[_row(P1, 10000.0, 2), _row(P2, 5000.0, 1)])
    _deliver(member, _events(("retaildemand", sale, "CREATE")))
    assert _balance(member) == 25
    fake_ms.retailsalesreturn(ret, sale, agent=_counterparty(MEMBER_MS, PHONE), positions=[_row(P1, 10000.0, 1)])
    _deliver(member, _events(("retailsalesreturn", ret, "CREATE")))
    assert [e.status for e in _events_of(session)] == ["done", "done"]
    assert _balance(member) == 15
    _deliver(member, _events(("retailsalesreturn", ret, "CREATE")))   # another delivery: once
    assert _balance(member) == 15


def test_a_sale_seen_by_both_paths_is_applied_once(session, member, fake_ms):
    # The till's Loyalty API call first, then the webhook for the same document.
    doc_id = str(uuid4())
    sale = {"retailStore": RETAIL_STORE, "name": "00009", "moment": local_moment(),
            "meta": {"href": f"{JSON_API}/entity/retaildemand/{doc_id}", "id": doc_id},
            "agent": agent(MEMBER_MS, phone=PHONE),
            "positions": [position(P1, 100, 2, discountPercent=0, discountedPrice=100)],
            "bonusProgram": {"bonusValueToSpend": 0, "bonusValueToEarn": 20}, "cashSum": 200, "noCashSum": 0}
    assert member.post("/retaildemand", sale).status_code == 201
    fake_ms.retaildemand(doc_id, agent=_counterparty(MEMBER_MS, PHONE), positions=[_row(P1, 10000.0, 2)])
    _deliver(member, _events(("retaildemand", doc_id, "CREATE")))
    assert _balance(member) == 20 and fake_ms.calls == []
    # The other way round: the webhook first, then the till.
    doc2 = str(uuid4())
    fake_ms.retaildemand(doc2, agent=_counterparty(MEMBER_MS, PHONE), positions=[_row(P1, 10000.0, 1), _row(P1, 10000.0, 1)])
    _deliver(member, _events(("retaildemand", doc2, "CREATE")))
    assert _balance(member) == 40
    sale2 = {**sale, "meta": {"href": f"{JSON_API}/entity/retaildemand/{doc2}", "id": doc2}}
    assert member.post("/retaildemand", sale2).status_code == 201
    assert _balance(member) == 40
    assert session.scalar(select(Receipt.id).where(Receipt.external_id == doc2)) is not None
    session.rollback()


def test_with_the_loyalty_api_registered_webhooks_wait_for_the_till(session, member, fake_ms):
    set_settings(session, member.connection_id, loyalty_api=True)
    doc_id = str(uuid4())
    fake_ms.retaildemand(doc_id, agent=_counterparty(MEMBER_MS, PHONE), positions=[_row(P1, 10000.0, 1)])
    _deliver(member, _events(("retaildemand", doc_id, "CREATE")))
    [event] = _events_of(session)
    assert event.status == "retry" and fake_ms.calls == []
    # The till never called (offline): the sweep applies the document.
    assert retry_due(session, utcnow() + timedelta(minutes=1)) == 1
    assert [e.status for e in _events_of(session)] == ["done"]
    assert _balance(member) == 10


def test_a_return_seen_by_both_paths_refunds_its_certificate_once(session, member, fake_ms):
    """Issue 18, item 3: the till's sale pays 150 of 200 with a certificate; its whole return
    comes by webhook first, then by the till's Loyalty API call: the certificate is back at
    its nominal with exactly one refund posting, and a repeat changes nothing."""
    now = utcnow()
    certificates.issue(session, member.tenant_id, {"nominal": 50000, "numbers": ["7770001"]}, now)
    certificates.activate(session, member.tenant_id, "7770001", "sold-7770001", now, now)
    doc_id, ret = str(uuid4()), str(uuid4())
    sale = {"retailStore": RETAIL_STORE, "name": "00010", "moment": local_moment(),
            "meta": {"href": f"{JSON_API}/entity/retaildemand/{doc_id}", "id": doc_id},
            "agent": agent(MEMBER_MS, phone=PHONE),
            "positions": [position(P1, 100, 2, discountPercent=0, discountedPrice=100)],
            "bonusProgram": {"bonusValueToSpend": 0, "bonusValueToEarn": 20}, "cashSum": 50, "noCashSum": 0,
            "giftCards": [{"id": "card-1", "name": "7770001", "paymentSum": 15000}]}
    assert member.post("/retaildemand", sale).status_code == 201

    def cert() -> tuple[int, list[str]]:
        row = session.scalars(select(GiftCertificate).where(GiftCertificate.tenant_id == member.tenant_id,
                                                            GiftCertificate.number == "7770001")
                              .execution_options(populate_existing=True)).one()
        refs = list(session.scalars(select(CertificatePosting.reference).where(
            CertificatePosting.certificate_id == row.id, CertificatePosting.kind == "restore")))
        session.rollback()
        return row.balance, refs

    assert cert() == (35000, [])
    fake_ms.retailsalesreturn(ret, doc_id, agent=_counterparty(MEMBER_MS, PHONE), positions=[_row(P1, 10000.0, 2)])
    _deliver(member, _events(("retailsalesreturn", ret, "CREATE")))
    one = (50000, [f"sale:moysklad:{doc_id}:7770001\x1freturn:moysklad:{ret}"])
    assert cert() == one
    back = {"retailStore": RETAIL_STORE, "name": "00011", "moment": local_moment(),
            "meta": {"href": "x", "id": ret}, "demand": {"meta": {"href": "x", "id": doc_id}},
            "agent": {"href": "x", "id": MEMBER_MS}, "positions": [position(P1, 100, 2)]}
    assert member.post("/retailsalesreturn", back).status_code == 201
    assert cert() == one
    assert member.post("/retailsalesreturn", back).status_code == 201
    _deliver(member, _events(("retailsalesreturn", ret, "CREATE")))
    assert cert() == one
