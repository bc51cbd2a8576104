"""exports: one business area (models, operations, rules)."""
