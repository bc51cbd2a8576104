"""The tenant's product catalog, shared by every source (1С CommerceML, Evotor sync, API).

Products and groups are keyed by the source system's own id (1С's `Ид`, the Номенклатура
UUID that also arrives as `Item.Ref` in the loyalty-server protocol). A receipt line that
names a known product inherits its groups, so program rules by group work for any till.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.orm import Base, Kopecks, TenantScoped, UTCDateTime, new_id, utcnow


class CatalogGroup(TenantScoped, Base):
    """A product group; `parent_id` is the parent's external id (a tree)."""
    __tablename__ = "catalog_groups"
    __table_args__ = (UniqueConstraint("tenant_id", "external_id"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    external_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300), default="")
    parent_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    source: Mapped[str] = mapped_column(String(30), default="api")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CatalogProduct(TenantScoped, Base):
    """A product: name, article, barcodes, the groups it is directly in, a price if known."""
    __tablename__ = "catalog_products"
    __table_args__ = (UniqueConstraint("tenant_id", "external_id"),
                      Index("ix_catalog_products_article", "tenant_id", "article"))
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    external_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300), default="")
    article: Mapped[str | None] = mapped_column(String(100), nullable=True)
    barcodes: Mapped[list] = mapped_column(JSON, default=list)
    groups: Mapped[list] = mapped_column(JSON, default=list)       # direct groups' external ids
    price: Mapped[int | None] = mapped_column(Kopecks, nullable=True)
    source: Mapped[str] = mapped_column(String(30), default="api")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CatalogVersion(TenantScoped, Base):
    """Bumped in the transaction of every change of a tenant's products or groups: what the
    processes cache of the catalog is keyed by (hub.cache), so all of them answer alike."""
    __tablename__ = "catalog_versions"
    __table_args__ = (UniqueConstraint("tenant_id"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    version: Mapped[int] = mapped_column(Integer, default=0)
