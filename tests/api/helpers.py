"""Helpers of the API tests: row counts, the error format, time, request bodies."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from hub.orm import Base

CYRILLIC = re.compile(r"[А-Яа-яЁё]")


def kop(value) -> int:
    """Roubles from a JSON answer -> kopecks (exactly: at most 2 decimals by contract)."""
    return round(value * 100)


def ago(**delta) -> str:
    """A moment in the past, ISO 8601 with offset."""
    return (datetime.now(timezone.utc) - timedelta(**delta)).replace(microsecond=0).isoformat()


def counts(session) -> dict[str, int]:
    """Rows in every table: a failed request must leave all of them as they were."""
    session.expire_all()
    return {t.name: session.execute(select(func.count()).select_from(t)).scalar_one()
            for t in Base.metadata.sorted_tables}


def assert_error(response, status: int | tuple, *fields: str, code: str | None = None) -> dict:
    """The API.md error format with a Russian message; `fields` must be named in details."""
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, (response.status_code, response.get_data(as_text=True)[:500])
    body = response.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["details"], dict)
    assert CYRILLIC.search(error["message"]), error["message"]
    if code:
        assert error["code"] == code, error
    for name in fields:
        node = error["details"]
        for part in name.split("."):
            assert isinstance(node, dict), (name, error["details"])
            key = int(part) if part.isdigit() and int(part) in node else part
            assert key in node, (name, error["details"])
            node = node[key]
    return error


def gift(api, customer_id: str, amount, key: str | None = None, **extra):
    headers = {"Idempotency-Key": key} if key else None
    return api.post(f"/api/v1/customers/{customer_id}/bonuses",
                    json={"amount": amount, "kind": "gift", "valid_days": 30, **extra}, headers=headers)


def receipt(external_id: str, *positions, customer: dict | None = None, **extra) -> dict:
    """A receipt body; positions are (price, quantity) or dicts."""
    lines = []
    for i, p in enumerate(positions or [(1000, 1)]):
        if isinstance(p, dict):
            lines.append({"id": str(i + 1), **p})
        else:
            lines.append({"id": str(i + 1), "name": f"Товар {i + 1}", "price": p[0], "quantity": p[1]})
    body = {"external_id": external_id, "positions": lines, **extra}
    if customer is not None:
        body["customer"] = customer
    return body
