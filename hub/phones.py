"""Phone numbers as customer identity: one normal form (E.164), Russian by default."""
from __future__ import annotations

import phonenumbers

from hub.errors import Invalid


def normalize_phone(raw: str, region: str = "RU") -> str:
    """'8 916 123-45-67', '+7 (916) 123-45-67' and '9161234567' -> '+79161234567'."""
    text = (raw or "").strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) == 10 and not text.startswith("+"):
        text = "+7" + digits            # a bare ten-digit Russian mobile number
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise Invalid("invalid_phone", f"Не удалось разобрать номер телефона «{raw}».",
                      # phonenumbers' own reason is English: the caller reads a Russian one
                      {"phone": ["Не похоже на номер телефона."]}) from exc
    if not phonenumbers.is_valid_number(number):
        raise Invalid("invalid_phone", f"Номер телефона «{raw}» недействителен.",
                      {"phone": ["Неверный номер телефона."]})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
