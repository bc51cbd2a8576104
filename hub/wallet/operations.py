"""The participant's card as an Apple Wallet pass (/my/<tenant>/card.pkpass).

A .pkpass is a zip of pass.json (a storeCard: the card number as a QR code, balance, level),
its images, manifest.json (the SHA-1 of every file) and `signature`: a detached PKCS#7
signature (DER) of manifest.json made with the tenant's Pass Type ID certificate and key,
carrying Apple's WWDR intermediate certificate. iPhones refuse unsigned passes, so a tenant
without a configured certificate gets no button and the URL answers 404.

The certificate, key and WWDR certificate are kept as one Fernet token
(hub.secrets; `kopilka secrets rotate` re-encrypts it) and set with
`kopilka wallet configure` (hub/cli/wallet.py); the page that serves it is hub/web/my/wallet.py.
"""
from __future__ import annotations

import hashlib
import io
import json
import re
import struct
import zipfile
import zlib
from datetime import datetime, tzinfo
from functools import lru_cache

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.secrets import Undecryptable, decrypt, encrypt
from hub.errors import Invalid
from hub.wallet.models import WalletPassConfig
from hub.text import bonuses, day_text, last_day_text

PASS_MIME = "application/vnd.apple.pkpass"
PASS_TYPE_RE = re.compile(r"^pass\.[A-Za-z0-9][A-Za-z0-9.\-]{0,190}$")
TEAM_RE = re.compile(r"^[A-Z0-9]{10}$")
NOT_CONFIGURED = ("Карта для Apple Wallet в этой программе пока не настроена. "
                  "Покажите на кассе QR-код или штрихкод со страницы карты.")




# --- configuration ------------------------------------------------------------------------------

def _load_cert(pem: bytes, field: str, errors: dict):
    from cryptography import x509
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError:
        errors[field] = ["Сертификат не читается: нужен файл PEM (-----BEGIN CERTIFICATE-----)."]
        return None


def _public(key) -> bytes:
    from cryptography.hazmat.primitives import serialization
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def configure(session: Session, tenant_id: str, *, pass_type_id: str, team_id: str, cert_pem: bytes,
              key_pem: bytes, wwdr_pem: bytes | None = None, key_password: bytes | None = None,
              moment: datetime) -> WalletPassConfig:
    """Check and store (encrypted) the tenant's pass identity; Invalid with Russian messages
    by field when an id is malformed, a file does not read or the key is not the certificate's."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    errors: dict = {}
    pass_type_id, team_id = (pass_type_id or "").strip(), (team_id or "").strip().upper()
    if not PASS_TYPE_RE.match(pass_type_id):
        errors["pass_type_id"] = ["Идентификатор типа карты (Pass Type ID) вида pass.ru.example.loyalty."]
    if not TEAM_RE.match(team_id):
        errors["team_id"] = ["Team ID — 10 латинских букв и цифр из аккаунта Apple Developer."]
    cert = _load_cert(cert_pem, "cert", errors)
    wwdr = _load_cert(wwdr_pem, "wwdr", errors) if wwdr_pem else None
    key = None
    try:
        key = serialization.load_pem_private_key(key_pem, password=key_password or None)
    except TypeError:
        errors["key"] = ["Ключ зашифрован паролем: укажите пароль (--key-password)."
                         if not key_password else "Ключ не зашифрован: пароль не нужен."]
    except ValueError:
        errors["key"] = ["Ключ не читается: нужен закрытый ключ в PEM (или неверный пароль)."]
    if key is not None and not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        errors["key"], key = ["Нужен ключ RSA или EC."], None
    if key is not None and cert is not None and _public(key.public_key()) != _public(cert.public_key()):
        errors["key"] = ["Ключ не подходит к сертификату: выберите ключ, с которым сертификат был запрошен."]
    if cert is not None and cert.not_valid_after_utc <= moment:
        errors["cert"] = [f"Срок сертификата истёк {cert.not_valid_after_utc:%d.%m.%Y}: выпустите новый в Apple Developer."]
    if errors:
        raise Invalid("validation_error", "Настройки Apple Wallet не сохранены: проверьте данные.", errors)
    key_text = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode()
    creds = {"cert": cert.public_bytes(serialization.Encoding.PEM).decode(), "key": key_text,
             "wwdr": wwdr.public_bytes(serialization.Encoding.PEM).decode() if wwdr is not None else None}
    row = session.scalar(select(WalletPassConfig).where(WalletPassConfig.tenant_id == tenant_id))
    if row is None:
        row = WalletPassConfig(tenant_id=tenant_id, created_at=moment)
        session.add(row)
    row.pass_type_id, row.team_id, row.credentials = pass_type_id, team_id, encrypt(creds)
    row.cert_subject = cert.subject.rfc4514_string()[:300]
    row.cert_expires_at, row.updated_at = cert.not_valid_after_utc, moment
    session.flush()
    return row


def remove(session: Session, tenant_id: str) -> bool:
    row = session.scalar(select(WalletPassConfig).where(WalletPassConfig.tenant_id == tenant_id))
    if row is not None:
        session.delete(row)
        session.flush()
    return row is not None


def usable(session: Session, tenant_id: str) -> tuple[WalletPassConfig, dict] | None:
    """The tenant's configuration and opened credentials, or None (not configured, or no
    configured key opens them any more)."""
    row = session.scalar(select(WalletPassConfig).where(WalletPassConfig.tenant_id == tenant_id))
    if row is None:
        return None
    try:
        creds = decrypt(row.credentials)
    except Undecryptable:
        return None
    return (row, creds) if creds.get("cert") and creds.get("key") else None


# --- the pass ------------------------------------------------------------------------------------

def _png(width: int, height: int, pixel) -> bytes:
    """A small RGBA PNG drawn by `pixel(x, y) -> (r, g, b, a)` (no imaging library needed)."""
    raw = b"".join(b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def _coin(size: int, background: tuple | None):
    """A gold coin with a darker rim, on the brand colour (icon) or transparent (logo)."""
    c = (size - 1) / 2

    def pixel(x: int, y: int) -> tuple:
        d = ((x - c) ** 2 + (y - c) ** 2) ** 0.5 / (size / 2)
        if d <= 0.62:
            return (240, 168, 0, 255) if d < 0.48 else (196, 130, 0, 255)
        return background or (0, 0, 0, 0)
    return pixel


@lru_cache(maxsize=1)
def images() -> dict[str, bytes]:
    brand = (16, 42, 67, 255)
    return {"icon.png": _png(29, 29, _coin(29, brand)), "icon@2x.png": _png(58, 58, _coin(58, brand)),
            "logo.png": _png(50, 50, _coin(50, None)), "logo@2x.png": _png(100, 100, _coin(100, None))}


def _css_rgb(color: str) -> str:
    return f"rgb({int(color[1:3], 16)},{int(color[3:5], 16)},{int(color[5:7], 16)})"


def brand_images(logo_png: bytes | None) -> dict[str, bytes]:
    """The shop's logo as the pass's logo (50 and 100 points high at most); the coin without one."""
    if not logo_png:
        return {}
    out = {}
    for name, side in (("logo.png", 50), ("logo@2x.png", 100)):
        with Image.open(io.BytesIO(logo_png)) as img:
            img = img.convert("RGBA")
            img.thumbnail((side * 3, side))
            buf = io.BytesIO()
            img.save(buf, "PNG")
            out[name] = buf.getvalue()
    return out


def pass_json(row: WalletPassConfig, tenant_name: str, customer, card: str, summary, expiry,
              moment: datetime, tz: tzinfo, brand: dict | None = None) -> dict:
    """The pass; `brand` ({"own_color", "text_color"}) paints it in the shop's colour."""
    barcode = {"format": "PKBarcodeFormatQR", "message": card, "messageEncoding": "iso-8859-1", "altText": card}
    name = " ".join(p for p in (customer.first_name, customer.last_name) if p)
    back = [{"key": "updated", "label": "Баланс на", "value": day_text(moment, tz)},
            {"key": "how", "label": "Как пользоваться",
             "value": "Покажите QR-код на кассе: бонусы начислятся, ими можно оплатить часть покупки."}]
    if expiry:
        burns = f"{bonuses(expiry[0])} после {last_day_text(expiry[1], tz)}"
        back.insert(1, {"key": "expiry", "label": "Сгорят", "value": burns})
    secondary = [{"key": "level", "label": "Уровень", "value": summary.level.name}]
    if name:
        secondary.append({"key": "name", "label": "Участник", "value": name})
    return {
        "formatVersion": 1, "passTypeIdentifier": row.pass_type_id, "teamIdentifier": row.team_id,
        "serialNumber": customer.id, "organizationName": tenant_name,
        "description": f"Бонусная карта: {tenant_name}", "logoText": tenant_name,
        **({"backgroundColor": _css_rgb(brand["own_color"]), "foregroundColor": _css_rgb(brand["text_color"]),
            "labelColor": _css_rgb(brand["text_color"])} if brand and brand.get("own_color") else
           {"backgroundColor": "rgb(16,42,67)", "foregroundColor": "rgb(255,255,255)",
            "labelColor": "rgb(188,204,220)"}),
        "barcodes": [barcode], "barcode": barcode,
        "storeCard": {
            "primaryFields": [{"key": "balance", "label": "Бонусы", "value": bonuses(summary.balance.available)}],
            "secondaryFields": secondary,
            "auxiliaryFields": [{"key": "card", "label": "Карта", "value": card}],
            "backFields": back,
        },
    }


def sign(manifest: bytes, creds: dict) -> bytes:
    """The detached PKCS#7 signature (DER) of manifest.json with the pass certificate and
    key, carrying the WWDR intermediate when configured."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs7
    cert, key, wwdr = _signer(creds["cert"], creds["key"], creds.get("wwdr"))
    builder = pkcs7.PKCS7SignatureBuilder().set_data(manifest).add_signer(cert, key, hashes.SHA256())
    if wwdr is not None:
        builder = builder.add_certificate(wwdr)
    return builder.sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary])


@lru_cache(maxsize=32)
def _signer(cert_pem: str, key_pem: str, wwdr_pem: str | None) -> tuple:
    """Loaded certificate, key and WWDR certificate (loading an RSA key checks it: ~0.1 s)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    return (x509.load_pem_x509_certificate(cert_pem.encode()),
            serialization.load_pem_private_key(key_pem.encode(), password=None),
            x509.load_pem_x509_certificate(wwdr_pem.encode()) if wwdr_pem else None)


def build_pass(pass_data: dict, creds: dict, extra_images: dict[str, bytes] | None = None) -> bytes:
    files = {"pass.json": json.dumps(pass_data, ensure_ascii=False, indent=1).encode(), **images(),
             **(extra_images or {})}
    manifest = json.dumps({name: hashlib.sha1(data).hexdigest() for name, data in files.items()},  # noqa: S324 - Apple's pass format requires SHA-1 manifests
                          indent=1).encode()
    files["manifest.json"] = manifest
    files["signature"] = sign(manifest, creds)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return out.getvalue()
