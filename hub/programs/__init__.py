"""programs: one business area (models, operations, rules)."""
