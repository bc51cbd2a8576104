"""Every model of the hub's areas, imported for one MetaData (Alembic, the schema checks).
Importing this module registers them all; nothing else should need to."""
# ruff: noqa: F401 - the imports are the point
from hub.analytics.models import AnalyticsSettings, SalesDaily, SalesDelta
from hub.automation.models import (
    AutomationSettings, CustomerSegment, Mailing, MechanicEvent, Referral, ReferralCode, Segment, WinbackChain,
)
from hub.brand.models import Brand
from hub.catalog.models import CatalogGroup, CatalogProduct
from hub.certificates.models import CertificatePosting, GiftCertificate
from hub.codes.models import WebCode
from hub.connections.models import Connection, InboundEvent, VerificationCode
from hub.customers.models import Customer
from hub.exports.models import Export
from hub.ledger.models import Account, Hold, Lot, LotDraw, Posting
from hub.notify.models import ChatLink, NotifyChannel, NotifySettings, NotifyTemplate, OutboxMessage
from hub.orm import Base
from hub.promotions.models import PromoCode, PromoCodeRedemption, Promotion, PromotionRevision, PromotionUse
from hub.receipts.models import Operation, Receipt, ReceiptReturn
from hub.reviews.models import Review
from hub.staff.models import AuditEntry, WebUser
from hub.tenants.models import ApiKey, Cashier, ProgramSettings, Store, Tenant
from hub.wallet.models import WalletPassConfig
