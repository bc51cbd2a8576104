"""The program settings as partners send them (API.md, Program), validated as a whole."""
from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.fields import Money, Percent

_CODE = validate.Regexp(r"^[A-Za-z0-9_.-]{1,50}$", error="Letters, digits, _ . - only (1–50).")
_GROUP = fields.String(validate=validate.Length(min=1, max=100))
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class StepSchema(Schema):
    from_ = Money(data_key="from", attribute="from", required=True)
    percent = Percent(required=True)


class SchemeSchema(Schema):
    scheme = fields.String(required=True, validate=validate.OneOf(("percent", "per_amount", "progressive")))
    percent = Percent()
    every = Money()
    bonuses = Money()
    steps = fields.List(fields.Nested(StepSchema))

    @validates_schema
    def _shape(self, data, **kwargs):  # noqa: ANN001
        kind = data["scheme"]
        if kind == "percent" and "percent" not in data:
            raise ValidationError("Required for the percent scheme.", "percent")
        if kind == "per_amount":
            for name in ("every", "bonuses"):
                if not data.get(name):
                    raise ValidationError("Required and greater than 0 for per_amount.", name)
        if kind == "progressive":
            steps = data.get("steps") or []
            if not steps:
                raise ValidationError("At least one step is required.", "steps")
            froms = [s["from"] for s in steps]
            if froms[0] != 0:
                raise ValidationError("The first step must start from 0.", "steps")
            if any(b <= a for a, b in zip(froms, froms[1:])):
                raise ValidationError("Steps must ascend by 'from' without repeats (no overlaps).",
                                      "steps")
        extra = {"percent": {"every", "bonuses", "steps"}, "per_amount": {"percent", "steps"},
                 "progressive": {"percent", "every", "bonuses"}}[kind] & set(data)
        if extra:
            raise ValidationError(f"Not used by the {kind} scheme: {', '.join(sorted(extra))}.",
                                  "scheme")


class LevelSchema(Schema):
    code = fields.String(required=True, validate=_CODE)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    threshold = Money(required=True)
    accrual = fields.Nested(SchemeSchema, allow_none=True, load_default=None)
    discount = fields.Nested(SchemeSchema, allow_none=True, load_default=None)
    max_spend_percent = Percent(load_default="0")
    bonus_lifetime_days = fields.Integer(allow_none=True, load_default=None,
                                         validate=validate.Range(min=1, max=3650))

    @validates_schema
    def _discount_scheme(self, data, **kwargs):  # noqa: ANN001
        if data.get("discount") and data["discount"]["scheme"] == "per_amount":
            raise ValidationError("A discount is a fixed or progressive percent.", "discount")


class ConditionSchema(Schema):
    groups = fields.List(_GROUP, load_default=list)
    exclude_groups = fields.List(_GROUP, load_default=list)
    weekdays = fields.List(fields.Integer(validate=validate.Range(min=1, max=7)), load_default=list)
    time_from = fields.String(allow_none=True, load_default=None)
    time_to = fields.String(allow_none=True, load_default=None)
    payment_methods = fields.List(fields.String(validate=validate.OneOf(("cash", "card", "mixed"))),
                                  load_default=list)
    stores = fields.List(fields.String(validate=validate.Length(min=1, max=100)), load_default=list)
    cashiers = fields.List(fields.String(validate=validate.Length(min=1, max=100)), load_default=list)
    levels = fields.List(fields.String(validate=_CODE), load_default=list)

    @validates_schema
    def _times(self, data, **kwargs):  # noqa: ANN001
        for name in ("time_from", "time_to"):
            if data.get(name) is not None and not _HHMM.match(data[name]):
                raise ValidationError("Use HH:MM (24-hour).", name)
        if data.get("time_from") and data.get("time_to") and data["time_from"] == data["time_to"]:
            raise ValidationError("The window is empty: time_from equals time_to.", "time_to")


class EffectSchema(Schema):
    accrual_percent = Percent(allow_none=True, load_default=None)
    accrual_multiplier = Percent(maximum=100, allow_none=True, load_default=None)
    no_accrual = fields.Boolean(load_default=False)
    max_spend_percent = Percent(allow_none=True, load_default=None)
    no_spend = fields.Boolean(load_default=False)
    no_discount = fields.Boolean(load_default=False)


class RuleSchema(Schema):
    name = fields.String(load_default="", validate=validate.Length(max=200))
    when = fields.Nested(ConditionSchema, load_default=dict)
    then = fields.Nested(EffectSchema, required=True)


class ProgramSchema(Schema):
    type = fields.String(required=True, validate=validate.OneOf(("bonus", "discount", "bonus_discount")))
    timezone = fields.String(load_default="Europe/Moscow")
    levels = fields.List(fields.Nested(LevelSchema), required=True, validate=validate.Length(min=1, max=50))
    bonus_lifetime_days = fields.Integer(allow_none=True, load_default=None,
                                         validate=validate.Range(min=1, max=3650))
    expiry_mode = fields.String(load_default="since_accrual",
                                validate=validate.OneOf(("since_accrual", "since_last_purchase", "fixed_dates")))
    expiry_dates = fields.List(fields.String(), load_default=list)
    activation_delay_days = fields.Integer(load_default=0, validate=validate.Range(min=0, max=365))
    rounding = fields.String(load_default="kopeck", validate=validate.OneOf(("kopeck", "rouble_down")))
    rules = fields.List(fields.Nested(RuleSchema), load_default=list, validate=validate.Length(max=200))
    accrue_on_discounted = fields.Boolean(load_default=True)
    accrue_on_bonus_payment = fields.Boolean(load_default=False)
    spend_on_discounted = fields.Boolean(load_default=True)

    @validates_schema
    def _whole(self, data, **kwargs):  # noqa: ANN001
        errors: dict = {}
        try:
            ZoneInfo(data.get("timezone", "Europe/Moscow"))
        except (ZoneInfoNotFoundError, ValueError):
            errors["timezone"] = ["Unknown time zone (use an IANA name such as Europe/Moscow)."]
        levels = data.get("levels") or []
        codes = [lv["code"] for lv in levels]
        if len(set(codes)) != len(codes):
            errors["levels"] = ["Level codes must be unique."]
        thresholds = [lv["threshold"] for lv in levels]
        if thresholds and thresholds[0] != 0:
            errors.setdefault("levels", []).append("The first level's threshold must be 0.")
        if any(b <= a for a, b in zip(thresholds, thresholds[1:])):
            errors.setdefault("levels", []).append("Thresholds must ascend without repeats.")
        dates = data.get("expiry_dates") or []
        for i, d in enumerate(dates):
            try:
                date.fromisoformat(f"2024-{d}")     # a leap year accepts 02-29
                if not re.fullmatch(r"\d\d-\d\d", d):
                    raise ValueError
            except ValueError:
                errors.setdefault("expiry_dates", {})[i] = ["Use MM-DD, e.g. 12-31."]
        if data.get("expiry_mode") == "fixed_dates" and not dates:
            errors["expiry_dates"] = ["At least one date is required for fixed_dates."]
        delay = data.get("activation_delay_days", 0)
        lifetimes = [data.get("bonus_lifetime_days")] + [lv.get("bonus_lifetime_days") for lv in levels]
        if data.get("expiry_mode") != "fixed_dates" and any(d is not None and d <= delay for d in lifetimes):
            errors["activation_delay_days"] = ["Bonuses would burn before they become active: "
                                               "the lifetime must exceed the activation delay."]
        known_levels = set(codes)
        for i, rule in enumerate(data.get("rules") or []):
            unknown = set(rule["when"].get("levels") or ()) - known_levels
            if unknown:
                errors.setdefault("rules", {})[i] = {"when": {"levels": [f"Unknown levels: {', '.join(sorted(unknown))}."]}}
        if errors:
            raise ValidationError(errors)

