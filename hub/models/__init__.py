"""SQLAlchemy models, one module per aggregate; importing this registers them all."""
from hub.models.base import Base
from hub.models.catalog import CatalogGroup, CatalogProduct  # noqa: F401
from hub.models.connection import Connection, InboundEvent, VerificationCode
from hub.models.customer import Customer
from hub.models.ledger import Account, Hold, Lot, LotDraw, Posting
from hub.models.notify import ChatLink, NotifyChannel, NotifySettings, NotifyTemplate, OutboxMessage  # noqa: F401
from hub.models.receipt import Operation, Receipt, ReceiptReturn
from hub.models.promotions import CertificatePosting, GiftCertificate, PromoCode, PromoCodeRedemption, Promotion, PromotionRevision, PromotionUse  # noqa: F401,E501
from hub.models.tenant import ApiKey, Cashier, ProgramSettings, Store, Tenant
from hub.models.automation import AutomationSettings, CustomerSegment, Mailing, MechanicEvent, Referral, ReferralCode, Segment, WinbackChain  # noqa: F401,E501
from hub.models.web import AuditEntry, WebCode, WebUser  # noqa: F401
from hub.models.reviews import Review, WalletPassConfig  # noqa: F401

__all__ = ["Base", "Connection", "InboundEvent", "VerificationCode", "Customer", "Account", "Hold", "Lot", "LotDraw", "Posting", "Operation", "Receipt",
           "ReceiptReturn", "ApiKey", "Cashier", "ProgramSettings", "Store", "Tenant"]
