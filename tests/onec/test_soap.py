"""SOAP for 1С extensions: zeep stands in for 1С's WS-ссылка, over real HTTP against a
running hub, on the SOAP 1.1 and SOAP 1.2 ports, with Cyrillic data."""
from __future__ import annotations

import socket
import threading
from decimal import Decimal

import pytest
import requests
from werkzeug.serving import make_server

from tests.onec.conftest import CARD, LOGIN, PASSWORD, PHONE, balance, counts

zeep = pytest.importorskip("zeep")


@pytest.fixture
def hub_url(app, session):
    """The app served on 127.0.0.1 at a free port, in a thread (one request at a time, so the
    test's database connection is never used by two threads at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = make_server("127.0.0.1", port, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(5)


def _client(hub_url: str, connection_id: str, port: str):
    from zeep.transports import Transport
    http = requests.Session()
    http.auth = (LOGIN.encode(), PASSWORD.encode())   # a Cyrillic login, UTF-8
    client = zeep.Client(f"{hub_url}/onec/{connection_id}/ws/loyalty?wsdl", transport=Transport(session=http),
                         service_name="KopilkaLoyalty", port_name=port)
    return client


def _receipt(receipt_id: str, spend=None, card=CARD) -> dict:
    return {"receiptId": receipt_id, "card": card, "store": "Магазин на Ленина", "cashier": "Иванова",
            "spendBonuses": spend,
            "position": [{"id": "1", "product": "кофе-1", "name": "Капучино «Большой»", "price": Decimal("250.00"),
                          "quantity": Decimal("2")},
                         {"id": "2", "name": "Торт", "price": Decimal("300.00"), "quantity": Decimal("1")}]}


@pytest.mark.parametrize("port", ["KopilkaLoyaltySoap", "KopilkaLoyaltySoap12"])
def test_zeep_story_both_ports(onec, session, hub_url, port):
    client = _client(hub_url, onec.connection_id, port)
    found = client.service.FindCustomer(card=CARD)
    assert found.found is True and found.name == "Смирнова Анна" and found.balance == Decimal("500.00")
    quote = client.service.Calculate(receipt=_receipt("чек-0001", Decimal("100")))
    assert quote.bonusSpent == Decimal("100.00") and quote.levelDiscount == Decimal("40.00")
    assert sum(p.discount for p in quote.position) == quote.discount
    assert balance(session, onec.tenant_id, onec.customer_id) == 40000          # 100 ₽ held
    done = client.service.Confirm(receipt=_receipt("чек-0001", Decimal("100")))
    assert done.repeated is False and done.bonusSpent == Decimal("100.00")
    again = client.service.Confirm(receipt=_receipt("чек-0001", Decimal("100")))
    assert again.repeated is True
    after = balance(session, onec.tenant_id, onec.customer_id)
    assert after == 50000 - 10000 + int(done.bonusEarned * 100)
    refund = client.service.Refund(refundId="возврат-1", receiptId="чек-0001", line=[{"id": "2", "quantity": 1}])
    assert refund.repeated is False and refund.amountReturned > 0
    # a held quote cancelled gives the bonuses back
    client.service.Calculate(receipt=_receipt("чек-0002", Decimal("50")))
    released = client.service.Cancel(receiptId="чек-0002", card=CARD)
    assert released.released == Decimal("50.00")
    new = client.service.RegisterCustomer(phone="+7 903 555-00-11", card="2000000000022", lastName="Петров",
                                          firstName="Пётр")
    assert new.found is True and new.name == "Петров Пётр"
    assert client.service.GetBalance(phone=PHONE).balance == \
        Decimal(balance(session, onec.tenant_id, onec.customer_id)) / 100


@pytest.mark.parametrize("port", ["KopilkaLoyaltySoap", "KopilkaLoyaltySoap12"])
def test_faults_are_russian_and_write_nothing(onec, session, hub_url, port):
    client = _client(hub_url, onec.connection_id, port)
    before = counts(session, onec.tenant_id)
    with pytest.raises(zeep.exceptions.Fault) as err:
        client.service.Calculate(receipt=_receipt("чек-9", Decimal("100"), card="нет-такой"))
    assert "не найден" in err.value.message
    with pytest.raises(zeep.exceptions.Fault) as err:
        client.service.Confirm(receipt=_receipt("чек-9", Decimal("100000")))
    assert "Нельзя списать" in err.value.message or "бонус" in err.value.message
    with pytest.raises(zeep.exceptions.Fault):
        client.service.Refund(refundId="в-1", receiptId="нет-чека")
    assert counts(session, onec.tenant_id) == before


def test_raw_bad_requests(onec, session, hub_url):
    url = f"{hub_url}/onec/{onec.connection_id}/ws/loyalty"
    auth = (LOGIN.encode(), PASSWORD.encode())
    before = counts(session, onec.tenant_id)
    assert requests.get(url + "?wsdl", timeout=5).status_code == 401
    assert requests.post(url, data=b"<x/>", auth=("a", "b"), timeout=5).status_code == 401
    bomb = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
            b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
            b'<m:GetBalance xmlns:m="http://kopilka.ru/1c/loyalty"><m:card>&b;</m:card></m:GetBalance>'
            b'</soap:Body></soap:Envelope>')
    for body in (b"not xml", b"<a/>", bomb,
                 b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
                 b'<m:Calculate xmlns:m="http://kopilka.ru/1c/loyalty"><m:receipt/></m:Calculate></soap:Body></soap:Envelope>'):
        r = requests.post(url, data=body, auth=auth, headers={"Content-Type": "text/xml; charset=utf-8"}, timeout=5)
        assert r.status_code == 500 and b"Fault" in r.content, r.text
        assert "faultstring" in r.text
    assert counts(session, onec.tenant_id) == before
