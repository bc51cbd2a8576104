"""Contract tests of the nine Loyalty API calls, built from the official docs' examples
(moysklad/api-loyalty-1.0-doc): statuses, required fields, arithmetic."""
from __future__ import annotations

import copy
from datetime import datetime, timezone
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from hub.customers.bonuses import adjust_bonuses
from hub.customers.operations import register_customer
from hub.programs.operations import put_program
from hub.receipts.operations import line_amount
from tests.codes import code_of, last_code_message
from tests.moysklad.conftest import (
    PROGRAM, RETAIL_STORE, STORE_ID, agent, assert_ms_error, counts, local_moment, position,
    set_settings,
)

NOW = datetime.now(timezone.utc)
DOC_AGENT_ID = "276a6f50-7ffd-11e6-8a84-bae50000005"   # as written in the docs
DOC_CARD = "MTIzNDU2Nzg5MA"
PRODUCT = "9c56720c-e8a7-4fdc-aea4-7104f28207be"

# The docs' examples, verbatim where they are valid JSON.
DOC_COUNTERPARTY = {
    "retailStore": {"meta": {"href": "https://online.moysklad.ru/api/remap/1.1/entity/retailstore/2b5eb22f-139e-11e6-9464-e4de00000073",
                             "id": "2b5eb22f-139e-11e6-9464-e4de00000073"}, "name": "Магазин №1"},
    "meta": {"href": "https://online.moysklad.ru/api/remap/1.1/entity/counterparty/276a6f50-7ffd-11e6-8a84-bae50000005",
             "id": "276a6f50-7ffd-11e6-8a84-bae50000005"},
    "name": "Иванов Иван Иванович", "discountCardNumber": "MTIzNDU2Nzg5MA", "phone": "+7 555 123 4568",
    "email": "email@example.com", "syncId": "6ebefb74-f6e3-4ef1-b155-5232a2ae396a",
    "legalFirstName": "Иванов", "legalMiddleName": "Иван", "legalLastName": "Иванович",
    "birthDate": "2023-07-14 00:00:00", "sex": "MALE", "statusCheck": "CHECKED",
}
DOC_RECALC = {
    "retailStore": {"meta": {"href": "https://api.moysklad.ru/api/remap/1.2/entity/retailstore/2b5eb22f-139e-11e6-9464-e4de00000073",
                             "id": "2b5eb22f-139e-11e6-9464-e4de00000073"}, "name": "Магазин №1"},
    "agent": {"meta": {"href": "https://api.moysklad.ru/api/remap/1.2/entity/counterparty/276a6f50-7ffd-11e6-8a84-bae50000005",
                       "id": "276a6f50-7ffd-11e6-8a84-bae50000005"},
              "name": "Иванов Иван Иванович", "discountCardNumber": "MTIzNDU2Nzg5MA",
              "phone": "+7 555 123 4567", "email": "email@example.com", "legalFirstName": "Иванов",
              "legalMiddleName": "Иван", "legalLastName": "Иванович", "sex": "MALE",
              "birthDate": "2023-07-14 00:00:00"},
    "positions": [{"assortment": {"meta": {"href": "https://api.moysklad.ru/api/remap/1.2/entity/product/9c56720c-e8a7-4fdc-aea4-7104f28207be",
                                           "id": "9c56720c-e8a7-4fdc-aea4-7104f28207be"}},
                   "quantity": 123.456, "price": 123.45,
                   "sn": [{"meta": {"href": "https://online.moysklad.ru/api/posap/1.0/entity/sn/2b5eb22f-139e-11e6-9464-e4de00000073",
                                    "id": "2b5eb22f-139e-11e6-9464-e4de00000073"}, "name": "7895545"}],
                   "pack": {"id": "98f87a95-c0b6-11ee-0a80-06e1000360e2", "name": "Бутылка 1,5 л",
                            "quantity": 1.5, "barcode": "2000000051420"}}],
    "bonusProgram": {"transactionType": "EARNING"},
}
DOC_RETAILDEMAND = {
    "retailStore": DOC_RECALC["retailStore"], "name": "00001", "moment": "2016-04-18 15:06:00",
    "meta": {"href": "", "id": ""}, "agent": DOC_RECALC["agent"],
    "positions": [{"assortment": {"syncId": "f085d67e-6eae-11e6-8a84-bc520403352a",
                                  "meta": {"href": "https://api.moysklad.ru/api/remap/1.2/entity/product/9c56720c-e8a7-4fdc-aea4-7104f28207be",
                                           "id": "9c56720c-e8a7-4fdc-aea4-7104f28207be"}},
                   "quantity": 123.456, "price": 123.45, "discountPercent": 49.99, "discountedPrice": 62.95}],
    "bonusProgram": {"bonusValueToSpend": 0, "bonusValueToEarn": 150},
    "cashSum": 62.95, "noCashSum": 283.1,
    "giftCards": [{"id": "f085d67e-6eae-21e6-8a84-bc520403352a", "name": "123456", "paymentSum": 1000},
                  {"id": "f275d67e-6eae-21e6-8a84-bc520403352a", "name": "1234567", "paymentSum": 500}],
}


def _member(session, ms, phone="+79039993344", card=DOC_CARD, bonuses=0, **profile):
    c = register_customer(session, ms.tenant_id, {"phone": phone, "card_number": card, **profile},
                          source="test", moment=NOW)
    if bonuses:
        adjust_bonuses(session, ms.tenant_id, c.id, amount=bonuses, kind="manual", reason="старт",
                       valid_days=None, moment=NOW, idempotency_key=None, source="test", body={})
    return c.id   # an id: objects of the shared session expire with every request


def _k(value) -> int:
    return int(Decimal(str(value)) * 100)


# --- POST /counterparty --------------------------------------------------------------------------

def test_create_counterparty_from_the_docs_example(session, ms):
    r = ms.post("/counterparty", DOC_COUNTERPARTY)
    # The docs' phone "+7 555 123 4568" is not a real number, and the phone is the identity.
    assert_ms_error(r, 400, "phone")
    r = ms.post("/counterparty", {**DOC_COUNTERPARTY, "phone": "+7 916 123 4568"})
    assert r.status_code == 201 and r.get_data() == b""
    rows = ms.get("/counterparty", {"search": "89161234568", "retailStoreId": STORE_ID}).get_json()["rows"]
    assert len(rows) == 1
    row = rows[0]
    UUID(row["id"])
    assert row["msId"] == DOC_COUNTERPARTY["meta"]["id"]
    assert row["phone"] == "+79161234568" and row["discountCardNumber"] == DOC_CARD
    assert row["legalFirstName"] == "Иванов" and row["sex"] == "MALE"
    assert row["birthDate"] == "2023-07-14 00:00:00"
    # A repeated create is not an error (the till may retry).
    assert ms.post("/counterparty", {**DOC_COUNTERPARTY, "phone": "+7 916 123 4568"}).status_code == 201


def test_create_requires_confirmation_when_the_connection_says_so(session, ms):
    set_settings(session, ms.connection_id, confirm_new_customers=True, return_code_to_pos=True)
    body = {**DOC_COUNTERPARTY, "phone": "+79161234568", "statusCheck": "UNCHECKED"}
    before = counts(session)
    err = assert_ms_error(ms.post("/counterparty", body), 412, "phone")
    assert err["code"] == 28001
    # CHECKED without any code sent is not enough either.
    assert assert_ms_error(ms.post("/counterparty", {**body, "statusCheck": "CHECKED"}), 412)["code"] == 28001
    assert counts(session) == before


# --- GET /counterparty ----------------------------------------------------------------------------

def test_search_by_phone_and_card(session, ms):
    cid = _member(session, ms, first_name="Иван", last_name="Иванов")
    by_phone = ms.get("/counterparty", {"search": "9039993344", "retailStoreId": STORE_ID})
    assert by_phone.status_code == 200
    assert by_phone.get_json() == {"rows": [{"id": cid, "name": "Иванов Иван", "discountCardNumber": DOC_CARD,
                                             "phone": "+79039993344", "legalFirstName": "Иван",
                                             "legalLastName": "Иванов"}]}
    by_card = ms.get("/counterparty", {"search": DOC_CARD, "retailStoreId": STORE_ID}).get_json()
    assert [r["id"] for r in by_card["rows"]] == [cid]
    nobody = ms.get("/counterparty", {"search": "Петров", "retailStoreId": STORE_ID})
    assert nobody.status_code == 200 and nobody.get_json() == {"rows": []}
    assert_ms_error(ms.get("/counterparty", {"search": "9039993344"}), 400, "retailStoreId")
    assert_ms_error(ms.get("/counterparty", {"retailStoreId": STORE_ID}), 400, "search")


# --- POST /counterparty/detail ---------------------------------------------------------------------

def test_detail_from_the_docs_example(session, ms):
    _member(session, ms, bonuses=50000)
    body = {"retailStore": DOC_COUNTERPARTY["retailStore"], "meta": DOC_COUNTERPARTY["meta"],
            "name": "Иванов Иван Иванович", "discountCardNumber": DOC_CARD, "phone": "+7 555 123 4567",
            "email": "email@example.com", "legalFirstName": "Иванов", "legalMiddleName": "Иванович",
            "legalLastName": "Иванов", "birthDate": "2023-07-14 00:00:00", "sex": "MALE"}
    r = ms.post("/counterparty/detail", body)
    assert r.status_code == 200
    assert r.get_json() == {"bonusProgram": {"agentBonusBalance": 500}}


# --- POST /counterparty/verify ---------------------------------------------------------------------

def test_counterparty_verify_from_the_docs_example(session, ms):
    body = {"meta": {"href": "https://online.moysklad.ru/api/posap/1.0/entity/counterparty/syncid/276a6f50-7ffd-11e6-8a84-bae50000005"},
            "name": "Ромашкова Варвара Никитична", "discountCardNumber": "09716398", "phone": "+79011231122",
            "email": "romashkova@fmail.com", "legalFirstName": "Варвара", "legalMiddleName": "Никитична",
            "legalLastName": "Ромашкова", "birthDate": "1992-08-01 00:00:00.000", "sex": "FEMALE"}
    r = ms.post("/counterparty/verify", body)
    assert r.status_code == 200
    answer = r.get_json()
    # verificationCode is required by the Loyalty API (the till compares it with what the
    # customer says) — and the code still went to the customer's phone.
    code = answer["verificationCode"]
    assert isinstance(code, str) and len(code) == 6 and code.isdigit()
    sms = last_code_message(session, ms.tenant_id)
    assert sms.recipient == "+79011231122" and code_of(sms) == code
    assert answer["messageForCashier"].startswith("Код отправлен на номер")
    assert answer["timeForRepeat"] == 60 and len(answer["messageForCashier"]) <= 140
    # Asking again at once is refused until timeForRepeat has passed.
    assert assert_ms_error(ms.post("/counterparty/verify", body), 412)["code"] == 29009


# --- POST /retaildemand/recalc ----------------------------------------------------------------------

def test_recalc_from_the_docs_example(session, ms):
    _member(session, ms, bonuses=50000)
    r = ms.post("/retaildemand/recalc", DOC_RECALC)
    assert r.status_code == 200, r.get_json()
    out = r.get_json()
    assert out["agent"] == DOC_RECALC["agent"]
    bp = out["bonusProgram"]
    # 123.456 x 123.45 = 15240.64 roubles; 10% accrual, nothing spent when EARNING.
    assert bp["transactionType"] == "EARNING"
    assert bp["agentBonusBalance"] == 500 and bp["bonusValueToSpend"] == 0 and bp["paidByBonusPoints"] == 0
    assert bp["bonusValueToEarn"] == 1524.06
    assert _k(bp["agentBonusBalanceAfter"]) == 50000 + 152406
    assert "Начислено бонусов: 1 524,06" in bp["receiptExtraInfo"]
    assert out["needVerification"] is False
    [pos] = out["positions"]
    assert pos["discountPercent"] == 0 and pos["discountedPrice"] == 123.45
    assert pos["quantity"] == 123.456 and pos["pack"] == DOC_RECALC["positions"][0]["pack"]
    assert pos["assortment"] == DOC_RECALC["positions"][0]["assortment"]


def test_recalc_spending_max_splits_positions_and_serials(session, ms):
    _member(session, ms, bonuses=100000)
    sn = [{"meta": {"href": f"https://x/sn/{i}", "id": str(uuid4())}, "name": f"SN{i}"} for i in range(3)]
    body = {"retailStore": RETAIL_STORE, "agent": agent(DOC_AGENT_ID, discountCardNumber=DOC_CARD),
            "positions": [position(PRODUCT, 10.01, 3, sn=sn), position("p-2", 99.99, 1)],
            "bonusProgram": {"transactionType": "SPENDING"}, "preferredBonusToSpend": None}
    out = ms.post("/retaildemand/recalc", body).get_json()
    bp = out["bonusProgram"]
    # 30.03 + 99.99; at most 50% of each line payable by bonuses: 15.01 + 49.99 = 65.00.
    assert bp["bonusValueToSpend"] == bp["paidByBonusPoints"] == 65
    # Earned on what is paid in money: 10% of 65.02 = 6.50.
    assert bp["bonusValueToEarn"] == 6.5
    assert bp["agentBonusBalance"] == 1000
    assert _k(bp["agentBonusBalanceAfter"]) == 100000 - 6500 + 650
    # The 3 x 10.01 line pays 15.01 → 2 x 5.01 + 1 x 5.00, its serial numbers split 2 + 1.
    first, second, third = out["positions"]
    assert (first["quantity"], first["discountedPrice"], second["quantity"], second["discountedPrice"]) == (2, 5.01, 1, 5.0)
    assert first["sn"] == sn[:2] and second["sn"] == sn[2:]
    assert [p["price"] for p in out["positions"]] == [10.01, 10.01, 99.99]
    assert third["discountedPrice"] == 50 and third["discountPercent"] == 49.99
    # The parts' discounts add up to the receipt's discount exactly.
    discount = sum(line_amount(_k(p["price"]), Decimal(str(p["quantity"])))
                   - line_amount(_k(p["discountedPrice"]), Decimal(str(p["quantity"])))
                   for p in out["positions"])
    assert discount == _k(bp["bonusValueToSpend"]) == 6500
    for p in out["positions"]:
        expected = Decimal(1 - p["discountedPrice"] / p["price"]) * 100
        assert abs(Decimal(str(p["discountPercent"])) - expected) < Decimal("0.01")


def test_recalc_preferred_spend_and_level_discount_add_up(session, ms):
    program = copy.deepcopy(PROGRAM)
    program["type"] = "bonus_discount"
    program["levels"][0]["discount"] = {"scheme": "percent", "percent": "5"}
    put_program(session, ms.tenant_id, program)
    _member(session, ms, bonuses=2000)
    body = {"retailStore": RETAIL_STORE, "agent": agent(DOC_AGENT_ID, phone="+7 903 999-33-44"),
            "positions": [position("a", 33.33, 3), position("b", 0.99, 7), position("c", 150, 1.25)],
            "bonusProgram": {"transactionType": "SPENDING"}, "preferredBonusToSpend": 15}
    out = ms.post("/retaildemand/recalc", body).get_json()
    bp = out["bonusProgram"]
    assert bp["bonusValueToSpend"] == 15 and bp["agentBonusBalance"] == 20
    assert _k(bp["agentBonusBalanceAfter"]) == 2000 - 1500 + _k(bp["bonusValueToEarn"])
    # 99.99 + 6.93 + 187.50 = 294.42; 5% level discount = 14.72; plus 15 bonuses.
    whole = [p for p in out["positions"] if p["assortment"]["meta"]["id"] != "c"]
    discount = sum(line_amount(_k(p["price"]), Decimal(str(p["quantity"])))
                   - line_amount(_k(p["discountedPrice"]), Decimal(str(p["quantity"]))) for p in whole)
    [weighed] = [p for p in out["positions"] if p["assortment"]["meta"]["id"] == "c"]
    weighed_discount = 18750 - line_amount(_k(weighed["discountedPrice"]), Decimal("1.25"))
    assert abs(discount + weighed_discount - (1472 + 1500)) <= 2   # a weighed line rounds its unit price
    assert "Скидка по карте: 14,72" in bp["receiptExtraInfo"]


def test_recalc_needs_verification_only_when_spending_and_switched_on(session, ms):
    _member(session, ms, bonuses=10000)
    body = {"retailStore": RETAIL_STORE, "agent": agent(DOC_AGENT_ID, discountCardNumber=DOC_CARD),
            "positions": [position(PRODUCT, 100, 1)], "bonusProgram": {"transactionType": "SPENDING"}}
    assert ms.post("/retaildemand/recalc", body).get_json()["needVerification"] is False
    set_settings(session, ms.connection_id, verify_spending=True)
    assert ms.post("/retaildemand/recalc", body).get_json()["needVerification"] is True
    earning = {**body, "bonusProgram": {"transactionType": "EARNING"}}
    out = ms.post("/retaildemand/recalc", earning).get_json()
    assert out["needVerification"] is False and out["bonusProgram"]["bonusValueToSpend"] == 0


# --- POST /retaildemand/verify -------------------------------------------------------------------

def test_demand_verify_from_the_docs_example(session, ms):
    cid = _member(session, ms, phone="+79011231122")
    set_settings(session, ms.connection_id, return_code_to_pos=True)
    body = {"retailStore": DOC_RECALC["retailStore"], "counterpartyId": cid, "phone": "+79011231122"}
    r = ms.post("/retaildemand/verify", body)
    assert r.status_code == 200
    answer = r.get_json()
    assert set(answer) == {"verificationCode", "timeForRepeat", "messageForCashier"}
    assert answer["verificationCode"].isdigit() and len(answer["verificationCode"]) == 6


# --- POST /retaildemand ---------------------------------------------------------------------------

def test_retaildemand_from_the_docs_example(session, ms):
    _member(session, ms)
    before = counts(session)
    # The example's meta is empty: the sale cannot be identified.
    assert_ms_error(ms.post("/retaildemand", DOC_RETAILDEMAND), 400, "meta.id")
    doc = {**DOC_RETAILDEMAND, "meta": {"href": "https://api.moysklad.ru/api/remap/1.2/entity/retaildemand/"
                                                 "0f1f1c51-6b2e-11ee-0a80-0b6b00000001",
                                         "id": "0f1f1c51-6b2e-11ee-0a80-0b6b00000001"}}
    # Its 49.99% discount is not something a bonus program without discounts allows.
    err = assert_ms_error(ms.post("/retaildemand", doc), 412, "positions")
    assert err["code"] == 29006
    assert counts(session) == before
    honest = copy.deepcopy(doc)
    honest["positions"][0].update(discountPercent=0, discountedPrice=123.45)
    # Its giftCards pay with the certificates 123456 and 1234567 (10 and 5 roubles): sold here.
    from hub.certificates import operations as certificates
    for number in ("123456", "1234567"):
        certificates.issue(session, ms.tenant_id, {"nominal": 1000, "numbers": [number]}, NOW)
        certificates.activate(session, ms.tenant_id, number, f"sale-{number}", NOW, NOW)
    r = ms.post("/retaildemand", honest)
    assert r.status_code == 201 and r.get_data() == b""
    after = counts(session)
    assert after["receipts"] == before["receipts"] + 1
    assert after["moysklad_counterparties"] == before["moysklad_counterparties"] + 1
    # The same document again: the first answer, nothing new.
    assert ms.post("/retaildemand", honest).status_code == 201
    assert counts(session) == after


# --- POST /retailsalesreturn ------------------------------------------------------------------------

def test_retailsalesreturn_of_a_sale(session, ms):
    _member(session, ms)
    sale_id = str(uuid4())
    sale = {"retailStore": RETAIL_STORE, "name": "00002", "moment": local_moment(),
            "meta": {"href": f"https://api.moysklad.ru/api/remap/1.2/entity/retaildemand/{sale_id}", "id": sale_id},
            "agent": agent(DOC_AGENT_ID, discountCardNumber=DOC_CARD),
            "positions": [position(PRODUCT, 500, 2, discountPercent=0, discountedPrice=500)],
            "bonusProgram": {"bonusValueToSpend": 0, "bonusValueToEarn": 100}, "cashSum": 1000, "noCashSum": 0}
    assert ms.post("/retaildemand", sale).status_code == 201
    return_id = str(uuid4())
    ret = {"retailStore": RETAIL_STORE, "name": "00001", "moment": local_moment(),
           "meta": {"href": f"https://api.moysklad.ru/api/remap/1.2/entity/retailsalesreturn/{return_id}", "id": return_id},
           "demand": {"meta": sale["meta"]}, "agent": {"href": sale["agent"]["meta"]["href"], "id": DOC_AGENT_ID},
           "positions": [position(PRODUCT, 500, 1)], "cashSum": 500, "noCashSum": 0}
    r = ms.post("/retailsalesreturn", ret)
    assert r.status_code == 201 and r.get_data() == b""
    detail = ms.post("/counterparty/detail", {"retailStore": RETAIL_STORE, "meta": agent(DOC_AGENT_ID)["meta"]})
    assert detail.get_json()["bonusProgram"]["agentBonusBalance"] == 50      # 100 earned, half returned
    assert ms.post("/retailsalesreturn", ret).status_code == 201              # a retry changes nothing
    assert ms.post("/counterparty/detail", {"retailStore": RETAIL_STORE, "meta": agent(DOC_AGENT_ID)["meta"]}
                   ).get_json()["bonusProgram"]["agentBonusBalance"] == 50
    # Returning more than is left is refused.
    more = {**ret, "meta": {"href": "x", "id": str(uuid4())}, "positions": [position(PRODUCT, 500, 2)]}
    assert assert_ms_error(ms.post("/retailsalesreturn", more), 412, "positions")["code"] == 29011


# --- GET /giftcard ----------------------------------------------------------------------------------

def test_giftcard_is_not_found_until_certificates_exist(ms):
    # A 200 must carry the certificate's `id` (required by the docs): without a certificate
    # the answer is the documented error array, never a 200 without `id`.
    r = ms.get("/giftcard", {"name": "123456", "retailStoreId": STORE_ID})
    assert r.status_code == 404 and "id" not in r.get_json()
    assert assert_ms_error(r, 404, "name")["code"] == 29012
    assert_ms_error(ms.get("/giftcard", {"retailStoreId": STORE_ID}), 400, "name")


@pytest.mark.parametrize("path", ["/counterparty", "/counterparty/detail", "/counterparty/verify",
                                  "/retaildemand/recalc", "/retaildemand/verify", "/retaildemand",
                                  "/retailsalesreturn"])
def test_every_post_call_answers_json_errors_for_a_non_object_body(ms, path):
    r = ms.client.post(ms.url(path), data="not json", content_type="application/json", headers=ms.headers())
    assert_ms_error(r, 400)
