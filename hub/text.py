"""Russian wording helpers for user-facing text (CLI output, messages)."""
from __future__ import annotations


def plural_form(n: int, one: str, few: str, many: str) -> str:
    """The noun form for n: 1 счёт, 2 счёта, 5 счетов, 11 счетов, 21 счёт, 22 счёта."""
    n = abs(n)
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def plural(n: int, one: str, few: str, many: str) -> str:
    """"3 счёта": the number and the right form of the noun."""
    return f"{n} {plural_form(n, one, few, many)}"
