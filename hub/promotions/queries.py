"""Reads of promotions, for the adapters (they never query the table)."""
from __future__ import annotations

from sqlalchemy.orm import Session

from hub.promotions.models import Promotion


def promotion_name(session: Session, promotion_id: str) -> str:
    """The promotion's name, "" when it is gone."""
    promotion = session.get(Promotion, promotion_id)
    return promotion.name if promotion is not None else ""
