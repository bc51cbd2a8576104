"""The participant's card as inline SVG: a QR code (segno) and a Code 128 barcode
(python-barcode), both rendered on the server."""
from __future__ import annotations

import io
import re

from markupsafe import Markup


def qr_svg(text: str) -> Markup:
    import segno
    buf = io.BytesIO()
    segno.make(text, error="m").save(buf, kind="svg", scale=8, border=2, xmldecl=False, svgns=True,
                                     title="QR-код карты")
    svg = buf.getvalue().decode()
    # Scalable: a viewBox instead of fixed pixels.
    m = re.search(r'width="(\d+)" height="(\d+)"', svg)
    if m:
        w, h = m.groups()
        svg = svg.replace(m.group(0), f'viewBox="0 0 {w} {h}" role="img" aria-label="QR-код карты"', 1)
    return Markup(svg)  # noqa: S704 - the SVG is segno's output for our own text, not user markup


def barcode_svg(text: str) -> Markup:
    import barcode
    from barcode.writer import SVGWriter
    raw = barcode.get("code128", text, writer=SVGWriter()).render(
        writer_options={"module_height": 15, "write_text": False, "quiet_zone": 4}).decode()
    svg = raw[raw.index("<svg"):]
    m = re.search(r'width="([\d.]+)mm" height="([\d.]+)mm"', svg)
    if m:
        w, h = m.groups()
        svg = svg.replace(m.group(0), f'viewBox="0 0 {w} {h}" role="img" aria-label="Штрихкод карты"', 1)
    svg = re.sub(r'(\d)mm"', r'\1"', svg).replace('width="100%" height="100%"', 'width="100%" height="100%"')
    return Markup(svg)  # noqa: S704 - the SVG is segno's output for our own text, not user markup
