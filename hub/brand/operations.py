"""The shop's brand (colour, logo) and the printable A5 counter poster with a QR code to join.

A logo is checked by decoding it (Pillow), never by its name or declared type, and stored
re-encoded as PNG: whatever else the upload carried (metadata, a script in a polyglot file) is
gone. SVG is refused — it is a program a browser runs, and sanitising it reliably is more than a
logo is worth; the owner exports a PNG instead."""
from __future__ import annotations

import io
import re
from datetime import datetime
from pathlib import Path

import segno
from fpdf import FPDF
from PIL import Image, UnidentifiedImageError
from sqlalchemy.orm import Session

from hub.brand.models import Brand
from hub.errors import Invalid
from hub.extensions import unit_of_work
from hub.staff.operations import Actor, record
from hub.tenants.models import Tenant

DEFAULT_COLOR = "#1f6feb"
LOGO_MAX_BYTES = 512 * 1024          # an upload larger than this is refused before decoding
LOGO_MAX_SIDE = 4000                 # pixels: a small file may still claim a huge canvas
LOGO_STORED_SIDE = 512               # what is kept: enough for the poster at print size
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
# Debian's fonts-dejavu-core (.ci/run installs it): Cyrillic glyphs, embedded into the PDF.
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


def brand_of(session: Session, tenant_id: str) -> dict:
    """{"color", "logo" (PNG bytes or None), "own_color" (the owner's, or None)} — the hub's
    colour when the owner set none."""
    row = session.get(Brand, tenant_id)
    own = row.color if row and row.color else None
    return {"color": own or DEFAULT_COLOR, "logo": row.logo if row else None, "own_color": own}


def readable_on(color: str) -> str:
    """Black or white, whichever reads on `color` (relative luminance, WCAG's formula)."""
    def channel(v: int) -> float:
        v /= 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in _rgb(color))
    return "#000000" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.4 else "#ffffff"


def _logo_png(data: bytes) -> bytes:
    if len(data) > LOGO_MAX_BYTES:
        raise Invalid("invalid_logo", "Логотип слишком большой.",
                      {"logo": [f"Файл больше {LOGO_MAX_BYTES // 1024} КБ — уменьшите его."]})
    head = data[:512].lstrip().lower()
    if head.startswith((b"<?xml", b"<svg")) or b"<svg" in head:
        raise Invalid("invalid_logo", "SVG не принимается.",
                      {"logo": ["SVG не принимается: сохраните логотип как PNG или JPEG."]})
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format not in ("PNG", "JPEG"):
                raise UnidentifiedImageError
            if max(img.size) > LOGO_MAX_SIDE:
                raise Invalid("invalid_logo", "Логотип слишком большой.",
                              {"logo": [f"Сторона картинки больше {LOGO_MAX_SIDE} точек."]})
            img.load()
            img = img.convert("RGBA")
            img.thumbnail((LOGO_STORED_SIDE, LOGO_STORED_SIDE))
            out = io.BytesIO()
            img.save(out, "PNG")
            return out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise Invalid("invalid_logo", "Это не картинка PNG или JPEG.",
                      {"logo": ["Загрузите логотип в формате PNG или JPEG."]}) from exc


def save_brand(session: Session, tenant_id: str, color: str | None, logo: bytes | None, now: datetime,
               *, remove_logo: bool = False, by: Actor | None = None) -> Brand:
    """The owner's colour and logo (None keeps the logo as it is); nothing is written when
    either is wrong. Commits; `by`: the person, audited with the change."""
    with unit_of_work(session):
        given = color or None
        color = (color or "").strip()
        if color and not _COLOR.fullmatch(color):
            raise Invalid("invalid_color", "Цвет в виде #RRGGBB.",
                          {"color": ["Цвет в виде #RRGGBB, например #1f6feb."]})
        png = _logo_png(logo) if logo else None
        row = session.get(Brand, tenant_id) or Brand(tenant_id=tenant_id)
        row.color = color.lower() or None
        if png is not None:
            row.logo, row.logo_type = png, "image/png"
        elif remove_logo:
            row.logo, row.logo_type = None, None
        row.updated_at = now
        session.add(row)
        if by is not None:
            record(session, tenant_id, by, "brand.update", "brand", None, {"color": given, "logo": bool(logo)})
    return row


def join_qr(join_url: str) -> segno.QRCode:
    """The QR code the poster prints: the participant's sign-up page."""
    return segno.make(join_url, error="m")


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def poster_pdf(session: Session, tenant_id: str, join_url: str) -> bytes:
    """An A5 poster for the counter: the shop's name and logo, the brand's colour, a QR code to
    join and the address beneath it; DejaVu embedded so Cyrillic prints anywhere."""
    tenant = session.get(Tenant, tenant_id)
    brand = brand_of(session, tenant_id)
    pdf = FPDF(format=(148, 210), unit="mm")     # A5, given in mm (fpdf2 warns about its "A5" preset)
    pdf.set_auto_page_break(False)
    pdf.set_title(f"Программа лояльности — {tenant.name}")
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.add_page()
    width = pdf.w
    pdf.set_fill_color(*_rgb(brand["color"]))
    pdf.rect(0, 0, width, 28, style="F")
    y = 34
    if brand["logo"]:
        pdf.image(io.BytesIO(brand["logo"]), x=width / 2 - 15, y=y, w=30, keep_aspect_ratio=True, h=30)
        y += 34
    pdf.set_xy(10, y)
    pdf.set_font("DejaVu", "B", 20)
    pdf.multi_cell(width - 20, 9, tenant.name, align="C")
    pdf.set_font("DejaVu", "", 13)
    pdf.set_x(10)
    pdf.multi_cell(width - 20, 6.5, "Копите бонусы с каждой покупки.\nНаведите камеру на код, чтобы стать участником:",
                   align="C")
    qr = io.BytesIO()
    join_qr(join_url).save(qr, kind="png", scale=1, border=4)
    side = 70
    pdf.image(qr, x=width / 2 - side / 2, y=pdf.get_y() + 4, w=side, h=side)
    pdf.set_xy(10, pdf.get_y() + side + 8)
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(width - 20, 4.5, join_url, align="C")
    pdf.set_xy(10, pdf.h - 16)
    pdf.set_font("DejaVu", "", 11)
    pdf.set_text_color(*_rgb(brand["color"]))
    pdf.multi_cell(width - 20, 5.5, "Или назовите номер телефона на кассе.", align="C")
    return bytes(pdf.output())
