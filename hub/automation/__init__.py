"""Automation (issue 10): gift triggers, win-back chains, expiry warnings and activation
notices, recency and custom segments, referrals and mailings.

The `automation` sweep is hub.automation.sweep.run, registered by hub.adapters; this __init__
imports nothing.
"""
