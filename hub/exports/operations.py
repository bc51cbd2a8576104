"""Exports to Excel (seed 000 §7): the client base, and transactions for a period.

A person asks for an export in the cabinet; an Export row is written and a job builds the file:
rq with REDIS_URL; without Redis a small export inside the request and a larger one by the
embedded scheduler process (`kopilka automation schedule`, started by `kopilka serve`), which
polls for queued exports — never a thread of a web worker. Whoever builds it first claims the
row (queued -> running in one UPDATE), so two builders never write one file. XlsxWriter in
constant-memory mode, reading rows in keyset batches (short transactions, constant memory at
any size) and recording its progress in the row after each batch. The page polls the row
(htmx) and offers the file when it is ready. Owner and manager only; tenants sealed.

Files are kept in $KOPILKA_EXPORT_DIR (default: `exports/` in KOPILKA_HOME), one folder per
tenant, named by the export's id.
"""
from __future__ import annotations

import logging
import os
import re
import types
import zipfile
from datetime import date, datetime, time as dtime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import xlsxwriter
import xlsxwriter.workbook
from sqlalchemy import DateTime, and_, func, or_, select, type_coerce, update
from sqlalchemy.orm import Session
from xlsxwriter.utility import _preserve_whitespace, _utf16_len, _utf16_truncate, xl_col_to_name

from hub.clock import utcnow
from hub.extensions import db, unit_of_work
from hub.staff.operations import Actor, record
from hub.customers.models import Customer
from hub.receipts.models import Receipt, ReceiptReturn
from hub.ledger.models import Account
from hub.exports.models import Export
from hub import jobs
from hub.config import Config
from hub.config import default_home
from hub.programs.operations import load_settings

log = logging.getLogger(__name__)

BATCH = 5000
MAX_DAYS = 366
KINDS = {"clients": "Клиенты", "transactions": "Операции"}
STATUS_NAMES = {"queued": "в очереди", "running": "собирается", "done": "готово", "failed": "ошибка"}
GENDERS = {"male": "мужской", "female": "женский"}
_EPOCH = datetime(1899, 12, 30)  # noqa: DTZ001 - Excel's epoch and 1С's dates carry no time zone
_EPOCH_DAY = date(1899, 12, 30)
_EXACT = 10 ** 16


def export_dir() -> Path:
    return Path(os.environ.get("KOPILKA_EXPORT_DIR") or default_home() / "exports")


def file_path(export: Export) -> Path:
    return export_dir() / export.tenant_id / f"{export.id}.xlsx"


def download_name(export: Export, tz: ZoneInfo | None = None) -> str:
    """The file's name; a clients' list is named by the day it was asked for in the shop's zone
    (an export asked for at 01:30 in Moscow is that day's, not the previous UTC day's)."""
    if export.kind == "clients":
        created = export.created_at if export.created_at.tzinfo else export.created_at.replace(tzinfo=timezone.utc)
        return f"clients-{created.astimezone(tz or timezone.utc):%Y-%m-%d}.xlsx"
    return f"transactions-{export.params.get('date_from')}_{export.params.get('date_to')}.xlsx"


# --- building the file -------------------------------------------------------------------------

class _Serials:
    """UTC moments (naive UTC or aware UTC) as Excel date-time serials in the tenant's zone.

    The zone's offset is looked up once per UTC day (and exactly for a day with a change of
    offset) instead of a zone conversion per cell."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self.days: dict[float, float | None] = {}

    def _offset(self, moment: datetime) -> float:
        return moment.replace(tzinfo=timezone.utc).astimezone(self.tz).utcoffset().total_seconds()

    def __call__(self, moment: datetime | None) -> float | None:
        if moment is None:
            return None
        if moment.tzinfo is not None:
            moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
        seconds = (moment - _EPOCH).total_seconds()
        key = seconds // 86400
        offset = self.days.get(key, False)
        if offset is False:
            start = _EPOCH + timedelta(days=key)
            first, last = self._offset(start), self._offset(start + timedelta(days=1, microseconds=-1))
            offset = self.days[key] = first if first == last else None
        if offset is None:                  # the day the zone changed its offset
            offset = self._offset(moment)
        return (seconds + offset) / 86400


def _day_serial(value: date | None) -> int | None:
    return None if value is None else (value - _EPOCH_DAY).days


# A string with any of these (or leading/trailing white space) goes through XlsxWriter's own
# escaping; "_" because of its "_xHHHH_" escapes.
_NEEDS_CARE = re.compile(r"[&<>_\x00-\x08\x0b-\x1f\ufffe\uffff]").search


class _Sheet:
    """One worksheet written row by row in XlsxWriter's constant-memory mode.

    XlsxWriter's per-cell calls (write_string/write_number: argument conversion, bounds
    checks, a namedtuple per cell, then per-cell XML with attribute escaping) were 75% of a
    large export. In constant-memory mode a row's XML goes straight to the worksheet's
    temporary row file, so this writes each row's `<row>` element there itself, exactly as
    XlsxWriter's `_write_cell` would (inline strings, numbers as `%.16G`, the cell format's
    style index), and keeps the worksheet's dimensions; the workbook, styles, column widths,
    frozen panes and the zip stay XlsxWriter's. A string that needs escaping goes through
    XlsxWriter's own escaping functions. tests/web/test_exports.py compares the bytes with
    XlsxWriter's own output. Without the constant-memory internals it falls back to the
    public calls."""

    def __init__(self, book, name: str, columns: list[tuple[str, int, str]], formats: dict) -> None:
        self.ws = ws = book.add_worksheet(name)
        self.kinds = [kind for _, _, kind in columns]
        self.formats = formats
        head = formats["head"]
        for col, (title, width, _kind) in enumerate(columns):
            ws.set_column(col, col, width)
            ws.write_string(0, col, title, head)
        ws.freeze_panes(1, 0)
        self.row = 1
        self.fast = bool(getattr(ws, "constant_memory", False)) and hasattr(ws, "row_data_fh") \
            and hasattr(ws, "_write_single_row") and hasattr(ws, "previous_row")
        self.last_col = len(columns) - 1
        if self.fast:
            self.row_xml = _row_function(self.kinds, [formats[k]._get_xf_index() if k in formats else 0
                                                      for k in self.kinds], self._careful_string)

    def write(self, values: tuple) -> None:
        self.write_rows((values,))

    def write_rows(self, rows) -> None:
        """Rows (tuples in the columns' order; None or "" leaves a cell empty), in chunks."""
        if not self.fast:
            for values in rows:
                self._write_public(values)
            return
        ws, r, row_xml = self.ws, self.row, self.row_xml
        if r > ws.previous_row:          # the header row still waits in XlsxWriter's table
            ws._write_single_row(r)
        chunk: list[str] = []
        for values in rows:
            r += 1                       # the XML's row numbers start at 1
            chunk.append(row_xml(values, str(r)))
            if len(chunk) >= 2000:
                self._flush(chunk, r - 1)
        self._flush(chunk, r - 1)

    def _flush(self, chunk: list[str], last: int) -> None:
        ws = self.ws
        if chunk:
            ws.fh.write("".join(chunk))
            chunk.clear()
        if last >= self.row:
            ws.previous_row = last
            if ws.dim_rowmax is None or last > ws.dim_rowmax:
                ws.dim_rowmax = last
            if ws.dim_colmax is None or self.last_col > ws.dim_colmax:
                ws.dim_colmax = self.last_col
            self.row = last + 1

    def _careful_string(self, ref: str, value: str) -> str:
        """An inline string cell through XlsxWriter's own truncation and escaping."""
        ws = self.ws
        if len(value) > ws.xls_strmax // 2 and _utf16_len(value) > ws.xls_strmax:
            value = _utf16_truncate(value, ws.xls_strmax)
        value = ws._escape_control_characters(value)
        space = ' xml:space="preserve"' if _preserve_whitespace(value) else ""
        return f'<c r="{ref}" t="inlineStr"><is><t{space}>{ws._escape_data(value)}</t></is></c>'

    def _write_public(self, values: tuple) -> None:
        ws, r, formats = self.ws, self.row, self.formats
        for col, (kind, value) in enumerate(zip(self.kinds, values)):
            if value is None or value == "":
                continue
            if kind == "str":
                ws.write_string(r, col, value)
            elif kind == "int":
                ws.write_number(r, col, value)
            else:                                   # money | date | datetime: numbers with a format
                ws.write_number(r, col, value, formats[kind])
        self.row += 1


def _text_cell(ref: str, careful):
    head, middle = f'<c r="{ref}', '" t="inlineStr"><is><t>'
    care = _NEEDS_CARE

    def cell(v, n: str) -> str:
        if not v:
            return ""
        if care(v) or v[0].isspace() or v[-1].isspace() or len(v) > 16383:
            return careful(ref + n, v)
        return f"{head}{n}{middle}{v}</t></is></c>"
    return cell


def _number_cell(ref: str, style: int | None):
    head, middle = f'<c r="{ref}', '"><v>' if style is None else f'" s="{style}"><v>'
    exact = _EXACT

    def cell(v, n: str) -> str:
        if v is None or v == "":
            return ""
        if v.__class__ is int and -exact < v < exact:     # as '%.16G' writes it
            return f"{head}{n}{middle}{v}</v></c>"
        return f"{head}{n}{middle}{v:.16G}</v></c>"
    return cell


def _row_function(kinds: list[str], styles: list[int], careful):
    """`row(values, n) -> "<row r=n>…</row>"` for these columns: one cell writer per column,
    chosen once per sheet by the column's kind, so no cell asks its kind."""
    cells = tuple(_text_cell(xl_col_to_name(i), careful) if kind == "str"
                  else _number_cell(xl_col_to_name(i), None if kind == "int" else style)
                  for i, (kind, style) in enumerate(zip(kinds, styles)))

    def row(values: tuple, n: str) -> str:
        xml = "".join([cell(v, n) for cell, v in zip(cells, values)])
        return f'<row r="{n}">{xml}</row>' if xml else ""
    return row


class _QuickZip(zipfile.ZipFile):
    """The xlsx zip at deflate level 1 instead of zlib's default 6: about a third of the time
    for a file some 20% larger (deflating the sheet's XML was a fifth of a large export)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("compresslevel", 1)
        super().__init__(*args, **kwargs)


def _store_with(zip_class: type) -> types.FunctionType:
    """XlsxWriter's own `Workbook._store_workbook`, with `ZipFile` resolved to `zip_class`:
    XlsxWriter has no option for the level and opens the zip through its module's global, so
    the method is rebound to a copy of that module's namespace — the module and every other
    workbook of the process keep the standard zip. The code is XlsxWriter's (pinned in
    pyproject.toml to the versions tests/web/test_exports.py covers)."""
    original = xlsxwriter.workbook.Workbook._store_workbook
    namespace = {**vars(xlsxwriter.workbook), "ZipFile": zip_class}
    return types.FunctionType(original.__code__, namespace, original.__name__, original.__defaults__,
                              original.__closure__)


class ExportWorkbook(xlsxwriter.Workbook):
    """The export's workbook: constant memory, no conversions of strings, a level-1 zip."""

    _store_workbook = _store_with(_QuickZip)

    def __init__(self, path) -> None:
        super().__init__(str(path) if isinstance(path, Path) else path,
                         {"constant_memory": True, "strings_to_numbers": False,
                          "strings_to_formulas": False, "strings_to_urls": False})


def _formats(book) -> dict:
    return {"head": book.add_format({"bold": True, "bg_color": "#E1ECF7", "text_wrap": True}),
            "money": book.add_format({"num_format": "#,##0.00"}),
            "date": book.add_format({"num_format": "dd.mm.yyyy"}),
            "datetime": book.add_format({"num_format": "dd.mm.yyyy hh:mm"})}


CLIENT_COLUMNS = [("Телефон", 15, "str"), ("ФИО", 30, "str"), ("Пол", 9, "str"), ("Дата рождения", 12, "date"),
                  ("Email", 26, "str"), ("Комментарий", 30, "str"), ("Дата регистрации", 16, "datetime"),
                  ("Текущая карта (уровень)", 16, "str"), ("Баланс бонусов", 14, "money"),
                  ("Количество покупок", 12, "int"), ("Средний чек, ₽", 14, "money"),
                  ("Дата последней покупки", 16, "datetime"), ("Сумма покупок, ₽", 16, "money")]
SALE_COLUMNS = [("Дата операции", 16, "datetime"), ("Чек", 18, "str"), ("Телефон клиента", 15, "str"),
                ("Номер карты", 16, "str"), ("Сумма покупки, ₽", 14, "money"),
                ("Потрачено бонусов", 14, "money"), ("Начислено бонусов", 14, "money"),
                ("Тип карты (уровень)", 16, "str"), ("Магазин", 16, "str"), ("Кассир", 16, "str")]
RETURN_COLUMNS = [("Дата возврата", 16, "datetime"), ("Чек продажи", 18, "str"), ("Телефон клиента", 15, "str"),
                  ("Номер карты", 16, "str"), ("Сумма возврата, ₽", 14, "money"),
                  ("Возвращено бонусов", 14, "money"), ("Отменено начисленных", 14, "money"),
                  ("Тип карты (уровень)", 16, "str")]


def _level_names(session: Session, tenant_id: str) -> tuple[dict[str, str], ZoneInfo]:
    settings = load_settings(session, tenant_id)[0] or {}
    names = {lv.get("code"): lv.get("name") or lv.get("code") for lv in settings.get("levels") or []}
    return names, ZoneInfo(settings.get("timezone") or "Europe/Moscow")


def _progress(session: Session, export_id: str, done: int) -> None:
    session.query(Export).filter(Export.id == export_id).update({"rows_done": done}, synchronize_session=False)
    session.commit()


def _client_rows(session: Session, export: Export, tz: ZoneInfo, levels: dict):
    """The tenant's clients in phone order, BATCH at a time (keyset on (tenant_id, phone))."""
    C = Customer
    # The moments as stored (naive UTC): no per-value type conversion, serials from _Serials.
    cols = (C.phone, C.last_name, C.first_name, C.middle_name, C.gender, C.birth_date, C.email, C.comment,
            type_coerce(C.created_at, DateTime), C.level_code, Account.balance, C.purchase_count,
            C.total_purchases, type_coerce(C.last_purchase_at, DateTime))
    serial = _Serials(tz)
    last = None
    done = 0
    while True:
        stmt = (select(*cols).outerjoin(Account, Account.customer_id == C.id)
                .where(C.tenant_id == export.tenant_id).order_by(C.phone).limit(BATCH))
        if last is not None:
            stmt = stmt.where(C.phone > last)
        batch = session.execute(stmt).all()
        if not batch:
            return
        for (phone, last_n, first_n, middle_n, gender, birth, email, comment, created, level, balance,
             count, total, last_purchase) in batch:
            name = " ".join(p for p in (last_n, first_n, middle_n) if p)
            yield (phone, name, GENDERS.get(gender, gender), _day_serial(birth), email, comment,
                   serial(created), levels.get(level, level), (balance or 0) / 100, count or 0,
                   (total / count / 100) if count else None, serial(last_purchase), (total or 0) / 100)
        done += len(batch)
        last = batch[-1][0]
        _progress(session, export.id, done)


def _period(export: Export, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = date.fromisoformat(export.params["date_from"])
    end = date.fromisoformat(export.params["date_to"]) + timedelta(days=1)
    return datetime.combine(start, dtime(0), tz), datetime.combine(end, dtime(0), tz)


def _sale_rows(session: Session, export: Export, tz: ZoneInfo, levels: dict, done: int):
    R, C = Receipt, Customer
    start, end = _period(export, tz)
    cols = (R.moment, R.id, R.external_id, C.phone, C.card_number, R.amount, R.bonus_spent, R.bonus_earned,
            R.level_code, R.store, R.cashier)
    serial = _Serials(tz)
    last = None
    while True:
        stmt = (select(*cols).outerjoin(C, C.id == R.customer_id)
                .where(R.tenant_id == export.tenant_id, R.moment >= start, R.moment < end)
                .order_by(R.moment, R.id).limit(BATCH))
        if last is not None:
            stmt = stmt.where(or_(R.moment > last[0], and_(R.moment == last[0], R.id > last[1])))
        batch = session.execute(stmt).all()
        if not batch:
            return
        for moment, _rid, number, phone, card, amount, spent, earned, level, store, cashier in batch:
            yield (serial(moment), number, phone, card, amount / 100, spent / 100, earned / 100,
                   levels.get(level, level), store, cashier)
        done += len(batch)
        last = (batch[-1][0], batch[-1][1])
        _progress(session, export.id, done)


def _return_rows(session: Session, export: Export, tz: ZoneInfo, levels: dict, done: int):
    T, R, C = ReceiptReturn, Receipt, Customer
    start, end = _period(export, tz)
    cols = (T.moment, T.id, R.external_id, C.phone, C.card_number, T.amount_returned, T.bonus_spent_restored,
            T.bonus_earned_reversed, R.level_code)
    serial = _Serials(tz)
    last = None
    while True:
        stmt = (select(*cols).join(R, R.id == T.receipt_id).outerjoin(C, C.id == R.customer_id)
                .where(T.tenant_id == export.tenant_id, T.moment >= start, T.moment < end)
                .order_by(T.moment, T.id).limit(BATCH))
        if last is not None:
            stmt = stmt.where(or_(T.moment > last[0], and_(T.moment == last[0], T.id > last[1])))
        batch = session.execute(stmt).all()
        if not batch:
            return
        for moment, _tid, number, phone, card, amount, restored, reversed_, level in batch:
            yield (serial(moment), number, phone, card, amount / 100, restored / 100, reversed_ / 100,
                   levels.get(level, level))
        done += len(batch)
        last = (batch[-1][0], batch[-1][1])
        _progress(session, export.id, done)


def count_rows(session: Session, export: Export, tz: ZoneInfo) -> int:
    if export.kind == "clients":
        return session.scalar(select(func.count()).select_from(Customer).where(Customer.tenant_id == export.tenant_id))
    start, end = _period(export, tz)
    sales = session.scalar(select(func.count()).select_from(Receipt).where(
        Receipt.tenant_id == export.tenant_id, Receipt.moment >= start, Receipt.moment < end))
    returns = session.scalar(select(func.count()).select_from(ReceiptReturn).where(
        ReceiptReturn.tenant_id == export.tenant_id, ReceiptReturn.moment >= start, ReceiptReturn.moment < end))
    return sales + returns


def claim_export(session: Session, export_id: str) -> bool:
    """queued -> running in one UPDATE, committed: True for the one builder that got it (an rq
    job, the scheduler's poll, a sweep or the request itself), False for every other."""
    claimed = session.execute(update(Export).where(Export.id == export_id, Export.status == "queued")
                              .values(status="running", started_at=utcnow(), rows_done=0)).rowcount
    session.commit()
    return claimed == 1


def build_export(session: Session, export_id: str) -> str:
    """Build a queued export's file; returns its status afterwards ("done" or "failed"; an
    export another builder has claimed, or already finished, is left as it is)."""
    if not claim_export(session, export_id):
        export = session.get(Export, export_id, populate_existing=True)
        return export.status if export is not None else "missing"
    export = session.get(Export, export_id, populate_existing=True)
    tenant_id, kind = export.tenant_id, export.kind
    levels, tz = _level_names(session, tenant_id)
    export.rows_total = count_rows(session, export, tz)
    session.commit()
    path = file_path(export)
    part = path.with_suffix(".part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        book = ExportWorkbook(part)
        formats = _formats(book)
        if kind == "clients":
            sheet = _Sheet(book, "Клиенты", CLIENT_COLUMNS, formats)
            sheet.write_rows(_client_rows(session, export, tz, levels))
        else:
            sheet = _Sheet(book, "Продажи", SALE_COLUMNS, formats)
            sheet.write_rows(_sale_rows(session, export, tz, levels, 0))
            sales = sheet.row - 1
            sheet = _Sheet(book, "Возвраты", RETURN_COLUMNS, formats)
            sheet.write_rows(_return_rows(session, export, tz, levels, sales))
        book.close()
        os.replace(part, path)
    except Exception as exc:  # the row says what happened; the worker goes on
        log.exception("export %s failed", export_id)
        session.rollback()
        try:
            part.unlink(missing_ok=True)
        except OSError:
            pass
        export = session.get(Export, export_id)
        export.status, export.finished_at = "failed", utcnow()
        export.error = f"Не удалось собрать файл: {type(exc).__name__}."
        session.commit()
        return "failed"
    export = session.get(Export, export_id, populate_existing=True)
    export.status, export.finished_at = "done", utcnow()
    export.rows_done = export.rows_total = max(export.rows_done, export.rows_total or 0)
    export.file_name, export.file_size = download_name(export, tz), path.stat().st_size
    session.commit()
    return "done"


def build_export_job(export_id: str) -> str:
    """The rq job: a fresh session per job."""
    db.configure(Config().DATABASE_URL)
    try:
        return build_export(db.session, export_id)
    finally:
        db.session.remove()


INLINE_ROWS = 2000        # without a queue, an export up to this many rows is built in the request
# With rq, a queued export whose job has not started by then is taken by the sweep (Redis lost
# the job, or no worker runs); without rq the sweep takes every queued one.
SWEEP_AFTER = timedelta(minutes=5)


def request_export(session: Session, tenant_id: str, kind: str, params: dict, user_id: str | None,
                   user_email: str, by: Actor) -> str:
    """A person asks for a file: the queued export and its audit entry, committed; then it is
    handed over (start_export). Returns the export's id."""
    with unit_of_work(session):
        row = Export(tenant_id=tenant_id, kind=kind, params=params, status="queued", rows_done=0,
                     user_id=user_id, user_email=user_email, created_at=utcnow())
        session.add(row)
        session.flush()
        record(session, tenant_id, by, "export.create", "export", row.id, {"kind": kind, **params})
    export_id = row.id
    start_export(session, row)
    return export_id


def start_export(session: Session, export: Export) -> None:
    """Hand the export to the queue (rq with REDIS_URL). Without one (the embedded default) a
    small export is built at once, inside this request; a larger one stays queued for the
    embedded scheduler process (`kopilka automation schedule`, which `kopilka serve` starts),
    and the page shows its progress."""
    queue = jobs.get_queue()
    if not isinstance(queue, jobs.InlineQueue):
        queue.enqueue(build_export_job, export.id, job_timeout=3600)
        return
    _, tz = _level_names(session, export.tenant_id)
    rows = count_rows(session, export, tz)
    session.rollback()
    if rows <= INLINE_ROWS:
        build_export(session, export.id)


def build_queued_exports(session: Session, at: datetime, tenant_id: str | None = None,
                         after: timedelta | None = None) -> int:
    """Build the exports waiting in the queue, oldest first; returns how many it handed over.
    The sweep (hub.adapters.SWEEPS) and the embedded scheduler's poll (`after` = 0) call it."""
    if after is None:
        after = timedelta(0) if isinstance(jobs.get_queue(), jobs.InlineQueue) else SWEEP_AFTER
    built = 0
    while True:
        stmt = (select(Export.id).where(Export.status == "queued", Export.created_at <= at - after)
                .order_by(Export.created_at, Export.id).limit(1))
        if tenant_id is not None:
            stmt = stmt.where(Export.tenant_id == tenant_id)
        export_id = session.scalar(stmt)
        session.rollback()
        if export_id is None:
            return built
        build_export(session, export_id)
        built += 1


def build_queued_exports_job() -> int:
    """The embedded scheduler's poll between its automation runs: a fresh session per poll."""
    db.configure(Config().DATABASE_URL)
    try:
        return build_queued_exports(db.session, utcnow(), after=timedelta(0))
    finally:
        db.session.remove()
