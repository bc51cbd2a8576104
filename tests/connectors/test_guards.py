"""One guard per rule, in the core: every commit path refuses the same receipts."""
from __future__ import annotations

import ast
import pathlib
from decimal import Decimal

import pytest

from hub import engine
from hub.errors import Invalid
from hub.moments import utcnow
from hub.customers.operations import register_customer
from hub.receipts.guards import TillDiscount
from hub.programs.operations import DEFAULT_SETTINGS, put_program
from hub.receipts.operations import SaleRequest, commit_sale

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _sale(customer_id, spend=None):
    return SaleRequest(external_id="G-1", moment=utcnow(), customer={"id": customer_id} if customer_id else None,
                       positions=(engine.Position(id="1", amount=100000, quantity=Decimal(1), price=100000),),
                       spend=spend)


def test_a_till_discount_above_what_the_program_allows_is_refused_by_the_core(session, tenant):
    put_program(session, tenant["id"], dict(DEFAULT_SETTINGS))
    c = register_customer(session, tenant["id"], {"phone": "+79160000321"}, source="test", moment=utcnow())
    session.commit()
    with pytest.raises(Invalid) as err:
        commit_sale(session, tenant["id"], "test", _sale(c.id), {}, till_discount=TillDiscount(applied=5000))
    assert err.value.code == "discount_not_allowed" and "больше разрешённой" in err.value.message
    session.rollback()
    answer, created = commit_sale(session, tenant["id"], "test", _sale(c.id), {},
                                  till_discount=TillDiscount(applied=0))
    assert created and answer["totals"]["amount"] == 100000
    session.rollback()


def test_spending_without_a_customer_is_refused_by_the_core(session, tenant):
    put_program(session, tenant["id"], dict(DEFAULT_SETTINGS))
    session.commit()
    with pytest.raises(Invalid) as err:
        commit_sale(session, tenant["id"], "test", _sale(None, spend=100), {})
    assert err.value.code == "customer_required"
    session.rollback()


ADAPTERS = ("api", "evotor", "moysklad", "onec")


@pytest.mark.parametrize("adapter", ["evotor", "moysklad"])
def test_no_adapter_imports_another_and_none_checks_the_discount_rule_itself(adapter):
    others = set(ADAPTERS) - {adapter}
    for path in (ROOT / adapter).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert node.module.split(".")[0] not in others, f"{path}: imports {node.module}"
            if isinstance(node, ast.Import):
                for a in node.names:
                    assert a.name.split(".")[0] not in others, f"{path}: imports {a.name}"
        text = path.read_text(encoding="utf-8")
        assert "больше разрешённой программой" not in text, f"{path}: the discount rule lives in hub.receipts.guards"
        assert "Списать бонусы можно только по карте" not in text, f"{path}: the customer rule lives in the core"
