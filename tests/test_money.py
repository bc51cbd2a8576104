"""One money parser with one limit (issue 18, item 3): hub.money.parse_rub reads what every
face takes — the API's fields, the cabinets' forms, the CLI, the adapters' schemas — and each
refuses the same out-of-range amount with the same Russian words; the one renderer of kopecks
(hub.engine.text.rub) reads back through it exactly."""
from __future__ import annotations

from decimal import Decimal

import pytest
from click.testing import CliRunner
from hypothesis import given, strategies as st
from marshmallow import ValidationError

from api.fields import Money
from connectors.receipts import kopecks as wire_kopecks
from evotor.common import BadValue, money as evotor_money
from hub.cli.main import main
from hub.engine.text import rub
from hub.money import MAX_KOPECKS, MONEY_MESSAGES, MoneyError, kopecks_json, parse_rub
from hub.text import number
from hub.web.cabinet import client_filters
from hub.web.ui import formatting
from moysklad.loyalty.schemas import Roubles
from onec.soap import Fault, _kop

LARGE = MONEY_MESSAGES["large"]
TOO_MUCH = "100 000 000 000,01"          # one kopeck above the limit, as a person types it
KOPECKS = st.integers(min_value=-MAX_KOPECKS, max_value=MAX_KOPECKS)


@given(KOPECKS)
def test_every_rendering_of_kopecks_reads_back_exactly(k):
    assert parse_rub(rub(k), allow_negative=True) == k                 # the engine: "-1 234,56"
    assert parse_rub(number(k), allow_negative=True) == k              # messages: NBSP, "−"
    assert formatting.parse_rub(formatting.rub(k), allow_negative=True) == k   # cabinets: "… ₽"
    assert parse_rub(kopecks_json(k), allow_negative=True) == k        # the API's JSON number
    assert parse_rub(str(Decimal(k) / 100), allow_negative=True) == k


def test_one_limit_and_its_words():
    assert LARGE == "Слишком большая сумма: не больше 100 000 000 000 ₽."
    assert parse_rub("100 000 000 000") == MAX_KOPECKS == 10 ** 13
    for value in (TOO_MUCH, 10 ** 11 + 0.01, "1e20", "9" * 60, -(10 ** 12)):
        with pytest.raises(MoneyError) as exc:
            parse_rub(value, allow_negative=True)
        assert exc.value.message == LARGE, value
    assert parse_rub("1 234,5 ₽") == 123450 and parse_rub("−10", allow_negative=True) == -1000
    for value, kind in (("12,345", "fraction"), ("abc", "type"), (True, "type"), ("NaN", "type"),
                        ("-1", "negative"), (None, "type"), ("1E-30", "fraction")):
        with pytest.raises(MoneyError) as exc:
            parse_rub(value)
        assert exc.value.kind == kind and exc.value.message == MONEY_MESSAGES[kind]


def test_every_face_refuses_the_same_amount_with_the_same_words():
    # the API's Money field (every schema's money, and the CLI reads through those schemas)
    with pytest.raises(ValidationError) as api:
        Money().deserialize(TOO_MUCH)
    assert api.value.messages == [LARGE]
    # the owner's cabinet: the clients filter (and the segment it saves)
    _, errors = client_filters.parse({"total_min": TOO_MUCH})
    assert errors == {"total_min": [LARGE]}
    with pytest.raises(MoneyError) as cabinet:
        formatting.parse_rub(TOO_MUCH)
    assert formatting.money_error(cabinet.value, "пример") == LARGE
    # the CLI's own amount option
    out = CliRunner().invoke(main, ["mechanics", "propose-gift", "--check", TOO_MUCH, "--margin", "40",
                                    "--share", "50"])
    assert out.exit_code != 0 and LARGE in out.output, out.output
    # the adapters: Evotor, МойСклад's loyalty API, 1С's SOAP, the receipts every adapter maps
    with pytest.raises(BadValue) as evotor:
        evotor_money(TOO_MUCH, "sum")
    assert evotor.value.message == f"Поле sum: {LARGE}"
    with pytest.raises(ValidationError) as moysklad:
        Roubles().deserialize(TOO_MUCH)
    assert moysklad.value.messages == [LARGE]
    with pytest.raises(Fault) as onec:
        _kop(Decimal("100000000000.01"))
    assert LARGE in str(onec.value)
    with pytest.raises(ValueError):
        wire_kopecks(10 ** 11 + 0.01)
    # one kopeck less is taken everywhere
    assert Money().deserialize("100 000 000 000") == client_filters.parse({"total_min": "100 000 000 000"})[0][
        "total_min"] == evotor_money(10 ** 11, "sum") == Roubles().deserialize(10 ** 11) == MAX_KOPECKS
