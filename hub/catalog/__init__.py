"""catalog: one business area (models, operations, rules)."""
