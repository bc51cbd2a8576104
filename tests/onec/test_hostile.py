"""Hostile input on every 1С surface (loyalty server, SOAP, exchange): wrong types, huge
numbers, NaN/Infinity, deep JSON, wrong XML, invalid UTF-8, missing keys, another tenant's
connection — never a 500, nothing written."""
from __future__ import annotations

import json
import re

import pytest

from connectors.registry import create_connection
from tests.onec.conftest import CARD, ITEM_COFFEE, calc_body, counts, goods_line

DEEP = b"[" * 5000 + b"]" * 5000


def _bodies() -> list[bytes]:
    good = calc_body([goods_line("1", ITEM_COFFEE, "Кофе", 250, 2)], [CARD], block="1")
    out = [DEEP, b"{" + b'"a":{' * 3000 + b"1" + b"}" * 3001, b"\xff\xfe\xfa{", b"null", b"[]", b"5", b"\"x\"",
           b'{"ObjectTime": NaN, "LoyaltyCardsList": [], "Goods": [], "RetailStore": {}}']
    variants = [
        {"Goods": {"a": 1}}, {"Goods": "строка"}, {"Goods": [5]}, {"Goods": [[]]},
        {"LoyaltyCardsList": {"a": 1}}, {"LoyaltyCardsList": [{"a": [1]}]}, {"LoyaltyCardsList": "2000"},
        {"LoyaltyCardsList": [1e300]}, {"RetailStore": [1]}, {"RetailStore": {"Ref": {"x": 1}}},
        {"ObjectTime": {"a": 1}}, {"ObjectTime": "99.99.9999"}, {"ObjectTime": 1e300},
        {"PromocodesList": 5}, {"PromocodesList": {"a": 1}}, {"PromocodesList": [{"Promocode": {"a": 1}}, 5, None]},
        {"BlockBonuses": {"a": 1}}, {"GetLoyaltyCardData": "да"},
        {"RetailStore": {"Ref": "\u0000", "Name": "\u0000"}}, {"LoyaltyCardsList": ["\u0000"]},
    ]
    for v in variants:
        out.append(json.dumps({**good, **v}, ensure_ascii=False).encode())
    for key, value in (("Price", float("nan")), ("Price", float("inf")), ("Price", 1e308), ("Price", "1e999999"),
                       ("Price", -1), ("Price", [1]), ("Price", {"a": 1}), ("Price", True), ("Price", "12,5,5"),
                       ("Count", float("nan")), ("Count", "Infinity"), ("Count", 1e30), ("PackagesCount", -1),
                       ("PackagesCount", "0,0000001"), ("Amount", float("-inf")), ("Amount", 1e15),
                       ("AmountOfManualDiscount", 1e20), ("AmountOfManualDiscount", "NaN"),
                       ("LineUID", {"a": 1}), ("Item", "строка"), ("Item", {"Ref": [1], "Name": {"x": 1}}),
                       ("VATRate", {"a": 1}), ("VATRate", "1" * 5000 + "%"), ("VATRate", "99999999999999999999%")):
        line = goods_line("1", ITEM_COFFEE, "Кофе", 250, 2)
        line[key] = value
        out.append(json.dumps({**good, "Goods": [line]}, ensure_ascii=False).encode())
    for key in ("ObjectTime", "LoyaltyCardsList", "Goods", "RetailStore"):
        out.append(json.dumps({k: v for k, v in good.items() if k != key}, ensure_ascii=False).encode())
    return out


def test_calculatediscounts_never_500(onec, session):
    before = counts(session, onec.tenant_id)
    for body in _bodies():
        for method in ("GET", "POST"):
            r = onec.call(method, "calculatediscounts", None, body)
            assert r.status_code < 500, (body[:120], r.status_code, r.get_data(as_text=True)[:300])
            assert r.status_code == 200 and r.is_json or r.content_type.startswith("application/json")
            onec.post("unlockclientbonuses", ClientCardID=CARD)
    after = counts(session, onec.tenant_id)
    # a card row and released holds may be written by the good-looking requests; never a receipt
    for table in ("receipts", "operations", "customers", "receipt_returns", "onec_writeoffs"):
        if table in before:
            assert after[table] == before[table], table


PARAMS = [{"ClientCardID": "%FF%FE"}, {"ClientCardID": "x" * 5000}, {"Phone": "+" + "9" * 500},
          {"Phone": "%00"}, {"Email": "@" * 300}, {"CardGUID": "x" * 36}, {"ClientGUID": "%FF"},
          {"BonusesCount": "NaN", "ClientCardID": CARD}, {"BonusesCount": "Infinity", "ClientCardID": CARD},
          {"BonusesCount": "1e999999", "ClientCardID": CARD}, {"BonusesCount": "-5", "ClientCardID": CARD},
          {"BonusesCount": "1" * 50, "ClientCardID": CARD}, {"BonusesCount": "0,001", "ClientCardID": CARD},
          {"DateOfBirth": "31.02.2020", "Phone": "+79990000001", "ClientCardID": "777"},
          {"DateOfBirth": "99999-01-01", "Phone": "+79990000001", "ClientCardID": "777"},
          {"DateOfBirth": "1" * 50, "Phone": "+79990000001", "ClientCardID": "777"},
          {"Phone": "не телефон", "ClientCardID": "778"}, {"Phone": "+7" + "9" * 40, "ClientCardID": "779"},
          {"Phone": "+79990000002", "ClientCardID": "780", "Client": "А " * 500, "Email": "не почта"},
          {"Phone": "+79990000003", "GenerateNumber": "1", "Client": "\x00\x01"}]


def test_calculatediscounts_errors_in_russian(onec):
    for body in (b"{not json", b"", DEEP, b'{"Goods": [{"Price": "\\u0000"}]}'):
        r = onec.call("POST", "calculatediscounts", None, body)
        answer = json.loads(r.get_data(as_text=True))
        assert r.status_code == 200 and answer["Error"] is True, body[:50]
        assert not re.search("[A-Za-z]{4,}", answer["ErrorMessage"].replace("JSON", "")), answer["ErrorMessage"]


def test_loyalty_resources_never_500(onec, session):
    before = counts(session, onec.tenant_id)
    from onec.loyalty import RESOURCES
    for name, (_, methods) in RESOURCES.items():
        for params in PARAMS:
            for method in methods:
                r = onec.call(method, name, params)
                assert r.status_code < 500, (name, params, r.status_code, r.get_data(as_text=True)[:300])
        onec.post("unlockclientbonuses", ClientCardID=CARD)
    after = counts(session, onec.tenant_id)
    assert after["receipts"] == before["receipts"] and after["onec_writeoffs"] == before["onec_writeoffs"]


def test_another_tenants_connection_and_customer(onec, session, client):
    from hub.customers.operations import register_customer
    from hub.tenants.operations import create_tenant
    from hub.clock import utcnow
    other, _ = create_tenant(session, "Чужой магазин")
    other_conn, _ = create_connection(session, other.id, kind="onec", external_account="other-base",
                                      credentials={"login": "чужой", "password": "секрет"})
    stranger = register_customer(session, other.id, {"phone": "+79995554433", "card_number": "999"},
                                 source="api", moment=utcnow())
    session.commit()
    other_id, stranger_id = other_conn.id, stranger.id
    # our credentials on their connection id: 401 everywhere
    for path in (f"/onec/{other_id}/hs/loyaltyservice/ping", f"/onec/{other_id}/ws/loyalty?wsdl",
                 f"/onec/{other_id}/exchange?type=catalog&mode=checkauth"):
        assert client.get(path, headers=onec.auth()).status_code == 401
    # their customer's GUID through our connection: not found, nothing about them in the answer
    r = onec.call("GET", "findclientcard", {"CardGUID": stranger_id, "ClientGUID": stranger_id, "Phone": "",
                                            "ClientCardID": "", "Email": "", "BlockBonuses": "1"})
    text = r.get_data(as_text=True)
    assert r.status_code == 200 and json.loads(text)["LoyaltyCardsList"] == []
    assert stranger_id not in text and "79995554433" not in text


SOAP_ENV = ('<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns:m="{ns}"><soap:Body>{body}</soap:Body></soap:Envelope>')


def _soap_bodies() -> list[bytes]:
    from onec.wsdl import NS

    def env(body: str) -> bytes:
        return SOAP_ENV.format(ns=NS, body=body).encode()

    pos = "<m:position><m:id>1</m:id><m:price>{price}</m:price><m:quantity>{qty}</m:quantity></m:position>"
    rec = "<m:receipt><m:receiptId>{rid}</m:receiptId><m:card>" + CARD + "</m:card>{pos}{spend}</m:receipt>"
    out = [b"", b"\xff\xfe\x00<", b"<a>", b"not xml", b"<x/>", DEEP,
           b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
           b'<?xml version="1.0" encoding="windows-1251"?><a>\xff</a>', env(""), env("<m:Nope/>"),
           env("<m:Calculate/><m:Calculate/>")]
    for price, qty, spend in (("NaN", "1", ""), ("INF", "1", ""), ("1e5", "1", ""), ("9" * 40, "1", ""),
                              ("99999999999999", "99999999999", ""), ("10", "0.0000000001", ""),
                              ("10", "1", "<m:spendBonuses>-1</m:spendBonuses>"),
                              ("10", "1", "<m:spendBonuses>0.001</m:spendBonuses>"),
                              ("10", "1", "<m:spendBonuses>" + "9" * 30 + "</m:spendBonuses>")):
        for op in ("Calculate", "Confirm"):
            out.append(env(f"<m:{op}>" + rec.format(rid="r-1", pos=pos.format(price=price, qty=qty), spend=spend)
                           + f"</m:{op}>"))
    out += [env("<m:Refund><m:refundId>x</m:refundId><m:receiptId>нет-такого</m:receiptId></m:Refund>"),
            env("<m:Cancel><m:receiptId>x</m:receiptId><m:card>000</m:card></m:Cancel>"),
            env("<m:FindCustomer><m:phone>не телефон</m:phone></m:FindCustomer>"),
            env("<m:RegisterCustomer><m:phone>+79990001122</m:phone><m:birthDate>-0001-01-01</m:birthDate>"
                "</m:RegisterCustomer>"),
            env("<m:RegisterCustomer><m:phone>+79990001122</m:phone><m:birthDate>12345-01-01</m:birthDate>"
                "</m:RegisterCustomer>"),
            env("<m:RegisterCustomer><m:phone>мусор</m:phone></m:RegisterCustomer>"),
            env("<m:RegisterCustomer><m:phone>+79990001123</m:phone><m:email>не почта</m:email></m:RegisterCustomer>")]
    return out


@pytest.mark.parametrize("ctype", ["text/xml; charset=utf-8", "application/soap+xml; charset=utf-8", ""])
def test_soap_never_500_on_client_errors_and_russian_faults(onec, session, client, ctype):
    before = counts(session, onec.tenant_id)
    url = f"/onec/{onec.connection_id}/ws/loyalty"
    soap12 = [b.replace(b"http://schemas.xmlsoap.org/soap/envelope/", b"http://www.w3.org/2003/05/soap-envelope")
              for b in _soap_bodies() if b"soap:Envelope" in b]
    for body in _soap_bodies() + soap12:
        r = client.post(url, data=body, headers={**onec.auth(), "Content-Type": ctype})
        text = r.get_data(as_text=True)
        if b"FindCustomer" in body or "не почта".encode() in body:
            continue        # not found / e-mail not checked by the hub (reported)
        # SOAP 1.2 Sender faults are 400; SOAP 1.1 faults are 500 by WS-I BP R1126 (soap:Client)
        assert r.status_code == (400 if "soap+xml" in r.content_type else 500), (body[-300:], text[:600])
        assert "soap:Client" in text or "soap:Sender" in text, (body[:200], text[:400])
        assert "Внутренняя ошибка" not in text, (body[:200], text[:400])
        fault_text = text.split("faultstring>")[1] if "faultstring>" in text else text.split("Text")[1]
        for english in ("Element", "expected", "Start tag", "Document", "valid", "xmlParse", "line "):
            assert english not in fault_text, (body[-300:], fault_text)
    after = counts(session, onec.tenant_id)
    for table in ("receipts", "operations", "postings", "holds"):
        if table in before:
            assert after[table] == before[table], table


def test_exchange_hostile(onec, session, client, tmp_path, app):
    app.config["ONEC_EXCHANGE_DIR"] = str(tmp_path)
    base = f"/onec/{onec.connection_id}/exchange"
    r = client.get(base + "?type=catalog&mode=checkauth", headers=onec.auth())
    assert r.status_code == 200
    lines = r.get_data(as_text=True).split("\n")
    client.set_cookie(lines[1], lines[2])
    for query in ("?type=catalog&mode=file&filename=../../x.xml", "?type=catalog&mode=file&filename=%FF%FE",
                  "?type=catalog&mode=file&filename=" + "a" * 5000, "?type=catalog&mode=import&filename=nope.xml",
                  "?type=%FF&mode=%FF", "?type=catalog&mode=deactivate"):
        r = client.post(base + query, data=b"\xff\xfe<", headers=onec.auth())
        assert r.status_code < 500 and r.get_data(as_text=True).startswith(("failure", "success")), query
    for name, data in (("import.xml", DEEP), ("import2.xml", b"\xff\xfe\x00<<<"), ("offers.xml", '<?xml version="1.0" encoding="UTF-8"?><КоммерческаяИнформация><ПакетПредложений>'
                        '<Предложения><Предложение><Ид>p1</Ид><Цены><Цена><ЦенаЗаЕдиницу>NaN</ЦенаЗаЕдиницу></Цена>'
                        '</Цены></Предложение><Предложение><Ид>p2</Ид><Цены><Цена><ЦенаЗаЕдиницу>1e30</ЦенаЗаЕдиницу>'
                        '</Цена></Цены></Предложение></Предложения></ПакетПредложений></КоммерческаяИнформация>'.encode()),
                       ("bad.zip", b"PK\x03\x04garbage")):
        assert client.post(base + f"?type=catalog&mode=file&filename={name}", data=data,
                           headers=onec.auth()).status_code == 200
        r = client.get(base + f"?type=catalog&mode=import&filename={name}", headers=onec.auth())
        assert r.status_code < 500, (name, r.get_data(as_text=True))
        if name == "offers.xml":        # NaN and 1e30 prices are no prices, not a broken import
            assert r.get_data(as_text=True) == "success", r.get_data(as_text=True)
        assert "Внутренняя ошибка" not in r.get_data(as_text=True), (name, r.get_data(as_text=True))
        assert not re.search(r"[A-Za-z]{4,}", r.get_data(as_text=True).replace(name, "").replace("failure", "")
                             .replace("success", "").replace("CommerceML", "").replace("zip", "")), \
            (name, r.get_data(as_text=True))
