"""The Evotor adapter's writes to its own tables (evotor/models.py): each one act, committed
here through hub.extensions.unit_of_work, so the terminal's views and the cloud sync never
commit (ARCHITECTURE.md, "Transactions"; issue 18)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.extensions import unit_of_work
from hub.moments import utcnow
from evotor.models import EvotorDevice, EvotorProduct, EvotorReceipt


# --- the terminal's receipts ---------------------------------------------------------------

def receipt_record(session: Session, tenant_id: str, receipt_uuid: str) -> EvotorReceipt | None:
    return session.scalar(select(EvotorReceipt).where(EvotorReceipt.tenant_id == tenant_id,
                                                      EvotorReceipt.receipt_uuid == receipt_uuid))


def save_quote(session: Session, tenant_id: str, connection_id: str, receipt_uuid: str,
               **fields) -> None:
    """What the receipt was quoted with (customer, positions, spend, hold, till), unless it
    is committed already; a concurrent first quote of the same receipt is retried once."""
    for attempt in range(2):
        try:
            with unit_of_work(session):
                record = receipt_record(session, tenant_id, receipt_uuid)
                if record is None:
                    record = EvotorReceipt(tenant_id=tenant_id, connection_id=connection_id,
                                           receipt_uuid=receipt_uuid)
                    session.add(record)
                if record.status == "committed":
                    session.rollback()      # nothing of this quote is kept
                    return
                for name, value in fields.items():
                    setattr(record, name, value)
                record.status, record.updated_at = "quoted", utcnow()
            return
        except IntegrityError:      # the same receipt quoted at once by a retry
            if attempt:
                raise


def mark_committed(session: Session, tenant_id: str, receipt_uuid: str) -> None:
    """The receipt's sale is recorded (a receipt never quoted has no record: nothing to do)."""
    record = receipt_record(session, tenant_id, receipt_uuid)
    if record is None or record.status == "committed":
        session.rollback()
        return
    with unit_of_work(session):
        record.status, record.updated_at = "committed", utcnow()


def mark_released(session: Session, tenant_id: str, receipt_uuid: str) -> str:
    """The receipt was dropped and its hold released; its status now."""
    with unit_of_work(session):
        record = receipt_record(session, tenant_id, receipt_uuid)
        if record.status != "committed":
            record.status, record.hold_id, record.updated_at = "released", None, utcnow()
        status = record.status
    return status


# --- what the cloud sync learns ------------------------------------------------------------

def save_devices(session: Session, tenant_id: str, connection_id: str, devices: list[dict]) -> int:
    """The user's terminals as {"device_uuid", "store_uuid", "name", "details"}, one SELECT
    of the known ones; committed together."""
    with unit_of_work(session):
        known = {d.device_uuid: d for d in session.scalars(
            select(EvotorDevice).where(EvotorDevice.connection_id == connection_id))}
        for item in devices:
            row = known.get(item["device_uuid"])
            if row is None:
                row = known[item["device_uuid"]] = EvotorDevice(
                    tenant_id=tenant_id, connection_id=connection_id, device_uuid=item["device_uuid"])
                session.add(row)
            row.store_uuid, row.name, row.details = item["store_uuid"], item["name"], item["details"]
            row.updated_at = utcnow()
    return len(devices)


def save_products(session: Session, tenant_id: str, connection_id: str, store_uuid: str,
                  products: list[dict]) -> int:
    """One store's products as {"product_id", "name", "parent_id", "groups"} in bulk: one
    SELECT of what is known, then updates and inserts flushed together; committed together."""
    with unit_of_work(session):
        known = {p.product_id: p for p in session.scalars(select(EvotorProduct).where(
            EvotorProduct.connection_id == connection_id, EvotorProduct.store_uuid == store_uuid))}
        for item in products:
            row = known.get(item["product_id"])
            if row is None:
                row = known[item["product_id"]] = EvotorProduct(
                    tenant_id=tenant_id, connection_id=connection_id, store_uuid=store_uuid,
                    product_id=item["product_id"])
                session.add(row)
            row.name, row.parent_id, row.groups = item["name"], item["parent_id"], item["groups"]
            row.updated_at = utcnow()
    return len(products)
