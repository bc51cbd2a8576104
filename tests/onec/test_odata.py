"""OData reconciliation (part D): posted receipts pulled from a fake standard.odata
publication shaped like 1С's own JSON, applied through the inbox; the whole cash-desk story
through the loyalty server and OData."""
from __future__ import annotations

import base64
import json
import re
from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlparse
from zoneinfo import ZoneInfo

import pytest
import responses
from sqlalchemy import select

from connectors.http import OutboundError
from hub.clock import advance, frozen, utcnow
from hub.connections.models import InboundEvent
from hub.receipts.models import Receipt, ReceiptReturn
from onec import odata
from onec.loyalty import UNLOCKED, WRITTEN_OFF
from onec.models import OnecDocument, OnecSync, OnecWriteoff
from tests.onec.conftest import (
    CARD, ITEM_CAKE, ITEM_COFFEE, LOGIN, PASSWORD, balance, calc_body, counts, goods_line, set_settings,
)

ODATA = "http://1c.example.ru/retail/odata/standard.odata"
EMPTY = "00000000-0000-0000-0000-000000000000"
STORE = "a1b2c3d4-0000-0000-0000-000000000001"
CASHIER = "c0c0c0c0-0000-0000-0000-000000000001"
CARD_REF = "e1e1e1e1-0000-0000-0000-000000000001"


class FakeOData:
    """<base>/odata/standard.odata: $filter on Posted and Date, $orderby=Date, $top/$skip,
    $expand of the card, Basic auth; 429/5xx served on demand before the next page."""

    def __init__(self, rsps: responses.RequestsMock, tz: str = "Europe/Moscow"):
        self.entities: dict[str, list[dict]] = {}
        self.throttle: list[int] = []
        self.calls: list[dict] = []
        self.tz = tz
        rsps.add_callback(responses.GET, re.compile(re.escape(ODATA) + r"/.*"), callback=self._serve)

    def _serve(self, request):
        expected = base64.b64encode(f"{LOGIN}:{PASSWORD}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return 401, {}, "Неверный логин или пароль"
        url = urlparse(request.url)
        entity = unquote(url.path.rsplit("/", 1)[1])
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.calls.append({"entity": entity, **query})
        assert query["$format"] == "json" and query["$orderby"] == "Date asc"
        if self.throttle:
            status = self.throttle.pop(0)
            return status, {"Retry-After": "1"} if status == 429 else {}, "busy"
        flt = query["$filter"]
        assert flt.startswith("Posted eq true and ")
        since = re.search(r"Date ge datetime'([^']+)'", flt).group(1)
        until = re.search(r"Date lt datetime'([^']+)'", flt)
        docs = [d for d in self.entities.get(entity, []) if d["Posted"] and d["Date"] >= since
                and (until is None or d["Date"] < until.group(1))]
        docs.sort(key=lambda d: d["Date"])
        skip, top = int(query.get("$skip", 0)), int(query.get("$top", 1000))
        page = [dict(d) for d in docs[skip:skip + top]]
        card = query.get("$expand")
        for d in page:
            if card:
                d[card] = d.pop("_card", None)
            else:
                d.pop("_card", None)
        body = {"odata.metadata": f"{ODATA}/$metadata#{entity}", "value": page}
        return 200, {"Content-Type": "application/json;charset=utf-8"}, json.dumps(body, ensure_ascii=False)

    def local(self, moment) -> str:
        return moment.astimezone(ZoneInfo(self.tz)).replace(tzinfo=None, microsecond=0).isoformat()

    def add(self, entity: str, doc: dict) -> dict:
        self.entities.setdefault(entity, []).append(doc)
        return doc


@pytest.fixture
def fake(monkeypatch):
    sleeps: list[float] = []
    monkeypatch.setattr(odata, "SLEEP", sleeps.append)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        f = FakeOData(rsps)
        f.sleeps = sleeps
        yield f


@pytest.fixture
def base(onec, session):
    set_settings(session, onec.connection_id, odata_url=ODATA + "/", odata_configuration="ut", odata_page_size=2)
    return onec


def line(n: int, item: str, price, qty, total=None, auto=0, bonus=0, manual=0) -> dict:
    """A row of ЧекККМ.Товары (УТ 11) as standard.odata writes it."""
    total = round(price * qty - manual - auto, 2) if total is None else total
    return {"Ref_Key": "", "LineNumber": str(n), "КлючСвязи": n, "Номенклатура_Key": item,
            "Характеристика_Key": EMPTY, "Упаковка_Key": EMPTY, "КоличествоУпаковок": qty, "Количество": qty,
            "Цена": price, "Сумма": total, "СтавкаНДС_Key": EMPTY, "СуммаНДС": 0,
            "ПроцентАвтоматическойСкидки": 0, "СуммаАвтоматическойСкидки": auto,
            "ПроцентРучнойСкидки": 0, "СуммаРучнойСкидки": manual, "СтатусУказанияСерий": 0,
            "Продавец_Key": CASHIER, "Помещение_Key": EMPTY, "Серия_Key": EMPTY,
            "СуммаБонусныхБалловКСписанию": bonus, "СуммаБонусныхБалловКСписаниюВВалюте": bonus,
            "СуммаНачисленныхБонусныхБалловВВалюте": 0, "Штрихкод": "", "ИдентификаторСтроки": f"row-{n}"}


def card_object(code: str = CARD) -> dict:
    return {"Ref_Key": CARD_REF, "DataVersion": "AAAAAQAAAAA=", "DeletionMark": False, "Code": "000000001",
            "Description": "Карта 0001", "Штрихкод": code, "МагнитныйКод": "", "Статус": "Действует"}


def receipt(key: str, number: str, date: str, rows: list[dict], card: dict | None = None, **extra) -> dict:
    """Document_ЧекККМ (УТ 11) with its Товары and the expanded КартаЛояльности."""
    for row in rows:
        row["Ref_Key"] = key
    return {"Ref_Key": key, "DataVersion": "AAAAAgAAAAA=", "DeletionMark": False, "Number": number, "Date": date,
            "Posted": True, "Архивный": False, "Валюта_Key": EMPTY, "КассаККМ_Key": EMPTY, "Кассир_Key": CASHIER,
            "Склад_Key": STORE, "Статус": "Пробит", "СуммаДокумента": sum(r["Сумма"] for r in rows),
            "КартаЛояльности_Key": card["Ref_Key"] if card else EMPTY, "_card": card,
            "КартаЛояльности@navigationLinkUrl": f"Document_ЧекККМ(guid'{key}')/КартаЛояльности",
            "Товары": rows, "ОплатаПлатежнымиКартами": [], "СкидкиНаценки": [], "БонусныеБаллы": [], **extra}


def guid(n: int) -> str:
    return f"d0c00000-0000-0000-0000-{n:012d}"


def events(session, tenant_id: str, kind: str = "document") -> list[InboundEvent]:
    out = list(session.scalars(select(InboundEvent).where(InboundEvent.tenant_id == tenant_id,
                                                          InboundEvent.kind == kind)
                               .order_by(InboundEvent.received_at)))
    session.rollback()
    return out


def deliver(session, desk, doc: dict, kind: str = "sale") -> str:
    """A document as the pull stores it (card expanded), applied by the inbox."""
    from connectors.inbox import process_event, store_event
    doc = dict(doc)
    doc["КартаЛояльности"] = doc.pop("_card", None)
    event, _ = store_event(session, tenant_id=desk.tenant_id, connection_id=desk.connection_id, source="onec",
                           kind="document", dedupe_key=f"{desk.connection_id}:{doc['Ref_Key']}",
                           body={"configuration": "ut", "kind": kind, "document": doc,
                                 "entity": "Document_ЧекККМВозврат" if kind == "return" else "Document_ЧекККМ"})
    return process_event(session, event.id)


def pull(session, desk, since_hours: int = 48) -> dict:
    from hub.connections.models import Connection
    conn = session.get(Connection, desk.connection_id)
    return odata.sync(session, conn, utcnow() - timedelta(hours=since_hours), utcnow() + timedelta(minutes=1))


def test_paging_429_and_an_idempotent_rerun(base, session, fake):
    now = utcnow().replace(microsecond=0) + timedelta(seconds=1)
    with frozen(now):
        for n in range(5):
            fake.add("Document_ЧекККМ", receipt(guid(n), f"0000-00000{n}", fake.local(now - timedelta(hours=5 - n)),
                                                [line(1, ITEM_COFFEE, 250, 2, auto=25)], card_object()))
        fake.add("Document_ЧекККМ", receipt(guid(9), "0000-000009", fake.local(now - timedelta(hours=1)),
                                            [line(1, ITEM_CAKE, 300, 1)]))                  # no card
        fake.add("Document_ЧекККМ", receipt(guid(8), "0000-000008", fake.local(now - timedelta(days=5)),
                                            [line(1, ITEM_CAKE, 300, 1)], card_object()))    # outside the window
        fake.throttle = [429, 503]
        result = pull(session, base)
        assert result == {"documents": 6, "new": 6, "sales": 6, "returns": 0, "skipped": 0}
        assert len(fake.sleeps) == 2
        pages = [c for c in fake.calls if c["entity"] == "Document_ЧекККМ"]
        assert [(c["$top"], c["$skip"]) for c in pages[2:]] == [("2", "0"), ("2", "2"), ("2", "4"), ("2", "6")]
        assert all(c["$expand"] == "КартаЛояльности" for c in pages)
        assert {c["entity"] for c in fake.calls} == {"Document_ЧекККМ", "Document_ЧекККМВозврат"}
        # five card receipts: 500 ₽ each, 5 % level discount → 475, 10 % accrual = 47.50 each
        assert balance(session, base.tenant_id, base.customer_id) == 50000 + 5 * 4750
        assert counts(session, base.tenant_id)["receipts"] == 5
        assert all(e.status == "done" for e in events(session, base.tenant_id))
        before = counts(session, base.tenant_id)
        again = pull(session, base)
        assert again["documents"] == 6 and again["new"] == 0
        assert counts(session, base.tenant_id) == before
        assert balance(session, base.tenant_id, base.customer_id) == 50000 + 5 * 4750


def test_a_return_is_linked_to_its_sale(base, session, fake):
    now = utcnow().replace(microsecond=0) + timedelta(seconds=1)
    with frozen(now):
        fake.add("Document_ЧекККМ", receipt(guid(1), "0000-000001", fake.local(now - timedelta(hours=3)),
                                            [line(1, ITEM_COFFEE, 250, 2, auto=25), line(2, ITEM_CAKE, 300, 1, auto=15)],
                                            card_object()))
        ret = receipt(guid(2), "0000-000001", fake.local(now - timedelta(hours=1)),
                      [line(1, ITEM_COFFEE, 250, 1, auto=12.5)], card_object(), ЧекККМ_Key=guid(1))
        ret.pop("КартаЛояльности@navigationLinkUrl")
        fake.add("Document_ЧекККМВозврат", ret)
        result = pull(session, base)
        assert result["sales"] == 1 and result["returns"] == 1
        assert balance(session, base.tenant_id, base.customer_id) == 50000 + 7600 - 2375
        (sale,) = session.scalars(select(Receipt).where(Receipt.tenant_id == base.tenant_id)).all()
        (returned,) = session.scalars(select(ReceiptReturn).where(ReceiptReturn.tenant_id == base.tenant_id)).all()
        assert returned.receipt_id == sale.id and returned.external_id == guid(2)
        assert returned.quantities == {"1": "1.000"}
        session.rollback()
        assert pull(session, base)["new"] == 0
        assert balance(session, base.tenant_id, base.customer_id) == 50000 + 7600 - 2375


def test_a_return_before_its_sale_waits_for_it(base, session, fake):
    """A return whose sale is still in the inbox is retried, not dropped."""
    from connectors.inbox import process_event, store_event
    now = utcnow().replace(microsecond=0) + timedelta(seconds=1)
    with frozen(now):
        sale = receipt(guid(1), "1", fake.local(now), [line(1, ITEM_COFFEE, 100, 1)], card_object())
        sale["КартаЛояльности"] = sale.pop("_card")
        waiting, _ = store_event(session, tenant_id=base.tenant_id, connection_id=base.connection_id, source="onec",
                                 kind="document", dedupe_key=f"{base.connection_id}:{guid(1)}",
                                 body={"configuration": "ut", "entity": "Document_ЧекККМ", "kind": "sale",
                                       "document": sale})
        waiting_id = waiting.id
        ret = receipt(guid(2), "2", fake.local(now), [line(1, ITEM_COFFEE, 100, 1)], card_object(), ЧекККМ_Key=guid(1))
        assert deliver(session, base, ret, "return") == "retry"
        assert process_event(session, waiting_id) == "done"
        (event,) = [e for e in events(session, base.tenant_id) if e.dedupe_key.endswith(guid(2))]
        assert process_event(session, event.id) == "done"
        assert counts(session, base.tenant_id)["receipt_returns"] == 1


def _json(r) -> dict:
    assert r.status_code == 200, r.get_data(as_text=True)
    return json.loads(r.get_data(as_text=True))


def test_cash_desk_story_through_the_loyalty_server_and_odata(base, session, fake):
    """Card with lock → calculate → write-off → the receipt pulled claims the write-off (no
    second spend) → a sale without bonuses accrues → the unlock path → a lapsed lock → a
    write-off no receipt claims is flagged, and resolved when its receipt arrives."""
    desk, tenant = base, base.tenant_id
    now = utcnow().replace(microsecond=0) + timedelta(seconds=1)
    with frozen(now, all_threads=True):
        # 1. lock, calculate, pay 100 ₽ with bonuses, write off
        assert _json(desk.get("getclientbonuses", ClientCardID=CARD))["BonusCount"] == 500
        goods = [goods_line("l-1", ITEM_COFFEE, "Капучино", 250, 2), goods_line("l-2", ITEM_CAKE, "Торт", 300, 1)]
        calc = _json(desk.calculate(calc_body(goods, [CARD], block="1")))
        assert [g["Amount"] for g in calc["Goods"]] == [475, 285]
        assert desk.post("writeoffclientbonuses", ClientCardID=CARD, BonusesCount="100").get_data(as_text=True) \
            == WRITTEN_OFF
        after_writeoff = balance(session, tenant, desk.customer_id)
        assert after_writeoff == 50000 - 10000 + 6600
        # 2. the same receipt, posted in 1С, pulled: it claims the write-off
        fake.add("Document_ЧекККМ", receipt(guid(1), "0000-000001", fake.local(now),
                                            [line(1, ITEM_COFFEE, 250, 2, auto=25, bonus=62.5),
                                             line(2, ITEM_CAKE, 300, 1, auto=15, bonus=37.5)], card_object()))
        pull(session, desk)
        assert balance(session, tenant, desk.customer_id) == after_writeoff          # not spent twice
        assert counts(session, tenant)["receipts"] == 1
        wo = session.scalars(select(OnecWriteoff).where(OnecWriteoff.tenant_id == tenant)).one()
        doc = session.scalars(select(OnecDocument).where(OnecDocument.document_key == guid(1))).one()
        assert wo.claimed_by == guid(1) and doc.receipt_external_id == wo.receipt_external_id
        session.rollback()
        # 3. the next visit: lock, no bonus payment, unlock; the receipt accrues through OData
        advance(timedelta(minutes=5))
        assert _json(desk.get("getclientbonuses", ClientCardID=CARD))["BonusCount"] == after_writeoff / 100
        assert desk.post("unlockclientbonuses", ClientCardID=CARD).get_data(as_text=True) == UNLOCKED
        fake.add("Document_ЧекККМ", receipt(guid(2), "0000-000002", fake.local(utcnow()),
                                            [line(1, ITEM_CAKE, 300, 1, auto=15)], card_object()))
        pull(session, desk)
        assert balance(session, tenant, desk.customer_id) == after_writeoff + 2850
        # 4. a lapsed lock: the card locked and never unlocked; the sale still accrues
        set_settings(session, desk.connection_id, lock_ttl_seconds=60)
        advance(timedelta(minutes=5))
        desk.get("getclientbonuses", ClientCardID=CARD)
        assert balance(session, tenant, desk.customer_id) == 0
        advance(timedelta(seconds=61))
        fake.add("Document_ЧекККМ", receipt(guid(3), "0000-000003", fake.local(utcnow()),
                                            [line(1, ITEM_CAKE, 300, 1, auto=15)], card_object()))
        pull(session, desk)
        assert balance(session, tenant, desk.customer_id) == after_writeoff + 2 * 2850
        assert counts(session, tenant)["receipts"] == 3
        # 5. a write-off whose receipt does not arrive: flagged for review after writeoff_claim_hours
        desk.get("getclientbonuses", ClientCardID=CARD)
        _json(desk.calculate(calc_body([goods_line("l-1", ITEM_CAKE, "Торт", 300, 1)], [CARD], block="1")))
        assert desk.post("writeoffclientbonuses", ClientCardID=CARD, BonusesCount="50").get_data(as_text=True) \
            == WRITTEN_OFF
        paid_at = utcnow()
        assert odata.flag_unclaimed(session, utcnow() + timedelta(hours=23)) == 0
        assert odata.flag_unclaimed(session, utcnow() + timedelta(hours=25)) == 1
        assert odata.flag_unclaimed(session, utcnow() + timedelta(hours=26)) == 0       # once
        (review,) = events(session, tenant, "writeoff_unclaimed")
        assert review.status == "failed" and "не подтверждено чеком из 1С" in review.last_error
        # ... and when the receipt does turn up, it claims the write-off and the review is done
        fake.add("Document_ЧекККМ", receipt(guid(4), "0000-000004", fake.local(paid_at),
                                            [line(1, ITEM_CAKE, 300, 1, auto=15, bonus=50)], card_object()))
        before = balance(session, tenant, desk.customer_id)
        pull(session, desk)
        assert balance(session, tenant, desk.customer_id) == before
        (review,) = events(session, tenant, "writeoff_unclaimed")
        assert review.status == "done"
        assert counts(session, tenant)["receipts"] == 4


def test_bonus_payment_without_a_write_off_is_never_spent(base, session, fake):
    now = utcnow().replace(microsecond=0) + timedelta(seconds=1)
    with frozen(now):
        fake.add("Document_ЧекККМ", receipt(guid(1), "0000-000001", fake.local(now),
                                            [line(1, ITEM_COFFEE, 250, 2, auto=25, bonus=100)], card_object()))
        before = counts(session, base.tenant_id)
        pull(session, base)
        (event,) = events(session, base.tenant_id)
        assert event.status == "retry" and "не списываются второй раз" in event.last_error
        after = counts(session, base.tenant_id)
        assert after["receipts"] == before["receipts"] and after["postings"] == before["postings"]
        assert balance(session, base.tenant_id, base.customer_id) == 50000


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["Товары"][0].update(Цена="дорого"), "не число"),
    (lambda d: d.update(Товары=[]), "нет строк"),
    (lambda d: d["Товары"][0].update(Количество=-1, КоличествоУпаковок=-1), "отрицательным"),
    (lambda d: d["Товары"][0].update(Сумма=99999), "больше цены"),
    (lambda d: d["Товары"][0].update(Цена=1.005), "до копейки"),
    (lambda d: d.update(Date="вчера"), "формат времени"),
    (lambda d: d.update(Date="2099-01-01T00:00:00"), "будущем"),
])
def test_bad_data_fails_the_event_visibly_and_writes_nothing(base, session, fake, mutate, message):
    now = utcnow().replace(microsecond=0) + timedelta(seconds=1)
    with frozen(now):
        doc = receipt(guid(1), "0000-000001", fake.local(now), [line(1, ITEM_COFFEE, 250, 2)], card_object())
        mutate(doc)
        before = counts(session, base.tenant_id)
        if "Date" in doc and not doc["Date"].startswith(str(now.year)):
            deliver(session, base, doc)          # a date the publication's filter would not pass
        else:
            fake.add("Document_ЧекККМ", doc)
            pull(session, base)
        (event,) = events(session, base.tenant_id)
        assert event.status == "failed" and message in event.last_error, event.last_error
        assert re.search("[а-я]", event.last_error)
        after = counts(session, base.tenant_id)
        assert after == {**before, "inbound_events": before["inbound_events"] + 1}


def test_unf_and_retail_shapes(base, session, fake):
    """УНФ: Запасы, ДисконтнаяКарта with КодКартыШтрихкод, ЧекККМВозврат; Розница: one
    ЧекККМ, ВидОперации «Возврат» with ЧекККМПродажа_Key."""
    now = utcnow().replace(microsecond=0) + timedelta(seconds=1)
    with frozen(now):
        set_settings(session, base.connection_id, odata_configuration="unf")
        unf_card = {"Ref_Key": CARD_REF, "Code": "000000002", "Description": "Карта", "КодКартыШтрихкод": CARD,
                    "КодКартыМагнитный": ""}
        rows = [{"LineNumber": "1", "Номенклатура_Key": ITEM_COFFEE, "Количество": 2, "Цена": 250, "Сумма": 475,
                 "СуммаСкидкиНаценки": 0, "СуммаАвтоматическойСкидки": 25, "СуммаСкидкиОплатыБонусом": 0}]
        fake.add("Document_ЧекККМ", {"Ref_Key": guid(1), "Number": "1", "Date": fake.local(now), "Posted": True,
                                     "DeletionMark": False, "ДисконтнаяКарта_Key": CARD_REF, "_card": unf_card,
                                     "СтруктурнаяЕдиница_Key": STORE, "Запасы": rows})
        result = pull(session, base)
        assert result["new"] == 1 and fake.calls[-2]["$expand"] == "ДисконтнаяКарта"
        assert balance(session, base.tenant_id, base.customer_id) == 54750
        fake.entities.clear()
        set_settings(session, base.connection_id, odata_configuration="retail")
        sale = {"Ref_Key": guid(2), "Number": "2", "Date": fake.local(now), "Posted": True, "DeletionMark": False,
                "ВидОперации": "Продажа", "ЧекККМПродажа_Key": EMPTY, "ДисконтнаяКарта_Key": EMPTY,
                "_card": None, "Магазин_Key": STORE, "Товары": [dict(rows[0])], "Оплата": []}
        ret = {**sale, "Ref_Key": guid(3), "ВидОперации": "Возврат", "ЧекККМПродажа_Key": guid(2), "_card": None,
               "Товары": [{**rows[0], "Количество": 1, "Сумма": 237.5}]}
        sale_with_card = {**sale, "Ref_Key": guid(4), "_card": card_object()}
        fake.add("Document_ЧекККМ", sale)
        fake.add("Document_ЧекККМ", sale_with_card)
        fake.add("Document_ЧекККМ", {**ret, "ЧекККМПродажа_Key": guid(4), "_card": card_object()})
        result = pull(session, base)
        assert result == {"documents": 3, "new": 3, "sales": 2, "returns": 1, "skipped": 0}
        assert {c["entity"] for c in fake.calls[-2:]} == {"Document_ЧекККМ"}
        assert balance(session, base.tenant_id, base.customer_id) == 54750 + 4750 - 2375
        assert all(e.status == "done" for e in events(session, base.tenant_id))


def test_the_periodic_pull_keeps_its_place_and_records_failures(base, session, fake):
    now = utcnow().replace(microsecond=0) + timedelta(seconds=1)
    with frozen(now):
        fake.add("Document_ЧекККМ", receipt(guid(1), "1", fake.local(now - timedelta(hours=1)),
                                            [line(1, ITEM_COFFEE, 250, 2)], card_object()))
        assert odata.sync_due(session, now) == 1
        state = session.scalars(select(OnecSync).where(OnecSync.connection_id == base.connection_id)).one()
        assert state.synced_through == now and state.last_error is None
        first = [c for c in fake.calls if c["entity"] == "Document_ЧекККМ"][0]["$filter"]
        local_start = fake.local(now - timedelta(days=2))
        assert f"Date ge datetime'{local_start}'" in first
        session.rollback()
        fake.calls.clear()
        assert odata.sync_due(session, now + timedelta(minutes=15)) == 0
        again = fake.calls[0]["$filter"]
        assert f"Date ge datetime'{fake.local(now - timedelta(minutes=120))}'" in again
        fake.throttle = [500] * 10
        assert odata.sync_due(session, now + timedelta(minutes=30)) == 0
        state = session.scalars(select(OnecSync).where(OnecSync.connection_id == base.connection_id)).one()
        assert state.synced_through == now + timedelta(minutes=15) and "HTTP 500" in state.last_error
        session.rollback()


def test_not_configured_and_the_command(onec, session):
    from hub.cli.main import COMMAND_GROUPS
    from hub.connections.models import Connection
    from onec.cli import cli, parse_since
    assert cli in COMMAND_GROUPS and "sync" in cli.commands
    assert utcnow() - parse_since("2d") - timedelta(days=2) < timedelta(seconds=5)
    with pytest.raises(odata.NotConfigured):
        odata.sync(session, session.get(Connection, onec.connection_id), utcnow() - timedelta(days=1))
    with pytest.raises(OutboundError):
        set_settings(session, onec.connection_id, odata_url="http://127.0.0.1:9/odata/standard.odata")
        client = odata.ODataClient(session.get(Connection, onec.connection_id))
        client.http.retries, client.http.sleep = 0, lambda s: None
        list(client.documents("Document_ЧекККМ", "Posted eq true", None))


def test_accrual_figure_assumes_no_bonus_payment_and_is_booked_once(base, session, fake):
    """Issue 17.1 and 17.3 (1С): calculatediscounts before the payment answers 187,50 to accrue
    and says it counts no bonus payment; the 1 500 write-off accrues 112,50; the receipt pulled
    through OData afterwards claims the write-off and accrues nothing more."""
    import copy

    from hub.ledger.models import Posting
    from hub.customers.bonuses import adjust_bonuses
    from hub.programs.operations import put_program
    from tests.onec.conftest import PROGRAM
    desk, tenant = base, base.tenant_id
    program = copy.deepcopy(PROGRAM)
    program["levels"][0].update(accrual={"scheme": "percent", "percent": "5"},
                                discount={"scheme": "percent", "percent": "0"})
    put_program(session, tenant, program)
    adjust_bonuses(session, tenant, desk.customer_id, amount=150000, kind="manual", reason="тест",
                   valid_days=None, moment=utcnow(), idempotency_key=None, source="api", body={})
    session.commit()

    def accruals() -> list[int]:
        out = list(session.scalars(select(Posting.amount).where(Posting.tenant_id == tenant,
                                                                 Posting.kind == "accrual")))
        session.rollback()
        return out

    now = utcnow().replace(microsecond=0) + timedelta(seconds=1)
    with frozen(now, all_threads=True):
        assert _json(desk.get("getclientbonuses", ClientCardID=CARD))["BonusCount"] == 2000
        goods = [goods_line("l-1", ITEM_COFFEE, "Кофе в зёрнах", 2500, 1), goods_line("l-2", ITEM_CAKE, "Торт", 1250, 1)]
        calc = _json(desk.calculate(calc_body(goods, [CARD], block="1")))
        assert round(sum(b["BonusCount"] for b in calc["BonusesToAccrue"]), 2) == 187.5
        (note,) = [m for m in calc["Messages"] if "без оплаты бонусами" in m["MessageText"]]
        assert note["AfterSale"] is False and "187,50" in note["MessageText"]
        assert desk.post("writeoffclientbonuses", ClientCardID=CARD, BonusesCount="1\u00a0500").get_data(as_text=True) \
            == WRITTEN_OFF
        assert accruals() == [11250]                          # 5 % of 3 750 − 1 500
        after_writeoff = balance(session, tenant, desk.customer_id)
        assert after_writeoff == 200000 - 150000 + 11250
        fake.add("Document_ЧекККМ", receipt(guid(1), "0000-000001", fake.local(now),
                                            [line(1, ITEM_COFFEE, 2500, 1, bonus=1000),
                                             line(2, ITEM_CAKE, 1250, 1, bonus=500)], card_object()))
        pull(session, desk)
        (event,) = events(session, tenant)
        assert event.status == "done"
        assert accruals() == [11250]                          # accrued once, not twice
        assert balance(session, tenant, desk.customer_id) == after_writeoff
        assert counts(session, tenant)["receipts"] == 1
        # a card that is not locked cannot pay with bonuses: its figure is exact, no note
        desk.post("unlockclientbonuses", ClientCardID=CARD)
        calc = _json(desk.calculate(calc_body(goods, [CARD])))
        assert not [m for m in calc["Messages"] if "без оплаты бонусами" in m["MessageText"]]
