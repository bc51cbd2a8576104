"""certificates: one business area (models, operations, rules)."""
