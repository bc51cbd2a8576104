"""Migration 0024 masks the one-time codes that outbox rows written before masking kept in clear
(issue 17, item 11): after it, no row of topic "code" holds a live code; other rows are untouched."""
from __future__ import annotations

import uuid

import pytest
from alembic import command
from sqlalchemy import create_engine, select, text

from hub.db import alembic_config
from hub.orm import utcnow
from hub.notify.models import OutboxMessage
from tests.conftest import _pg_url, admin_engine


@pytest.fixture(params=["sqlite", "postgres"])
def empty_engine(request, tmp_path):
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
        yield engine
        engine.dispose()
        return
    name = f"kopilka_mask_{uuid.uuid4().hex[:8]}"
    admin = admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(_pg_url(name))
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_old_code_rows_are_masked(empty_engine):
    with empty_engine.begin() as conn:
        command.upgrade(alembic_config(connection=conn), "0023_faults")
    table = OutboxMessage.__table__
    with empty_engine.begin() as conn:
        conn.execute(text("INSERT INTO tenants (id, name, created_at) VALUES ('t1', 'T', CURRENT_TIMESTAMP)"))
        for i, (topic, body, ctx) in enumerate((
                ("code", "Код для входа: 482913. Никому не сообщайте.", {"code": "482913", "purpose": "login"}),
                ("welcome", "Добро пожаловать! Номер вашей карты 482913", {"card": "482913"}))):
            conn.execute(table.insert().values(id=f"m{i}", tenant_id="t1", topic=topic, channel="sms",
                                               recipient="+79160000000", text=body, context=ctx, status="sent",
                                               dedupe_key=f"k{i}", created_at=utcnow()))
    with empty_engine.begin() as conn:
        command.upgrade(alembic_config(connection=conn), "0024_codes_screens")
    with empty_engine.connect() as conn:
        rows = {r.topic: (r.text, r.context) for r in conn.execute(select(table.c.topic, table.c.text, table.c.context))}
    assert rows["code"] == ("Код для входа: ******. Никому не сообщайте.", {"code": "******", "purpose": "login"})
    assert rows["welcome"] == ("Добро пожаловать! Номер вашей карты 482913", {"card": "482913"})
