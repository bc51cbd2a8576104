"""OData reconciliation: posted receipts pulled from a 1С base's standard.odata publication
and applied through the inbox (specs/onec.md §4).

`kopilka onec sync` and the periodic sweep read `Document_ЧекККМ` (and, in УТ and УНФ,
`Document_ЧекККМВозврат`) posted in a window:

    GET <odata_url>/Document_ЧекККМ?$format=json
        &$filter=Posted eq true and Date ge datetime'2026-03-01T00:00:00' and Date lt datetime'…'
        &$orderby=Date asc&$expand=КартаЛояльности&$top=100&$skip=0

with HTTP Basic auth (the connection's `odata_login`/`odata_password`, else its
`login`/`password`), 429 and 5xx retried (connectors.http). Each document is stored in the
inbox (dedupe key: connection + Ref_Key) and a job applies it:

* a sale paid partly with bonuses claims the write-off the cash desk made through the
  loyalty server (onec_writeoffs; that write-off already committed the sale): nothing is
  spent again. Without such a write-off the event is retried and then fails for review;
* a sale with a card and no bonus payment is committed as a sale: the program accrues;
* a return becomes a return of its sale (the sale's Ref_Key in `ЧекККМ_Key` /
  `ЧекККМПродажа_Key`), spread over the sale's lines by product.

A write-off no pulled receipt claims within `writeoff_claim_hours` shows up in the inbox as
a failed event (`writeoff_unclaimed`) for a person to look at.
"""
from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Iterator
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.http import HttpClient, OutboundError
from connectors.inbox import PermanentError, dispatch, is_pending, process_event, reopen_event, store_event
from hub.money import BadNumber
from connectors.receipts import kopecks, operation_body, spread_return
from connectors.registry import connection_by_id, credentials_of
from hub.engine.text import rub
from hub.errors import Conflict, DomainError, Invalid
from hub.connections.queries import active_connection_ids, connection_row
from hub.customers.queries import tenant_customer
from hub.moments import parse_moment, utcnow
from hub.customers.cards import find_card_holder
from hub.catalog.operations import with_groups
from hub.programs.operations import get_program
from hub.receipts.operations import ReturnRequest, SaleRequest, commit_sale, find_receipt, return_sale
from onec.common import KIND, SOURCE, ru_number, setting
from onec.loyalty import engine_positions
from onec.models import OnecDocument, OnecWriteoff
from onec.store import claim_writeoff, finish_sync, flag_writeoff, record_document, sync_state

if TYPE_CHECKING:   # annotations only: the adapter reads rows the hub's queries return
    from hub.connections.models import Connection, InboundEvent

log = logging.getLogger("kopilka.onec.odata")

SLEEP = None                 # tests replace the wait between retries (None: time.sleep)
EMPTY_REF = "00000000-0000-0000-0000-000000000000"
MAX_PAGES = 10_000
MAX_LINES = 1000
CARD_CODE_FIELDS = ("Штрихкод", "МагнитныйКод", "КодКартыШтрихкод", "КодКартыМагнитный", "КодКарты", "Code")


class NotConfigured(Exception):
    """The connection has no OData address (setting `odata_url`)."""


class WriteoffNotYetSeen(Exception):
    """A receipt paid with bonuses whose write-off is not (yet) in the hub: retried, then failed."""


class SaleNotYetApplied(Exception):
    """A return whose sale is still waiting in the inbox (retried)."""


# --- what each configuration calls things --------------------------------------------------------

@dataclass(frozen=True)
class Profile:
    name: str
    sale_entity: str
    return_entity: str | None          # None: returns are sales documents with ВидОперации «Возврат»
    lines: str                         # the tabular section of goods
    card: str                          # the loyalty card reference in the header
    base: str                          # the return's reference to its sale
    store: tuple[str, ...]
    cashier: tuple[str, ...]
    manual: tuple[str, ...]            # the line's manual discount
    bonus: tuple[str, ...]             # the line's bonus payment
    payments: str | None = None        # a payment table whose bonus rows count as bonus payment


PROFILES = {
    # УТ 11: ЧекККМ / ЧекККМВозврат (ЧекККМ_Key), Товары, КартаЛояльности (Catalog_КартыЛояльности)
    "ut": Profile("ut", "Document_ЧекККМ", "Document_ЧекККМВозврат", "Товары", "КартаЛояльности", "ЧекККМ_Key",
                  ("Склад_Key",), ("Кассир_Key",), ("СуммаРучнойСкидки",), ("СуммаБонусныхБалловКСписанию",)),
    # УНФ: ЧекККМ / ЧекККМВозврат, Запасы, ДисконтнаяКарта (Catalog_ДисконтныеКарты)
    "unf": Profile("unf", "Document_ЧекККМ", "Document_ЧекККМВозврат", "Запасы", "ДисконтнаяКарта", "ЧекККМ_Key",
                   ("СтруктурнаяЕдиница_Key",), ("Кассир_Key", "Ответственный_Key"), ("СуммаСкидкиНаценки",),
                   ("СуммаСкидкиОплатыБонусом",)),
    # Розница: one ЧекККМ, ВидОперации «Продажа»/«Возврат» with ЧекККМПродажа_Key; bonus payment as a
    # discount per line or a payment row of table Оплата
    "retail": Profile("retail", "Document_ЧекККМ", None, "Товары", "ДисконтнаяКарта", "ЧекККМПродажа_Key",
                      ("Магазин_Key", "Склад_Key"), ("Кассир_Key", "Ответственный_Key"),
                      ("СуммаРучнойСкидки", "СуммаСкидкиНаценки"), ("СуммаСкидкиОплатыБонусом",), "Оплата"),
}


def profile_of(conn: Connection) -> Profile:
    name = str(setting(conn, "odata_configuration") or "ut").strip().lower()
    if name not in PROFILES:
        raise NotConfigured(f"odata_configuration «{name}»: нужно ut, unf или retail")
    return PROFILES[name]


# --- the client ----------------------------------------------------------------------------------

def _sleep(seconds: float) -> None:
    import time
    (SLEEP or time.sleep)(seconds)


def odata_date(moment: datetime, tz: str) -> str:
    """A moment as 1С's OData datetime literal: the base's local time, no zone."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(ZoneInfo(tz)).replace(tzinfo=None, microsecond=0).isoformat()


class ODataClient:
    def __init__(self, conn: Connection, http: HttpClient | None = None):
        base = str(setting(conn, "odata_url") or "").strip().rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise NotConfigured(f"у подключения 1С {conn.external_account} не задан адрес OData "
                                "(настройка odata_url, например https://host/base/odata/standard.odata)")
        creds = credentials_of(conn)
        login = creds.get("odata_login") or creds.get("login") or ""
        password = creds.get("odata_password") if creds.get("odata_login") else creds.get("password")
        token = base64.b64encode(f"{login}:{password or ''}".encode("utf-8")).decode()
        self.base = base
        self.page_size = max(1, min(setting(conn, "odata_page_size"), 1000))
        self.http = http or HttpClient(base, headers={"Authorization": f"Basic {token}",
                                                      "Accept": "application/json"},
                                       timeout=60.0, retries=5, backoff=1.0, max_wait=60.0, sleep=_sleep)

    def url(self, entity: str, params: dict) -> str:
        # Built by hand: spaces as %20 (not "+"), the $ of the options and OData's quotes kept.
        query = "&".join(f"{k}={quote(str(v), safe=chr(39) + ',()=:')}" for k, v in params.items())
        return f"{self.base}/{quote(entity)}?{query}"

    def page(self, entity: str, params: dict) -> list[dict]:
        response = self.http.get(self.url(entity, params))
        try:
            data = json.loads(response.content or b"null")
        except ValueError as exc:
            raise OutboundError(f"OData {entity}: ответ не JSON", response.status_code) from exc
        if not isinstance(data, dict) or not isinstance(data.get("value"), list):
            raise OutboundError(f"OData {entity}: в ответе нет массива value", response.status_code)
        return [d for d in data["value"] if isinstance(d, dict)]

    def documents(self, entity: str, flt: str, expand: str | None) -> Iterator[list[dict]]:
        """Pages of posted documents ($top/$skip), oldest first."""
        params = {"$format": "json", "$filter": flt, "$orderby": "Date asc"}
        if expand:
            params["$expand"] = expand
        for n in range(MAX_PAGES):
            page = self.page(entity, {**params, "$top": self.page_size, "$skip": n * self.page_size})
            if page:
                yield page
            if len(page) < self.page_size:
                return


# --- pulling -----------------------------------------------------------------------------------

def document_key(doc: dict) -> str | None:
    value = doc.get("Ref_Key")
    if isinstance(value, str) and value.strip() and value.strip() != EMPTY_REF and len(value) <= 64:
        return value.strip()
    return None


def document_kind(profile: Profile, entity: str, doc: dict) -> str:
    if profile.return_entity is not None:
        return "return" if entity == profile.return_entity else "sale"
    return "return" if "возврат" in str(doc.get("ВидОперации") or "").lower() else "sale"


def sync(session: Session, conn: Connection, since: datetime, until: datetime | None = None,
         client: ODataClient | None = None) -> dict:
    """Posted receipts of the window into the inbox, each applied once (sales before returns)."""
    profile = profile_of(conn)
    client = client or ODataClient(conn)
    tz = get_program(session, conn.tenant_id).timezone
    tenant_id, conn_id = conn.tenant_id, conn.id
    session.rollback()
    flt = f"Posted eq true and Date ge datetime'{odata_date(since, tz)}'"
    if until is not None:
        flt += f" and Date lt datetime'{odata_date(until, tz)}'"
    counts = {"documents": 0, "new": 0, "sales": 0, "returns": 0, "skipped": 0}
    entities = [profile.sale_entity] + ([profile.return_entity] if profile.return_entity else [])
    for entity in entities:
        for page in client.documents(entity, flt, profile.card):
            fresh = []
            for doc in page:
                key = document_key(doc)
                if key is None or doc.get("DeletionMark") is True:
                    counts["skipped"] += 1
                    continue
                kind = document_kind(profile, entity, doc)
                counts["documents"] += 1
                counts["sales" if kind == "sale" else "returns"] += 1
                event, created = store_event(
                    session, tenant_id=tenant_id, connection_id=conn_id, source=KIND, kind="document",
                    dedupe_key=f"{conn_id}:{key}",
                    body={"configuration": profile.name, "entity": entity, "kind": kind, "document": doc})
                if created:
                    fresh.append(event)
            counts["new"] += len(fresh)
            for event in fresh:      # page by page, in order: a return finds its sale applied
                dispatch(session, event)
    return counts


# --- reading a document -------------------------------------------------------------------------

@dataclass
class Pulled:
    key: str
    number: str
    kind: str
    moment: datetime
    lines: list[dict]
    bonus: int
    card_key: str | None
    codes: list[str]
    base_key: str | None
    store: str | None
    cashier: str | None


def _bad(doc_label: str, message: str) -> PermanentError:
    return PermanentError(f"{doc_label}: {message}")


def _decimal(row: dict, field: str, label: str, *, required: bool = False) -> Decimal:
    try:
        value = ru_number(row.get(field))
    except (BadNumber, ValueError, ArithmeticError):
        raise _bad(label, f"«{row.get(field)}» в поле {field} — не число") from None
    if value is None:
        if required:
            raise _bad(label, f"нет поля {field}")
        return Decimal(0)
    if value < 0:
        raise _bad(label, f"{field} не может быть отрицательным")
    if value > 10 ** 10:
        raise _bad(label, f"слишком большое значение {field}")
    return value


def _money(row: dict, fields: tuple[str, ...] | str, label: str, *, required: bool = False) -> int:
    fields = (fields,) if isinstance(fields, str) else fields
    present = [f for f in fields if row.get(f) is not None]
    if not present:
        if required:
            raise _bad(label, f"нет поля {fields[0]}")
        return 0
    value = _decimal(row, present[0], label)
    try:
        return kopecks(value)
    except ValueError:
        raise _bad(label, f"{present[0]}: сумма с точностью до копейки") from None


def _ref(doc: dict, fields: tuple[str, ...]) -> str | None:
    for field in fields:
        value = doc.get(field)
        if isinstance(value, str) and value.strip() and value.strip() != EMPTY_REF:
            return value.strip()[:100]
    return None


def _is_bonus_payment(row: dict) -> bool:
    for field in ("ТипОплаты", "ВидОплаты", "ВидОплатыЧекаККМ"):
        value = row.get(field)
        if isinstance(value, str) and "бонус" in value.lower():
            return True
        if isinstance(value, dict) and "бонус" in str(value.get("Description") or "").lower():
            return True
    return False


def read_document(profile: Profile, kind: str, doc: dict, tz: str, now: datetime) -> Pulled:
    """A document of the configuration's shape in the core's terms; PermanentError on bad data."""
    key = document_key(doc)
    number = str(doc.get("Number") or "").strip()[:50]
    label = f"чек 1С {number or key or '?'}"
    if key is None:
        raise _bad(label, "нет Ref_Key")
    if doc.get("Posted") is not True:
        raise _bad(label, "документ не проведён")
    try:
        moment = parse_moment(str(doc.get("Date") or "") or None, tz, now, "Date") if doc.get("Date") else None
    except Invalid as exc:
        raise _bad(label, exc.message) from exc
    if moment is None:
        raise _bad(label, "нет даты (Date)")
    rows = doc.get(profile.lines)
    if not isinstance(rows, list) or not rows:
        raise _bad(label, f"нет строк табличной части {profile.lines}")
    if len(rows) > MAX_LINES:
        raise _bad(label, f"больше {MAX_LINES} строк")
    lines, bonus, seen = [], 0, set()
    for i, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            raise _bad(label, f"строка {i}: ожидается объект")
        line_label = f"{label}, строка {row.get('LineNumber') or i}"
        line_id = str(row.get("LineNumber") or i).strip()[:20]
        if line_id in seen:
            line_id = f"{line_id}.{i}"
        seen.add(line_id)
        product = _ref(row, ("Номенклатура_Key",))
        qty = _decimal(row, "КоличествоУпаковок", line_label) or _decimal(row, "Количество", line_label, required=True)
        if qty <= 0:
            raise _bad(line_label, "количество должно быть больше нуля")
        qty = qty.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
        price = _money(row, "Цена", line_label, required=True)
        amount = _money(row, "Сумма", line_label, required=True)
        manual = _money(row, profile.manual, line_label)
        full = int((price * qty).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        if amount > full + 100 or manual > full:
            raise _bad(line_label, "сумма строки больше цены × количество")
        bonus += _money(row, profile.bonus, line_label)
        lines.append({"id": line_id, "product": product, "name": None, "price": price, "quantity": str(qty),
                      "till_discount": manual, "amount": full - manual, "groups": []})
    if profile.payments and isinstance(doc.get(profile.payments), list):
        for row in doc[profile.payments]:
            if isinstance(row, dict) and _is_bonus_payment(row):
                bonus += _money(row, "Сумма", f"{label}, оплата")
    card = doc.get(profile.card)
    codes = []
    if isinstance(card, dict):
        for field in CARD_CODE_FIELDS:
            value = card.get(field)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
                codes.append(str(value).strip()[:64])
    return Pulled(key=key, number=number, kind=kind, moment=moment, lines=lines, bonus=bonus,
                  card_key=_ref(doc, (f"{profile.card}_Key",)), codes=codes,
                  base_key=_ref(doc, (profile.base,)), store=_ref(doc, profile.store),
                  cashier=_ref(doc, profile.cashier))


# --- applying -----------------------------------------------------------------------------------

def _connection(session: Session, event: InboundEvent) -> Connection:
    conn = connection_by_id(session, KIND, event.connection_id or "")
    if conn is None or conn.tenant_id != event.tenant_id:
        raise PermanentError("подключение 1С удалено")
    return conn


def _customer(session: Session, conn: Connection, pulled: Pulled) -> str | None:
    for code in pulled.codes:
        holder, _ = find_card_holder(session, conn.tenant_id, code=code)
        if holder is not None:
            return holder.id
    if pulled.card_key:
        # a card the cash desk created from the hub's answer carries the hub's CardRef
        found = tenant_customer(session, conn.tenant_id, pulled.card_key[:36])
        if found is not None:
            return found.id
    return None


def _applied(session: Session, conn: Connection, key: str) -> OnecDocument | None:
    return session.scalar(select(OnecDocument).where(OnecDocument.connection_id == conn.id,
                                                     OnecDocument.document_key == key))


def _apply_sale(session: Session, conn: Connection, pulled: Pulled) -> None:
    customer_id = _customer(session, conn, pulled)
    if pulled.bonus:
        if customer_id is None:
            raise PermanentError(f"чек 1С {pulled.number or pulled.key}: оплачено бонусами {rub(pulled.bonus)}, "
                                 "но карта клиента не найдена")
        claimed = claim_writeoff(session, conn, pulled.key, pulled.kind, customer_id, pulled.bonus)
        if claimed is None:
            raise WriteoffNotYetSeen(f"чек 1С {pulled.number or pulled.key}: оплачено бонусами {rub(pulled.bonus)}, "
                                     "но списания через сервер лояльности с такой суммой по этой карте нет; "
                                     "бонусы не списываются второй раз — проверьте чек")
        writeoff_id, flagged = claimed
        if flagged:
            _resolve_flag(session, conn, writeoff_id)
        return
    if customer_id is None:
        log.info("1С receipt %s without a card: not in the program", pulled.key)
        session.rollback()
        return
    lines = with_groups(session, conn.tenant_id, pulled.lines)
    req = SaleRequest(external_id=pulled.key, moment=pulled.moment, positions=engine_positions(lines),
                      customer={"id": customer_id}, store=pulled.store, cashier=pulled.cashier)
    session.rollback()
    try:
        commit_sale(session, conn.tenant_id, SOURCE, req,
                    operation_body("onec_receipt", pulled.key, [(p["product"] or p["id"], p["quantity"])
                                                                for p in pulled.lines], customer=customer_id))
    except (Invalid, Conflict) as exc:          # retrying cannot change the answer
        raise PermanentError(f"чек 1С {pulled.number or pulled.key}: {exc.message}") from exc
    record_document(session, conn, pulled.key, pulled.kind, pulled.key)


def _apply_return(session: Session, conn: Connection, pulled: Pulled) -> None:
    label = f"возврат 1С {pulled.number or pulled.key}"
    if pulled.base_key is None:
        log.info("%s without its sale: nothing to reverse", label)
        session.rollback()
        return
    sale = _applied(session, conn, pulled.base_key)
    if sale is None or find_receipt(session, conn.tenant_id, sale.receipt_external_id, SOURCE) is None:
        waiting = is_pending(session, KIND, f"{conn.id}:{pulled.base_key}")
        session.rollback()
        if waiting:
            raise SaleNotYetApplied(f"{label}: продажа {pulled.base_key} ещё не учтена")
        log.info("%s: sale %s was not in the program", label, pulled.base_key)
        return
    receipt = find_receipt(session, conn.tenant_id, sale.receipt_external_id, SOURCE)
    items = [(None, p["product"] or p["id"], Decimal(p["quantity"])) for p in pulled.lines]
    sale_id = receipt.external_id
    quantities = spread_return(receipt.lines, receipt.returned or {}, items)
    session.rollback()
    req = ReturnRequest(external_id=pulled.key, moment=pulled.moment, quantities=quantities)
    try:
        return_sale(session, conn.tenant_id, SOURCE, sale_id, req,
                    operation_body("onec_return", pulled.key, [(k, q) for _, k, q in items], sale=sale_id))
    except (Invalid, Conflict) as exc:
        raise PermanentError(f"{label}: {exc.message}") from exc
    record_document(session, conn, pulled.key, pulled.kind, sale_id)


def apply_document(session: Session, event: InboundEvent) -> None:
    conn = _connection(session, event)
    body = event.body if isinstance(event.body, dict) else {}
    profile = PROFILES.get(str(body.get("configuration") or ""))
    doc = body.get("document")
    if profile is None or not isinstance(doc, dict):
        raise PermanentError("событие 1С без документа")
    tz = get_program(session, conn.tenant_id).timezone
    pulled = read_document(profile, "return" if body.get("kind") == "return" else "sale", doc, tz, utcnow())
    if _applied(session, conn, pulled.key) is not None:
        session.rollback()
        return
    try:
        if pulled.kind == "sale":
            _apply_sale(session, conn, pulled)
        else:
            _apply_return(session, conn, pulled)
    except DomainError as exc:
        session.rollback()
        raise PermanentError(f"чек 1С {pulled.number or pulled.key}: {exc.message}") from exc


# --- write-offs no receipt claims ---------------------------------------------------------------

def _flag_key(conn_id: str, writeoff_id: str) -> str:
    return f"{conn_id}:writeoff:{writeoff_id}"


def _resolve_flag(session: Session, conn: Connection, writeoff_id: str) -> None:
    """A flagged write-off was claimed after all: its review event is done."""
    reopen_event(session, KIND, _flag_key(conn.id, writeoff_id))


def review_writeoff(session: Session, event: InboundEvent) -> None:
    body = event.body if isinstance(event.body, dict) else {}
    writeoff = session.get(OnecWriteoff, str(body.get("writeoff_id") or ""))
    if writeoff is None or writeoff.claimed_by:
        session.rollback()
        return                  # claimed since (or gone): nothing to review
    message = (f"списание {rub(writeoff.amount)} бонусов по карте (клиент {writeoff.customer_id}, "
               f"{writeoff.created_at:%d.%m.%Y %H:%M} UTC) не подтверждено чеком из 1С: "
               "проверьте, пробит ли чек, и при необходимости верните бонусы")
    session.rollback()
    raise PermanentError(message)


def flag_unclaimed(session: Session, at: datetime, tenant_id: str | None = None) -> int:
    """Write-offs older than their connection's `writeoff_claim_hours` that no pulled receipt
    claimed: one failed inbox event each, for review (one tenant's only, when given)."""
    stmt = (select(OnecWriteoff.id, OnecWriteoff.connection_id, OnecWriteoff.tenant_id, OnecWriteoff.created_at)
            .where(OnecWriteoff.claimed_by.is_(None), OnecWriteoff.flagged_at.is_(None)))
    if tenant_id is not None:
        stmt = stmt.where(OnecWriteoff.tenant_id == tenant_id)
    rows = session.execute(stmt).all()
    session.rollback()
    hours: dict[str, int] = {}
    flagged = 0
    for writeoff_id, conn_id, writeoff_tenant, created_at in rows:
        if conn_id not in hours:
            conn = connection_row(session, conn_id)
            hours[conn_id] = max(1, setting(conn, "writeoff_claim_hours")) if conn is not None else 24
            session.rollback()
        if created_at > at - timedelta(hours=hours[conn_id]):
            continue
        event, created = store_event(session, tenant_id=writeoff_tenant, connection_id=conn_id, source=KIND,
                                     kind="writeoff_unclaimed", dedupe_key=_flag_key(conn_id, writeoff_id),
                                     body={"writeoff_id": writeoff_id})
        flag_writeoff(session, writeoff_id, at)
        if created:
            process_event(session, event.id, now=at)
            flagged += 1
    return flagged


# --- the periodic pull --------------------------------------------------------------------------

def sync_due(session: Session, at: datetime, tenant_id: str | None = None) -> int:
    """Every active 1С connection with an OData address (one tenant's, when given): pull from
    where the last run got to (minus `odata_overlap_minutes` for late offline receipts), at most
    `odata_initial_days` back."""
    conns = active_connection_ids(session, KIND, tenant_id, with_setting="odata_url")
    pulled = 0
    for conn_id in conns:
        conn = connection_row(session, conn_id)
        state = sync_state(session, conn)
        start = at - timedelta(days=max(1, setting(conn, "odata_initial_days")))
        if state.synced_through is not None:
            start = max(start, state.synced_through - timedelta(minutes=max(0, setting(conn, "odata_overlap_minutes"))))
        session.rollback()
        error = None
        try:
            counts = sync(session, connection_row(session, conn_id), start, at)
            pulled += counts["new"]
        except (OutboundError, NotConfigured) as exc:
            session.rollback()
            error = str(exc)[:2000]
            log.warning("1С OData sync of connection %s failed: %s", conn_id, error)
        finish_sync(session, conn_id, at, error)
    return pulled


