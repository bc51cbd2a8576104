"""SQLAlchemy models, one module per aggregate; importing this registers them all."""
from hub.models.base import Base
from hub.models.connection import Connection, InboundEvent, VerificationCode
from hub.models.customer import Customer
from hub.models.ledger import Account, Hold, Lot, LotDraw, Posting
from hub.models.receipt import Operation, Receipt, ReceiptReturn
from hub.models.tenant import ApiKey, Cashier, ProgramSettings, Store, Tenant

__all__ = ["Base", "Connection", "InboundEvent", "VerificationCode", "Customer", "Account", "Hold", "Lot", "LotDraw", "Posting", "Operation", "Receipt",
           "ReceiptReturn", "ApiKey", "Cashier", "ProgramSettings", "Store", "Tenant"]
