"""Registering, finding and describing customers."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.engine.program import Level
from hub.errors import Conflict, DomainError, Invalid, NotFound
from hub.extensions import unit_of_work
from hub.staff.operations import Actor, record
from hub.ledger import AccountView, account_view
from hub.customers.models import Customer
from hub.ledger.models import Posting
from hub.ledger.models import Account
from hub.phones import normalize_phone
from hub.programs.operations import get_program

PROFILE_FIELDS = ("card_number", "first_name", "last_name", "middle_name", "gender", "birth_date",
                  "email", "address", "comment", "tags", "relatives")


def _consents(given: dict, moment: datetime, source: str, previous: dict | None = None) -> dict:
    """Each consent recorded with when and through what it was given (152-ФЗ)."""
    out = dict(previous or {})
    for name, value in (given or {}).items():
        if previous and name in previous and previous[name]["given"] == bool(value):
            continue
        out[name] = {"given": bool(value), "at": moment.isoformat(), "source": source}
    return out


def _check_card_free(session: Session, tenant_id: str, card: str | None, customer_id: str | None) -> None:
    if not card:
        return
    holder = session.scalar(select(Customer.id).where(Customer.tenant_id == tenant_id,
                                                      Customer.card_number == card))
    if holder is not None and holder != customer_id:
        raise Conflict("card_taken", f"Карта {card} уже выдана другому клиенту.",
                       {"customer_id": holder})


def register_customer(session: Session, tenant_id: str, data: dict, *, source: str,
                      moment: datetime, by: Actor | None = None) -> Customer:
    """A new member with their account (commits; `by`: the person, audited with it)."""
    phone = normalize_phone(data["phone"])
    existing = session.scalar(select(Customer.id).where(Customer.tenant_id == tenant_id,
                                                        Customer.phone == phone))
    if existing is not None:
        raise Conflict("customer_exists", f"Клиент с телефоном {phone} уже зарегистрирован.",
                       {"customer_id": existing})
    _check_card_free(session, tenant_id, data.get("card_number"), None)
    customer = Customer(tenant_id=tenant_id, phone=phone, source=source,
                        consents=_consents(data.get("consents") or {}, moment, source),
                        created_at=moment,
                        **{k: data[k] for k in PROFILE_FIELDS if data.get(k) is not None})
    program = get_program(session, tenant_id)
    customer.level_code = program.levels[0].code
    session.add(customer)
    try:
        session.flush()
        session.add(Account(tenant_id=tenant_id, customer_id=customer.id, balance=0))
        if by is not None:
            record(session, tenant_id, by, "customer.register", "customer", customer.id, {"phone": phone})
        session.commit()
    except IntegrityError as exc:   # a concurrent registration of the same phone or card
        session.rollback()
        raise Conflict("customer_exists", f"Клиент с телефоном {phone} уже зарегистрирован.") from exc
    return customer


def update_customer(session: Session, tenant_id: str, customer_id: str, data: dict, *,
                    source: str, moment: datetime, by: Actor | None = None) -> Customer:
    """Change a member's profile and consents (commits; `by`: audits the consents given)."""
    customer = get_customer(session, tenant_id, customer_id)
    if "phone" in data and data["phone"]:
        phone = normalize_phone(data["phone"])
        other = session.scalar(select(Customer.id).where(Customer.tenant_id == tenant_id,
                                                         Customer.phone == phone))
        if other is not None and other != customer.id:
            raise Conflict("customer_exists", f"Клиент с телефоном {phone} уже зарегистрирован.")
        customer.phone = phone
    if "card_number" in data:
        _check_card_free(session, tenant_id, data["card_number"], customer.id)
    for key in PROFILE_FIELDS:
        if key in data:
            setattr(customer, key, data[key])
    if "consents" in data:
        customer.consents = _consents(data["consents"] or {}, moment, source, customer.consents)
        if by is not None:      # the member's own change of consents: on record with it
            record(session, tenant_id, by, "customer.consents", "customer", customer.id,
                   {"consents": data["consents"]})
    session.commit()
    return customer


def set_blocked(session: Session, tenant_id: str, customer_id: str, blocked: bool, *,
                reason: str | None, moment: datetime) -> Customer:
    """Block (with a reason) or unblock a customer; a blocked one earns and spends nothing at
    any till (hub.receipts.guards). The caller commits (with its audit entry)."""
    customer = get_customer(session, tenant_id, customer_id)
    reason = (reason or "").strip()
    if blocked:
        if not reason:
            raise Invalid("reason_required", "Укажите причину блокировки.", {"reason": ["Укажите причину."]})
        if len(reason) > 500:
            raise Invalid("reason_too_long", "Причина — не длиннее 500 символов.",
                          {"reason": ["Не длиннее 500 символов."]})
        customer.blocked_at, customer.blocked_reason = customer.blocked_at or moment, reason
    else:
        customer.blocked_at, customer.blocked_reason = None, None
    session.flush()
    return customer


def block_customer(session: Session, tenant_id: str, customer_id: str, blocked: bool, *,
                   reason: str | None, moment: datetime, by: Actor) -> Customer:
    """A person blocks or unblocks a customer: set_blocked and its audit entry, committed."""
    with unit_of_work(session):
        customer = set_blocked(session, tenant_id, customer_id, blocked, reason=reason, moment=moment)
        record(session, tenant_id, by, "customer.block" if blocked else "customer.unblock", "customer",
               customer.id, {"reason": (reason or "").strip()} if blocked else {})
    return customer


def get_customer(session: Session, tenant_id: str, customer_id: str) -> Customer:
    # By primary key: an adapter that has just found the customer pays no second query.
    customer = session.get(Customer, customer_id)
    if customer is None or customer.tenant_id != tenant_id:
        raise NotFound("customer_not_found", "Клиент не найден.")
    return customer


def find_customers(session: Session, tenant_id: str, *, phone: str | None = None,
                   card: str | None = None, q: str | None = None) -> list[Customer]:
    """Exact phone and/or card; `q` adds the search box's conditions (search_conditions)."""
    stmt = select(Customer).where(Customer.tenant_id == tenant_id, *search_conditions(session, q))
    if phone:
        stmt = stmt.where(Customer.phone == normalize_phone(phone))
    if card:
        stmt = stmt.where(Customer.card_number == card)
    return list(session.scalars(stmt.order_by(Customer.created_at).limit(100)))


# The shortest run of digits searched inside phones and card numbers: the last four digits of a
# phone, as a cashier asks for them; fewer would match a good part of a big base.
SEARCH_MIN_DIGITS = 4
SEARCH_MAX_CHARS = 100
_PHONE_CHARS = set("0123456789+-() ")


def search_conditions(session: Session, q: str | None) -> list:
    """The WHERE conditions of the search box of every face (cabinet list, cashier, API):
    a card number as typed, a whole phone in any spelling, any run of at least four digits of a
    phone or a card number («3210», «+7 916 123»), a name's first letters («Иванова», «иван»,
    «Иванова Анна»). An empty query gives no conditions.

    On PostgreSQL the digit runs use the trigram GIN indexes of migration 0026 and the names the
    lower() prefix indexes (hub/customers/models.py); SQLite scans with LIKE."""
    q = (q or "").strip()[:SEARCH_MAX_CHARS]
    if not q:
        return []
    conds = [Customer.card_number == q]
    digits = "".join(ch for ch in q if ch.isdigit())
    if digits and set(q) <= _PHONE_CHARS:
        if len(digits) >= 10:
            try:
                conds.append(Customer.phone == normalize_phone(q))
            except DomainError:
                pass
        if len(digits) >= SEARCH_MIN_DIGITS:
            # Only digits go into the pattern: nothing to escape.
            conds += [Customer.phone.like(f"%{digits}%"), Customer.card_number.like(f"%{digits}%")]
        return [or_(*conds)]
    words = [w for w in q.replace("\\", "").replace("%", "").replace("_", "").split() if w][:2]
    if words:
        if session.get_bind().dialect.name == "postgresql":
            def starts(col, word):
                return func.lower(col).like(word.lower() + "%")
        else:   # SQLite folds ASCII only: match as typed and with a capital first letter
            def starts(col, word):
                return or_(*[col.like(w + "%") for w in {word, word[:1].upper() + word[1:]}])
        if len(words) == 1:
            conds += [starts(Customer.last_name, words[0]), starts(Customer.first_name, words[0])]
        else:
            conds.append(and_(starts(Customer.last_name, words[0]), starts(Customer.first_name, words[1])))
    return [or_(*conds)]


def search_customers(session: Session, tenant_id: str, q: str | None, limit: int = 20) -> list[Customer]:
    """The newest `limit` customers the search box finds (search_conditions); none for an empty query."""
    conds = search_conditions(session, q)
    if not conds:
        return []
    return list(session.scalars(select(Customer).where(Customer.tenant_id == tenant_id, *conds)
                                .order_by(Customer.created_at.desc(), Customer.id.desc()).limit(limit)))


def resolve_customer(session: Session, tenant_id: str, ref: dict | None) -> Customer | None:
    """A receipt's customer given as {"phone"}, {"card"} or {"id"}; None for an anonymous sale."""
    if not ref:
        return None
    if ref.get("id"):
        return get_customer(session, tenant_id, ref["id"])
    if ref.get("card"):
        found = find_customers(session, tenant_id, card=ref["card"])
        what = f"картой {ref['card']}"
    elif ref.get("phone"):
        found = find_customers(session, tenant_id, phone=ref["phone"])
        what = f"телефоном {ref['phone']}"
    else:
        raise Invalid("invalid_customer", "Укажите клиента: phone, card или id.",
                      {"customer": ["нужен один из: phone, card, id"]})
    if not found:
        raise NotFound("customer_not_found", f"Клиент с {what} не найден.")
    return found[0]


@dataclass(frozen=True)
class CustomerSummary:
    customer: Customer
    balance: AccountView
    level: Level
    next_level: Level | None
    to_next_level: int | None


def summarize(session: Session, tenant_id: str, customer: Customer, moment: datetime) -> CustomerSummary:
    program = get_program(session, tenant_id)
    level = program.level_for(customer.total_purchases)
    nxt = program.next_level(level)
    return CustomerSummary(
        customer=customer,
        balance=account_view(session, tenant_id, customer.id, moment),
        level=level, next_level=nxt,
        to_next_level=max(0, nxt.threshold - customer.total_purchases) if nxt else None)


def ledger_entries(session: Session, tenant_id: str, customer_id: str, limit: int = 100,
                   offset: int = 0) -> list[Posting]:
    get_customer(session, tenant_id, customer_id)
    return list(session.scalars(
        select(Posting).join(Account, Account.id == Posting.account_id)
        .where(Account.tenant_id == tenant_id, Account.customer_id == customer_id)
        .order_by(Posting.moment.desc(), Posting.created_at.desc(), Posting.id)
        .limit(limit).offset(offset)))
