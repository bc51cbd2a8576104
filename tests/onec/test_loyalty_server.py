"""The hub as 1С's «Сервер лояльности»: requests shaped as СерверЛояльностиПолучательДанных
builds them, answers read as the cash desk reads them."""
from __future__ import annotations

import json
from datetime import timedelta


from hub.clock import advance, frozen, utcnow
from onec.loyalty import CARD_NOT_FOUND, NO_COUNT, UNLOCKED, WRITTEN_OFF
from tests.onec.conftest import (
    CARD, ITEM_CAKE, ITEM_COFFEE, PHONE, balance, calc_body, counts, goods_line, set_settings,
)

BONUS_KEYS = {"Error", "ErrorMessage", "Version", "BonusCount", "BonusRate", "BonusCurrency", "PaymentPercent",
              "CardRef", "Barcode", "MagneticCode", "EndDate", "ClientNotFound"}


def _json(r) -> dict:
    assert r.status_code == 200, r.get_data(as_text=True)
    return json.loads(r.get_data(as_text=True))


def test_ping_and_automatic_discounts(onec):
    r = onec.call("GET", "ping")
    assert r.status_code == 200 and r.get_data(as_text=True) == "ok"
    body = _json(onec.call("GET", "useautomaticdiscounts"))
    assert body == {"Error": False, "ErrorMessage": "", "Version": body["Version"], "UseAutomaticDiscounts": True}
    assert tuple(int(x) for x in body["Version"].split(".")) > (3, 0, 5, 1)


def test_bad_credentials_401_nothing_written(onec, session):
    before = counts(session, onec.tenant_id)
    for headers in ({}, onec.auth(password="wrong"), onec.auth(login="кто-то"), {"Authorization": "Basic !!!"},
                    {"Authorization": "Bearer x"}):
        r = onec.client.get(onec.url("getclientbonuses", onec.bonus_params(ClientCardID=CARD)),
                            headers=headers)
        assert r.status_code == 401
        assert "WWW-Authenticate" in r.headers
    r = onec.client.get("/onec/00000000-0000-0000-0000-000000000000/hs/loyaltyservice/ping", headers=onec.auth())
    assert r.status_code == 401
    assert counts(session, onec.tenant_id) == before


def test_getclientbonuses_locks_then_answers_zero(onec, session):
    body = _json(onec.get("getclientbonuses", ClientCardID=CARD))
    assert set(body) == BONUS_KEYS
    assert body["ClientNotFound"] is False and body["Error"] is False
    assert body["BonusCount"] == 500 and body["BonusRate"] == 1 and body["PaymentPercent"] == 50
    assert body["CardRef"] == onec.customer_id and body["Barcode"] == CARD
    assert body["EndDate"] == "0001-01-01T00:00:00"
    assert balance(session, onec.tenant_id, onec.customer_id) == 0      # all of it held
    again = _json(onec.get("getclientbonuses", ClientCardID=CARD))
    assert again["BonusCount"] == 0 and again["ClientNotFound"] is False
    r = onec.post("unlockclientbonuses", ClientCardID=CARD)
    assert r.get_data(as_text=True) == UNLOCKED
    assert balance(session, onec.tenant_id, onec.customer_id) == 50000


def test_phone_with_plus_read_raw_and_email(onec):
    body = _json(onec.get("getclientbonuses", Phone=PHONE))     # "+7916…" unencoded: a plus
    assert body["ClientNotFound"] is False and body["CardRef"] == onec.customer_id
    onec.post("unlockclientbonuses", Phone=PHONE)
    body = _json(onec.get("getclientbonuses", Email="ANNA@example.ru"))
    assert body["ClientNotFound"] is False
    body = _json(onec.get("getclientbonuses", ClientCardID="999"))
    assert set(body) == BONUS_KEYS and body["ClientNotFound"] is True and body["BonusCount"] == 0


def test_findclientcard_shape_and_block(onec, session):
    params = {"ClientCardID": "", "Phone": PHONE, "Email": "", "BlockBonuses": "1", "ClientGUID": "", "CardGUID": ""}
    body = _json(onec.call("GET", "findclientcard", params))
    assert set(body) == {"Error", "ErrorMessage", "Version", "LoyaltyCardsList"}
    (card,) = body["LoyaltyCardsList"]
    assert set(card) == {"ClientName", "IsPerson", "DateOfBirth", "Phone", "Email", "Barcode", "MagneticCode",
                         "CardGUID", "ClientGUID", "IsBlocked", "BonusData", "SellCount", "SearchType", "Valid"}
    assert set(card["BonusData"]) == {"PaymentPercent", "BonusCount", "BonusRate", "BonusCurrency"}
    assert card["ClientName"] == "Смирнова Анна" and card["DateOfBirth"] == "1990-03-15T00:00:00"
    assert card["SearchType"] == "Телефон" and card["BonusData"]["BonusCount"] == 500
    assert balance(session, onec.tenant_id, onec.customer_id) == 0
    body = _json(onec.call("GET", "findclientcard", {**params, "Phone": "", "CardGUID": onec.customer_id}))
    assert body["LoyaltyCardsList"][0]["IsBlocked"] is True
    assert body["LoyaltyCardsList"][0]["BonusData"]["BonusCount"] == 0
    none = _json(onec.call("GET", "findclientcard", {**params, "Phone": "+70000000000"}))
    assert none["LoyaltyCardsList"] == []


def test_bare_arrays(onec):
    types = _json(onec.call("GET", "getcardtypes"))
    assert isinstance(types, list) and len(types) == 1
    assert {"CardTypeID", "CardTypeDescription", "IsPerson", "GenerateNumer", "Идентификатор",
            "ЭтоИменнаяКарта"} <= set(types[0])
    assert _json(onec.call("GET", "getcontrolleddiscountslist", {"MaxSale": "", "MaxMarkup": "", "Store": "",
                                                                "Client": "", "CardGUID": "",
                                                                "ClientCardID": "", "UseSelection": ""})) == []


def test_salesturnover(onec):
    body = _json(onec.get("salesturnover", ClientCardID=CARD))
    assert set(body) == {"Error", "ErrorMessage", "Version", "CardRef", "SellCount", "Barcode", "MagneticCode",
                         "ClientNotFound"}
    assert body["ClientNotFound"] is False and body["SellCount"] == 0


def test_gift_and_promo_resources_answer_not_found(onec):
    gift = _json(onec.call("GET", "getgiftcardinfo", {"GiftCardNumber": "123", "GiftCardUID": ""}))
    assert gift["Error"] is True and "не найден" in gift["ErrorMessage"]
    assert {"GiftCard", "GiftCardNumber", "GiftCardValue", "GiftCardBalance", "Blocked"} <= set(gift)
    assert _json(onec.call("GET", "checkgiftcard", {"GiftCardNumber": "1"}))["GiftCardUsed"] is False
    assert onec.call("POST", "writeoffgiftcard", {"GiftCardNumber": "1"}).get_data(as_text=True) == \
        "Подарочный сертификат не найден"
    promo = _json(onec.call("GET", "promocodeinfo", {"Promocode": "SALE"}))
    assert promo["PromocodeIsAvalible"] is False
    assert onec.call("POST", "unlockpromocode", {"Promocode": "SALE"}).status_code == 200


def test_calculatediscounts_get_with_bom_body_no_content_type(onec, session):
    goods = [goods_line("l-1", ITEM_COFFEE, "Капучино", 250, 2), goods_line("l-2", ITEM_CAKE, "Торт", 333.33, 1)]
    r = onec.calculate(calc_body(goods, [CARD]))
    body = _json(r)
    assert body["Error"] is False
    assert {"Goods", "DiscountsList", "Messages", "BonusesToAccrue", "Gifts", "PromocodesList",
            "CurrentDiscounts", "LoyaltyCardDescription", "Version"} <= set(body)
    g1, g2 = body["Goods"]
    for sent, got in zip(goods, body["Goods"]):
        assert got["LineUID"] == sent["LineUID"] and got["Item"] == sent["Item"]
        assert got["Variant"] == sent["Variant"] and got["Package"] == sent["Package"]
        assert got["Price"] == sent["Price"] and got["VATRate"] == sent["VATRate"]
    # 5 % level discount per line, exactly: 500.00 → 475.00, 333.33 → 316.66 (16.67 off)
    assert g1["Amount"] == 475 and g1["AmountOfAutomaticDiscount"] == 25
    assert round(g2["Amount"] + g2["AmountOfAutomaticDiscount"], 2) == 333.33
    assert [d["KeyRelation"] for d in body["DiscountsList"]] == [1, 2]
    assert body["DiscountsList"][0]["LineUID"] == "l-1"
    assert round(sum(d["Amount"] for d in body["DiscountsList"]), 2) == round(25 + g2["AmountOfAutomaticDiscount"], 2)
    assert [b["KeyRelation"] for b in body["BonusesToAccrue"]] == [1, 2]
    assert body["BonusesToAccrue"][0]["BonusCount"] == 47.5
    assert body["LoyaltyCardDescription"]["CardNotFound"] is False
    assert body["LoyaltyCardDescription"]["LoyaltyCard"]["CardGUID"] == onec.customer_id
    # VAT inside the discounted amount: 475 × 20/120
    assert g1["VATAmount"] == 79.17
    # nothing held without BlockBonuses
    assert balance(session, onec.tenant_id, onec.customer_id) == 50000


def test_calculatediscounts_russian_numbers_and_post(onec):
    line = goods_line("l-1", ITEM_COFFEE, "Кофе", 0, 0)
    line.update(Price="1\u00a0500,50", Count="2", PackagesCount="2", Amount="3\u00a0001", AmountOfManualDiscount="0")
    body = _json(onec.calculate(calc_body([line]), method="POST", bom=False))
    assert body["Error"] is False
    assert body["Goods"][0]["Amount"] == 3001 - 150.05   # anonymous: still the level discount of the base level
    # Issue 17, item 5: anonymous, so nothing to accrue and no bonus or card lines.
    assert not body.get("BonusesToAccrue"), body.get("BonusesToAccrue")
    assert not any(w in str(body) for w in ("Начислено бонусов", "Баланс бонусов", "Уровень карты", "До уровня")), body


def test_calculatediscounts_bad_input_error_true_nothing_written(onec, session):
    before = counts(session, onec.tenant_id)
    bad = [b"{not json", b"[1, 2]", json.dumps({"Goods": []}).encode(),
           json.dumps(calc_body([{"LineUID": "x", "Price": "дорого", "Count": 1}], [CARD])).encode(),
           json.dumps(calc_body([goods_line("a", ITEM_COFFEE, "К", 100, -1)], [CARD])).encode(),
           json.dumps(calc_body("not a list", [CARD])).encode(), b""]
    for raw in bad:
        r = onec.call("GET", "calculatediscounts", None, raw)
        body = _json(r)
        assert body["Error"] is True and body["ErrorMessage"], raw
        assert body["Version"]
    r = onec.call("GET", "calculatediscounts", None, json.dumps({"Goods": []}).encode())
    assert "ObjectTime" in _json(r)["ErrorMessage"]
    assert counts(session, onec.tenant_id) == before


def test_writeoff_and_unlock_texts(onec, session):
    assert onec.post("writeoffclientbonuses", ClientCardID="404", BonusesCount="10").get_data(as_text=True) == CARD_NOT_FOUND
    assert onec.post("writeoffclientbonuses", ClientCardID=CARD, BonusesCount="").get_data(as_text=True) == NO_COUNT
    assert onec.post("writeoffclientbonuses", ClientCardID=CARD, BonusesCount="0").get_data(as_text=True) == NO_COUNT
    assert onec.post("unlockclientbonuses", ClientCardID="404").get_data(as_text=True) == CARD_NOT_FOUND
    # no calculation with this card yet: refused, nothing spent
    before = counts(session, onec.tenant_id)
    text = onec.post("writeoffclientbonuses", ClientCardID=CARD, BonusesCount="10").get_data(as_text=True)
    assert text != "Бонусы успешно списаны" and text.startswith("Бонусы не списаны")
    assert counts(session, onec.tenant_id) == before
    assert onec.call("GET", "writeoffclientbonuses", onec.bonus_params()).status_code == 405
    assert onec.call("GET", "nosuchresource").status_code == 404


def test_cash_desk_story_lock_calculate_writeoff_once(onec, session):
    """Card scanned (lock) → discounts → paid 100 ₽ with bonuses → write-off; again: no double spend."""
    lock = _json(onec.get("getclientbonuses", ClientCardID=CARD))
    assert lock["BonusCount"] == 500
    goods = [goods_line("l-1", ITEM_COFFEE, "Капучино", 250, 2), goods_line("l-2", ITEM_CAKE, "Торт", 300, 1)]
    calc = _json(onec.calculate(calc_body(goods, [CARD], block="1")))
    assert calc["LoyaltyCardDescription"]["LoyaltyCard"]["IsBlocked"] is True
    r = onec.post("writeoffclientbonuses", ClientCardID=CARD, BonusesCount="100")
    assert r.get_data(as_text=True) == WRITTEN_OFF
    # 500 - 100 spent; the rest of the hold went back; accrual 10 % of what was paid (760 - 100)
    assert balance(session, onec.tenant_id, onec.customer_id) == 50000 - 10000 + 6600
    again = onec.post("writeoffclientbonuses", ClientCardID=CARD, BonusesCount="100")
    assert again.get_data(as_text=True) == WRITTEN_OFF
    assert balance(session, onec.tenant_id, onec.customer_id) == 46600
    after = counts(session, onec.tenant_id)
    assert after["receipts"] == 1 and after["onec_writeoffs"] == 1
    # the next customer visit locks again
    assert _json(onec.get("getclientbonuses", ClientCardID=CARD))["BonusCount"] == 466


def test_writeoff_above_the_limit_refused(onec, session):
    onec.get("getclientbonuses", ClientCardID=CARD)
    onec.calculate(calc_body([goods_line("l-1", ITEM_COFFEE, "Капучино", 100, 1)], [CARD]))
    text = onec.post("writeoffclientbonuses", ClientCardID=CARD, BonusesCount="99").get_data(as_text=True)
    assert text.startswith("Бонусы не списаны")
    assert counts(session, onec.tenant_id)["receipts"] == 0
    assert onec.post("unlockclientbonuses", ClientCardID=CARD).get_data(as_text=True) == UNLOCKED
    assert balance(session, onec.tenant_id, onec.customer_id) == 50000


def test_lapsed_lock_gives_bonuses_back(onec, session):
    set_settings(session, onec.connection_id, lock_ttl_seconds=60)
    with frozen(utcnow(), all_threads=True):
        assert _json(onec.get("getclientbonuses", ClientCardID=CARD))["BonusCount"] == 500
        assert _json(onec.get("getclientbonuses", ClientCardID=CARD))["BonusCount"] == 0
        advance(timedelta(seconds=61))
        assert _json(onec.get("getclientbonuses", ClientCardID=CARD))["BonusCount"] == 500


def test_issueclientcard(onec, session):
    keys = {"Error", "ErrorMessage", "Version", "BonusCount", "BonusRate", "BonusCurrency", "PaymentPercent",
            "ExistingCard", "CardRef", "CardID", "Client", "PhoneNumber", "Email", "DateOfBirth", "ElseClient"}
    existing = _json(onec.post("issueclientcard", ClientCardID=CARD, Client="", Phone=""))
    assert set(existing) == keys | {"Error"} and existing["ExistingCard"] is True
    new = _json(onec.call("POST", "issueclientcard", {**onec.bonus_params(ClientCardID="2000000000022",
                                                                          Phone="+79035550011",
                                                                          DateOfBirth="01.01.0001 0:00:00"),
                                                      "Client": "Петров Пётр Петрович"}))
    assert new["Error"] is False and new["ExistingCard"] is False
    assert new["Client"] == "Петров Пётр Петрович" and new["CardID"] == "2000000000022"
    assert new["DateOfBirth"] == "0001-01-01T00:00:00"
    other = _json(onec.post("issueclientcard", ClientCardID="2000000000039", Phone=PHONE))
    assert other["ElseClient"] is True
    before = counts(session, onec.tenant_id)
    for params in ({"ClientCardID": "2000000000046"}, {"ClientCardID": "1", "Phone": "+7999", "DateOfBirth": "31.02.1990"},
                   {"ClientCardID": "2000000000053", "Phone": "не телефон"}):
        body = _json(onec.call("POST", "issueclientcard", {**onec.bonus_params(), **params}))
        assert body["Error"] is True and body["ErrorMessage"], params
    assert counts(session, onec.tenant_id) == before


def test_other_tenant_connection_cannot_see_card(onec, session, client):
    from connectors.registry import create_connection
    from hub.tenants.operations import create_tenant
    other, _ = create_tenant(session, "Другой магазин")
    conn, _ = create_connection(session, other.id, kind="onec", external_account="retail-base",
                                credentials={"login": "a", "password": "b"})
    session.commit()
    conn_id = conn.id
    from tests.onec.conftest import CashDesk
    desk = CashDesk(client, conn_id, "a", "b")
    assert _json(desk.get("getclientbonuses", ClientCardID=CARD))["ClientNotFound"] is True
    # and the first tenant's password does not open it
    assert CashDesk(client, conn_id).get("ping").status_code == 401


def test_credentials_are_decrypted_once_per_ciphertext(onec, session, monkeypatch):
    """Basic auth compares against a cached verifier: no decryption per call; new
    credentials (a new ciphertext) take effect at once."""
    import onec.common as common
    from connectors.registry import set_credentials
    from hub.connections.models import Connection
    calls = []
    real = common.credentials_of
    monkeypatch.setattr(common, "credentials_of", lambda conn: calls.append(conn.id) or real(conn))
    for _ in range(3):
        assert onec.call("GET", "ping").status_code == 200
    assert len(calls) <= 1
    conn = session.get(Connection, onec.connection_id)
    set_credentials(conn, {"login": "kassa2", "password": "new"})
    session.commit()
    assert onec.call("GET", "ping").status_code == 401
    from tests.onec.conftest import CashDesk
    assert CashDesk(onec.client, onec.connection_id, "kassa2", "new").call("GET", "ping").status_code == 200


def test_calculatediscounts_costs_few_queries(onec, session):
    """The till's hot path: auth, the card with its lock, the quote — catalog groups come
    from the cache the second time, the connection is not re-read after rollbacks."""
    from sqlalchemy import event
    body = calc_body([goods_line("l-1", ITEM_COFFEE, "Капучино", 250, 2),
                      goods_line("l-2", ITEM_CAKE, "Торт", 300, 1)], [CARD])
    _json(onec.calculate(body))
    statements = []
    engine = session.get_bind().engine
    listener = lambda *args: statements.append(args[2])
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert _json(onec.calculate(body))["Error"] is False
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert not any("catalog_products" in s for s in selects)
    assert sum("FROM connections" in s for s in selects) == 1
    lock_reads = [s for s in selects if "holds.reference" in s]
    assert len(lock_reads) == 1 and "card_number" in lock_reads[0]           # the lock read with the card


def _accruals(session, tenant_id: str) -> list[int]:
    from sqlalchemy import select

    from hub.ledger.models import Posting
    out = list(session.scalars(select(Posting.amount).where(Posting.tenant_id == tenant_id,
                                                             Posting.kind == "accrual").order_by(Posting.moment)))
    session.rollback()
    return out


def test_writeoff_consumes_its_calculation_no_second_booking(onec, session):
    """Issue 17.1: lock, calculate 1 250 ₽, write off 12,5; then lock again and write off 7
    (or 12,5 again) without a new calculation: refused, the old receipt is not booked again."""
    tenant, customer = onec.tenant_id, onec.customer_id
    assert _json(onec.get("getclientbonuses", ClientCardID=CARD))["BonusCount"] == 500
    _json(onec.calculate(calc_body([goods_line("l-1", ITEM_COFFEE, "Капучино", 1250, 1)], [CARD])))
    assert onec.post("writeoffclientbonuses", ClientCardID=CARD, BonusesCount="12,5").get_data(as_text=True) \
        == WRITTEN_OFF
    # 1 250 − 5 % = 1 187,50; 12,50 paid with bonuses; 10 % of 1 175 accrued
    assert _accruals(session, tenant) == [11750]
    assert balance(session, tenant, customer) == 50000 - 1250 + 11750
    # the cash desk's retry of the same write-off (answer lost) is done already
    assert onec.post("writeoffclientbonuses", ClientCardID=CARD, BonusesCount="12,5").get_data(as_text=True) \
        == WRITTEN_OFF
    # the next visit: lock again, write off with no calculatediscounts
    assert _json(onec.get("getclientbonuses", ClientCardID=CARD))["BonusCount"] == 605
    before = counts(session, tenant)
    for amount in ("7", "12,5"):
        text = onec.post("writeoffclientbonuses", ClientCardID=CARD, BonusesCount=amount).get_data(as_text=True)
        assert text != WRITTEN_OFF and text.startswith("Бонусы не списаны"), text
        assert "calculatediscounts" in text
    assert counts(session, tenant) == before
    assert _accruals(session, tenant) == [11750]            # no second accrual for the old receipt
    assert onec.post("unlockclientbonuses", ClientCardID=CARD).get_data(as_text=True) == UNLOCKED
    assert balance(session, tenant, customer) == 60500
    # a fresh calculation is booked by the next write-off: 300 − 5 % = 285, 7 paid, 10 % of 278
    onec.get("getclientbonuses", ClientCardID=CARD)
    _json(onec.calculate(calc_body([goods_line("l-1", ITEM_CAKE, "Торт", 300, 1)], [CARD])))
    assert onec.post("writeoffclientbonuses", ClientCardID=CARD, BonusesCount="7").get_data(as_text=True) \
        == WRITTEN_OFF
    assert _accruals(session, tenant) == [11750, 2780]
    assert balance(session, tenant, customer) == 60500 - 700 + 2780
    assert counts(session, tenant)["receipts"] == 2
