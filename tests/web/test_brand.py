"""Issue 25.3: the shop's brand — colour and logo (PNG/JPEG re-encoded, SVG and oversized files
refused) on the participant's cabinet, and the A5 counter poster: a PDF whose text is the shop's
name in Cyrillic (fonts embedded) and whose QR code is the sign-up page."""
from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import select

from tests.web.conftest import text, token
from tests.web.test_wallet import pki  # noqa: F401 - the fixture the Wallet test uses


def _png(size=(40, 20), color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def _post(client, data):
    t = token(client, "/cabinet/brand")
    return client.post("/cabinet/brand", data={"csrf_token": t, **data}, content_type="multipart/form-data")


def test_colour_and_logo_reach_the_participants_cabinet(client, session, shop, as_role):
    from hub.brand.models import Brand
    as_role("manager")
    r = _post(client, {"color": "#C0392B", "logo": (io.BytesIO(_png()), "logo.png")})
    assert r.status_code == 303, text(r)
    row = session.scalars(select(Brand).where(Brand.tenant_id == shop["a"])).one()
    assert row.color == "#c0392b" and row.logo.startswith(b"\x89PNG")
    login = text(client.get(f"/my/{shop['a']}/login"))
    assert "--accent: #c0392b" in login and f'src="/my/{shop["a"]}/logo.png"' in login
    logo = client.get(f"/my/{shop['a']}/logo.png")
    assert logo.status_code == 200 and logo.mimetype == "image/png"
    assert Image.open(io.BytesIO(logo.data)).size == (40, 20)
    assert client.get(f"/my/{shop['b']}/logo.png").status_code == 404          # the other shop has none
    assert "изменены цвет и логотип магазина" in text(client.get("/cabinet/audit"))


def test_svg_wrong_files_bad_colours_and_readonly_are_refused(client, session, shop, as_role):
    from hub.brand import operations
    from hub.brand.models import Brand
    as_role("owner")
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'
    for data, message in [({"logo": (io.BytesIO(svg), "logo.png")}, "SVG не принимается"),
                          ({"logo": (io.BytesIO(b"MZ\x90\x00not an image"), "logo.jpg")}, "PNG или JPEG"),
                          ({"logo": (io.BytesIO(b"\x89PNG" + b"0" * (operations.LOGO_MAX_BYTES + 10)), "big.png")},
                           "КБ"),
                          ({"color": "red"}, "#RRGGBB")]:
        r = _post(client, data)
        assert r.status_code == 422 and message in text(r), text(r)
    assert session.scalars(select(Brand)).first() is None                      # nothing written
    client.post("/cabinet/logout", data={"csrf_token": token(client, "/cabinet/")})
    as_role("readonly")
    assert _post(client, {"color": "#000000"}).status_code == 403


def test_the_poster_is_an_a5_pdf_with_the_name_and_the_join_qr(client, session, shop, as_role):
    from pypdf import PdfReader

    from hub.brand.operations import join_qr
    as_role("readonly")
    r = client.get("/cabinet/brand/poster.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data.startswith(b"%PDF")
    page = PdfReader(io.BytesIO(r.data)).pages[0]
    width_mm, height_mm = (float(v) * 25.4 / 72 for v in (page.mediabox.width, page.mediabox.height))
    assert round(width_mm) == 148 and round(height_mm) == 210                   # A5
    words = page.extract_text()
    join = f"http://localhost/my/{shop['a']}/login"
    assert "Кофейня «Зерно»" in words and join in words
    fonts = {str(f.get_object()["/BaseFont"]) for f in page["/Resources"]["/Font"].values()}
    assert all("DejaVu" in f for f in fonts)
    for f in page["/Resources"]["/Font"].values():      # embedded, not referred to by name
        descendant = f.get_object()["/DescendantFonts"][0].get_object()
        assert "/FontFile2" in descendant["/FontDescriptor"].get_object()
    # The QR image in the PDF is, module for module, the code of the sign-up URL.
    (qr_image,) = [i for i in page.images if i.image.size[0] == i.image.size[1]]
    pixels = qr_image.image.convert("L")
    matrix = join_qr(join).matrix
    border = (pixels.size[0] - len(matrix)) // 2
    assert border == 4
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            assert (pixels.getpixel((x + border, y + border)) < 128) == bool(dark)


def test_the_wallet_pass_wears_the_shops_colour_and_logo(client, session, shop, customer_of, pki):
    import json
    import zipfile
    from datetime import datetime, timezone

    from hub.brand.operations import save_brand
    from tests.web.test_my import _login
    from tests.web.test_wallet import _configure
    customer_of(shop["a"])
    _configure(session, shop["a"], pki)
    save_brand(session, shop["a"], "#f5d000", _png((300, 100)), datetime.now(timezone.utc))
    session.commit()
    _login(client, session, shop["a"])
    r = client.get(f"/my/{shop['a']}/card.pkpass")
    zf = zipfile.ZipFile(io.BytesIO(r.data))
    data = json.loads(zf.read("pass.json"))
    # A light yellow takes black text; the shop's logo replaces the coin.
    assert data["backgroundColor"] == "rgb(245,208,0)" and data["foregroundColor"] == "rgb(0,0,0)"
    assert Image.open(io.BytesIO(zf.read("logo@2x.png"))).size == (300, 100)
    assert Image.open(io.BytesIO(zf.read("logo.png"))).size == (150, 50)
