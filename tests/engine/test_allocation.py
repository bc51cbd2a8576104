"""allocate(): one receipt-level amount spread over positions, exact to the kopeck."""
from __future__ import annotations

import pytest
from hypothesis import assume, given, settings, strategies as st

from hub.engine import allocate

PROPS = settings(max_examples=150, deadline=None, database=None)


def test_in_proportion():
    assert allocate(100, [700, 300]) == [70, 30]
    assert allocate(1000, [500, 300, 200]) == [500, 300, 200]


def test_rounding_kopecks_go_to_the_largest_position():
    assert allocate(100, [1000, 1000, 1000]) == [34, 33, 33]
    assert allocate(10, [100, 300, 200]) == [1, 6, 3]          # 1.67, 5, 3.33 -> +1 to the 300
    assert allocate(2, [3, 3, 3]) == [2, 0, 0]                 # the whole remainder to the first largest


def test_caps_are_honoured_and_the_spill_goes_elsewhere():
    assert allocate(1000, [500, 300, 200], [100, 1000, 1000]) == [100, 540, 360]
    assert allocate(300, [100, 100, 100], [0, 300, 300]) == [0, 150, 150]


def test_zero_weights_take_nothing_while_others_have_room():
    assert allocate(50, [0, 100], [100, 100]) == [0, 50]
    # ... but do take the rest when the weighted positions are full
    assert allocate(150, [0, 100], [100, 100]) == [50, 100]
    # no weights at all: the room is the weight
    assert allocate(30, [0, 0], [10, 20]) == [10, 20]
    assert allocate(3, [0, 0], [10, 20]) == [1, 2]


def test_zero_and_empty():
    assert allocate(0, [1, 2, 3]) == [0, 0, 0]
    assert allocate(0, []) == []
    assert allocate(0, [0, 0]) == [0, 0]


def test_total_above_the_caps_raises():
    with pytest.raises(ValueError, match="does not fit"):
        allocate(101, [50, 50])
    with pytest.raises(ValueError, match="does not fit"):
        allocate(1, [])
    with pytest.raises(ValueError, match="does not fit"):
        allocate(10, [100, 100], [4, 5])


def test_bad_input_raises():
    with pytest.raises(ValueError, match="negative"):
        allocate(-1, [10])
    with pytest.raises(ValueError, match="negative"):
        allocate(1, [10, -1])
    with pytest.raises(ValueError, match="negative"):
        allocate(1, [10], [-1])
    with pytest.raises(ValueError, match="length"):
        allocate(1, [10, 10], [10])


# --- properties -------------------------------------------------------------------------------

amounts = st.integers(min_value=0, max_value=10**9)


@st.composite
def weights_caps_total(draw):
    n = draw(st.integers(min_value=0, max_value=8))
    weights = draw(st.lists(amounts | st.integers(0, 100), min_size=n, max_size=n))
    caps = draw(st.none() | st.lists(amounts | st.integers(0, 100), min_size=n, max_size=n))
    room = sum(weights if caps is None else caps)
    total = draw(st.integers(min_value=0, max_value=room) | st.sampled_from([0, room]))
    return weights, caps, total


@PROPS
@given(weights_caps_total())
def test_sums_exactly_and_never_exceeds_a_cap(case):
    weights, caps, total = case
    parts = allocate(total, weights, caps)
    limits = weights if caps is None else caps
    assert len(parts) == len(weights)
    assert sum(parts) == total
    assert all(type(p) is int for p in parts)
    assert all(0 <= p <= c for p, c in zip(parts, limits))


@PROPS
@given(weights_caps_total(), st.integers(min_value=1, max_value=10**6))
def test_more_than_the_caps_hold_raises(case, extra):
    weights, caps, _ = case
    room = sum(weights if caps is None else caps)
    with pytest.raises(ValueError):
        allocate(room + extra, weights, caps)


@PROPS
@given(weights_caps_total())
def test_default_caps_give_each_at_least_its_floored_share(case):
    weights, _, _ = case
    w = sum(weights)
    assume(w > 0)
    total = w // 3
    parts = allocate(total, weights)
    for p, wi in zip(parts, weights):
        share = total * wi // w
        assert share <= p <= wi
        assert p - share < len(weights)               # only rounding kopecks on top


@PROPS
@given(weights_caps_total())
def test_positions_without_room_get_nothing(case):
    weights, caps, total = case
    parts = allocate(total, weights, caps)
    limits = weights if caps is None else caps
    assert all(p == 0 for p, c in zip(parts, limits) if c == 0)


@PROPS
@given(weights_caps_total())
def test_deterministic(case):
    weights, caps, total = case
    assert allocate(total, weights, caps) == allocate(total, list(weights),
                                                      None if caps is None else list(caps))
