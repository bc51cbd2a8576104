"""One unit of work (hub.extensions.unit_of_work): commit when the block ends, roll back on
any exception; and the adapters' own `select(` / `.commit(` / model imports only go down
(issue 18: adapters reach the hub only through its operations)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, create_engine, func, select
from sqlalchemy.orm import Session, declarative_base

from hub.extensions import unit_of_work

ROOT = Path(__file__).resolve().parent.parent
_Base = declarative_base()


class _Row(_Base):
    __tablename__ = "row"
    id = Column(Integer, primary_key=True)


@pytest.fixture
def plain_session():
    engine = create_engine("sqlite://")
    _Base.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(_Row))


def test_commits_when_the_block_ends(plain_session):
    with unit_of_work(plain_session):
        plain_session.add(_Row(id=1))
    plain_session.rollback()          # nothing left to undo: it was committed
    assert _count(plain_session) == 1


@pytest.mark.parametrize("exc", [ValueError("bad"), KeyboardInterrupt()])
def test_rolls_back_on_any_exception(plain_session, exc):
    with pytest.raises(type(exc)), unit_of_work(plain_session):
        plain_session.add(_Row(id=1))
        plain_session.flush()
        raise exc
    assert _count(plain_session) == 0


def test_no_copied_rollback_blocks():
    """`except BaseException: rollback; raise` lives once, in unit_of_work."""
    found = []
    for package in ("hub", "api", "connectors", "evotor", "moysklad", "onec"):
        for path in sorted((ROOT / package).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            for match in re.finditer(r"except BaseException:\s*\n\s*\w*\.?session\.rollback\(\)", text):
                found.append(f"{path.relative_to(ROOT)}:{text[:match.start()].count(chr(10)) + 1}")
    assert found == ["hub/extensions.py:" + str(_line_of("hub/extensions.py", "except BaseException"))]


def _line_of(rel: str, needle: str) -> int:
    for number, line in enumerate((ROOT / rel).read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(needle)


# Ceilings that only go down (issue 18: adapters reach the hub only through its operations).
# Every `select(` left reads the adapter's own tables (its models.py) — the hub's are out of
# reach (import-linter: adapters import no hub models); the commits left are debt.
# The cabinets (hub/web) call operations that commit with their audit entry: no commits of their own.
CEILINGS = {
    "onec": {".commit(": 0, "select(": 10},
    "moysklad": {".commit(": 0, "select(": 3},
    "evotor": {".commit(": 0, "select(": 13},
    "connectors": {".commit(": 0, "select(": 14},
    "hub/web": {".commit(": 0},
}


def _occurrences(package: str, needle: str) -> int:
    pattern = re.compile(r"\b" + re.escape(needle) if needle[0].isalpha() else re.escape(needle))
    return sum(len(pattern.findall(path.read_text(encoding="utf-8")))
               for path in (ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(CEILINGS))
def test_adapters_commit_and_select_no_more_than_before(package):
    found = {needle: _occurrences(package, needle) for needle in CEILINGS[package]}
    over = {k: v for k, v in found.items() if v > CEILINGS[package][k]}
    assert not over, f"{package}: {over} — put the query or the transaction in the hub's operation"
    # lowered? lower the ceiling too, so it cannot creep back
    assert found == CEILINGS[package], f"{package} now has {found}: lower CEILINGS to that"
