from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Index, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from hub.orm import Base, Kopecks, TenantScoped, UTCDateTime, new_id, utcnow


class Customer(TenantScoped, Base):
    """A loyalty-program participant; the phone is the identity, a card is optional."""
    __tablename__ = "customers"
    # The cabinet's clients list: keyset pages newest first (tenant, created_at, id), and the
    # search by a name's first letters (lower(), so «иван» finds «Иванова»; indexes below).
    __table_args__ = (UniqueConstraint("tenant_id", "phone"),
                      UniqueConstraint("tenant_id", "card_number"),
                      Index("ix_customers_tenant_created", "tenant_id", "created_at", "id"))
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    phone: Mapped[str] = mapped_column(String(20))            # E.164
    card_number: Mapped[str | None] = mapped_column(String(64), nullable=True)
    first_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    last_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    middle_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    gender: Mapped[str | None] = mapped_column(String(10), nullable=True)
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    email: Mapped[str | None] = mapped_column(String(200), nullable=True)
    address: Mapped[str | None] = mapped_column(Text, nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    tags: Mapped[list] = mapped_column(JSON, default=list)
    relatives: Mapped[list] = mapped_column(JSON, default=list)   # [{name, relation, birth_date}]
    consents: Mapped[dict] = mapped_column(JSON, default=dict)    # {sms: {given, at, source}}
    source: Mapped[str] = mapped_column(String(30), default="api")
    # Purchase statistics, kept with each sale and return in the same transaction.
    level_code: Mapped[str | None] = mapped_column(String(50), nullable=True)
    total_purchases: Mapped[int] = mapped_column(Kopecks, default=0)
    purchase_count: Mapped[int] = mapped_column(default=0)
    last_purchase_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Blocked by the owner: earns and spends nothing at any till (hub.receipts.guards).
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    blocked_reason: Mapped[str | None] = mapped_column(Text, nullable=True)

    @property
    def blocked(self) -> bool:
        return self.blocked_at is not None


# text_pattern_ops: LIKE 'prefix%' uses the index under any collation of the database.
Index("ix_customers_tenant_last_name", Customer.tenant_id, func.lower(Customer.last_name).label("last_lower"),
      postgresql_ops={"last_lower": "text_pattern_ops"})
Index("ix_customers_tenant_first_name", Customer.tenant_id, func.lower(Customer.first_name).label("first_lower"),
      postgresql_ops={"first_lower": "text_pattern_ops"})

# The clients list's filters at a million clients: the balance range (a semi-join on accounts)
# and the purchases total range find few rows through these instead of scanning the base.
from hub.ledger.models import Account

Index("ix_accounts_tenant_balance", Account.tenant_id, Account.balance)
Index("ix_customers_tenant_total", Customer.tenant_id, Customer.total_purchases)
