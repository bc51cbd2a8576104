"""CommerceML 2 «Обмен с сайтом»: 1С pushes its catalog, the hub plays "the site"
(specs/onec.md §3) at `/onec/<connection id>/exchange`.

checkauth → `success\\n<cookie name>\\n<cookie value>`; init → `zip=yes\\nfile_limit=<bytes>`;
file → the body appended to the named file (several POSTs for a large one; a zip is
unpacked before import); import → groups and products read as a stream into the tenant's
catalog (hub.catalog.operations), `progress` while work is left, `success` when done,
`failure\\n<reason>` on an error. Re-importing the same files changes nothing.
"""
from __future__ import annotations

import logging
import os
import re
import time
import zipfile
from pathlib import Path

from flask import Blueprint, Response, current_app, request
from lxml import etree
from sqlalchemy import select

from hub.unavailable import database_unavailable
from hub.extensions import db
from hub.moments import utcnow
from hub.catalog.operations import import_groups, import_products
from onec.commerceml import read_import, read_offers
from onec.common import PREFIX, authenticated, setting
from onec.models import OnecExchange
from onec.store import open_exchange, save_exchange_files
from hub.config import default_home
from connectors.registry import connection_by_id

log = logging.getLogger("kopilka.onec.exchange")

bp = Blueprint("onec_exchange", __name__, url_prefix=PREFIX)

COOKIE = "kopilka_exchange"
BATCH = 1000
_SAFE = re.compile(r"^[\w\-. ]+$", re.UNICODE)


def text(body: str, status: int = 200) -> Response:
    return Response(body, status=status, content_type="text/plain; charset=utf-8")


def failure(reason: str, status: int = 200) -> Response:
    return text(f"failure\n{reason}", status)


def storage_root() -> Path:
    base = current_app.config.get("ONEC_EXCHANGE_DIR")
    if not base:
        base = default_home() / "onec_exchange"
    return Path(base)


def exchange_dir(ex: OnecExchange) -> Path:
    return storage_root() / ex.connection_id / ex.id


def safe_name(name: str | None) -> str | None:
    """A relative path inside the exchange folder (import_files/ab/picture.jpg), or None."""
    if not name:
        return None
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or len(parts) > 6 or any(p == ".." or not _SAFE.match(p) or len(p) > 200 for p in parts):
        return None
    return "/".join(parts)


@bp.before_request
def raise_body_limit() -> None:
    """A file chunk may be larger than the app's default body limit: allow up to the
    `file_limit` the hub announced (plus headroom), for this blueprint only."""
    if request.blueprint == bp.name:
        request.max_content_length = 256 * 1024 * 1024


def _session_for(session, connection_id: str):
    """(connection, exchange) from Basic auth or from the exchange cookie."""
    cookie = request.cookies.get(COOKIE)
    ex = None
    if cookie and len(cookie) <= 64:
        ex = session.scalar(select(OnecExchange).where(OnecExchange.cookie == cookie,
                                                       OnecExchange.connection_id == connection_id))
    conn = authenticated(session, connection_id)
    if conn is None and ex is not None:
        conn = connection_by_id(session, "onec", connection_id)
        if conn is not None and conn.status != "active":
            conn = None
    return conn, ex


@bp.route("/<connection_id>/exchange", methods=["GET", "POST"])
def exchange(connection_id: str):
    session = db.session
    try:
        kind = (request.args.get("type") or "").strip().lower()
        mode = (request.args.get("mode") or "").strip().lower()
        conn, ex = _session_for(session, connection_id)
        if conn is None:
            session.rollback()
            response = failure("Неверный логин или пароль.", 401)
            response.headers["WWW-Authenticate"] = 'Basic realm="1C exchange", charset="UTF-8"'
            return response
        if kind not in ("catalog", "sale"):
            session.rollback()
            return failure("Неизвестный тип обмена: ожидается type=catalog или type=sale.")
        if mode == "checkauth":
            ex = open_exchange(session, conn)
            return text(f"success\n{COOKIE}\n{ex.cookie}")
        if mode == "init":
            limit = setting(conn, "exchange_file_limit")
            session.rollback()
            return text(f"zip=yes\nfile_limit={limit}")
        if kind == "sale":
            session.rollback()
            if mode == "query":
                return Response('<?xml version="1.0" encoding="UTF-8"?>\n<КоммерческаяИнформация '
                                f'ВерсияСхемы="2.05" ДатаФормирования="{utcnow().strftime("%Y-%m-%dT%H:%M:%S")}"/>',
                                content_type="application/xml; charset=utf-8")
            return text("success")
        if ex is None:
            session.rollback()
            return failure("Сеанс обмена не найден: начните с mode=checkauth.")
        name = safe_name(request.args.get("filename"))
        if mode == "file":
            return receive_file(session, conn, ex, name)
        if mode == "import":
            return run_import(session, conn, ex, name)
        session.rollback()
        return failure(f"Неизвестный режим обмена «{mode}».")
    except Exception as exc:  # 1С shows the reason and stops the exchange
        if database_unavailable(exc):
            raise   # the app answers 503 with Retry-After in this surface's format
        log.exception("CommerceML exchange %s failed", request.full_path)
        session.rollback()
        return failure("Внутренняя ошибка при обмене, повторите обмен позже.")


def receive_file(session, conn, ex: OnecExchange, name: str | None) -> Response:
    if name is None:
        session.rollback()
        return failure("Неверное имя файла (filename).")
    folder = exchange_dir(ex)
    target = folder / name
    target.parent.mkdir(parents=True, exist_ok=True)
    used = exchange_bytes(ex.files)
    cap = setting(conn, "exchange_max_bytes")
    written = 0
    with open(target, "ab") as out:
        while True:
            chunk = request.stream.read(1024 * 1024)
            if not chunk:
                break
            written += len(chunk)
            if used + written > cap:
                out.truncate(max(0, out.tell() - written + len(chunk)))
                session.rollback()
                return failure("Превышен объём файлов одного обмена.")
            out.write(chunk)
    files = dict(ex.files or {})
    before = files.get(name) or {}
    files[name] = {"size": target.stat().st_size, "status": "received", "done": 0,
                   # what an archive unpacked stays counted against the exchange's cap
                   **({"unpacked": before["unpacked"]} if "unpacked" in before else {})}
    save_exchange_files(session, ex, files)
    return text("success")


def exchange_bytes(files: dict | None) -> int:
    """Bytes one exchange (one checkauth session) has taken: every file received, archives
    included, and everything unpacked from each archive — a file unpacked twice counts twice."""
    return sum(int(v.get("size") or 0) + int(v.get("unpacked") or 0) for v in (files or {}).values())


class TooLarge(ValueError):
    pass


def _unzip(folder: Path, cap: int, files: dict) -> dict:
    """Unpack the exchange's archives not unpacked yet; `files` with the bytes each one
    unpacked. `cap` (exchange_max_bytes) bounds the whole exchange — received files and
    archives, and what earlier archives and these unpack — in bytes really written, not the
    sizes an archive declares. Over it, the file being written is removed and nothing more
    is unpacked."""
    files = {k: dict(v) for k, v in files.items()}
    used = exchange_bytes(files)
    for archive in sorted(folder.glob("*.zip")):
        state = files.setdefault(archive.name, {"size": archive.stat().st_size})
        if "unpacked" in state:
            continue
        unpacked = 0
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                if info.is_dir():
                    continue
                name = safe_name(info.filename)
                if name is None:
                    raise ValueError("архив содержит недопустимые имена файлов")
                if used + unpacked + info.file_size > cap:
                    raise TooLarge()
                target = folder / name
                target.parent.mkdir(parents=True, exist_ok=True)
                with z.open(info) as src, open(target, "wb") as dst:
                    while chunk := src.read(1024 * 1024):
                        unpacked += len(chunk)
                        if used + unpacked > cap:
                            dst.close()
                            target.unlink(missing_ok=True)
                            raise TooLarge()
                        dst.write(chunk)
        state["unpacked"] = unpacked
        used += unpacked
    return files


def run_import(session, conn, ex: OnecExchange, name: str | None) -> Response:
    if name is None:
        session.rollback()
        return failure("Неверное имя файла (filename).")
    folder = exchange_dir(ex)
    cap = setting(conn, "exchange_max_bytes")
    try:
        unpacked = _unzip(folder, cap, dict(ex.files or {}))
    except TooLarge:
        session.rollback()
        return failure(f"Превышен объём файлов одного обмена ({cap} байт): архивы и распакованные "
                       "из них файлы считаются вместе.")
    except zipfile.BadZipFile:
        session.rollback()
        return failure("Не удалось распаковать архив: файл повреждён или это не zip.")
    except ValueError as exc:
        session.rollback()
        return failure(f"Не удалось распаковать архив: {exc}.")
    if unpacked != (ex.files or {}):
        save_exchange_files(session, ex, unpacked)
    path = folder / name
    if not path.is_file():
        session.rollback()
        return failure(f"Файл {name} не получен.")
    state = dict((ex.files or {}).get(name) or {"done": 0})
    if state.get("status") == "imported":
        session.rollback()
        return text("success")
    tenant_id, ex_id = conn.tenant_id, ex.id
    budget = setting(conn, "exchange_time_budget_seconds")
    batch_size = max(1, int((conn.settings or {}).get("exchange_batch_size") or BATCH))
    session.rollback()
    try:
        done, finished = import_file(session, tenant_id, str(path), name, state.get("done", 0), budget, batch_size)
    except Exception as exc:  # a broken file: tell 1С, keep the catalog as it was
        if database_unavailable(exc):
            raise   # not the file's fault: 503 with Retry-After, 1С repeats the exchange
        session.rollback()
        log.warning("CommerceML import of %s failed: %s", name, exc)
        return failure(f"Ошибка разбора {name}: {import_error(exc)}")
    ex = session.get(OnecExchange, ex_id)
    files = dict(ex.files or {})
    files[name] = {**files.get(name, {}), "done": done, "status": "imported" if finished else "importing"}
    save_exchange_files(session, ex, files)
    if finished:
        return text("success")
    return text(f"progress\nОбработано записей: {done}")


def import_error(exc: Exception) -> str:
    """Why a file could not be imported, in Russian (1С shows it in the exchange log)."""
    if isinstance(exc, etree.XMLSyntaxError):
        return f"XML повреждён (строка {exc.lineno})." if exc.lineno else "XML повреждён."
    if isinstance(exc, RecursionError):
        return "XML вложен слишком глубоко."
    return "файл не удалось прочитать как CommerceML."


def import_file(session, tenant_id: str, path: str, name: str, skip: int, budget: float,
                batch_size: int = BATCH) -> tuple[int, bool]:
    """Import records after the first `skip`; stop after a batch once `budget` seconds have
    passed. (records done in total, finished?). Each batch is committed on its own."""
    started = time.monotonic()
    offers = "offers" in os.path.basename(name).lower()
    reader = read_offers(path) if offers else read_import(path)
    seen = 0
    groups: list[dict] = []
    batch: list[dict] = []
    for kind, item in reader:
        if kind == "group":
            if skip == 0:
                groups.append(item)
            continue
        if kind == "partial":
            continue
        if groups:
            import_groups(session, tenant_id, groups, source="1c")
            groups = []
        seen += 1
        if seen <= skip:
            continue
        batch.append(item)
        if len(batch) >= batch_size:
            _flush(session, tenant_id, batch, offers)
            batch = []
            if time.monotonic() - started >= budget:
                return seen, False
    if groups:
        import_groups(session, tenant_id, groups, source="1c")
    if batch:
        _flush(session, tenant_id, batch, offers)
    return seen, True


def _flush(session, tenant_id: str, batch: list[dict], offers: bool) -> None:
    if offers:
        import_products(session, tenant_id, batch, source="1c", fields=("price",))
    else:
        import_products(session, tenant_id, batch, source="1c",
                        fields=("name", "article", "barcodes", "groups"))
