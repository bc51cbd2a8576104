"""Every POS operation is idempotent on (tenant, source, external id, kind)."""
from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.errors import Conflict
from hub.extensions import unit_of_work
from hub.receipts.models import Operation


def _plain(value: Any) -> str:
    # Decimals by value, not by spelling: a quantity of 1 and of 1.0 are the same request.
    return format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)


def request_hash(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False, default=_plain)
                          .encode()).hexdigest()


def replay(session: Session, tenant_id: str, source: str, external_id: str, kind: str,
           digest: str) -> Operation | None:
    """The first answer to this key, or None if the key is new; 409 if the body differs."""
    op = session.scalar(select(Operation).where(
        Operation.tenant_id == tenant_id, Operation.source == source,
        Operation.external_id == external_id, Operation.kind == kind))
    if op is not None and op.request_hash != digest:
        raise Conflict("idempotency_conflict",
                       f"Операция «{external_id}» уже проведена с другими данными.",
                       {"external_id": external_id})
    return op


def claim(session: Session, tenant_id: str, source: str, external_id: str, kind: str,
          digest: str) -> Operation:
    """Insert the key before doing the work: a concurrent duplicate waits on the unique
    index and then fails, so the work is done once."""
    op = Operation(tenant_id=tenant_id, source=source, external_id=external_id, kind=kind,
                   request_hash=digest, status=201, response={})
    session.add(op)
    session.flush()
    return op


def run_once(session: Session, tenant_id: str, source: str, external_id: str, kind: str,
                body: Any, work: Callable[[], dict]) -> tuple[dict, bool]:
    """Run `work` once per key; (answer, created). The same body again replays the answer."""
    digest = request_hash(body)
    op = replay(session, tenant_id, source, external_id, kind, digest)
    if op is not None:
        session.rollback()
        return op.response, False
    try:
        with unit_of_work(session):
            op = claim(session, tenant_id, source, external_id, kind, digest)
            answer = work()
            op.response = answer
    except IntegrityError:
        # Another request claimed the key first (unit_of_work rolled this one back).
        op = replay(session, tenant_id, source, external_id, kind, digest)
        if op is None:
            raise
        session.rollback()
        return op.response, False
    return answer, True
