"""The analytics floor's tables (specs/analytics.md §8): append-only sales deltas written in
the sale's transaction, the daily rollups the `analytics` sweep folds them into, and the
tenant's cost-of-goods settings (D7)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.orm import Base, Kopecks, TenantScoped

# The additive measures of a sales row, in kopecks or counts. A delta and a rollup row carry
# the same ones, so folding is a sum column by column.
MEASURES = (
    "receipts", "first_receipts", "receipts_with_spend", "gross", "promo_discount", "level_discount",
    "bonus_paid", "paid", "cogs", "cogs_receipts", "bonus_cost", "lines", "discount_share_ppm",
    "bonus_earned", "bonus_spent", "returns", "full_returns", "returned_gross", "returned_paid",
    "returned_cogs", "bonus_reversed", "bonus_restored",
)
KEYS = ("day", "store", "cashier", "member")


class _SalesMeasures:
    receipts: Mapped[int] = mapped_column(Integer, default=0)
    first_receipts: Mapped[int] = mapped_column(Integer, default=0)
    receipts_with_spend: Mapped[int] = mapped_column(Integer, default=0)
    gross: Mapped[int] = mapped_column(Kopecks, default=0)
    promo_discount: Mapped[int] = mapped_column(Kopecks, default=0)
    level_discount: Mapped[int] = mapped_column(Kopecks, default=0)
    bonus_paid: Mapped[int] = mapped_column(Kopecks, default=0)
    paid: Mapped[int] = mapped_column(Kopecks, default=0)
    cogs: Mapped[int] = mapped_column(Kopecks, default=0)
    cogs_receipts: Mapped[int] = mapped_column(Integer, default=0)   # receipts whose cogs is known
    bonus_cost: Mapped[int] = mapped_column(Kopecks, default=0)
    lines: Mapped[int] = mapped_column(Integer, default=0)
    discount_share_ppm: Mapped[int] = mapped_column(BigInteger, default=0)
    bonus_earned: Mapped[int] = mapped_column(Kopecks, default=0)
    bonus_spent: Mapped[int] = mapped_column(Kopecks, default=0)
    returns: Mapped[int] = mapped_column(Integer, default=0)
    full_returns: Mapped[int] = mapped_column(Integer, default=0)
    returned_gross: Mapped[int] = mapped_column(Kopecks, default=0)
    returned_paid: Mapped[int] = mapped_column(Kopecks, default=0)
    returned_cogs: Mapped[int] = mapped_column(Kopecks, default=0)
    bonus_reversed: Mapped[int] = mapped_column(Kopecks, default=0)
    bonus_restored: Mapped[int] = mapped_column(Kopecks, default=0)


class SalesDelta(_SalesMeasures, TenantScoped, Base):
    """One sale's or return's contribution, inserted in its transaction: an insert locks no
    shared row, so tills never queue on a rollup (§8.2). Folded and deleted by the sweep."""
    __tablename__ = "an_sales_deltas"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    day: Mapped[date] = mapped_column(Date)           # local date in the program's time zone
    store: Mapped[str] = mapped_column(String(100), default="")
    cashier: Mapped[str] = mapped_column(String(100), default="")
    member: Mapped[str] = mapped_column(String(12))   # participant | anonymous


class SalesDaily(_SalesMeasures, Base):
    """Folded sales per tenant, local day, store, cashier and member (§8.1 `an_sales_daily`)."""
    __tablename__ = "an_sales_daily"
    tenant_id: Mapped[str] = mapped_column(String(36), ForeignKey("tenants.id", ondelete="CASCADE"),
                                           primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    store: Mapped[str] = mapped_column(String(100), primary_key=True)
    cashier: Mapped[str] = mapped_column(String(100), primary_key=True)
    member: Mapped[str] = mapped_column(String(12), primary_key=True)


class AnalyticsSettings(TenantScoped, Base):
    """D7: the margin that prices goods without a known cost, overall and per catalog group."""
    __tablename__ = "an_settings"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)   # = tenant_id
    margin_percent: Mapped[str | None] = mapped_column(String(12), nullable=True)   # decimal text
    group_margins: Mapped[dict] = mapped_column(JSON, default=dict)                  # group -> text
