"""Russian renderings of money for messages and receipt lines: the one implementation of
kopecks -> "1 234,56" (hub.text and the cabinets' formatting use it with their spacing)."""
from __future__ import annotations


def rub(kopecks: int, *, space: str = " ", minus: str = "-") -> str:
    """1234550 -> '12 345,50'. Plain spaces and a hyphen-minus by default (tills print them
    well); the cabinets and messages pass a no-break space and '−' (hub.text.number)."""
    kopecks = int(kopecks)
    sign = minus if kopecks < 0 else ""
    whole, frac = divmod(abs(kopecks), 100)
    return f"{sign}{whole:,}".replace(",", space) + f",{frac:02d}"
