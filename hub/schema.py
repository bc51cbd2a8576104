"""SQLAlchemy models, one module per aggregate; importing this registers them all."""
from hub.orm import Base
from hub.connections.models import Connection, InboundEvent, VerificationCode
from hub.customers.models import Customer
from hub.ledger.models import Account, Hold, Lot, LotDraw, Posting
from hub.receipts.models import Operation, Receipt, ReceiptReturn
from hub.tenants.models import ApiKey, Cashier, ProgramSettings, Store, Tenant
from hub.brand.models import Brand

__all__ = ["Base", "Connection", "InboundEvent", "VerificationCode", "Customer", "Account", "Hold", "Lot", "LotDraw", "Posting",
           "Operation", "Receipt",
           "ReceiptReturn", "Brand", "ApiKey", "Cashier", "ProgramSettings", "Store", "Tenant"]
