"""The program settings form <-> the stored settings (money in kopecks, percents as strings).

Everything is checked by the hub's own rules (hub.programs.rules.validate_program);
this module only converts shapes and units and places each message next to its field
(paths such as "levels.1.threshold"). A value the form cannot read (letters in an amount)
gets a message of its own at the same path.

In the owner's words (issue 25.2): levels have names only (the code is made here from the
name and kept once made, because clients' levels and rules refer to it), come in any order
(sorted by threshold before the hub checks them), and rules are built from choices — product
groups and products, days and hours, payment, stores, cashiers — each read back as a sentence. A rule's
keys the choices do not show travel in a hidden field and are stored again unchanged.
"""
from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from hub.catalog.models import CatalogGroup, CatalogProduct
from hub.programs.operations import DEFAULT_SETTINGS
from hub.tenants.models import Cashier, Store
from hub.web.ui.formatting import number, parse_rub

LEVEL_FIELDS = ("code", "name", "threshold", "accrual_scheme", "accrual_percent", "accrual_every",
                "accrual_bonuses", "accrual_steps", "discount_percent", "max_spend_percent",
                "bonus_lifetime_days")
FLAGS = ("accrue_on_discounted", "accrue_on_bonus_payment", "spend_on_discounted", "verify_spending")
OFF_BY_DEFAULT = ("accrue_on_bonus_payment", "verify_spending")
EXTRA_ROWS = 0       # rows are added by «Добавить уровень», never left empty after an error
RULE_FIELDS = ("name", "groups", "products", "weekdays", "time_from", "time_to", "payment", "stores", "cashiers",
               "effect", "value", "extra")
MULTI = ("groups", "products", "weekdays", "stores", "cashiers")
# What a rule does, in the owner's words; the ones with a number take it from «value».
EFFECTS = (("accrual_multiplier", "Начисление ×N"), ("accrual_percent", "Начисление N %"),
           ("no_accrual", "Без начисления"), ("max_spend_percent", "Оплата бонусами до N %"),
           ("no_spend", "Без оплаты бонусами"), ("no_discount", "Без скидки уровня"),
           ("max_discount_percent", "Скидка не больше N %"))
WITH_VALUE = ("accrual_multiplier", "accrual_percent", "max_spend_percent", "max_discount_percent")
SHOWN_WHEN = ("groups", "products", "weekdays", "time_from", "time_to", "payment_methods", "stores", "cashiers")
WEEKDAYS = ((1, "пн"), (2, "вт"), (3, "ср"), (4, "чт"), (5, "пт"), (6, "сб"), (7, "вс"))
PAYMENTS = (("", "любая оплата"), ("cash", "наличными"), ("card", "картой"))

_TRANSLIT = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
                     ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p",
                      "r", "s", "t", "u", "f", "h", "ts", "ch", "sh", "sch", "", "y", "", "e", "yu", "ya"]))


def level_code(name: str, taken: set[str]) -> str:
    """A level's code from its name («Золотая» -> "zolotaya"), unique among `taken`."""
    latin = "".join(_TRANSLIT.get(ch, ch) for ch in (name or "").lower())
    base = re.sub(r"[^a-z0-9]+", "_", latin).strip("_")[:40] or "level"
    code, n = base, 2
    while code in taken:
        code, n = f"{base}_{n}", n + 1
    return code


def _rub_text(kopecks) -> str:
    return "" if kopecks is None else number(kopecks).replace("\u00a0", " ")


def _steps_text(steps) -> str:
    return "; ".join(f"{_rub_text(s.get('from'))}: {s.get('percent')}" for s in steps or [])


def _short_time(hhmm: str | None) -> str:
    return "" if not hhmm else hhmm[1:] if hhmm.startswith("0") else hhmm


def _num(value) -> str:
    """2 -> "2", "1.5" -> "1,5" (the decimal comma of the owner's screen)."""
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    return format(d.normalize(), "f").replace(".", ",")


def rule_row(rule: dict) -> dict:
    """The form's choices of one stored rule; what the choices cannot show goes to «extra»."""
    when, then = dict(rule.get("when") or {}), dict(rule.get("then") or {})
    effect = next((k for k, _ in EFFECTS if then.get(k) not in (None, False)), "")
    value = then.pop(effect, None) if effect else None
    pays = when.get("payment_methods") or []
    extra_when = {k: v for k, v in when.items() if k not in SHOWN_WHEN}
    if len(pays) > 1 or (pays and pays[0] not in ("cash", "card")):
        extra_when["payment_methods"] = pays
        pays = []
    extra = {k: v for k, v in {"when": extra_when, "then": then}.items() if v}
    name = rule.get("name", "")
    if name == rule_sentence(rule)[:100]:
        name = ""                   # a name the form made: made again from the rule as it changes
    return {"name": name, "groups": [str(x) for x in when.get("groups") or []],
            "products": [str(x) for x in when.get("products") or []],
            "weekdays": [str(d) for d in when.get("weekdays") or []],
            "time_from": when.get("time_from") or "", "time_to": when.get("time_to") or "",
            "payment": pays[0] if pays else "", "stores": [str(x) for x in when.get("stores") or []],
            "cashiers": [str(x) for x in when.get("cashiers") or []], "effect": effect,
            "value": "" if value in (None, True) else _num(value),
            "extra": json.dumps(extra, ensure_ascii=False) if extra else ""}


def _names(items, names: dict) -> str:
    return ", ".join(f"«{names.get(x, x)}»" for x in items)


def rule_sentence(rule: dict, names: dict | None = None) -> str:
    """The rule read back: «По будням с 9:00 до 12:00 — начисление ×2»."""
    names = names or {}
    when, then = rule.get("when") or {}, rule.get("then") or {}
    parts = []
    days = sorted({int(d) for d in when.get("weekdays") or [] if str(d).isdigit()})
    if days == [1, 2, 3, 4, 5]:
        parts.append("По будням")
    elif days == [6, 7]:
        parts.append("По выходным")
    elif days and days != list(range(1, 8)):
        parts.append("По " + ", ".join(dict(WEEKDAYS)[d] for d in days if d in dict(WEEKDAYS)))
    t_from, t_to = _short_time(when.get("time_from")), _short_time(when.get("time_to"))
    if t_from and t_to:
        parts.append(f"с {t_from} до {t_to}")
    elif t_from:
        parts.append(f"с {t_from}")
    elif t_to:
        parts.append(f"до {t_to}")
    if when.get("groups") and when.get("products"):
        parts.append("на товары групп " + _names(when["groups"], names.get("groups", {})) + " и товары "
                     + _names(when["products"], names.get("products", {})))
    elif when.get("groups"):
        parts.append("на товары групп " + _names(when["groups"], names.get("groups", {})))
    elif when.get("products"):
        parts.append("на товары " + _names(when["products"], names.get("products", {})))
    if when.get("exclude_groups"):
        parts.append("кроме групп " + _names(when["exclude_groups"], names.get("groups", {})))
    pays = [dict(PAYMENTS).get(m, m) for m in when.get("payment_methods") or []]
    if pays:
        parts.append("при оплате " + " или ".join(pays))
    if when.get("stores"):
        parts.append("в магазинах " + _names(when["stores"], names.get("stores", {})))
    if when.get("cashiers"):
        parts.append("у кассиров " + _names(when["cashiers"], names.get("cashiers", {})))
    if when.get("levels"):
        parts.append("для уровней " + _names(when["levels"], names.get("levels", {})))
    condition = " ".join(parts) if parts else "Всегда"
    condition = condition[0].upper() + condition[1:]
    effects = []
    for key, _ in EFFECTS:
        v = then.get(key)
        if v in (None, False):
            continue
        effects.append({"accrual_multiplier": f"начисление ×{_num(v)}",
                        "accrual_percent": f"начисление {_num(v)} %",
                        "no_accrual": "без начисления", "max_spend_percent": f"оплата бонусами до {_num(v)} %",
                        "no_spend": "без оплаты бонусами", "no_discount": "без скидки уровня",
                        "max_discount_percent": f"скидка не больше {_num(v)} %"}[key])
    return f"{condition} — {', '.join(effects) if effects else 'выберите, что делает правило'}"


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
        "rule_rows": [rule_row(r) for r in s.get("rules") or [] if isinstance(r, dict)],
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
    if "rule_count" in form:
        s["rules"], values["rule_rows"], rule_index = _rules_from_form(form, r)
    else:       # the JSON of an older form (and of scripts that post it): read as it is
        values["rule_rows"], rule_index = [], {}
        try:
            s["rules"] = json.loads(values["rules"] or "[]")
        except json.JSONDecodeError as exc:
            r.fail("rules", f"Не JSON: {exc.msg} (строка {exc.lineno}, позиция {exc.colno}).")

    rows, parsed = [], []
    count = int(form.get("level_count") or 0) if (form.get("level_count") or "").isdigit() else 0
    for n in range(min(count, 60)):
        row = {f: (form.get(f"levels-{n}-{f}") or "").strip() for f in LEVEL_FIELDS}
        if not any(v for k, v in row.items() if k not in ("accrual_scheme", "code")):
            continue                                    # an empty (or emptied) row: no level
        m = len(rows)                                   # the row as the form shows it again
        rows.append(row)
        p = f"levels.{m}"
        level = {"code": row["code"], "name": row["name"], "threshold": r.money(row["threshold"], f"{p}.threshold"),
                 "max_spend_percent": r.percent(row["max_spend_percent"], f"{p}.max_spend_percent"),
                 "bonus_lifetime_days": r.days(row["bonus_lifetime_days"], f"{p}.bonus_lifetime_days")}
        if level["threshold"] is None:
            level["threshold"] = 0 if m == 0 else None
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
        parsed.append((level, m))
    # Codes: a level keeps the code it has; a new one gets one made from its name.
    taken = {lv["code"] for lv, _ in parsed if lv["code"]}
    for lv, m in parsed:
        if not lv["code"]:
            lv["code"] = level_code(lv["name"], taken)
            taken.add(lv["code"])
            rows[m]["code"] = lv["code"]
    # Any order: sorted by threshold (when every threshold could be read) before the hub checks.
    if all(isinstance(lv["threshold"], int) for lv, _ in parsed):
        parsed.sort(key=lambda pair: pair[0]["threshold"])
    s["levels"] = [lv for lv, _ in parsed]
    values["levels"] = rows + [dict.fromkeys(LEVEL_FIELDS, "") for _ in range(EXTRA_ROWS)]
    values["_index"] = {str(i): str(m) for i, (_, m) in enumerate(parsed)}
    values["_rule_index"] = rule_index
    return s, values, r.errors


def _time(raw: str) -> str | None:
    raw = (raw or "").strip()
    if re.fullmatch(r"\d:\d\d", raw):
        raw = "0" + raw                                 # «9:00» as the hub stores it, "09:00"
    return raw or None


def _row_rule(row: dict, r: _Reader, m: int) -> tuple[dict, dict]:
    """(when, then) of one rule row: the choices over the keys kept in «extra»."""
    try:
        extra = json.loads(row["extra"]) if row["extra"] else {}
    except json.JSONDecodeError:
        extra = {}
    when = dict(extra.get("when") or {})
    for name in ("groups", "products"):
        if row[name]:
            when[name] = list(row[name])
    if row["weekdays"]:
        when["weekdays"] = sorted({int(d) for d in row["weekdays"] if str(d).isdigit()})
    for name in ("time_from", "time_to"):
        if _time(row[name]):
            when[name] = _time(row[name])
    if row["payment"]:
        when["payment_methods"] = [row["payment"]]
    for name in ("stores", "cashiers"):
        if row[name]:
            when[name] = list(row[name])
    then = dict(extra.get("then") or {})
    effect = row["effect"]
    if effect in WITH_VALUE:
        value = row["value"].replace(",", ".").replace("×", "").strip()
        if not value:
            r.fail(f"rules.{m}.then.{effect}", "Укажите число.")
        then[effect] = value
    elif effect:
        then[effect] = True
    else:
        r.fail(f"rules.{m}.then", "Выберите, что делает правило.")
    return when, then


def rule_of_row(row: dict) -> dict:
    """The rule a row of choices stands for (the sentence of a row shown again)."""
    when, then = _row_rule(row, _Reader(), 0)
    return {"when": when, "then": then}


def _rules_from_form(form, r: _Reader) -> tuple[list, list, dict]:
    """(stored rules, the rows to show again, rule number -> row number)."""
    getlist = form.getlist if hasattr(form, "getlist") else (lambda k: form.get(k) or [])
    rules, rows, index = [], [], {}
    count = int(form.get("rule_count") or 0) if (form.get("rule_count") or "").isdigit() else 0
    for n in range(min(count, 60)):
        row = {f: [x.strip() for x in getlist(f"rules-{n}-{f}") if x.strip()] if f in MULTI
               else (form.get(f"rules-{n}-{f}") or "").strip() for f in RULE_FIELDS}
        if not any(row[f] for f in RULE_FIELDS if f != "extra"):
            continue
        m = len(rows)
        rows.append(row)
        when, then = _row_rule(row, r, m)
        rule = {"name": row["name"] or rule_sentence({"when": when, "then": then})[:100], "when": when, "then": then}
        index[str(len(rules))] = str(m)
        rules.append(rule)
    return rules, rows, index


def place_errors(problems: list[tuple[str, str]], index: dict, parse_errors: dict,
                 rule_index: dict | None = None) -> dict:
    """The hub's problems by form path (level and rule numbers of the settings -> rows of the
    form); a path the form already reported as unreadable keeps only the form's message."""
    out = {k: list(v) for k, v in parse_errors.items()}
    for path, message in problems:
        parts = path.split(".")
        if parts[0] == "levels" and len(parts) > 1 and parts[1] in index:
            parts[1] = index[parts[1]]
        elif parts[0] == "rules" and len(parts) > 1 and rule_index and parts[1] in rule_index:
            parts[1] = rule_index[parts[1]]
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


def preview_moment(raw: str, tz: str) -> datetime | None:
    """The preview's «2026-03-07T15:00» (a datetime-local input) in the program's time zone."""
    try:
        local = datetime.fromisoformat((raw or "").strip())
        return local.replace(tzinfo=ZoneInfo(tz)) if local.tzinfo is None else local
    except (ValueError, ZoneInfoNotFoundError):
        return None


def preview_amount(raw: str) -> int | None:
    try:
        return parse_rub(raw)
    except ValueError:
        return None




def rule_choices(session, tenant_id: str, settings: dict, rows: list[dict]) -> dict:
    """What a rule can be built from: the catalog's groups and products, the stores, the cashiers (code ->
    name), plus any code a stored rule names that the catalog no longer has (kept, not lost)."""
    out = {
        "groups": dict(session.execute(select(CatalogGroup.external_id, CatalogGroup.name).where(
            CatalogGroup.tenant_id == tenant_id).order_by(CatalogGroup.name).limit(500)).all()),
        "products": dict(session.execute(select(CatalogProduct.external_id, CatalogProduct.name).where(
            CatalogProduct.tenant_id == tenant_id).order_by(CatalogProduct.name).limit(500)).all()),
        "stores": dict(session.execute(select(Store.code, Store.name).where(
            Store.tenant_id == tenant_id).order_by(Store.name).limit(500)).all()),
        "cashiers": dict(session.execute(select(Cashier.code, Cashier.name).where(
            Cashier.tenant_id == tenant_id).order_by(Cashier.name).limit(500)).all()),
        "levels": {lv.get("code"): lv.get("name") for lv in settings.get("levels") or [] if isinstance(lv, dict)},
    }
    for key in ("groups", "products", "stores", "cashiers"):
        names = out[key]
        for k in list(names):
            names[k] = names[k] or k
        for row in rows:
            for code in row.get(key) or []:
                names.setdefault(code, code)
    return out


def _preset(levels: list[tuple[str, int, str, str]], rules: list[dict], **over) -> dict:
    taken: set[str] = set()
    out = []
    for name, threshold, percent, spend in levels:
        code = level_code(name, taken)
        taken.add(code)
        out.append({"code": code, "name": name, "threshold": threshold,
                    "accrual": {"scheme": "percent", "percent": percent}, "discount": None,
                    "max_spend_percent": spend, "bonus_lifetime_days": None})
    return {**DEFAULT_SETTINGS, "levels": out, "rules": rules, **over}


_WEEKDAYS = [1, 2, 3, 4, 5]
# Starting points an owner recognises; applied to the form only, saved when the owner saves.
PRESETS = {
    "cafe": ("Кафе", _preset(
        [("Гость", 0, "5", "50"), ("Постоянный гость", 500000, "7", "50"), ("Друг кафе", 2000000, "10", "50")],
        [{"name": "Утренний кофе", "when": {"weekdays": _WEEKDAYS, "time_from": "08:00", "time_to": "11:00"},
          "then": {"accrual_multiplier": "2"}}], bonus_lifetime_days=180)),
    "clothes": ("Магазин одежды", _preset(
        [("Базовая", 0, "3", "20"), ("Серебряная", 3000000, "5", "20"), ("Золотая", 10000000, "7", "30")],
        [{"name": "Выходные", "when": {"weekdays": [6, 7]}, "then": {"accrual_multiplier": "1.5"}}],
        accrue_on_discounted=False, spend_on_discounted=False)),
    "salon": ("Салон красоты", _preset(
        [("Клиент", 0, "5", "30"), ("Постоянный клиент", 1500000, "7", "30"), ("VIP", 5000000, "10", "50")],
        [{"name": "Тихие часы", "when": {"weekdays": _WEEKDAYS, "time_from": "10:00", "time_to": "14:00"},
          "then": {"accrual_multiplier": "2"}}])),
}
