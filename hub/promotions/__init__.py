"""promotions: one business area (models, operations, rules)."""
