"""The program settings form <-> the stored settings (money in kopecks, percents as strings).

Everything is checked by the hub's own rules (hub.programs.rules.validate_program);
this module only converts shapes and units and places each message next to its field
(paths such as "levels.1.threshold"). A value the form cannot read (letters in an amount)
gets a message of its own at the same path.
"""
from __future__ import annotations

import json
from decimal import Decimal

from hub.web.ui.formatting import number, parse_rub

LEVEL_FIELDS = ("code", "name", "threshold", "accrual_scheme", "accrual_percent", "accrual_every",
                "accrual_bonuses", "accrual_steps", "discount_percent", "max_spend_percent",
                "bonus_lifetime_days")
FLAGS = ("accrue_on_discounted", "accrue_on_bonus_payment", "spend_on_discounted", "verify_spending")
OFF_BY_DEFAULT = ("accrue_on_bonus_payment", "verify_spending")
EXTRA_ROWS = 1


def _rub_text(kopecks) -> str:
    return "" if kopecks is None else number(kopecks).replace("\u00a0", " ")


def _steps_text(steps) -> str:
    return "; ".join(f"{_rub_text(s.get('from'))}: {s.get('percent')}" for s in steps or [])


def form_from_settings(s: dict) -> dict:
    """The form's values (strings) from stored settings."""
    levels = []
    for lv in s.get("levels") or []:
        acc = lv.get("accrual") or {}
        disc = lv.get("discount") or {}
        levels.append({
            "code": lv.get("code", ""), "name": lv.get("name", ""),
            "threshold": _rub_text(lv.get("threshold")),
            "accrual_scheme": acc.get("scheme", "percent") if acc else "",
            "accrual_percent": str(acc.get("percent", "")) if acc.get("percent") is not None else "",
            "accrual_every": _rub_text(acc.get("every")) if acc.get("every") is not None else "",
            "accrual_bonuses": _rub_text(acc.get("bonuses")) if acc.get("bonuses") is not None else "",
            "accrual_steps": _steps_text(acc.get("steps")),
            "discount_percent": str(disc.get("percent", "")) if disc.get("scheme") == "percent" else "",
            "max_spend_percent": str(lv.get("max_spend_percent") or ""),
            "bonus_lifetime_days": "" if lv.get("bonus_lifetime_days") is None else str(lv["bonus_lifetime_days"]),
        })
    return {
        "type": s.get("type", "bonus"), "timezone": s.get("timezone", "Europe/Moscow"),
        "bonus_lifetime_days": "" if s.get("bonus_lifetime_days") is None else str(s["bonus_lifetime_days"]),
        "expiry_mode": s.get("expiry_mode", "since_accrual"),
        "expiry_dates": ", ".join(s.get("expiry_dates") or []),
        "activation_delay_days": str(s.get("activation_delay_days") or 0),
        "rounding": s.get("rounding", "kopeck"),
        "restored_bonus_grace_days": str(s.get("restored_bonus_grace_days") or 0),
        **{f: bool(s.get(f, f not in OFF_BY_DEFAULT)) for f in FLAGS},
        "rules": json.dumps(s.get("rules") or [], ensure_ascii=False, indent=2),
        "levels": levels + [dict.fromkeys(LEVEL_FIELDS, "") for _ in range(EXTRA_ROWS)],
    }


class _Reader:
    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def fail(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)

    def days(self, raw: str, path: str, *, empty=None):
        raw = (raw or "").strip()
        if not raw:
            return empty
        try:
            return int(raw)
        except ValueError:
            self.fail(path, "Введите целое число дней.")
            return raw

    def money(self, raw: str, path: str):
        try:
            return parse_rub(raw, allow_negative=True)
        except ValueError:
            self.fail(path, "Введите сумму в рублях, например 10 000 или 99,90.")
            return raw

    def percent(self, raw: str, path: str):
        raw = (raw or "").strip().replace(",", ".")
        return raw or None


def settings_from_form(form, current: dict) -> tuple[dict, dict, dict]:
    """(settings, form values to show again, parse errors by path). Keys the form does not
    show (anything a newer hub adds) are kept from `current`."""
    r = _Reader()
    values = {k: form.get(k, "") for k in ("type", "timezone", "bonus_lifetime_days", "expiry_mode",
                                           "expiry_dates", "activation_delay_days", "rounding",
                                           "restored_bonus_grace_days", "rules")}
    values.update({f: form.get(f) == "on" for f in FLAGS})
    s = dict(current)
    s["type"] = values["type"]
    s["timezone"] = (values["timezone"] or "").strip()
    s["bonus_lifetime_days"] = r.days(values["bonus_lifetime_days"], "bonus_lifetime_days")
    s["expiry_mode"] = values["expiry_mode"]
    s["expiry_dates"] = [d.strip() for d in (values["expiry_dates"] or "").replace(";", ",").split(",") if d.strip()]
    s["activation_delay_days"] = r.days(values["activation_delay_days"], "activation_delay_days", empty=0)
    s["rounding"] = values["rounding"]
    s["restored_bonus_grace_days"] = r.days(values["restored_bonus_grace_days"], "restored_bonus_grace_days", empty=0)
    for f in FLAGS:
        s[f] = values[f]
    try:
        rules = json.loads(values["rules"] or "[]")
        s["rules"] = rules
    except json.JSONDecodeError as exc:
        r.fail("rules", f"Не JSON: {exc.msg} (строка {exc.lineno}, позиция {exc.colno}).")

    rows, levels, index = [], [], {}
    count = int(form.get("level_count") or 0)
    for n in range(min(count, 60)):
        row = {f: (form.get(f"levels-{n}-{f}") or "").strip() for f in LEVEL_FIELDS}
        rows.append(row)
        if not any(v for k, v in row.items() if k != "accrual_scheme"):
            continue                                    # an empty row: no level
        i = len(levels)
        index[str(i)] = str(n)
        p = f"levels.{n}"
        level = {"code": row["code"], "name": row["name"], "threshold": r.money(row["threshold"], f"{p}.threshold"),
                 "max_spend_percent": r.percent(row["max_spend_percent"], f"{p}.max_spend_percent"),
                 "bonus_lifetime_days": r.days(row["bonus_lifetime_days"], f"{p}.bonus_lifetime_days")}
        if level["threshold"] is None:
            level["threshold"] = 0 if i == 0 else None
        scheme = row["accrual_scheme"] or "percent"
        if scheme == "percent":
            level["accrual"] = {"scheme": "percent", "percent": r.percent(row["accrual_percent"], "")} \
                if row["accrual_percent"] else None
        elif scheme == "per_amount":
            level["accrual"] = {"scheme": "per_amount", "every": r.money(row["accrual_every"], f"{p}.accrual.every"),
                                "bonuses": r.money(row["accrual_bonuses"], f"{p}.accrual.bonuses")}
        else:
            steps = []
            for part in [x for x in row["accrual_steps"].split(";") if x.strip()]:
                frm, _, pct = part.partition(":")
                steps.append({"from": r.money(frm, f"{p}.accrual.steps"), "percent": pct.strip().replace(",", ".")})
            level["accrual"] = {"scheme": "progressive", "steps": steps}
        level["discount"] = {"scheme": "percent", "percent": row["discount_percent"].replace(",", ".")} \
            if row["discount_percent"] else None
        levels.append(level)
    s["levels"] = levels
    values["levels"] = rows + [dict.fromkeys(LEVEL_FIELDS, "") for _ in range(EXTRA_ROWS)]
    values["_index"] = index
    return s, values, r.errors


def place_errors(problems: list[tuple[str, str]], index: dict, parse_errors: dict) -> dict:
    """The hub's problems by form path (level numbers of the settings -> rows of the form);
    a path the form already reported as unreadable keeps only the form's message."""
    out = {k: list(v) for k, v in parse_errors.items()}
    for path, message in problems:
        parts = path.split(".")
        if parts[0] == "levels" and len(parts) > 1 and parts[1] in index:
            parts[1] = index[parts[1]]
        path = ".".join(parts)
        if path in parse_errors:
            continue
        out.setdefault(path, []).append(message)
    return out


def errors_for(errors: dict, prefix: str) -> list[str]:
    """Messages at `prefix` or below it (e.g. every problem of one level's accrual)."""
    return [m for path, msgs in errors.items() if path == prefix or path.startswith(prefix + ".")
            for m in msgs]


def unplaced(errors: dict, shown: set[str]) -> list[tuple[str, str]]:
    """Messages whose path no field showed (kept visible at the top of the form)."""
    out = []
    for path, msgs in errors.items():
        if not any(path == s or path.startswith(s + ".") for s in shown):
            out.extend((path, m) for m in msgs)
    return out


def preview_amount(raw: str) -> int | None:
    try:
        return parse_rub(raw)
    except ValueError:
        return None


__all__ = ["form_from_settings", "settings_from_form", "place_errors", "errors_for", "Decimal"]
