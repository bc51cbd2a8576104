"""PUT/GET /api/v1/program: the full settings round trip, and nonsense refused with 422."""
from __future__ import annotations

import copy
import json

import pytest

from tests.api.helpers import CYRILLIC, assert_error, counts

FULL = {
    "type": "bonus_discount",
    "timezone": "Asia/Yekaterinburg",
    "levels": [
        {"code": "base", "name": "Стандарт", "threshold": 0,
         "accrual": {"scheme": "progressive", "steps": [{"from": 0, "percent": 3}, {"from": 1000, "percent": 10}]},
         "discount": None, "max_spend_percent": 20, "bonus_lifetime_days": None},
        {"code": "silver", "name": "Серебряная", "threshold": 5000.5,
         "accrual": {"scheme": "per_amount", "every": 1000, "bonuses": 50},
         "discount": {"scheme": "progressive", "steps": [{"from": 0, "percent": 1.5}, {"from": 3000, "percent": 2}]},
         "max_spend_percent": 30, "bonus_lifetime_days": 180},
        {"code": "gold", "name": "Золотая", "threshold": 10000,
         "accrual": {"scheme": "percent", "percent": 5},
         "discount": {"scheme": "percent", "percent": 5},
         "max_spend_percent": 50, "bonus_lifetime_days": None},
    ],
    "bonus_lifetime_days": 120,
    "expiry_mode": "since_last_purchase",
    "expiry_dates": [],
    "activation_delay_days": 1,
    "rounding": "rouble_down",
    "rules": [
        {"name": "Утренние часы", "when": {"groups": [], "exclude_groups": ["tobacco"], "weekdays": [1, 2, 3, 4, 5],
                                           "time_from": "09:00", "time_to": "12:00", "payment_methods": ["card"],
                                           "stores": ["shop-1"], "cashiers": ["c-7"], "levels": ["base", "gold"]},
         "then": {"accrual_percent": None, "accrual_multiplier": 2, "no_accrual": False,
                  "max_spend_percent": None, "no_spend": False, "no_discount": False}},
        {"name": "Услуги", "when": {"groups": ["services"], "exclude_groups": [], "weekdays": [], "time_from": None,
                                    "time_to": None, "payment_methods": [], "stores": [], "cashiers": [], "levels": []},
         "then": {"accrual_percent": 10, "accrual_multiplier": None, "no_accrual": False,
                  "max_spend_percent": 50, "no_spend": False, "no_discount": True}},
        {"name": "Ночью", "when": {"groups": ["goods"], "exclude_groups": [], "weekdays": [6, 7], "time_from": "22:00",
                                   "time_to": "06:00", "payment_methods": ["cash", "mixed"], "stores": [],
                                   "cashiers": [], "levels": []},
         "then": {"accrual_percent": None, "accrual_multiplier": None, "no_accrual": True,
                  "max_spend_percent": None, "no_spend": True, "no_discount": False}},
    ],
    "accrue_on_discounted": False,
    "accrue_on_bonus_payment": True,
    "spend_on_discounted": False,
    "restored_bonus_grace_days": 0,
    "verify_spending": True,
}


def test_put_then_get_returns_the_full_settings(api):
    r = api.put("/api/v1/program", json=FULL)
    assert r.status_code == 200, r.json
    assert r.json == FULL
    assert api.get("/api/v1/program").json == FULL


@pytest.mark.parametrize("mode, dates", [("since_accrual", []), ("fixed_dates", ["03-31", "12-31", "02-29"])])
def test_expiry_modes_round_trip(api, mode, dates):
    settings = {**copy.deepcopy(FULL), "expiry_mode": mode, "expiry_dates": dates, "activation_delay_days": 0,
                "rounding": "kopeck", "timezone": "Europe/Moscow"}
    assert api.put("/api/v1/program", json=settings).status_code == 200
    got = api.get("/api/v1/program").json
    assert (got["expiry_mode"], got["expiry_dates"], got["activation_delay_days"], got["rounding"]) == \
        (mode, dates, 0, "kopeck")
    assert got == settings


def test_defaults_fill_what_is_left_out(api):
    minimal = {"type": "discount", "levels": [{"code": "base", "name": "Все", "threshold": 0,
                                                 "discount": {"scheme": "percent", "percent": 7}}]}
    assert api.put("/api/v1/program", json=minimal).status_code == 200
    got = api.get("/api/v1/program").json
    assert got["type"] == "discount" and got["timezone"] == "Europe/Moscow"
    assert got["levels"][0]["discount"] == {"scheme": "percent", "percent": 7}
    assert got["levels"][0]["accrual"] is None
    assert (got["expiry_mode"], got["activation_delay_days"], got["rounding"], got["rules"]) == \
        ("since_accrual", 0, "kopeck", [])
    assert got["verify_spending"] is False


def test_the_settings_take_effect_on_receipts(api):
    assert api.put("/api/v1/program", json={
        "type": "bonus", "levels": [{"code": "base", "name": "Все", "threshold": 0,
                                     "accrual": {"scheme": "per_amount", "every": 1000, "bonuses": 50}}]}).status_code == 200
    api.post("/api/v1/customers", json={"phone": "+79161234567"})
    r = api.post("/api/v1/receipts/calculate", json={"external_id": "R", "customer": {"phone": "+79161234567"},
                                                      "positions": [{"id": "1", "price": 2999.99, "quantity": 1}]})
    assert r.status_code == 200 and r.json["totals"]["bonus_earned"] == 100   # two full 1000s


def _with(path: str, value) -> dict:
    """FULL with one value replaced; path like 'levels.0.accrual.percent'."""
    settings = copy.deepcopy(FULL)
    *parents, last = path.split(".")
    node = settings
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    node[int(last) if last.isdigit() else last] = value
    return settings


def _without(path: str) -> dict:
    settings = copy.deepcopy(FULL)
    *parents, last = path.split(".")
    node = settings
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    del node[last]
    return settings


NONSENSE = [
    # overlapping and unordered steps
    (_with("levels.0.accrual.steps", [{"from": 0, "percent": 3}, {"from": 0, "percent": 5}]), "levels.0.accrual.steps"),
    (_with("levels.0.accrual.steps", [{"from": 0, "percent": 3}, {"from": 2000, "percent": 5},
                                      {"from": 1000, "percent": 7}]), "levels.0.accrual.steps"),
    (_with("levels.0.accrual.steps", [{"from": 100, "percent": 3}]), "levels.0.accrual.steps"),
    (_with("levels.0.accrual.steps", []), "levels.0.accrual.steps"),
    (_with("levels.1.discount.steps", [{"from": 3000, "percent": 2}, {"from": 0, "percent": 1}]), "levels.1.discount.steps"),
    # percents over 100 or below 0, or with 3 decimals
    (_with("levels.2.accrual.percent", 101), "levels.2.accrual.percent"),
    (_with("levels.2.discount.percent", 100.01), "levels.2.discount.percent"),
    (_with("levels.2.max_spend_percent", 150), "levels.2.max_spend_percent"),
    (_with("levels.0.accrual.steps", [{"from": 0, "percent": -1}]), "levels.0.accrual.steps.0.percent"),
    (_with("levels.2.accrual.percent", 1.005), "levels.2.accrual.percent"),
    (_with("rules.1.then.accrual_percent", 200), "rules.1.then.accrual_percent"),
    (_with("rules.1.then.max_spend_percent", 101), "rules.1.then.max_spend_percent"),
    # negative days
    (_with("bonus_lifetime_days", -1), "bonus_lifetime_days"),
    (_with("activation_delay_days", -1), "activation_delay_days"),
    (_with("levels.1.bonus_lifetime_days", -30), "levels.1.bonus_lifetime_days"),
    (_with("activation_delay_days", 500), "activation_delay_days"),
    (_with("activation_delay_days", 200), "activation_delay_days"),   # bonuses would burn before activation
    # unknown schemes, types, modes
    (_with("levels.0.accrual", {"scheme": "cashback", "percent": 5}), "levels.0.accrual.scheme"),
    (_with("levels.2.discount", {"scheme": "per_amount", "every": 1000, "bonuses": 50}), "levels.2.discount"),
    (_with("levels.1.accrual", {"scheme": "per_amount", "every": 0, "bonuses": 50}), "levels.1.accrual.every"),
    (_with("levels.1.accrual", {"scheme": "per_amount", "every": 1000}), "levels.1.accrual.bonuses"),
    (_with("levels.2.accrual", {"scheme": "percent"}), "levels.2.accrual.percent"),
    (_with("levels.2.accrual", {"scheme": "percent", "percent": 5, "every": 1000}), "levels.2.accrual.scheme"),
    (_with("type", "cashback"), "type"),
    (_with("expiry_mode", "never"), "expiry_mode"),
    (_with("rounding", "up"), "rounding"),
    (_with("timezone", "Moscow/Kremlin"), "timezone"),
    # bad fixed dates
    ({**_with("expiry_mode", "fixed_dates"), "expiry_dates": ["13-40"]}, "expiry_dates.0"),
    ({**_with("expiry_mode", "fixed_dates"), "expiry_dates": ["12-31", "02-30"]}, "expiry_dates.1"),
    ({**_with("expiry_mode", "fixed_dates"), "expiry_dates": ["2025-12-31"]}, "expiry_dates.0"),
    ({**_with("expiry_mode", "fixed_dates"), "expiry_dates": ["1-5"]}, "expiry_dates.0"),
    (_with("expiry_mode", "fixed_dates"), "expiry_dates"),
    # unknown group format
    (_with("rules.1.when.groups", "services"), "rules.1.when.groups"),
    (_with("rules.1.when.groups", [{"code": "services"}]), "rules.1.when.groups.0"),
    (_with("rules.1.when.groups", [""]), "rules.1.when.groups.0"),
    (_with("rules.0.when.exclude_groups", [5]), "rules.0.when.exclude_groups.0"),
    # other nonsense in rules
    (_with("rules.0.when.time_from", "25:00"), "rules.0.when.time_from"),
    (_with("rules.0.when.time_to", "09:00"), "rules.0.when.time_to"),
    (_with("rules.0.when.weekdays", [0, 8]), "rules.0.when.weekdays"),
    (_with("rules.0.when.payment_methods", ["bitcoin"]), "rules.0.when.payment_methods.0"),
    (_with("rules.0.when.levels", ["platinum"]), "rules.0.when.levels"),
    (_with("rules.0.then", {"bonus": 5}), "rules.0.then.bonus"),
    (_without("rules.0.then"), "rules.0.then"),
    # levels
    (_with("levels.0.threshold", 100), "levels"),
    (_with("levels.2.threshold", 5000.5), "levels"),
    (_with("levels.1.code", "base"), "levels"),
    (_with("levels.1.threshold", -5), "levels.1.threshold"),
    (_with("levels.1.threshold", 5000.505), "levels.1.threshold"),
    (_with("levels", []), "levels"),
    (_without("levels.0.name"), "levels.0.name"),
    (_without("type"), "type"),
    (_with("levels.0.code", "база пробел"), "levels.0.code"),
    (_with("levels.0.colour", "red"), "levels.0.colour"),
    ({**FULL, "cashback": True}, "cashback"),
    (_with("restored_bonus_grace_days", -1), "restored_bonus_grace_days"),
]


def test_nonsense_is_refused_with_422_naming_the_field(api, session):
    assert api.put("/api/v1/program", json=FULL).status_code == 200
    before = counts(session)
    for settings, field in NONSENSE:
        r = api.put("/api/v1/program", json=settings)
        assert_error(r, 422, field)
        assert field.split(".")[0] in r.json["error"]["message"] or field == "levels", r.json
    assert counts(session) == before
    assert api.get("/api/v1/program").json == FULL     # the stored settings did not change


def test_a_receipt_uses_the_new_settings_at_once(api):
    """Replacing the program is visible to the next request (no stale cache)."""
    api.post("/api/v1/customers", json={"phone": "+79161234567"})
    body = {"external_id": "R", "customer": {"phone": "+79161234567"},
            "positions": [{"id": "1", "price": 1000, "quantity": 1}]}
    assert api.post("/api/v1/receipts/calculate", json=body).json["totals"]["bonus_earned"] == 50   # default 5%
    api.put("/api/v1/program", json={"type": "bonus", "levels": [
        {"code": "base", "name": "Все", "threshold": 0, "accrual": {"scheme": "percent", "percent": 8}}]})
    assert api.post("/api/v1/receipts/calculate", json=body).json["totals"]["bonus_earned"] == 80


# --- the rules live in the hub (hub/programs/rules.py); the schema only converts ------

def test_the_schema_only_converts(app):
    """Settings that convert but break the program's rules pass the schema untouched: the hub
    refuses them, not marshmallow."""
    from api.schemas.program import ProgramSchema

    wrong = _with("levels.2.threshold", 5000.5)          # thresholds not ascending
    wrong["rules"][0]["when"]["levels"] = ["platinum"]     # a level that does not exist
    wrong["activation_delay_days"] = 500
    loaded = ProgramSchema().load(wrong)
    assert loaded["levels"][2]["threshold"] == 500050 and loaded["activation_delay_days"] == 500


def test_the_hub_names_every_problem_by_path_in_russian(session, tenant):
    from hub.errors import Invalid
    from hub.programs.operations import DEFAULT_SETTINGS, put_program, validate_program

    assert validate_program(copy.deepcopy(DEFAULT_SETTINGS)) == []
    bad = copy.deepcopy(DEFAULT_SETTINGS)
    bad["levels"] = [{"code": "base", "name": "Все", "threshold": 100,
                      "accrual": {"scheme": "progressive", "steps": [{"from": 0, "percent": "3"},
                                                                     {"from": 0, "percent": "150"}]}},
                     {"code": "base", "name": "", "threshold": 50, "discount": {"scheme": "per_amount"}}]
    bad["activation_delay_days"] = 400
    bad["rules"] = [{"when": {"levels": ["gold"], "time_from": "9:00"}, "then": {}}]
    problems = validate_program(bad)
    paths = [path for path, _ in problems]
    for path in ("levels", "levels.0.accrual.steps", "levels.0.accrual.steps.1.percent", "levels.1.name",
                 "levels.1.discount", "activation_delay_days", "rules.0.when.levels", "rules.0.when.time_from"):
        assert path in paths, (path, problems)
    assert all(CYRILLIC.search(message) for _, message in problems), problems
    # The service refuses them itself (the cabinet's form calls it too), with the API's shape.
    with pytest.raises(Invalid) as caught:
        put_program(session, tenant["id"], bad)
    assert caught.value.status == 422 and caught.value.details["levels"]["0"]["accrual"]["steps"]
    assert caught.value.details["rules"]["0"]["when"]["levels"] == ["Нет таких уровней: gold."]


@pytest.mark.parametrize("path, value", [("levels.0.threshold", 100), ("rules.0.when.levels", ["platinum"]),
                                         ("activation_delay_days", 200), ("levels.2.accrual.percent", 101)])
def test_the_api_shows_the_hubs_messages(api, path, value):
    from api.schemas.program import ProgramSchema
    from hub.programs.rules import details_of, validate_program

    settings = _with(path, value)
    r = api.put("/api/v1/program", json=settings)
    error = assert_error(r, 422, path if not path.startswith("levels.0.threshold") else "levels")
    assert error["details"] == json.loads(json.dumps(details_of(validate_program(ProgramSchema().load(settings)))))


def test_a_rule_may_name_products_and_reads_back_as_sent(api):
    """Issue 25.2: the cabinet builds rules on catalog products; the API stores the same key."""
    body = copy.deepcopy(FULL)
    body["rules"][1]["when"]["products"] = ["p-latte"]
    r = api.put("/api/v1/program", json=body)
    assert r.status_code == 200, r.json
    assert api.get("/api/v1/program").json["rules"][1]["when"]["products"] == ["p-latte"]
    assert "products" not in api.get("/api/v1/program").json["rules"][0]["when"]
