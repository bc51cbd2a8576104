"""The database refuses connections: every surface answers 503 with Retry-After, each in its
own error format (issue 17, item 6). The app's session is bound to a PostgreSQL port nobody
listens on; the requests carry credentials of the right shape, so each view gets as far as
its first query (authentication) before the database is needed."""
from __future__ import annotations

import base64
import uuid

import pytest
from lxml import etree

CONN = str(uuid.uuid4())
TENANT = str(uuid.uuid4())
BASIC = {"Authorization": "Basic " + base64.b64encode(b"kassa:secret").decode()}


@pytest.fixture
def down(database_down):
    """A test client of the app whose database refuses connections (tests/conftest.py)."""
    return database_down.test_client()


def _unavailable(response, content_type: str) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.headers["Retry-After"].isdigit() and int(response.headers["Retry-After"]) > 0
    assert response.content_type.startswith(content_type), response.content_type


@pytest.mark.parametrize("path, body", [
    ("retaildemand", {"agent": {"meta": {"href": "x"}}, "positions": []}),
    ("retaildemand/recalc", {"positions": []}),
    ("counterparty/detail", {"meta": {"href": "x"}}),
    ("giftcard?name=123", None),
])
def test_moysklad_loyalty_api(down, path, body):
    """Was 500 with code 29010: the view's catch-all answered before the hub's handler."""
    headers = {"Lognex-Discount-API-Auth-Token": "a" * 40}
    if body is None:
        response = down.get(f"/moysklad/loyalty/{CONN}/{path}", headers=headers)
    else:
        response = down.post(f"/moysklad/loyalty/{CONN}/{path}", json=body, headers=headers)
    _unavailable(response, "application/json")
    [error] = response.get_json()["errors"]
    assert error["code"] == 29010 and error["error"] == "Сервис временно недоступен"
    assert "недоступна" in error["error_message"]


def test_moysklad_json_api_webhook(down):
    response = down.post(f"/moysklad/webhook/{CONN}/{'s' * 32}", json={"events": []})
    _unavailable(response, "application/json")
    [error] = response.get_json()["errors"]
    assert error["code"] == 29010 and "недоступна" in error["error_message"]


def test_evotor_cloud_terminal_and_documents(down):
    # Installation events accept a user's own token: looking it up needs the database.
    cloud = down.post("/evotor/api/v2/installation/event", json={"type": "ApplicationInstalled"},
                      headers={"Authorization": "Bearer some-user-token"})
    _unavailable(cloud, "application/json")
    assert cloud.get_json()["errors"][0]["reason"] == "unavailable"
    terminal = down.post("/evotor/app/v1/receipts/quote", json={"positions": []},
                         headers={"Authorization": "Bearer some-user-token"})
    _unavailable(terminal, "application/json")
    assert terminal.get_json()["error"]["code"] == "database_unavailable"
    documents = down.post("/evotor/api/v2/documents", json=[], headers={"Authorization": "Bearer nobody"})
    _unavailable(documents, "application/json")
    assert "errors" in documents.get_json()


def test_onec_loyalty_server_answers_plain_text(down):
    response = down.get(f"/onec/{CONN}/hs/loyaltyservice/getclientbonuses?CardNumber=1", headers=BASIC)
    _unavailable(response, "text/plain")
    assert "недоступна" in response.get_data(as_text=True)


@pytest.mark.parametrize("version, ctype, code", [
    ("http://schemas.xmlsoap.org/soap/envelope/", "text/xml", "faultcode"),
    ("http://www.w3.org/2003/05/soap-envelope", "application/soap+xml", "Code"),
])
def test_onec_soap_answers_a_server_fault(down, version, ctype, code):
    """Was the API's JSON: authentication runs before the view's own try."""
    envelope = (f'<soap:Envelope xmlns:soap="{version}"><soap:Body>'
                f'<m:GetBalance xmlns:m="http://kopilka.ru/loyalty"><m:card>1</m:card></m:GetBalance>'
                f'</soap:Body></soap:Envelope>')
    response = down.post(f"/onec/{CONN}/ws/loyalty", data=envelope,
                         headers={**BASIC, "Content-Type": f"{ctype}; charset=utf-8"})
    _unavailable(response, ctype)
    doc = etree.fromstring(response.get_data())
    [fault] = doc.iter(f"{{{version}}}Fault")
    text = "".join(fault.itertext())
    assert ("soap:Server" in text or "soap:Receiver" in text) and "недоступна" in text


def test_onec_catalog_exchange_answers_failure(down):
    response = down.get(f"/onec/{CONN}/exchange?type=catalog&mode=checkauth", headers=BASIC)
    _unavailable(response, "text/plain")
    assert response.get_data(as_text=True).startswith("failure\n")


def test_public_api(down):
    response = down.post("/api/v1/receipts", json={"external_id": "R-1", "positions": []},
                         headers={"Authorization": "Bearer kp_test-key-0123456789"})
    _unavailable(response, "application/json")
    assert response.get_json()["error"]["code"] == "database_unavailable"


@pytest.mark.parametrize("path", ["/telegram/w1", "/max/w1", "/sms/w1/status", "/sms/w1/inbound"])
def test_messaging_webhooks(down, path):
    response = down.post(f"/notify{path}", json={"message": {"chat": {"id": 1}}})
    _unavailable(response, "application/json")
    assert response.get_json()["error"]["code"] == "database_unavailable"


def test_unsubscribe_link_is_a_russian_page(down):
    from hub.notify.outbox import unsubscribe_token
    response = down.get(f"/notify/u/{TENANT}/{unsubscribe_token(TENANT, str(uuid.uuid4()))}")
    _unavailable(response, "text/html")
    assert "Сервис временно недоступен" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/cabinet/", "/cabinet/clients", "/cashier/"])
def test_signed_in_cabinet_pages_are_a_russian_page(down, path, monkeypatch):
    """A signed-in user's page loads the user first: the database is needed before the view."""
    # "basic" keeps a session whose client fingerprint the test cannot reproduce exactly.
    monkeypatch.setitem(down.application.config, "SESSION_PROTECTION", "basic")
    with down.session_transaction() as web_session:
        web_session.update({"_user_id": str(uuid.uuid4()), "_fresh": True})
    page = down.get(path)
    _unavailable(page, "text/html")
    html = page.get_data(as_text=True)
    assert "Сервис временно недоступен" in html and "<html" in html.lower()
    fragment = down.get(path, headers={"HX-Request": "true"})
    _unavailable(fragment, "text/html")
    assert "Сервис временно недоступен" in fragment.get_data(as_text=True)


def test_participant_cabinet_is_a_russian_page(down):
    page = down.get(f"/my/{TENANT}/")
    _unavailable(page, "text/html")
    assert "Сервис временно недоступен" in page.get_data(as_text=True)
