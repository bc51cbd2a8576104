"""`kopilka evotor sync`: the command is registered and reads its moments."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import click
import pytest

from evotor.cli import cli, parse_since


def test_parse_since_reads_iso_milliseconds_and_relative_moments():
    assert parse_since("2026-05-01T00:00:00+03:00") == datetime(2026, 4, 30, 21, tzinfo=timezone.utc)
    assert parse_since("1504168645290") == datetime.fromtimestamp(1504168645.29, timezone.utc)
    assert datetime.now(timezone.utc) - parse_since("2d") - timedelta(days=2) < timedelta(seconds=5)
    with pytest.raises(click.BadParameter):
        parse_since("вчера")


def test_the_command_is_part_of_kopilka():
    from hub.cli.main import COMMAND_GROUPS
    assert cli in COMMAND_GROUPS and "sync" in cli.commands
