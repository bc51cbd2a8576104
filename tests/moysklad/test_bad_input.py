"""Bad input on every Loyalty API call: МойСклад's error format, the right status, a
Russian message, and nothing written."""
from __future__ import annotations

import copy
from uuid import uuid4

import pytest

from connectors.registry import create_connection
from hub.certificates import operations as certificates
from hub.customers.operations import register_customer
from hub.tenants.operations import create_tenant
from hub.moments import utcnow
from tests.moysklad.conftest import RETAIL_STORE, STORE_ID, agent, assert_ms_error, counts, local_moment, position

MEMBER_MS = "0a1b2c3d-0000-4000-8000-000000000001"
SALE = "0a1b2c3d-0000-4000-8000-0000000000aa"
PRODUCT = "0a1b2c3d-0000-4000-8000-0000000000bb"


def _href(kind: str, ident: str) -> dict:
    return {"href": f"https://api.moysklad.ru/api/remap/1.2/entity/{kind}/{ident}", "id": ident}


GOOD = {
    ("POST", "/counterparty"): lambda: {"retailStore": RETAIL_STORE, "meta": _href("counterparty", str(uuid4())),
                                        "name": "Новый Покупатель", "phone": "+79160000002"},
    ("GET", "/counterparty"): lambda: {"search": "9160000001", "retailStoreId": STORE_ID},
    ("POST", "/counterparty/detail"): lambda: {"retailStore": RETAIL_STORE, "meta": agent(MEMBER_MS)["meta"]},
    ("POST", "/counterparty/verify"): lambda: {"meta": {"href": "https://x/counterparty/1"}, "phone": "+79160000003"},
    ("POST", "/retaildemand/recalc"): lambda: {
        "retailStore": RETAIL_STORE, "agent": agent(MEMBER_MS),
        "positions": [position(PRODUCT, 100, 2)], "bonusProgram": {"transactionType": "EARNING"}},
    ("POST", "/retaildemand/verify"): lambda: {"retailStore": RETAIL_STORE, "counterpartyId": MEMBER_MS},
    ("POST", "/retaildemand"): lambda: {
        "retailStore": RETAIL_STORE, "name": "00002", "moment": local_moment(),
        "meta": _href("retaildemand", str(uuid4())), "agent": agent(MEMBER_MS),
        "positions": [position(PRODUCT, 100, 2, discountPercent=0, discountedPrice=100)],
        "bonusProgram": {"bonusValueToSpend": 0, "bonusValueToEarn": 20}, "cashSum": 200, "noCashSum": 0},
    ("POST", "/retailsalesreturn"): lambda: {
        "retailStore": RETAIL_STORE, "name": "00003", "moment": local_moment(),
        "meta": _href("retailsalesreturn", str(uuid4())), "demand": {"meta": _href("retaildemand", SALE)},
        "agent": {"href": agent(MEMBER_MS)["meta"]["href"], "id": MEMBER_MS},
        "positions": [position(PRODUCT, 100, 1)], "cashSum": 100, "noCashSum": 0},
    ("GET", "/giftcard"): lambda: {"name": "1230", "retailStoreId": STORE_ID},
}
CALLS = list(GOOD)


@pytest.fixture
def shop(session, ms):
    register_customer(session, ms.tenant_id, {"phone": "+79160000001"}, source="test", moment=utcnow())
    # The certificate GOOD's /giftcard asks about (an unknown number is a 404).
    certificates.issue(session, ms.tenant_id, {"nominal": 1000, "numbers": ["1230"]}, utcnow())
    sale = GOOD[("POST", "/retaildemand")]()
    sale["meta"] = _href("retaildemand", SALE)
    sale["agent"] = agent(MEMBER_MS, phone="+79160000001")     # the first sale links the МойСклад id
    assert ms.post("/retaildemand", sale).status_code == 201
    return ms


def _call(ms, method: str, path: str, body: dict, token=...):
    if method == "GET":
        return ms.get(path, body, token=token)
    return ms.post(path, body, token=token)


@pytest.mark.parametrize("method,path", CALLS)
def test_the_good_request_works(session, shop, method, path):
    r = _call(shop, method, path, GOOD[(method, path)]())
    assert r.status_code in (200, 201), r.get_json()


@pytest.mark.parametrize("method,path", CALLS)
@pytest.mark.parametrize("token", [None, "", "wrong-token", "other-connection"])
def test_wrong_or_missing_token(session, shop, method, path, token):
    if token == "other-connection":
        other, _ = create_tenant(session, "Другой магазин")
        session.commit()
        _, token = create_connection(session, other.id, kind="moysklad", external_account=str(uuid4()))
        session.commit()
    before = counts(session)
    err = assert_ms_error(_call(shop, method, path, GOOD[(method, path)](), token=token), 401)
    assert err["code"] == 29001
    assert counts(session) == before


def test_a_token_for_another_connection_url(session, shop):
    r = shop.client.post(f"/moysklad/loyalty/{uuid4()}/counterparty/detail", json=GOOD[("POST", "/counterparty/detail")](),
                         headers=shop.headers())
    assert_ms_error(r, 401)


@pytest.mark.parametrize("method,path,parameter", [
    ("POST", "/counterparty", "retailStore"), ("GET", "/counterparty", "retailStoreId"),
    ("POST", "/counterparty/detail", "retailStore"), ("POST", "/retaildemand/recalc", "retailStore"),
    ("POST", "/retaildemand/verify", "retailStore"), ("POST", "/retaildemand", "retailStore"),
    ("POST", "/retailsalesreturn", "retailStore"), ("GET", "/giftcard", "retailStoreId")])
def test_missing_retail_store(session, shop, method, path, parameter):
    body = GOOD[(method, path)]()
    body.pop(parameter)
    before = counts(session)
    err = assert_ms_error(_call(shop, method, path, body), 400, parameter)
    assert err["code"] == 29002
    assert counts(session) == before
    if method == "POST":      # a retail store without its id is no better
        body[parameter] = {"name": "Магазин №1", "meta": {"href": ""}}
        assert_ms_error(_call(shop, method, path, body), 400, f"{parameter}.meta.id")
        assert counts(session) == before


POSITIONS = [("POST", "/retaildemand/recalc"), ("POST", "/retaildemand"), ("POST", "/retailsalesreturn")]


@pytest.mark.parametrize("method,path", POSITIONS)
@pytest.mark.parametrize("positions,parameter", [
    ("not a list", "positions"),
    ([], "positions"),
    (["not an object"], "positions[0]"),
    ([{"quantity": 1, "price": 10}], "positions[0].assortment"),
    ([{"assortment": {"meta": {}}, "quantity": 1, "price": 10}], "positions[0].assortment.meta.id"),
    ([{"assortment": {"meta": {"id": PRODUCT}}, "quantity": "много", "price": 10}], "positions[0].quantity"),
    ([{"assortment": {"meta": {"id": PRODUCT}}, "quantity": 1, "price": 10.001}], "positions[0].price"),
    ([{"assortment": {"meta": {"id": PRODUCT}}, "quantity": 1, "price": -10}], "positions[0].price"),
    ([{"assortment": {"meta": {"id": PRODUCT}}, "quantity": 2, "price": 10, "sn": [{"name": "1"}]}],
     "positions[0].sn"),
])
def test_malformed_positions(session, shop, method, path, positions, parameter):
    body = GOOD[(method, path)]()
    body["positions"] = positions
    before = counts(session)
    if path == "/retailsalesreturn" and positions == []:
        pytest.skip("a return without positions returns everything left")
    assert_ms_error(_call(shop, method, path, body), 400, parameter)
    assert counts(session) == before


@pytest.mark.parametrize("method,path", POSITIONS)
@pytest.mark.parametrize("quantity", [-1, 0, 1.0001])
def test_bad_quantity(session, shop, method, path, quantity):
    body = GOOD[(method, path)]()
    body["positions"] = [position(PRODUCT, 100, quantity)]
    before = counts(session)
    err = assert_ms_error(_call(shop, method, path, body), 400, "positions[0].quantity")
    assert "количество" in err["error_message"] or "знаков" in err["error_message"]
    assert counts(session) == before


@pytest.mark.parametrize("method,path,mutate,parameter", [
    ("POST", "/counterparty/detail", lambda b: b.update(meta=agent(str(uuid4()))["meta"]), "meta.id"),
    ("POST", "/retaildemand/recalc", lambda b: b.update(agent=agent(str(uuid4()), phone="+79169999999")), "agent"),
    ("POST", "/retaildemand/verify", lambda b: b.update(counterpartyId=str(uuid4())), "counterpartyId"),
    ("POST", "/retaildemand", lambda b: b.update(agent=agent(str(uuid4()), discountCardNumber="0000")), "agent"),
])
def test_unknown_counterparty(session, shop, method, path, mutate, parameter):
    body = GOOD[(method, path)]()
    mutate(body)
    before = counts(session)
    err = assert_ms_error(_call(shop, method, path, body), 404, parameter)
    assert err["code"] == 29003
    assert counts(session) == before


def test_unknown_sale_of_a_member_return(session, shop):
    body = GOOD[("POST", "/retailsalesreturn")]()
    body["demand"] = {"meta": _href("retaildemand", str(uuid4()))}
    before = counts(session)
    assert_ms_error(shop.post("/retailsalesreturn", body), 404, "demand.meta.id")
    assert counts(session) == before


def test_sale_asks_too_much(session, shop):
    before = counts(session)
    body = GOOD[("POST", "/retaildemand")]()
    body["bonusProgram"]["bonusValueToSpend"] = 50        # the member has 20 bonuses
    body["positions"][0].update(discountedPrice=75, discountPercent=25)
    err = assert_ms_error(shop.post("/retaildemand", body), 412, "bonusProgram.bonusValueToSpend")
    assert err["code"] == 29005
    body = GOOD[("POST", "/retaildemand")]()
    body["positions"][0].update(discountedPrice=90, discountPercent=10)   # a discount nobody allowed
    assert assert_ms_error(shop.post("/retaildemand", body), 412, "positions")["code"] == 29006
    body = GOOD[("POST", "/retaildemand")]()
    body["bonusProgram"]["bonusValueToSpend"] = 10        # spent, but not taken off the prices
    assert assert_ms_error(shop.post("/retaildemand", body), 412, "positions")["code"] == 29006
    body = GOOD[("POST", "/retaildemand")]()
    del body["agent"]
    body["bonusProgram"]["bonusValueToSpend"] = 10
    assert_ms_error(shop.post("/retaildemand", body), 412, "agent")
    assert counts(session) == before


def test_the_same_sale_id_with_different_content_is_a_conflict(session, shop):
    body = GOOD[("POST", "/retaildemand")]()
    body["meta"] = _href("retaildemand", SALE)
    body["positions"] = [position(PRODUCT, 100, 3, discountPercent=0, discountedPrice=100)]
    before = counts(session)
    assert assert_ms_error(shop.post("/retaildemand", body), 409)["code"] == 29007
    assert counts(session) == before


def test_bad_fields(session, shop):
    before = counts(session)
    body = GOOD[("POST", "/counterparty")]()
    assert_ms_error(shop.post("/counterparty", {**body, "phone": "12"}), 400, "phone")
    assert_ms_error(shop.post("/counterparty", {k: v for k, v in body.items() if k != "phone"}), 400, "phone")
    assert_ms_error(shop.post("/counterparty", {**body, "sex": "X"}), 400, "sex")
    assert_ms_error(shop.post("/counterparty", {**body, "birthDate": "вчера"}), 400, "birthDate")
    recalc = GOOD[("POST", "/retaildemand/recalc")]()
    assert_ms_error(shop.post("/retaildemand/recalc", {**recalc, "bonusProgram": {"transactionType": "X"}}),
                    400, "bonusProgram.transactionType")
    del recalc["agent"]
    assert_ms_error(shop.post("/retaildemand/recalc", recalc), 400, "agent")
    sale = GOOD[("POST", "/retaildemand")]()
    assert_ms_error(shop.post("/retaildemand", {**sale, "moment": "18.04.2016"}), 400, "moment")
    assert_ms_error(shop.post("/retaildemand", {**sale, "moment": "2999-01-01 00:00:00"}), 400, "moment")
    assert_ms_error(shop.post("/retaildemand", {**sale, "cashSum": "сто"}), 400, "cashSum")
    assert_ms_error(shop.post("/retaildemand", {**sale, "meta": {"href": "", "id": ""}}), 400, "meta.id")
    bad = copy.deepcopy(sale)
    bad["positions"][0]["discountPercent"] = 150
    assert_ms_error(shop.post("/retaildemand", bad), 400, "positions[0].discountPercent")
    assert counts(session) == before
