"""The sweep is registered with `kopilka automation run`; the `kopilka mechanics` commands."""
from __future__ import annotations

from datetime import date

from click.testing import CliRunner

from hub.cli.mechanics import cli
from hub.sweeps import run_due
from tests.automation.conftest import msk


def test_propose_gift_command():
    out = CliRunner().invoke(cli, ["propose-gift", "--check", "900", "--margin", "40", "--share", "50"])
    assert out.exit_code == 0 and "180 бонусов" in out.output
    bad = CliRunner().invoke(cli, ["propose-gift", "--check", "900", "--margin", "140", "--share", "50"])
    assert bad.exit_code != 0


def test_run_due_runs_the_automation_sweep(world):
    world.settings(msk(2026, 11, 1), {"gifts": [{"event": "birthday", "amount": 50000, "valid_days": 15,
                                                 "days_before": 7}]})
    world.customer(msk(2026, 1, 5), birth_date=date(1990, 12, 15))
    result = run_due(world.session, msk(2026, 12, 8, 10))
    assert result["automation"]["birthday"] >= 1
    assert [e.mechanic for e in world.events()] == ["birthday"]
