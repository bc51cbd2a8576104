"""Recency segments (specs/segments.md) recomputed by the sweep, and custom filters."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from hub.automation.segments import (
    count_members, median_interval, recompute, segment_counts,
)
from hub.automation.models import CustomerSegment
from tests.automation.conftest import msk

NOW = msk(2026, 12, 1, 12)


def _segment_of(world, customer) -> str:
    return world.session.scalar(select(CustomerSegment.segment).where(CustomerSegment.customer_id == customer.id))


def test_the_seven_segments_with_t_30_cut_at_60_120_240_days(world):
    def buyer(days_ago: int, purchases: int):
        c = world.customer(msk(2024, 1, 1))
        for k in range(purchases):
            world.sale(c, msk(2026, 12, 1, 10, k) - __import__("datetime").timedelta(days=days_ago))
        return c
    people = {
        "no_purchases": world.customer(msk(2026, 11, 1)),
        "newcomers": buyer(60, 1),            # d = 60 = 2T: still recent
        "potential": buyer(10, 3),
        "core": buyer(5, 4),
        "dozing": buyer(61, 5),
        "sleeping": buyer(121, 1),
        "lost": buyer(241, 2),
    }
    world.run(NOW)
    for code, c in people.items():
        assert _segment_of(world, c) == code, code
    counts = segment_counts(world.session, world.t)
    assert counts["dozing"]["name"] == "Засыпающие" and counts["dozing"]["count"] == 1
    valuable = world.session.scalar(select(CustomerSegment.valuable)
                                     .where(CustomerSegment.customer_id == people["dozing"].id))
    assert valuable is True
    # Time passes: the set-based update moves only those who changed.
    before = {code: _segment_of(world, c) for code, c in people.items()}
    later = msk(2027, 1, 31, 12)                   # the core buyer is 66 days out now
    written = recompute(world.session, world.t, "Europe/Moscow", later)
    after = {code: _segment_of(world, c) for code, c in people.items()}
    assert after["core"] == "dozing" and after["newcomers"] == "sleeping" and after["no_purchases"] == "no_purchases"
    assert written == sum(before[k] != after[k] for k in people)
    assert world.run(later)["segments_written"] == 0


def test_t_is_the_clamped_median_or_30_with_few_repeat_buyers():
    assert median_interval([10.0] * 19) == 30
    assert median_interval([10.0] * 20) == 10
    assert median_interval([1.0] * 30) == 7
    assert median_interval([400.0] * 30) == 90


def test_manual_t_moves_the_cut_offs(world):
    c = world.customer(msk(2024, 1, 1))
    world.sale(c, msk(2026, 11, 1, 12))                 # 30 days before NOW
    world.settings(msk(2026, 1, 1), {"segments": {"interval_days": 10}})
    world.run(NOW)
    assert _segment_of(world, c) == "dozing"            # 2T = 20 < 30 <= 40 = 4T (T = 30: newcomers)


def test_custom_segment_filters(world):
    s, t = world.session, world.t
    a = world.customer(msk(2024, 1, 1), gender="female", birth_date=date(1990, 12, 5), tags=["vip", "кофе"])
    b = world.customer(msk(2024, 1, 1), gender="male", birth_date=date(2005, 6, 1), tags=["чай"])
    world.sale(a, msk(2026, 11, 20, 12), rub=5000)
    world.sale(b, msk(2026, 6, 1, 12), rub=500)
    world.run(NOW)

    def n(**f):
        return count_members(s, t, f, NOW, "Europe/Moscow")
    assert n() == 2
    assert n(gender="female") == 1 and n(tags_any=["vip"]) == 1 and n(tags_any=["чай", "кофе"]) == 2
    assert n(tags_any=["vi"]) == 0
    assert n(age_min=30) == 1 and n(age_max=25) == 1 and n(age_min=21, age_max=21) == 1
    assert n(birthday_in_days=4) == 1 and n(birthday_in_days=3) == 0 and n(birth_month=6) == 1
    assert n(last_purchase_days_max=11) == 1 and n(last_purchase_days_min=12) == 1
    assert n(total_min=100000) == 1 and n(purchase_count_min=1, purchase_count_max=1) == 2
    assert n(balance_min=25000) == 1 and n(balance_max=2500) == 1
    assert n(rfm=["newcomers"]) == 1 and n(rfm=["sleeping", "dozing"]) == 1
    assert n(levels=["base"]) == 2


def test_incremental_passes_see_purchases_crossings_returns_and_new_customers(world):
    from datetime import timedelta
    from hub.automation.models import AutomationSettings
    a = world.customer(msk(2024, 1, 1))
    world.sale(a, NOW - timedelta(days=60, hours=1), ref="A1")      # newcomer for one more day
    b = world.customer(msk(2024, 1, 1))
    world.sale(b, NOW - timedelta(days=10), ref="B1")
    world.sale(b, NOW - timedelta(days=9), ref="B2")                 # potential (2 purchases)
    world.run(NOW)
    assert (_segment_of(world, a), _segment_of(world, b)) == ("newcomers", "potential")
    full_at = world.session.scalar(select(AutomationSettings.segments_full_at)
                                   .where(AutomationSettings.tenant_id == world.t))
    assert full_at == NOW
    c = world.customer(NOW + timedelta(hours=1))                     # new
    world.sale(b, NOW + timedelta(hours=2), ref="B3")
    world.sale(b, NOW + timedelta(hours=3), ref="B4")                # core now
    world.run(NOW + timedelta(hours=4))
    assert (_segment_of(world, b), _segment_of(world, c)) == ("core", "no_purchases")
    world.refund("B4", NOW + timedelta(hours=5))                     # back to 3 purchases
    world.run(NOW + timedelta(days=1))                               # a crosses 2T = 60 days
    assert (_segment_of(world, a), _segment_of(world, b)) == ("dozing", "potential")
    assert world.session.scalar(select(AutomationSettings.segments_full_at)
                                .where(AutomationSettings.tenant_id == world.t)) == full_at
