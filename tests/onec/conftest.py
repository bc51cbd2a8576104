"""Fixtures of the 1С adapter tests: a tenant with a program (5 % level discount, 10 %
accrual, 50 % payable by bonuses), a connection of kind onec with a login and password, a
customer with a card and bonuses, and a cash desk speaking 1С's loyalty-server protocol
exactly as СерверЛояльностиПолучательДанных builds its requests."""
from __future__ import annotations

import base64
import copy
import json
from datetime import date

import pytest
from sqlalchemy import func, select

from connectors.registry import create_connection
from hub.ledger.models import Account, Hold, Posting
from hub.catalog.models import CatalogGroup, CatalogProduct
from hub.connections.models import Connection, InboundEvent
from hub.customers.models import Customer
from hub.receipts.models import Operation, Receipt, ReceiptReturn
from hub.customers.bonuses import adjust_bonuses
from hub.customers.operations import register_customer
from hub.programs.operations import DEFAULT_SETTINGS, put_program
from hub.clock import utcnow
from onec.models import OnecCard, OnecDocument, OnecExchange, OnecWriteoff

LOGIN, PASSWORD = "Кассир", "пароль 1+2"
CARD = "2000000000015"
PHONE = "+79161234567"

PROGRAM = {
    **DEFAULT_SETTINGS,
    "type": "bonus_discount",
    "levels": [{"code": "base", "name": "Стандарт", "threshold": 0,
                "accrual": {"scheme": "percent", "percent": "10"},
                "discount": {"scheme": "percent", "percent": "5"},
                "max_spend_percent": "50", "bonus_lifetime_days": None}],
}


class CashDesk:
    """A 1С cash desk: resources under <base>/hs/loyaltyservice, Basic auth, query strings
    built by ДобавитьПараметрыВРесурс (`/<resource>/?k=v&…`, values not encoded)."""

    def __init__(self, client, connection_id: str, login: str = LOGIN, password: str = PASSWORD):
        self.client, self.connection_id = client, connection_id
        self.login, self.password = login, password

    def auth(self, login=None, password=None) -> dict:
        raw = f"{login if login is not None else self.login}:{password if password is not None else self.password}"
        return {"Authorization": "Basic " + base64.b64encode(raw.encode()).decode()}

    def url(self, resource: str, params: dict | None = None) -> str:
        path = f"/onec/{self.connection_id}/hs/loyaltyservice"
        if not params:
            return f"{path}/{resource}"
        query = "&".join(f"{k}={'' if v is None else v}" for k, v in params.items())
        return f"{path}/{resource}/?{query}"

    def call(self, method: str, resource: str, params: dict | None = None, body: bytes | None = None,
             headers: dict | None = None):
        url = self.url(resource, params)
        path, _, query = url.partition("?")
        # 1С puts the values in unencoded: raw UTF-8 bytes on the wire (WSGI carries them latin-1)
        environ = {"QUERY_STRING": query.encode("utf-8").decode("latin-1")}
        return self.client.open(path, method=method, data=body, headers={**self.auth(), **(headers or {})},
                                environ_overrides=environ)

    def bonus_params(self, **values) -> dict:
        """ПараметрыМетодовБонуснойПодсистемы: every key, empty when unknown."""
        keys = ("ClientCardID", "CardGUID", "Phone", "Email", "Client", "Store", "GiftCardNumber",
                "GiftCardUID", "BonusesCount", "GiftCardWriteOffAmount", "Promocode", "DateOfBirth",
                "ClientCardTypeUID", "Currency", "GenerateNumber")
        return {k: values.get(k, "") for k in keys}

    def get(self, resource: str, **values):
        return self.call("GET", resource, self.bonus_params(**values))

    def post(self, resource: str, **values):
        return self.call("POST", resource, self.bonus_params(**values))

    def calculate(self, body: dict, method: str = "GET", bom: bool = True):
        raw = json.dumps(body, ensure_ascii=False).encode()
        return self.call(method, "calculatediscounts", None, (b"\xef\xbb\xbf" if bom else b"") + raw)


def ref(uuid: str, name: str) -> dict:
    return {"Ref": uuid, "Name": name}


EMPTY_REF = ref("00000000-0000-0000-0000-000000000000", "")
ITEM_COFFEE = "6b1e6c51-0a2f-11ee-8c5a-0050569f0001"
ITEM_CAKE = "6b1e6c51-0a2f-11ee-8c5a-0050569f0002"


def goods_line(uid: str, item: str, name: str, price, qty, manual=0, vat="20%") -> dict:
    """СтруктураТоваровДляРасчетаСкидок as УНФ fills it."""
    return {"LineUID": uid, "Count": qty, "PackagesCount": qty, "Item": ref(item, name), "Price": price,
            "GiftSale": False, "PercentOfAutomaticDiscount": 0, "PercentOfManualDiscount": 0,
            "VATRate": vat, "Amount": round(price * qty - manual, 2), "AmountOfAutomaticDiscount": 0,
            "TotalAmount": round(price * qty, 2), "VATAmount": 0, "AmountOfManualDiscount": manual,
            "Package": EMPTY_REF, "Variant": EMPTY_REF}


def calc_body(goods: list[dict], cards: list[str] | None = None, block: str = "0") -> dict:
    """СтруктураПараметровРасчетаСкидок, every key as the receiver sends it."""
    return {"RecoverManagedDiscounts": False, "ObjectTime": "2026-03-02T12:00:00",
            "CurrentDate": "2026-03-02T12:00:00", "LoyaltyCardPresented": bool(cards), "HasGifts": False,
            "UseApplicationPrices": False, "ControlBalanceOfGoods": False, "LoyaltyCardsList": cards or [],
            "PromocodesList": [], "ControlledDiscountsList": [],
            "RetailStore": ref("a1b2c3d4-0000-0000-0000-000000000001", "Магазин на Ленина"),
            "ApplyObject": False, "WorkPlace": ref("a1b2c3d4-0000-0000-0000-0000000000aa", "Касса 1"),
            "Goods": goods, "GetLoyaltyCardData": True, "GetMaxBonusPay": False, "BlockBonuses": block,
            "Currency": None, "Return": False, "PayTypes": [], "GetPossibleOnPayDiscounts": False}


@pytest.fixture
def onec(session, tenant, client):
    """A cash desk of a 1С base linked to a tenant with PROGRAM; a customer with a card and 500 ₽."""
    put_program(session, tenant["id"], copy.deepcopy(PROGRAM))
    conn, _ = create_connection(session, tenant["id"], kind="onec", external_account="retail-base",
                                credentials={"login": LOGIN, "password": PASSWORD})
    session.commit()
    customer = register_customer(session, tenant["id"], {"phone": PHONE, "card_number": CARD,
                                                         "first_name": "Анна", "last_name": "Смирнова",
                                                         "email": "anna@example.ru",
                                                         "birth_date": date(1990, 3, 15)},
                                 source="api", moment=utcnow())
    customer_id = customer.id
    adjust_bonuses(session, tenant["id"], customer_id, amount=50000, kind="manual", reason="тест",
                   valid_days=None, moment=utcnow(), idempotency_key=None, source="api", body={})
    session.commit()
    desk = CashDesk(client, conn.id)
    desk.tenant_id, desk.customer_id = tenant["id"], customer_id
    return desk


def set_settings(session, connection_id: str, **values) -> None:
    conn = session.get(Connection, connection_id)
    conn.settings = {**(conn.settings or {}), **values}
    session.commit()


TABLES = (Customer, Account, Receipt, ReceiptReturn, Operation, Posting, Hold, InboundEvent, OnecCard,
          OnecWriteoff, OnecDocument, OnecExchange, CatalogGroup, CatalogProduct)


def counts(session, tenant_id: str) -> dict:
    out = {m.__tablename__: session.scalar(select(func.count()).select_from(m).where(m.tenant_id == tenant_id))
           for m in TABLES}
    session.rollback()
    return out


def balance(session, tenant_id: str, customer_id: str) -> int:
    from hub.ledger import account_view
    view = account_view(session, tenant_id, customer_id, utcnow())
    session.rollback()
    return view.available
