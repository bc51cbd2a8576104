"""Automation (issue 10): gift triggers, win-back chains, expiry warnings and activation
notices, recency and custom segments, referrals and mailings.

Importing the package registers the `automation` sweep with hub.sweeps, so
`kopilka automation run --at MOMENT` and the worker's periodic job run it.
"""
from hub.automation.chains import propose_gift
from hub.cli.mechanics import cli
from hub.automation.sweep import run, run_tenant
from hub.sweeps import register_sweep

register_sweep("automation", run)

__all__ = ["cli", "propose_gift", "run", "run_tenant"]
