"""receipts: one business area (models, operations, rules)."""
