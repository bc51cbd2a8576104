"""tenants: one business area (models, operations, rules)."""
