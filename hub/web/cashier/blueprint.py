"""The cashier's workplace's blueprint and what its page modules share (the roles let in, the
shift chosen, the form's idempotency key). Kept apart from the package so the modules never import
each other back."""
from __future__ import annotations

import uuid

from flask import Blueprint, abort, redirect, session as web_session, url_for

bp = Blueprint("cashier", __name__, url_prefix="/cashier", template_folder="templates",
               static_folder="static")
SOURCE = "web_cashier"
ROLES = ("cashier", "owner", "manager")


def _shift() -> dict:
    s = web_session.get("shift")
    if not s:
        abort(redirect(url_for("cashier.shift")))
    return s


def _op_key(form) -> str:
    try:
        return str(uuid.UUID(form.get("op_key") or ""))
    except ValueError:
        abort(400)
