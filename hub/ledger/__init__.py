"""The only code that changes balances: accounts, lots, postings, expiry."""
from hub.ledger.accounts import AccountView, account_view, lock_account
from hub.ledger.postings import (
    InsufficientBonuses, accrue, debit, expire_due, followed_expiry, redate_lots, restore, reverse_accrual, spend,
    spendable_at,
)
from hub.ledger.check import CertificateDiscrepancy, Discrepancy, check_certificates, check_ledger
from hub.ledger.holds import active_holds, expire_holds, place_hold, release_expired, release_hold

__all__ = ["AccountView", "account_view", "lock_account", "InsufficientBonuses", "accrue",
           "debit", "expire_due", "followed_expiry", "redate_lots", "restore", "reverse_accrual", "spend",
           "spendable_at", "Discrepancy", "check_ledger", "CertificateDiscrepancy", "check_certificates",
           "active_holds", "expire_holds", "place_hold",
           "release_expired", "release_hold"]
