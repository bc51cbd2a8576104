"""codes: one business area (models, operations, rules)."""
