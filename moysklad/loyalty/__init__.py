"""Loyalty API 1.0 server."""
