"""Spreading one receipt-level amount over positions, exact to the kopeck."""
from __future__ import annotations

from typing import Sequence


def allocate(total: int, weights: Sequence[int], caps: Sequence[int] | None = None) -> list[int]:
    """Split ``total`` kopecks over positions in proportion to ``weights``.

    No part exceeds its cap (``caps`` defaults to the weights themselves: a position
    cannot take more discount than its amount). Parts are whole kopecks and add up to
    ``total`` exactly; the kopecks left over by rounding go to the largest positions
    that still have room. Raises ValueError when the caps cannot hold the total.
    """
    n = len(weights)
    caps = list(weights if caps is None else caps)
    if len(caps) != n:
        raise ValueError("weights and caps differ in length")
    if total < 0 or any(w < 0 for w in weights) or any(c < 0 for c in caps):
        raise ValueError("negative amounts cannot be allocated")
    if total > sum(caps):
        raise ValueError(f"{total} does not fit into caps totalling {sum(caps)}")
    parts = [0] * n
    if total == 0:
        return parts
    # Weights of zero would never receive anything; when no position with room has a
    # weight, the room itself becomes the weight.
    active = [i for i in range(n) if caps[i] > 0 and weights[i] > 0]
    if not active:
        active = [i for i in range(n) if caps[i] > 0]
        weights = caps
    remaining = total
    while True:
        weight_sum = sum(weights[i] for i in active)
        if weight_sum == 0:
            break
        shares = {i: remaining * weights[i] // weight_sum for i in active}
        capped = [i for i in active if shares[i] >= caps[i] - parts[i]]
        if capped and any(shares[i] > caps[i] - parts[i] for i in capped):
            # Fill the overflowing positions to their caps and spread the rest again.
            for i in capped:
                room = caps[i] - parts[i]
                parts[i] += room
                remaining -= room
            active = [i for i in active if i not in capped]
            if not active or remaining == 0:
                break
            continue
        for i in active:
            parts[i] += shares[i]
            remaining -= shares[i]
        break
    if remaining:
        # Rounding leftovers (or spill from capped positions): largest first.
        order = sorted(range(n), key=lambda i: (-weights[i], -caps[i], i))
        for i in order:
            if remaining == 0:
                break
            take = min(remaining, caps[i] - parts[i])
            parts[i] += take
            remaining -= take
    assert remaining == 0 and sum(parts) == total  # noqa: S101 - an invariant of the code itself, not input validation
    return parts
