"""Gift certificates: issue, sell (activate), check, redeem as payment, refund, block, expire.

A certificate is its own account (a liability of the tenant): `GiftCertificate.balance` caches
the sum of its append-only `CertificatePosting`s and changes only under the row lock
(SELECT … FOR UPDATE; on SQLite the write transaction holds the database lock). The ledger's
Account is bound to a customer, so certificates keep their own account table and postings.

Every money movement is idempotent on (certificate, kind, reference): the same call again
answers what the first one did; the same reference with another amount is 409.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.engine.expiry import end_of_validity
from hub.engine.text import rub
from hub.errors import Conflict, DomainError, Invalid, NotFound
from hub.certificates.models import CertificatePosting, GiftCertificate
from hub.programs.operations import get_program
from hub.clock import utcnow
from hub.extensions import unit_of_work
from hub.staff.operations import Actor, record

MAX_ISSUE = 1000
NUMBER_DIGITS = 16           # like a plastic card: printable, a barcode or a QR code


def new_number() -> str:
    return str(secrets.randbelow(9 * 10 ** (NUMBER_DIGITS - 1)) + 10 ** (NUMBER_DIGITS - 1))


def normalize_number(number: str) -> str:
    return "".join(ch for ch in str(number) if ch.isalnum()).upper()


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(timezone.utc).isoformat() if moment else None


def status_of(cert: GiftCertificate, now: datetime) -> str:
    if cert.status == "active" and cert.expires_at is not None and cert.expires_at <= now:
        return "expired"
    return cert.status


def view(cert: GiftCertificate, now: datetime) -> dict:
    status = status_of(cert, now)
    return {"id": cert.id, "number": cert.number, "nominal": cert.nominal,
            "balance": 0 if status == "expired" else cert.balance, "status": status,
            "expires_at": _iso(cert.expires_at), "activated_at": _iso(cert.activated_at),
            "valid_days": cert.valid_days}


def _find(session: Session, tenant_id: str, number: str, *, lock: bool = False) -> GiftCertificate:
    stmt = select(GiftCertificate).where(GiftCertificate.tenant_id == tenant_id,
                                         GiftCertificate.number == normalize_number(number))
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    cert = session.scalars(stmt).first()
    if cert is None:
        raise NotFound("certificate_not_found", "Сертификат не найден.")
    return cert


def _post(session: Session, cert: GiftCertificate, kind: str, amount: int, moment: datetime,
          reference: str, reason: str | None = None) -> CertificatePosting:
    posting = CertificatePosting(tenant_id=cert.tenant_id, certificate_id=cert.id, kind=kind,
                                 amount=amount, moment=moment, reference=reference, reason=reason)
    session.add(posting)
    cert.balance += amount
    return posting


def _replay(session: Session, cert: GiftCertificate, kind: str, reference: str) -> CertificatePosting | None:
    return session.scalars(select(CertificatePosting).where(
        CertificatePosting.certificate_id == cert.id, CertificatePosting.kind == kind,
        CertificatePosting.reference == reference)).first()


def issue(session: Session, tenant_id: str, data: dict, now: datetime, by: Actor | None = None) -> list[dict]:
    """New certificates, not yet sold (balance 0): `nominal` kopecks, `count` new unguessable
    numbers or the given `numbers` (pre-printed cards), `valid_days` counted from the sale
    (commits; `by`: the person, audited with them)."""
    nominal, count, numbers = data.get("nominal"), data.get("count"), data.get("numbers")
    errors: dict = {}
    if not isinstance(nominal, int) or nominal <= 0:
        errors["nominal"] = ["Нужен номинал больше 0."]
    if numbers:
        numbers = [normalize_number(n) for n in numbers]
        if any(not 4 <= len(n) <= 40 for n in numbers) or len(set(numbers)) != len(numbers):
            errors["numbers"] = ["Номера — от 4 до 40 букв и цифр, без повторов."]
    elif not isinstance(count, int) or not 1 <= count <= MAX_ISSUE:
        errors["count"] = [f"Нужно целое число от 1 до {MAX_ISSUE}."]
    days = data.get("valid_days")
    if days is not None and (not isinstance(days, int) or not 1 <= days <= 3650):
        errors["valid_days"] = ["Нужно целое число дней от 1 до 3650."]
    if errors:
        raise Invalid("validation_error", f"Проверьте поля: {', '.join(sorted(errors))}.", errors)
    if numbers:
        taken = session.scalars(select(GiftCertificate.number).where(
            GiftCertificate.tenant_id == tenant_id, GiftCertificate.number.in_(numbers))).all()
        if taken:
            raise Conflict("certificate_exists", f"Сертификат {taken[0]} уже есть.",
                           {"numbers": {n: ["уже есть"] for n in taken}})
    else:
        numbers = set()
        while len(numbers) < count:
            numbers.add(new_number())
        taken = set(session.scalars(select(GiftCertificate.number).where(
            GiftCertificate.tenant_id == tenant_id, GiftCertificate.number.in_(numbers))).all())
        numbers = sorted(numbers - taken)      # a collision in 9·10^15 numbers: one fewer
    certs = [GiftCertificate(tenant_id=tenant_id, number=n, nominal=nominal, balance=0,
                             status="issued", valid_days=days) for n in numbers]
    session.add_all(certs)
    if by is not None:
        session.flush()
        record(session, tenant_id, by, "certificate.issue", "certificate", certs[0].id if len(certs) == 1 else None,
               {"count": len(certs), "nominal": data.get("nominal"), "valid_days": data.get("valid_days"),
                "numbers": [c.number for c in certs][:50]})
    session.commit()
    return [view(c, now) for c in certs]


def get(session: Session, tenant_id: str, number: str, now: datetime) -> dict:
    return view(_find(session, tenant_id, number), now)


def list_certificates(session: Session, tenant_id: str, now: datetime, limit: int = 1000) -> list[dict]:
    rows = session.scalars(select(GiftCertificate).where(GiftCertificate.tenant_id == tenant_id)
                           .order_by(GiftCertificate.created_at, GiftCertificate.number)
                           .limit(limit)).all()
    return [view(c, now) for c in rows]


def activate(session: Session, tenant_id: str, number: str, reference: str, moment: datetime,
             now: datetime, by: Actor | None = None) -> tuple[dict, bool]:
    """The till sold the certificate: its nominal becomes spendable (a liability of the tenant).
    A certificate sale earns no bonuses and is not a purchase for levels: it is not a receipt.
    `by`: a person at the workplace, audited with the sale (a replay writes nothing)."""
    cert = _find(session, tenant_id, number, lock=True)
    done = _replay(session, cert, "activation", reference)
    if done is not None:
        session.commit()
        return view(cert, now), False
    if cert.status != "issued":
        raise Conflict("certificate_already_active" if cert.status == "active" else "certificate_blocked",
                       "Сертификат уже продан и активирован." if cert.status == "active"
                       else "Сертификат заблокирован.")
    if cert.valid_days:
        cert.expires_at = end_of_validity(moment, cert.valid_days, get_program(session, tenant_id).timezone)
    cert.status, cert.activated_at, cert.sale_reference = "active", moment, reference
    _post(session, cert, "activation", cert.nominal, moment, reference, "продажа сертификата")
    if by is not None:
        record(session, tenant_id, by, "certificate.sell", "certificate", cert.number, {"nominal": cert.nominal})
    session.commit()
    return view(cert, now), True


def redeem(session: Session, tenant_id: str, number: str, amount: int, reference: str,
           moment: datetime, now: datetime, *, commit: bool = True) -> tuple[dict, bool]:
    """Pay `amount` kopecks with the certificate (fully or partly), once per reference.

    With `commit=False` the posting joins the caller's transaction (a sale paid with the
    certificate: both are written or neither); the certificate's row stays locked until then."""
    if amount <= 0:
        raise Invalid("validation_error", "Сумма списания должна быть больше 0.", {"amount": ["больше 0"]})
    cert = _find(session, tenant_id, number, lock=True)
    done = _replay(session, cert, "redeem", reference)
    if done is not None:
        if -done.amount != amount:
            raise Conflict("idempotency_conflict",
                           f"Операция {reference} уже проведена на другую сумму.")
        if commit:
            session.commit()
        return {**view(cert, now), "redeemed": amount}, False
    status = status_of(cert, now)
    if status != "active":
        raise Invalid(f"certificate_{status}", {
            "issued": "Сертификат не активирован: его ещё не продали.",
            "blocked": "Сертификат заблокирован.",
            "expired": "Срок действия сертификата истёк."}[status])
    if amount > cert.balance:
        raise Invalid("certificate_insufficient",
                      f"На сертификате {rub(cert.balance)} ₽, списать {rub(amount)} ₽ нельзя.",
                      {"amount": [f"не больше {rub(cert.balance)}"]})
    _post(session, cert, "redeem", -amount, moment, reference)
    if commit:
        session.commit()
    else:
        session.flush()
    return {**view(cert, now), "redeemed": amount}, True


def refund(session: Session, tenant_id: str, number: str, amount: int, reference: str,
           redemption: str, moment: datetime, now: datetime, *, commit: bool = True) -> tuple[dict, bool]:
    """A return of goods paid with the certificate gives the money back to it (at most what
    that redemption took, less earlier refunds of it), keeping the certificate's expiry."""
    if amount <= 0:
        raise Invalid("validation_error", "Сумма возврата должна быть больше 0.", {"amount": ["больше 0"]})
    cert = _find(session, tenant_id, number, lock=True)
    key = f"{redemption}\x1f{reference}"
    done = _replay(session, cert, "restore", key)
    if done is not None:
        if done.amount != amount:
            raise Conflict("idempotency_conflict", f"Возврат {reference} уже проведён на другую сумму.")
        if commit:
            session.commit()
        return {**view(cert, now), "restored": amount}, False
    spent = _replay(session, cert, "redeem", redemption)
    if spent is None:
        raise NotFound("redemption_not_found", f"Списание {redemption} по сертификату не найдено.")
    restored = sum(p.amount for p in session.scalars(select(CertificatePosting).where(
        CertificatePosting.certificate_id == cert.id, CertificatePosting.kind == "restore")).all()
        if p.reference.split("\x1f", 1)[0] == redemption)
    if amount > -spent.amount - restored:
        raise Invalid("refund_exceeds_redemption",
                      f"Вернуть можно не больше {rub(-spent.amount - restored)} ₽.",
                      {"amount": [f"не больше {rub(-spent.amount - restored)}"]})
    _post(session, cert, "restore", amount, moment, key, "возврат покупки")
    if commit:
        session.commit()
    else:
        session.flush()
    return {**view(cert, now), "restored": amount}, True


def block(session: Session, tenant_id: str, number: str, blocked: bool, now: datetime) -> dict:
    cert = _find(session, tenant_id, number, lock=True)
    if blocked and cert.status != "blocked":
        cert.status = "blocked"
    elif not blocked and cert.status == "blocked":
        cert.status = "active" if cert.activated_at else "issued"
    session.commit()
    return view(cert, now)


def expire_certificates(session: Session, tenant_id: str, now: datetime) -> int:
    """Write the expiry posting of every active certificate whose date has passed (the sweep
    only writes down what is already true: an expired certificate pays nothing either way)."""
    rows = session.scalars(select(GiftCertificate).where(
        GiftCertificate.tenant_id == tenant_id, GiftCertificate.status == "active",
        GiftCertificate.expires_at <= now, GiftCertificate.balance > 0)
        .with_for_update()).all()
    for cert in rows:
        # Keyed by the row's version: money a return gave back after the expiry burns too.
        _post(session, cert, "expiry", -cert.balance, cert.expires_at, f"expiry@{cert.version}",
              "срок действия истёк")
    session.commit()
    return len(rows)


def expiry_sweep(session: Session, at: datetime, tenant_id: str | None = None) -> int:
    """The automation run's part (hub.sweeps.register_sweep): every tenant's
    (or only `tenant_id`'s) certificates due by `at` get their expiry posting, each tenant in
    its own transaction."""
    stmt = select(GiftCertificate.tenant_id).where(
        GiftCertificate.status == "active", GiftCertificate.expires_at <= at,
        GiftCertificate.balance > 0)
    if tenant_id is not None:
        stmt = stmt.where(GiftCertificate.tenant_id == tenant_id)
    tenants = session.scalars(stmt.distinct()).all()
    session.rollback()
    expired = 0
    for tid in sorted(tenants):
        with unit_of_work(session):
            expired += expire_certificates(session, tid, at)
    return expired


def find(session: Session, tenant_id: str, number: str) -> GiftCertificate | None:
    """The certificate with this number, or None (a till asking about any number it scanned)."""
    key = normalize_number(number)
    if not key or len(key) > 40:
        return None
    return session.scalars(select(GiftCertificate).where(GiftCertificate.tenant_id == tenant_id,
                                                         GiftCertificate.number == key)).first()


def redemptions(session: Session, tenant_id: str, prefix: str) -> list[dict]:
    """The redemptions whose reference starts with `prefix` (e.g. "<sale id>:", every
    certificate payment of one sale), oldest first, each with what returns gave back:
    {"number", "reference", "amount", "restored": {refund reference: kopecks}}."""
    rows = session.execute(
        select(CertificatePosting, GiftCertificate.number)
        .join(GiftCertificate, GiftCertificate.id == CertificatePosting.certificate_id)
        .where(CertificatePosting.tenant_id == tenant_id, CertificatePosting.kind == "redeem",
               CertificatePosting.reference.startswith(prefix, autoescape=True))
        .order_by(CertificatePosting.created_at, CertificatePosting.reference)).all()
    out = []
    for posting, number in rows:
        restored = {}
        for r in session.scalars(select(CertificatePosting).where(
                CertificatePosting.certificate_id == posting.certificate_id,
                CertificatePosting.kind == "restore",
                CertificatePosting.reference.startswith(posting.reference + "\x1f", autoescape=True))):
            restored[r.reference.split("\x1f", 1)[1]] = r.amount
        out.append({"number": number, "reference": posting.reference, "amount": -posting.amount,
                    "restored": restored})
    return out


def sale_prefix(source: str, sale_external_id: str) -> str:
    """The one reference prefix of a sale's certificate payments, whichever face took the sale:
    each payment is "sale:<source>:<sale external id>:<certificate number>"."""
    return f"sale:{source}:{sale_external_id}:"


def return_reference(source: str, return_external_id: str) -> str:
    """The one key of a return's refunds: "return:<source>:<return external id>" (a refund
    posting's reference is "<the redemption's reference>\x1f<this key>")."""
    return f"return:{source}:{return_external_id}"


def redeem_payments(session: Session, tenant_id: str, prefix: str,
                    payments: list[tuple[str, int | None]], moment: datetime, now: datetime,
                    *, to_pay: int | None = None) -> list[dict]:
    """A sale's certificate payments [(number, kopecks)] in the caller's transaction, each once
    (reference prefix + number), in number order so two sales paying with the same
    certificates cannot deadlock. An amount of None pays what the certificate holds, at most
    what `to_pay` leaves after the other payments. A problem raises the redeem's error (its
    `certificate` attribute names the certificate); nothing is committed."""
    fixed = sum(a for _, a in payments if a is not None)
    out = []
    for number, amount in sorted(payments, key=lambda p: normalize_number(p[0])):
        try:
            if amount is None:
                cert = _find(session, tenant_id, number, lock=True)
                amount = min(cert.balance if status_of(cert, now) == "active" else 0,
                             max((to_pay if to_pay is not None else cert.balance) - fixed, 0))
                if amount <= 0:
                    raise Invalid("certificate_empty", "Оплатить сертификатом нечего: на нём нет денег "
                                  "или чек уже оплачен.", {"certificates": ["нечего оплатить"]})
                fixed += amount
            view_, _ = redeem(session, tenant_id, number, amount, f"{prefix}{normalize_number(number)}",
                              moment, now, commit=False)
        except DomainError as exc:
            exc.certificate = normalize_number(number)
            raise
        out.append(view_)
    return out


def refund_payments(session: Session, tenant_id: str, prefix: str, return_id: str,
                    value: int | None, moment: datetime, now: datetime,
                    *, earlier_keys: tuple[str, ...] = ()) -> list[dict]:
    """A return gives the money back to the certificates its sale was paid with (redemptions
    whose reference starts with `prefix`), oldest payment first, up to `value` kopecks (None:
    everything they paid and earlier returns did not give back). Once per return: a repeat
    finds its own refunds and repeats exactly them; a refund written for this return under one
    of `earlier_keys` (the key an adapter used before the one format) counts as done. In the
    caller's transaction."""
    paid = redemptions(session, tenant_id, prefix)
    if earlier_keys and any(k in r["restored"] for r in paid for k in earlier_keys):
        return [{"number": r["number"], "restored": r["restored"][k],
                 "balance": _find(session, tenant_id, r["number"]).balance}
                for r in paid for k in earlier_keys if k in r["restored"]]
    budget = value
    plan: list[tuple[dict, int]] = []
    for r in paid:                       # what this very return already gave back (a repeat)
        if return_id in r["restored"]:
            plan.append((r, r["restored"][return_id]))
            if budget is not None:
                budget -= r["restored"][return_id]
    for r in paid:
        if return_id in r["restored"]:
            continue
        left = r["amount"] - sum(r["restored"].values())
        take = left if budget is None else min(left, max(budget, 0))
        if take > 0:
            plan.append((r, take))
            if budget is not None:
                budget -= take
    out = []
    for r, amount in plan:
        view_, _ = refund(session, tenant_id, r["number"], amount, return_id, r["reference"],
                          moment, now, commit=False)
        out.append({"number": r["number"], "restored": amount, "balance": view_["balance"]})
    return out


__all__ = ["issue", "get", "find", "list_certificates", "activate", "redeem", "refund", "block",
           "expire_certificates", "expiry_sweep", "redemptions", "new_number", "status_of",
           "redeem_payments", "refund_payments", "sale_prefix", "return_reference"]


def block_certificate(session: Session, tenant_id: str, number: str, blocked: bool, reason: str | None,
                      now: datetime | None = None, by: Actor | None = None) -> dict:
    """Block (status 'blocked': redeem and activate refuse it) or unblock a certificate from the
    owner's cabinet; blocking needs a reason (`by`: the person, audited with the change)."""
    if blocked and not (reason or "").strip():
        raise Invalid("validation_error", "Укажите причину блокировки.",
                      {"reason": ["Укажите причину блокировки."]})
    if reason is not None and len(reason) > 500:
        raise Invalid("validation_error", "Причина — не длиннее 500 символов.",
                      {"reason": ["Не длиннее 500 символов."]})
    if now is None:
        now = utcnow()
    with unit_of_work(session):
        cert = session.scalar(select(GiftCertificate).where(GiftCertificate.tenant_id == tenant_id,
                                                            GiftCertificate.number == number))
        if by is not None and cert is not None:       # none: block() refuses with its own message
            record(session, tenant_id, by, "certificate.block" if blocked else "certificate.unblock",
                   "certificate", cert.id, {"number": cert.number, "reason": reason})
        return block(session, tenant_id, number, blocked, now)
