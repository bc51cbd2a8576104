"""One-time codes confirming a new customer or a bonus spending at a МойСклад till.

The codes themselves are the shared ones (connectors.verification); this module gives
МойСклад's purposes and the policy from the connection's settings: with
the Loyalty API the answer to /verify carries the code (`verificationCode` is required) and
the till checks what the customer says against it, so an issued code is enough; the customer
may also confirm it through another channel (`confirm_code`, the cabinet or a bot).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from datetime import datetime

from sqlalchemy.orm import Session

from connectors import verification as codes
# The Loyalty API's views reach the shared code helpers through this module (__all__ below).
from connectors.verification import consume, mark_consumed, mask_phone
from moysklad.common import setting

if TYPE_CHECKING:   # annotations only: the adapter reads rows the hub's queries return
    from hub.connections.models import Connection, VerificationCode

__all__ = ["COUNTERPARTY", "SPENDING", "confirm_code", "consume", "issue", "mark_consumed",
           "mask_phone", "policy", "verified"]

COUNTERPARTY = "counterparty"   # subject: the phone in E.164
SPENDING = "spending"           # subject: our customer id


def policy(conn: Connection) -> codes.CodePolicy:
    return codes.CodePolicy(ttl_seconds=setting(conn, "code_ttl_seconds"),
                            repeat_seconds=setting(conn, "code_repeat_seconds"),
                            trust_issued=True)


def issue(session: Session, conn: Connection, purpose: str, subject: str, phone: str,
          now: datetime) -> tuple[str, int, str | None]:
    return codes.issue(session, conn, purpose, subject, phone, now, policy(conn))


def verified(session: Session, conn: Connection, purpose: str, subject: str, now: datetime,
             reference: str | None = None) -> VerificationCode | None:
    return codes.verified(session, conn, purpose, subject, now, policy(conn), reference)


def confirm_code(session: Session, conn: Connection, purpose: str, subject: str, code: str,
                 now: datetime) -> bool:
    """The customer typed the code in another channel; True if it matches."""
    return codes.check(session, conn, purpose, subject, code, now, policy(conn)) is not None
