"""wallet: one business area (models, operations, rules)."""
