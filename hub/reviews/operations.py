"""Reviews of purchases: a participant rates one of their receipts (1–5) and may add words;
one review per receipt and customer (sending the form again edits it). The owner's cabinet
and the API list them (newest first, by rating) with the average rating."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.errors import Invalid
from hub.receipts.models import Receipt, ReceiptReturn
from hub.tenants.models import Store
from hub.reviews.models import REVIEW_TEXT_MAX, Review

RATINGS = (1, 2, 3, 4, 5)
RATING_NAMES = {1: "Очень плохо", 2: "Плохо", 3: "Нормально", 4: "Хорошо", 5: "Отлично"}
ASK_DAYS = 30          # the home page asks to rate purchases of the last 30 days
ASK_LIMIT = 3


def customer_receipt(session: Session, tenant_id: str, customer_id: str, receipt_id: str) -> Receipt | None:
    """The customer's own receipt at this tenant; None for anyone else's (the caller's 404)."""
    if not receipt_id or len(receipt_id) > 36:
        return None
    receipt = session.get(Receipt, receipt_id)
    if receipt is None or receipt.tenant_id != tenant_id or receipt.customer_id != customer_id:
        return None
    return receipt


def find_review(session: Session, tenant_id: str, customer_id: str, receipt_id: str) -> Review | None:
    return session.scalar(select(Review).where(Review.tenant_id == tenant_id, Review.customer_id == customer_id,
                                               Review.receipt_id == receipt_id))


def validate(rating_raw, text_raw) -> tuple[int | None, str, dict]:
    """(rating, text, errors) from what a form or a client sent; errors in Russian by field."""
    errors: dict = {}
    rating = None
    try:
        rating = int(str(rating_raw).strip())
    except (TypeError, ValueError):
        pass
    if rating not in RATINGS:
        errors["rating"] = ["Поставьте оценку от 1 до 5 звёзд."]
        rating = None
    text = str(text_raw or "").replace("\r\n", "\n").strip()
    if len(text) > REVIEW_TEXT_MAX:
        errors["text"] = [f"Отзыв длиннее {REVIEW_TEXT_MAX} символов ({len(text)}): сократите его, пожалуйста."]
    elif "\x00" in text:
        errors["text"] = ["Отзыв содержит недопустимый символ."]
    return rating, text, errors


def save_review(session: Session, tenant_id: str, customer_id: str, receipt_id: str, rating_raw, text_raw,
                moment: datetime) -> tuple[Review, bool]:
    """Store (or edit) the customer's review of the receipt; (review, created). Raises Invalid
    with field messages for a bad rating or text. The caller checked the receipt is theirs.
    Commits."""
    rating, text, errors = validate(rating_raw, text_raw)
    if errors:
        raise Invalid("validation_error", "Проверьте оценку и текст отзыва.", errors)
    review = find_review(session, tenant_id, customer_id, receipt_id)
    created = review is None
    if created:
        review = Review(tenant_id=tenant_id, customer_id=customer_id, receipt_id=receipt_id, rating=rating,
                        text=text, created_at=moment, updated_at=moment)
        try:
            with session.begin_nested():
                session.add(review)
        except IntegrityError:              # the same form sent twice at once: edit the first
            review = find_review(session, tenant_id, customer_id, receipt_id)
            created = False
    if not created:
        review.rating, review.text, review.updated_at = rating, text, moment
    session.commit()
    return review, created


def receipts_to_rate(session: Session, tenant_id: str, customer_id: str, now: datetime) -> list[Receipt]:
    """The customer's recent receipts (ASK_DAYS) without their review, newest first; a purchase
    brought back (in part or whole) is not one to praise and is not offered."""
    reviewed = exists().where(Review.receipt_id == Receipt.id, Review.customer_id == customer_id)
    returned = exists().where(ReceiptReturn.receipt_id == Receipt.id)
    return list(session.scalars(
        select(Receipt).where(Receipt.tenant_id == tenant_id, Receipt.customer_id == customer_id,
                              Receipt.moment >= now - timedelta(days=ASK_DAYS), ~reviewed, ~returned)
        .order_by(Receipt.moment.desc(), Receipt.id.desc()).limit(ASK_LIMIT)))


def store_names(session: Session, tenant_id: str, codes) -> dict[str, str]:
    """The names the owner gave the stores, by the till's code: a participant reads «Кофейня на
    Ленина», never the POS system's «S1» (a store without a name is not shown at all)."""
    codes = {c for c in codes if c}
    if not codes:
        return {}
    # A store the hub remembered from a till's first receipt is named by its code until the
    # owner names it: that is still the POS system's code, not a name.
    return {code: name for code, name in session.execute(
        select(Store.code, Store.name).where(Store.tenant_id == tenant_id, Store.code.in_(codes)))
        if name and name != code}


def review_query(tenant_id: str, rating: int | None = None, customer_id: str | None = None,
                 receipt_id: str | None = None):
    stmt = select(Review).where(Review.tenant_id == tenant_id)
    if rating:
        stmt = stmt.where(Review.rating == rating)
    if customer_id:
        stmt = stmt.where(Review.customer_id == customer_id)
    if receipt_id:
        stmt = stmt.where(Review.receipt_id == receipt_id)
    return stmt


def summary(session: Session, tenant_id: str) -> dict:
    """{"count", "average" (float or None), "by_rating": {1..5: count}} over all the tenant's reviews."""
    by_rating = {r: 0 for r in RATINGS}
    for rating, count in session.execute(select(Review.rating, func.count()).where(Review.tenant_id == tenant_id)
                                         .group_by(Review.rating)):
        by_rating[int(rating)] = int(count)
    count = sum(by_rating.values())
    average = round(sum(r * n for r, n in by_rating.items()) / count, 2) if count else None
    return {"count": count, "average": average, "by_rating": by_rating}
