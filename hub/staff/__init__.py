"""staff: one business area (models, operations, rules)."""
