"""Russian renderings of money for messages and receipt lines."""
from __future__ import annotations


def rub(kopecks: int) -> str:
    """1234550 -> '12 345,50' (a no-break-free thin layout tills print well)."""
    sign = "-" if kopecks < 0 else ""
    whole, frac = divmod(abs(kopecks), 100)
    return f"{sign}{whole:,}".replace(",", " ") + f",{frac:02d}"
