"""JSON API 1.2 client: webhooks and documents."""
