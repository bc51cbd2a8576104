"""CommerceML «Обмен с сайтом» as 1С runs it: checkauth, init, file in chunks (and a zip),
import answered `progress` until `success`; groups and products land in the shared catalog,
and a loyalty-server line naming a product inherits its groups."""
from __future__ import annotations

import base64
import copy
import io
import json
import zipfile

import pytest
from sqlalchemy import select

from hub.catalog.models import CatalogGroup, CatalogProduct
from hub.catalog.operations import groups_of
from hub.programs.operations import put_program
from tests.onec.conftest import CARD, LOGIN, PASSWORD, PROGRAM, calc_body, counts, goods_line, set_settings

NS = "urn:1C.ru:commerceml_210"
G_FOOD, G_COFFEE, G_CAKE = "grp-food", "grp-coffee", "grp-cake"


def catalog_xml(n: int, *, partial: bool = False, encoding: str = "windows-1251", ns: str = NS) -> bytes:
    products = "".join(
        f"<Товар><Ид>prod-{i}</Ид><Артикул>A-{i}</Артикул><Наименование>Товар №{i} «особый»</Наименование>"
        f"<Штрихкод>46000000{i:05d}</Штрихкод><Группы><Ид>{G_COFFEE if i % 2 else G_CAKE}</Ид></Группы>"
        f"<ЗначенияРеквизитов><ЗначениеРеквизита><Наименование>Штрихкод</Наименование>"
        f"<Значение>29000{i:05d}</Значение></ЗначениеРеквизита></ЗначенияРеквизитов></Товар>" for i in range(n))
    xml = (f'<?xml version="1.0" encoding="{encoding}"?>\n'
           f'<КоммерческаяИнформация xmlns="{ns}" ВерсияСхемы="2.10" ДатаФормирования="2026-03-01T10:00:00">'
           f'<Классификатор><Ид>cls</Ид><Наименование>Классификатор</Наименование><Группы>'
           f'<Группа><Ид>{G_FOOD}</Ид><Наименование>Еда</Наименование><Группы>'
           f'<Группа><Ид>{G_COFFEE}</Ид><Наименование>Кофе</Наименование></Группа>'
           f'<Группа><Ид>{G_CAKE}</Ид><Наименование>Выпечка</Наименование></Группа>'
           f'</Группы></Группа></Группы></Классификатор>'
           f'<Каталог СодержитТолькоИзменения="{"true" if partial else "false"}"><Ид>cat</Ид><Товары>{products}'
           f'</Товары></Каталог></КоммерческаяИнформация>')
    return xml.encode(encoding)


def offers_xml() -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?><КоммерческаяИнформация xmlns="urn:1C.ru:commerceml_205">'
            '<ПакетПредложений><Предложения><Предложение><Ид>prod-1#var-1</Ид><Наименование>Товар 1</Наименование>'
            '<Цены><Цена><ЦенаЗаЕдиницу>199,90</ЦенаЗаЕдиницу></Цена></Цены></Предложение></Предложения>'
            '</ПакетПредложений></КоммерческаяИнформация>').encode()


class Exchange:
    def __init__(self, client, connection_id: str):
        self.client, self.url = client, f"/onec/{connection_id}/exchange"
        raw = f"{LOGIN}:{PASSWORD}".encode()
        self.headers = {"Authorization": "Basic " + base64.b64encode(raw).decode()}

    def call(self, method: str, query: str, data: bytes | None = None, auth: bool = True):
        return self.client.open(f"{self.url}?{query}", method=method, data=data,
                                headers=self.headers if auth else {})

    def start(self) -> None:
        r = self.call("GET", "type=catalog&mode=checkauth&version=3.1")
        lines = r.get_data(as_text=True).split("\n")
        assert r.status_code == 200 and lines[0] == "success", lines
        self.client.set_cookie(lines[1], lines[2])
        r = self.call("GET", "type=catalog&mode=init&version=3.1", auth=False)
        assert r.get_data(as_text=True).split("\n")[0] == "zip=yes"
        assert r.get_data(as_text=True).split("\n")[1].startswith("file_limit=")

    def send(self, name: str, data: bytes, chunks: int = 1) -> None:
        size = -(-len(data) // chunks)
        for i in range(chunks):
            r = self.call("POST", f"type=catalog&mode=file&filename={name}", data[i * size:(i + 1) * size], auth=False)
            assert r.get_data(as_text=True) == "success"

    def import_(self, name: str) -> list[str]:
        answers = []
        for _ in range(100):
            r = self.call("GET", f"type=catalog&mode=import&filename={name}", auth=False)
            answers.append(r.get_data(as_text=True).split("\n")[0])
            if answers[-1] != "progress":
                break
        return answers


@pytest.fixture
def ex(onec, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "ONEC_EXCHANGE_DIR", str(tmp_path))
    return Exchange(onec.client, onec.connection_id)


def test_exchange_cp1251_chunks_progress_idempotent(onec, ex, session):
    set_settings(session, onec.connection_id, exchange_time_budget_seconds=0, exchange_batch_size=40)
    ex.start()
    ex.send("import.xml", catalog_xml(100), chunks=3)
    answers = ex.import_("import.xml")
    assert answers[-1] == "success" and answers.count("progress") == 2      # 40 + 40 + 20
    products = session.scalars(select(CatalogProduct).where(CatalogProduct.tenant_id == onec.tenant_id)).all()
    assert len(products) == 100
    p1 = next(p for p in products if p.external_id == "prod-1")
    assert p1.name == "Товар №1 «особый»" and p1.article == "A-1"
    assert p1.barcodes == ["4600000000001", "2900000001"] and p1.groups == [G_COFFEE]
    groups = {g.external_id: g for g in session.scalars(select(CatalogGroup)
                                                        .where(CatalogGroup.tenant_id == onec.tenant_id))}
    assert groups[G_COFFEE].parent_id == G_FOOD and groups[G_FOOD].parent_id is None
    assert groups_of(session, onec.tenant_id, ["prod-1"])["prod-1"] == [G_COFFEE, "Кофе", G_FOOD, "Еда"]
    ex.send("offers.xml", offers_xml())
    assert ex.import_("offers.xml") == ["success"]
    assert session.scalar(select(CatalogProduct.price).where(CatalogProduct.external_id == "prod-1")) == 19990
    # the same exchange again (a new session, a partial export in UTF-8 with another namespace): no change
    before = counts(session, onec.tenant_id)
    ex.start()
    ex.send("import.xml", catalog_xml(100, partial=True, encoding="utf-8", ns="urn:1C.ru:commerceml_2"))
    assert ex.import_("import.xml")[-1] == "success"
    after = counts(session, onec.tenant_id)
    assert after["catalog_products"] == before["catalog_products"] and after["catalog_groups"] == 3


def test_zip_upload(onec, ex, session):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("import.xml", catalog_xml(5))
        z.writestr("offers.xml", offers_xml())
    ex.start()
    ex.send("exchange.zip", buf.getvalue())
    assert ex.import_("import.xml") == ["success"]
    assert ex.import_("offers.xml") == ["success"]
    assert counts(session, onec.tenant_id)["catalog_products"] == 5


def test_group_rules_from_catalog_in_calculatediscounts(onec, ex, session):
    program = copy.deepcopy(PROGRAM)
    program["rules"] = [{"name": "Кофе x2", "when": {"groups": ["Кофе"]}, "then": {"accrual_multiplier": "2"}}]
    put_program(session, onec.tenant_id, program)
    session.commit()
    ex.start()
    ex.send("import.xml", catalog_xml(4))
    assert ex.import_("import.xml") == ["success"]
    body = json.loads(onec.calculate(calc_body([goods_line("a", "prod-1", "Кофе", 100, 1),
                                                goods_line("b", "prod-2", "Торт", 100, 1)], [CARD]))
                      .get_data(as_text=True))
    earned = {b["KeyRelation"]: b["BonusCount"] for b in body["BonusesToAccrue"]}
    assert earned == {1: 19, 2: 9.5}       # 95 ₽ after the level discount: 20 % for coffee, 10 % for cake


def test_bad_exchange_requests(onec, ex, session):
    before = counts(session, onec.tenant_id)
    r = ex.call("GET", "type=catalog&mode=checkauth", auth=False)
    assert r.status_code == 401 and r.get_data(as_text=True).startswith("failure")
    ex.start()
    for query in ("type=catalog&mode=import&filename=import.xml", "type=catalog&mode=file&filename=../x.xml",
                  "type=catalog&mode=import&filename=", "type=what&mode=init", "type=catalog&mode=dance"):
        r = ex.call("GET" if "file&" not in query else "POST", query, b"<x/>", auth=False)
        assert r.get_data(as_text=True).startswith("failure"), query
    ex.send("import.xml", b"<?xml version='1.0'?><broken")
    assert ex.import_("import.xml") == ["failure"]
    after = counts(session, onec.tenant_id)
    assert {k: v for k, v in after.items() if k != "onec_exchanges"} == \
        {k: v for k, v in before.items() if k != "onec_exchanges"}


MIB = 1024 * 1024


def _archive(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize("same_name", [False, True])
def test_exchange_cap_counts_every_archive_and_unpacked_file(onec, ex, session, tmp_path, same_name):
    """Issue 17.9: three archives of 15 MiB unpacked each under a 20 MiB exchange_max_bytes —
    the cap is the exchange's, not one archive's: the second archive is refused, whether its
    files have new names or replace the first one's."""
    set_settings(session, onec.connection_id, exchange_max_bytes=20 * MIB)
    picture = bytes(15 * MIB)
    archives = [_archive({"import.xml": catalog_xml(3),
                          f"import_files/{'photo' if same_name else f'photo{n}'}.jpg": picture})
                for n in range(1, 4)]
    assert all(len(a) < MIB for a in archives)         # small on the wire, 15 MiB each unpacked
    ex.start()
    for n, data in enumerate(archives, 1):
        ex.send(f"exchange{n}.zip", data)
    r = ex.call("GET", "type=catalog&mode=import&filename=import.xml", auth=False)
    answer = r.get_data(as_text=True)
    assert r.status_code == 200 and answer.startswith("failure\n") and "Превышен объём" in answer, answer
    unpacked = sum(f.stat().st_size for f in tmp_path.rglob("*") if f.is_file() and f.suffix != ".zip")
    assert unpacked <= 20 * MIB
    assert counts(session, onec.tenant_id)["catalog_products"] == 0
    # the cap is per exchange: a new exchange (checkauth … import) with one of them goes through
    ex.start()
    ex.send("exchange.zip", archives[0])
    assert ex.import_("import.xml") == ["success"]
    assert counts(session, onec.tenant_id)["catalog_products"] == 3
    # and what that archive unpacked counts against a file sent after it in the same exchange
    answers = [ex.call("POST", "type=catalog&mode=file&filename=offers.xml", bytes(900_000), auth=False)
               .get_data(as_text=True) for _ in range(7)]        # 1С's chunks of one 6 MB file
    assert answers[:5] == ["success"] * 5 and answers[5].startswith("failure\nПревышен объём"), answers
