"""reviews: one business area (models, operations, rules)."""
