"""Logs a fleet can be read by: every line names the request (or job) it belongs to.

A web request's id comes from X-Request-ID (a load balancer or an adapter sets it; one is
made up when absent) and is echoed in the response; hub.app sets it in `request_id` for the
request's duration. A log record factory stamps every record with it, whatever the handler,
so the id appears on every line the request writes, on any host. KOPILKA_LOG_FORMAT=json
makes each line one JSON object (for journald / a collector); the default is one text line.
"""
from __future__ import annotations

import json
import logging
import os
import re
import socket
import sys
import uuid
from contextvars import ContextVar
from datetime import datetime, timezone

request_id: ContextVar[str] = ContextVar("request_id", default="-")
_VALID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
TEXT_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"
_state = {"installed": False}


def incoming_id(header: str | None) -> str:
    """The id of a request: the caller's when it is a sane token, else a new one (a header
    is not trusted to be short or printable, since it goes into every log line)."""
    if header and _VALID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def install() -> None:
    """Stamp every log record of this process with the current request id (idempotent)."""
    if _state["installed"]:
        return
    make = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        record = make(*args, **kwargs)
        record.request_id = request_id.get()
        return record
    logging.setLogRecordFactory(factory)
    _state["installed"] = True


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the moment (a test runner swaps it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


class JsonFormatter(logging.Formatter):
    host = socket.gethostname()

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"), "host": self.host, "pid": record.process,
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure(fmt: str | None = None, level: int = logging.INFO) -> None:
    """The process's log output (`kopilka serve`, `worker`, `automation schedule`): one
    handler on the root logger, JSON or text by KOPILKA_LOG_FORMAT. The hub's own loggers
    speak from `level`; libraries (Alembic's chatter on every start) from WARNING."""
    install()
    fmt = (fmt or os.environ.get("KOPILKA_LOG_FORMAT") or "text").lower()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "kopilka", False):
            root.removeHandler(handler)
    handler = _Stderr()
    handler.kopilka = True
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.WARNING:
        root.setLevel(logging.WARNING)
    for name in ("kopilka", "hub", "connectors", "evotor", "moysklad", "onec", "api"):
        logging.getLogger(name).setLevel(level)
