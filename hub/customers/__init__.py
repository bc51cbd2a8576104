"""customers: one business area (models, operations, rules)."""
