"""The cabinets' periodic work, registered with the automation run by
hub.adapters (so rq's scheduler, `kopilka automation run` and the embedded
scheduler of `kopilka serve` all run it)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from hub.exports.models import Export

# A million clients take about a minute; two hours on means nobody is building it any more
# (the web process that built it in a thread was restarted, or no rq worker runs).
ABANDONED_AFTER = timedelta(hours=2)
ABANDONED = ("Выгрузка не завершилась за 2 часа (сервер перезапускался или фоновые задачи "
             "не работают). Запустите её снова.")


def fail_abandoned_exports(session: Session, at: datetime, tenant_id: str | None = None) -> int:
    """Exports still queued or running two hours after they were asked for: failed, with the
    reason shown on the exports page (instead of «собирается» for ever)."""
    stmt = (update(Export).where(Export.status.in_(("queued", "running")),
                                 Export.created_at < at - ABANDONED_AFTER)
            .values(status="failed", finished_at=at, error=ABANDONED))
    if tenant_id is not None:
        stmt = stmt.where(Export.tenant_id == tenant_id)
    count = session.execute(stmt).rowcount
    session.commit()
    return count


