"""Exports to Excel in the owner's cabinet: the client base and transactions for a period,
built by a background job (inline here; rq through a stand-in queue), progress in a row,
download when ready; owner and manager only; tenants sealed; audited."""
from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from hub.clock import frozen
from tests.web.conftest import text, token
from tests.web.test_cabinet import _sale

NOW = datetime(2026, 11, 20, 21, 30, tzinfo=timezone.utc)     # 21 Nov 00:30 in Moscow


@pytest.fixture(autouse=True)
def _export_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("KOPILKA_EXPORT_DIR", str(tmp_path / "exports"))
    monkeypatch.delenv("REDIS_URL", raising=False)


def _export(client, session, data: dict):
    t = token(client, "/cabinet/exports")
    r = client.post("/cabinet/exports", data={"csrf_token": t, **data})
    return r


def _sheet(book, name):
    ws = book[name]
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_clients_export_is_built_and_downloaded(client, session, shop, as_role, customer_of):
    from hub.staff.models import AuditEntry
    from hub.exports.models import Export
    with frozen(NOW):
        anna = customer_of(shop["a"], "+79161110001", first_name="Анна", last_name="Петрова", gender="female",
                           birth_date=date(1990, 5, 17), email="anna@example.ru", comment="любит капучино")
        customer_of(shop["a"], "+79161110002")
        theirs = customer_of(shop["b"], "+79990000001")
        _sale(session, shop["a"], anna, 100000)
        _sale(session, shop["a"], anna, 50000)
        _sale(session, shop["b"], theirs, 70000)
        as_role("manager")
        r = _export(client, session, {"kind": "clients"})
        assert r.status_code == 303
        page = text(client.get(r.headers["Location"]))
    export_id = r.headers["Location"].rsplit("/", 1)[1]
    # Asked for at 00:30 on 21 November in Moscow: the file is that day's (issue 25), not UTC's 20th.
    assert "готово" in page and "Скачать clients-2026-11-21.xlsx" in page and "hx-trigger" not in page
    row = session.get(Export, export_id)
    assert (row.status, row.rows_total, row.rows_done, row.user_email) == ("done", 2, 2, "manager@zerno.test")
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "export.create")).one()
    assert entry.object_id == export_id and entry.details == {"kind": "clients"}
    assert entry.tenant_id == shop["a"]
    dl = client.get(f"/cabinet/exports/{export_id}/download")
    assert dl.status_code == 200 and "clients-2026-11-21.xlsx" in dl.headers["Content-Disposition"]
    rows = _sheet(load_workbook(io.BytesIO(dl.data), read_only=True), "Клиенты")
    assert rows[0][:3] == ["Телефон", "ФИО", "Пол"] and len(rows[0]) == 13
    assert [r[0] for r in rows[1:]] == ["+79161110001", "+79161110002"]      # B's client is not there
    first = rows[1]
    assert first[1:6] == ["Петрова Анна", "женский", datetime(1990, 5, 17), "anna@example.ru", "любит капучино"]
    assert first[6] == datetime(2026, 11, 21, 0, 30)                       # registration, Moscow time
    assert first[7] == "Базовый" or first[7]                               # the level's name
    assert first[8] == 75.0                                                # 5% of 1 500 ₽ in bonuses
    assert first[9:] == [2, 750.0, datetime(2026, 11, 20, 12, 0), 1500.0]   # the sales at 09:00 UTC
    assert rows[2][9] == 0 and rows[2][10] is None and rows[2][8] == 0
    listing = text(client.get("/cabinet/exports"))
    assert f"/cabinet/exports/{export_id}/download" in listing and "manager@zerno.test" in listing


def test_keyset_batches_record_progress(client, session, shop, as_role, customer_of, monkeypatch):
    from hub.exports import operations as exports
    monkeypatch.setattr(exports, "BATCH", 2)
    seen = []
    real = exports._progress
    monkeypatch.setattr(exports, "_progress", lambda s, eid, done: (seen.append(done), real(s, eid, done)))
    for i in range(5):
        customer_of(shop["a"], f"+7916222000{i}")
    as_role("owner")
    r = _export(client, session, {"kind": "clients"})
    export_id = r.headers["Location"].rsplit("/", 1)[1]
    dl = client.get(f"/cabinet/exports/{export_id}/download")
    rows = _sheet(load_workbook(io.BytesIO(dl.data), read_only=True), "Клиенты")
    assert [r[0] for r in rows[1:]] == [f"+7916222000{i}" for i in range(5)]
    assert seen == [2, 4, 5]


def test_transactions_for_a_period_with_returns(client, session, shop, as_role, customer_of):
    from decimal import Decimal

    from hub.receipts.operations import ReturnRequest, return_sale
    c = customer_of(shop["a"], "+79161110003", card_number="2000300040")
    inside = datetime(2026, 11, 10, 8, 0, tzinfo=timezone.utc)
    _sale(session, shop["a"], c, 100000, external_id="R-IN", moment=inside)
    _sale(session, shop["a"], None, 30000, external_id="R-ANON", moment=inside + timedelta(hours=1))
    _sale(session, shop["a"], c, 20000, external_id="R-OUT", moment=datetime(2026, 10, 31, 20, 59, tzinfo=timezone.utc))
    _sale(session, shop["b"], None, 40000, external_id="R-B", moment=inside)
    return_sale(session, shop["a"], "api", "R-IN",
                ReturnRequest(external_id="RET-1", moment=inside + timedelta(days=1),
                              quantities={"1": Decimal(1)}), {"x": 1})
    session.commit()
    with frozen(NOW):
        as_role("owner")
        r = _export(client, session, {"kind": "transactions", "date_from": "2026-11-01", "date_to": "2026-11-30"})
        assert r.status_code == 303
        export_id = r.headers["Location"].rsplit("/", 1)[1]
        page = text(client.get(r.headers["Location"]))
    assert "01.11.2026 — 30.11.2026" in page
    dl = client.get(f"/cabinet/exports/{export_id}/download")
    assert "transactions-2026-11-01_2026-11-30.xlsx" in dl.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(dl.data), read_only=True)
    sales = _sheet(book, "Продажи")
    assert sales[0][:8] == ["Дата операции", "Чек", "Телефон клиента", "Номер карты", "Сумма покупки, ₽",
                            "Потрачено бонусов", "Начислено бонусов", "Тип карты (уровень)"]
    # R-OUT is 31 Oct 23:59 in Moscow: outside; B's receipt is not there
    assert [s[1] for s in sales[1:]] == ["R-IN", "R-ANON"]
    assert sales[1][:7] == [datetime(2026, 11, 10, 11, 0), "R-IN", "+79161110003", "2000300040", 1000.0, 0, 50.0]
    assert sales[2][2] is None and sales[2][4] == 300.0
    returns = _sheet(book, "Возвраты")
    assert [r[1] for r in returns[1:]] == ["R-IN"] and returns[1][4] == 1000.0 and returns[1][6] == 50.0


def test_validation_messages(client, session, shop, as_role):
    from hub.exports.models import Export
    as_role("owner")
    r = _export(client, session, {"kind": "transactions", "date_from": "", "date_to": "2026-13-01"})
    assert r.status_code == 422
    page = text(r)
    assert "Укажите дату начала периода." in page and "Дата в формате ГГГГ-ММ-ДД." in page
    r = _export(client, session, {"kind": "transactions", "date_from": "2026-11-10", "date_to": "2026-11-01"})
    assert r.status_code == 422 and "Конец периода раньше начала." in text(r)
    r = _export(client, session, {"kind": "transactions", "date_from": "2024-01-01", "date_to": "2026-01-01"})
    assert r.status_code == 422 and "не длиннее 366 дней" in text(r)
    r = _export(client, session, {"kind": "everything"})
    assert r.status_code == 422 and "Выберите, что выгрузить." in text(r)
    assert session.scalars(select(Export).where(Export.tenant_id.in_([shop["a"], shop["b"]]))).all() == []


def test_roles_csrf_and_sign_in(client, session, shop, as_role):
    from hub.exports.models import Export
    assert client.get("/cabinet/exports").status_code == 302                  # not signed in
    as_role("readonly")
    assert client.get("/cabinet/exports").status_code == 403
    t = token(client, "/cabinet/")
    assert client.post("/cabinet/exports", data={"csrf_token": t, "kind": "clients"}).status_code == 403
    assert "/cabinet/exports" not in text(client.get("/cabinet/"))           # no link in the menu
    client.post("/cabinet/logout", data={"csrf_token": t})
    as_role("owner")
    r = client.post("/cabinet/exports", data={"kind": "clients"})
    assert r.status_code == 400 and "Страница устарела" in text(r)
    assert session.scalars(select(Export).where(Export.tenant_id.in_([shop["a"], shop["b"]]))).all() == []
    assert "/cabinet/exports" in text(client.get("/cabinet/"))


def test_another_tenants_export_is_not_found(client, session, shop, as_role):
    from hub.exports.models import Export
    theirs = Export(tenant_id=shop["b"], kind="clients", params={}, status="done", rows_done=0,
                    file_name="clients.xlsx", user_email="owner@other.test", created_at=NOW)
    session.add(theirs)
    session.commit()
    from hub.exports.operations import file_path
    path = file_path(theirs)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"secret")
    as_role("owner")
    assert client.get(f"/cabinet/exports/{theirs.id}").status_code == 404
    assert client.get(f"/cabinet/exports/{theirs.id}/download").status_code == 404
    assert client.get("/cabinet/exports/nope/download").status_code == 404
    assert "owner@other.test" not in text(client.get("/cabinet/exports"))


class _Queue:
    def __init__(self):
        self.jobs = []

    def enqueue(self, func, *args, **kwargs):
        self.jobs.append((func, args))


def test_background_job_progress_is_polled(client, session, shop, as_role, customer_of, monkeypatch):
    """With rq the request only enqueues; the page polls until the worker has built the file."""
    import hub.jobs
    from hub.extensions import db
    from hub.exports import operations as exports
    queue = _Queue()
    monkeypatch.setattr(hub.jobs, "get_queue", lambda config=None: queue)
    customer_of(shop["a"], "+79161110004")
    as_role("owner")
    r = _export(client, session, {"kind": "clients"})
    (func, (export_id,)), = queue.jobs
    assert func is exports.build_export_job
    page = text(client.get(r.headers["Location"]))
    assert "в очереди" in page and 'hx-trigger="every 1s"' in page and "Выгрузка запущена." in page
    assert f"/cabinet/exports/{export_id}/download" not in page
    assert client.get(f"/cabinet/exports/{export_id}/download").status_code == 404
    assert exports.build_export(db.session, export_id) == "done"              # what the worker does
    fragment = text(client.get(r.headers["Location"], headers={"HX-Request": "true"}))
    assert fragment.startswith('<div id="export-status"') and "<html" not in fragment
    assert "hx-trigger" not in fragment and "1 из 1" in fragment and "Скачать" in fragment
    assert exports.build_export(db.session, export_id) == "done"              # a second run changes nothing


def test_a_failed_build_says_so(client, session, shop, as_role, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv("KOPILKA_EXPORT_DIR", str(blocker))
    as_role("owner")
    r = _export(client, session, {"kind": "clients"})
    page = text(client.get(r.headers["Location"]))
    assert "ошибка" in page and "Не удалось собрать файл" in page
    assert re.search(r"hx-trigger", page) is None


def test_fast_rows_are_the_bytes_xlsxwriter_writes():
    """The sheet's rows written straight to XlsxWriter's constant-memory row file are byte for
    byte what its own write_string/write_number calls give, escapes and odd values included."""
    import zipfile

    import xlsxwriter

    from hub.exports import operations as exports
    rows = [("+79161110001", "Петрова Анна", "женский", 33000, "a&b<c>@x.ru", " пробел", 46000.5, "Золотой",
             75.0, 2, 750.0, 46000.51234, 1500.0),
            ("+7", "tab\there", None, None, "", "ctl\x01x _x0041_ y\r", None, "x\n", 0.0, 0, None, None, 0.1 + 0.2),
            ("a" * 20000, 'q"uote', "end ", 1, "😀" * 17000, "snake_case", 1e20, "ok", -5.5, 10 ** 17, 1 / 3, 2.0, 3)]

    def build(fast: bool) -> bytes:
        buf = io.BytesIO()
        book = xlsxwriter.Workbook(buf, {"constant_memory": True})
        sheet = exports._Sheet(book, "Клиенты", exports.CLIENT_COLUMNS, exports._formats(book))
        assert sheet.fast
        sheet.fast = fast
        sheet.write_rows(rows)
        for values in rows:
            sheet.write(values)
        sheet.write_rows(iter(rows * 700))
        book.close()
        return zipfile.ZipFile(buf).read("xl/worksheets/sheet1.xml")

    fast, reference = build(True), build(False)
    assert b'<dimension ref="A1:M2107"/>' in reference
    assert fast == reference


def test_serials_follow_the_zone_offsets():
    from zoneinfo import ZoneInfo

    from hub.exports.operations import _EPOCH, _Serials
    for name in ("Europe/Moscow", "Europe/Berlin", "America/St_Johns"):
        tz = ZoneInfo(name)
        serial = _Serials(tz)
        moment = datetime(2026, 3, 28, 0, 0)
        for _ in range(24 * 4 * 3):                       # around the spring change of Europe and before
            local = moment.replace(tzinfo=timezone.utc).astimezone(tz).replace(tzinfo=None)
            assert serial(moment) == pytest.approx((local - _EPOCH).total_seconds() / 86400, abs=1e-9)
            assert serial(moment.replace(tzinfo=timezone.utc)) == serial(moment)
            moment += timedelta(minutes=17)
    assert _Serials(ZoneInfo("UTC"))(None) is None


def test_large_export_without_a_queue_waits_for_the_scheduler(client, session, shop, as_role, customer_of,
                                                               monkeypatch):
    """Without Redis a large export is not built in the request nor in a thread of the web
    process: it stays queued, the page polls, and the embedded scheduler's poll builds it."""
    import threading

    from hub.clock import utcnow
    from hub.exports.models import Export
    from hub.exports import operations as exports
    monkeypatch.setattr(exports, "INLINE_ROWS", 2)
    for i in range(3):
        customer_of(shop["a"], f"+7916333000{i}")
    as_role("owner")
    threads = threading.active_count()
    r = _export(client, session, {"kind": "clients"})
    export_id = r.headers["Location"].rsplit("/", 1)[1]
    assert threading.active_count() == threads
    assert not hasattr(exports, "build_in_thread") and not hasattr(exports, "_spawn")
    page = text(client.get(r.headers["Location"]))
    assert "в очереди" in page and 'hx-trigger="every 1s"' in page and "Выгрузка запущена." in page
    assert session.get(Export, export_id).status == "queued"
    assert exports.build_queued_exports(session, utcnow(), after=timedelta(0)) == 1    # the scheduler's poll
    assert exports.build_queued_exports(session, utcnow(), after=timedelta(0)) == 0
    frag = text(client.get(r.headers["Location"], headers={"HX-Request": "true"}))
    assert "<html" not in frag and "готово" in frag and "3 из 3" in frag and "hx-trigger" not in frag


def test_an_export_is_built_by_one_builder_only(client, session, shop, as_role, customer_of):
    """The rq job, the scheduler's poll and the sweep may all find one queued export: the first
    claims it (queued -> running), the others leave it alone."""
    from hub.clock import utcnow
    from hub.exports.models import Export
    from hub.exports import operations as exports
    customer_of(shop["a"], "+79163330009")
    row = Export(tenant_id=shop["a"], kind="clients", params={}, status="queued", rows_done=0,
                 user_email="t@test", created_at=utcnow())
    session.add(row)
    session.commit()
    assert exports.claim_export(session, row.id) is True
    assert exports.claim_export(session, row.id) is False
    assert exports.build_export(session, row.id) == "running"             # someone else builds it
    assert not exports.file_path(row).exists()
    assert exports.build_queued_exports(session, utcnow(), after=timedelta(0)) == 0


def test_the_sweep_takes_queued_exports_rq_left(client, session, shop, as_role, customer_of, monkeypatch):
    """With rq the sweep builds only exports whose job has not started for SWEEP_AFTER (Redis
    lost it, or no worker runs); without rq every queued one (`kopilka automation run` by cron)."""
    import hub.jobs
    from hub.clock import utcnow
    from hub.exports.models import Export
    from hub.exports import operations as exports
    customer_of(shop["a"], "+79163330008")
    now = utcnow()
    fresh, old = (Export(tenant_id=shop["a"], kind="clients", params={}, status="queued", rows_done=0,
                         user_email="t@test", created_at=at) for at in (now, now - timedelta(minutes=6)))
    session.add_all([fresh, old])
    session.commit()
    monkeypatch.setattr(hub.jobs, "get_queue", lambda config=None: _Queue())
    assert exports.build_queued_exports(session, now) == 1
    session.expire_all()
    assert (session.get(Export, old.id).status, session.get(Export, fresh.id).status) == ("done", "queued")
    monkeypatch.undo()
    monkeypatch.setenv("KOPILKA_EXPORT_DIR", str(exports.export_dir()))
    assert exports.build_queued_exports(session, now) == 1
    session.expire_all()
    assert session.get(Export, fresh.id).status == "done"


def test_the_schedulers_poll_builds_on_its_own_session(tmp_path, monkeypatch):
    """build_queued_exports_job (what `kopilka automation schedule` polls) on a committed SQLite
    database of its own, as the scheduler process runs it."""
    from sqlalchemy.orm import sessionmaker

    import hub.schema  # noqa: F401 - every table in the MetaData
    from hub.clock import utcnow
    from hub.extensions import db, make_engine
    from hub.orm import Base
    from hub.exports.models import Export
    from hub.customers.operations import register_customer
    from hub.tenants.operations import create_tenant
    from hub.exports import operations as exports
    url = f"sqlite:///{tmp_path / 'poll.sqlite3'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    monkeypatch.setenv("DATABASE_URL", url)
    previous = db.engine
    s = sessionmaker(bind=engine, expire_on_commit=False)()
    tenant, _ = create_tenant(s, "Поток")
    for i in range(4):
        register_customer(s, tenant.id, {"phone": f"+7916444000{i}"}, source="api", moment=utcnow())
    row = Export(tenant_id=tenant.id, kind="clients", params={}, status="queued", rows_done=0,
                 user_email="t@test", created_at=utcnow())
    s.add(row)
    s.commit()
    try:
        assert exports.build_queued_exports_job() == 1
    finally:
        db.session.remove()
        if db.engine is not previous:
            db.engine.dispose()
            db.engine = previous
            db.session.configure(bind=previous)
    s.expire_all()
    done = s.get(Export, row.id)
    assert (done.status, done.rows_done, done.rows_total) == ("done", 4, 4)
    rows = _sheet(load_workbook(exports.file_path(done), read_only=True), "Клиенты")
    assert [r[0] for r in rows[1:]] == [f"+7916444000{i}" for i in range(4)]
    s.close()
    engine.dispose()


def test_the_scheduler_polls_between_its_runs(monkeypatch):
    """`kopilka automation schedule` calls its poll every few seconds between the 15-minute
    runs (so a queued export starts at once), and a failing poll does not end it."""
    import threading

    from hub.jobs import tasks
    stop, runs, polls = threading.Event(), [], []
    monkeypatch.setattr(tasks, "run_automation", lambda: runs.append(1))

    def poll():
        polls.append(1)
        if len(polls) == 1:
            raise RuntimeError("the database went away for a moment")
        if len(polls) == 3:
            stop.set()
    tasks.run_periodically(stop, timedelta(hours=1), poll=poll, poll_every=0.01)
    assert (len(runs), len(polls)) == (1, 3)


def test_the_export_zip_is_scoped_to_its_workbook(tmp_path):
    """The export's workbook deflates at level 1; XlsxWriter's module and every other workbook
    keep the standard zip (nothing of the library is replaced for the process)."""
    import zipfile

    import xlsxwriter
    import xlsxwriter.workbook

    from hub.exports import operations as exports
    book = exports.ExportWorkbook(tmp_path / "e.xlsx")
    exports._Sheet(book, "Клиенты", exports.CLIENT_COLUMNS, exports._formats(book)).write_rows(
        [("+7916", "Анна " * 50, None, None, None, None, None, None, 1.0, 1, None, None, 1.0)] * 2000)
    book.close()
    assert xlsxwriter.workbook.ZipFile is zipfile.ZipFile
    assert xlsxwriter.Workbook._store_workbook is not exports.ExportWorkbook._store_workbook
    other = xlsxwriter.Workbook(str(tmp_path / "o.xlsx"), {"constant_memory": True})
    sheet = exports._Sheet(other, "Клиенты", exports.CLIENT_COLUMNS, exports._formats(other))
    sheet.write_rows([("+7916", "Анна " * 50, None, None, None, None, None, None, 1.0, 1, None, None, 1.0)] * 2000)
    other.close()
    quick = zipfile.ZipFile(tmp_path / "e.xlsx").getinfo("xl/worksheets/sheet1.xml")
    standard = zipfile.ZipFile(tmp_path / "o.xlsx").getinfo("xl/worksheets/sheet1.xml")
    assert quick.file_size == standard.file_size and quick.compress_size > standard.compress_size
    assert load_workbook(tmp_path / "e.xlsx", read_only=True)["Клиенты"].max_row == 2001
