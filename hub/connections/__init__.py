"""connections: one business area (models, operations, rules)."""
