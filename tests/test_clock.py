"""One clock: nothing outside hub/clock.py reads the time itself (tests pin hub.clock)."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("hub", "connectors", "api", "evotor", "moysklad", "onec")
# datetime.now(), datetime.utcnow(), datetime.today(), date.today(), time.time(), and the
# same through an alias (dt.datetime.now(), _dt.now()).
STRAY = re.compile(r"\b(?:datetime|date|dt|_dt)\s*\.\s*(?:now|utcnow|today)\s*\(|\btime\s*\.\s*time\s*\(")
ALLOWED = {Path("hub/clock.py")}


def test_no_stray_clock_reads():
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT)
            if rel in ALLOWED:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                code = line.split("#", 1)[0]
                if STRAY.search(code):
                    found.append(f"{rel}:{number}: {line.strip()}")
    assert not found, "read the time through hub.clock.utcnow():\n" + "\n".join(found)


def test_frozen_clock_is_what_services_and_commands_read():
    from hub import clock
    from hub.orm import utcnow as model_now
    from hub.moments import utcnow as moments_now
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    with clock.frozen(moment):
        assert clock.utcnow() == model_now() == moments_now() == moment
    assert clock.utcnow() != moment


def test_the_grep_catches_what_it_should():
    for line in ("now = datetime.now(timezone.utc)", "x = time.time()", "d = date.today()",
                 "t = datetime.utcnow()", "n = dt.datetime.now()"):
        assert STRAY.search(line), line
    for line in ("from hub.clock import utcnow", "now = utcnow()", "time.monotonic()",
                 "datetime.fromisoformat(s)"):
        assert not STRAY.search(line), line
