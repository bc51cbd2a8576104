"""Keyset pages, newest first: what every long list of the cabinets uses, so that a page
stays as fast at a million rows as at fifty (no OFFSET)."""
from __future__ import annotations

from datetime import datetime

from flask import abort
from sqlalchemy import and_, or_
from sqlalchemy.sql import Select

from hub.extensions import db


def newest_first(stmt: Select, moment_col, id_col, after: str, size: int) -> tuple[list, str | None]:
    """One page of `stmt` ordered by (moment, id) descending, starting after the cursor
    `after` ("<moment ISO>|<id>", as the previous page gave it); (rows, next cursor or None).
    A cursor that does not parse is a 404, like any other wrong URL."""
    if after:
        try:
            moment_text, last_id = after.split("|", 1)
            moment = datetime.fromisoformat(moment_text)
        except ValueError:
            abort(404)
        if moment.tzinfo is None:         # the pages only ever hand out aware moments
            abort(404)
        stmt = stmt.where(or_(moment_col < moment, and_(moment_col == moment, id_col < last_id)))
    rows = list(db.session.scalars(stmt.order_by(moment_col.desc(), id_col.desc()).limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    cursor = f"{getattr(rows[-1], moment_col.key).isoformat()}|{getattr(rows[-1], id_col.key)}" if more else None
    return rows, cursor
