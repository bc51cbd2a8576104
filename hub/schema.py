"""SQLAlchemy models, one module per aggregate; importing this registers them all."""
from hub.orm import Base
from hub.catalog.models import CatalogGroup, CatalogProduct  # noqa: F401
from hub.connections.models import Connection, InboundEvent, VerificationCode
from hub.customers.models import Customer
from hub.ledger.models import Account, Hold, Lot, LotDraw, Posting
from hub.notify.models import ChatLink, NotifyChannel, NotifySettings, NotifyTemplate, OutboxMessage  # noqa: F401
from hub.receipts.models import Operation, Receipt, ReceiptReturn
from hub.certificates.models import CertificatePosting, GiftCertificate  # noqa: F401,E501
from hub.promotions.models import PromoCode, PromoCodeRedemption, Promotion, PromotionRevision, PromotionUse
from hub.tenants.models import ApiKey, Cashier, ProgramSettings, Store, Tenant
from hub.automation.models import AutomationSettings, CustomerSegment, Mailing, MechanicEvent, Referral, ReferralCode, Segment, WinbackChain  # noqa: F401,E501
from hub.staff.models import AuditEntry, WebUser  # noqa: F401
from hub.codes.models import WebCode
from hub.reviews.models import Review  # noqa: F401
from hub.wallet.models import WalletPassConfig

__all__ = ["Base", "Connection", "InboundEvent", "VerificationCode", "Customer", "Account", "Hold", "Lot", "LotDraw", "Posting", "Operation", "Receipt",
           "ReceiptReturn", "ApiKey", "Cashier", "ProgramSettings", "Store", "Tenant"]
