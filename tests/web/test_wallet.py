"""The Apple Wallet pass: configured with a (test) Pass Type ID certificate, key and WWDR
certificate, /my/<tenant>/card.pkpass is a zip whose pass.json carries the card, balance and
level, whose manifest.json hashes every file, and whose detached PKCS#7 signature of the
manifest verifies against the WWDR certificate; without the configuration the button is
hidden and the URL answers 404."""
from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import zipfile
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from hub.clock import utcnow
from tests.web.conftest import text
from tests.web.test_my import _login


def _name(cn: str):
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject: str, key, issuer: str, issuer_key, ca: bool, days: int = 365) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    start = datetime.now(timezone.utc) - timedelta(days=1)  # certificate validity, not app time
    cert = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .sign(issuer_key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A stand-in for Apple's WWDR CA and a Pass Type ID certificate it issued, with its key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    folder = tmp_path_factory.mktemp("pki")
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    files = {
        "wwdr.pem": _cert("Test WWDR", ca_key, "Test WWDR", ca_key, ca=True),
        "cert.pem": _cert("Pass Type ID: pass.ru.zerno.loyalty", key, "Test WWDR", ca_key, ca=False),
        "key.pem": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                     serialization.BestAvailableEncryption(b"secret-pass")),
        "plain-key.pem": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()),
        "other-key.pem": other_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return {"dir": folder, **files}


def _configure(session, tenant_id, pki, **over):
    from hub.wallet.operations import configure
    args = {"pass_type_id": "pass.ru.zerno.loyalty", "team_id": "ABCDE12345", "cert_pem": pki["cert.pem"],
            "key_pem": pki["key.pem"], "wwdr_pem": pki["wwdr.pem"], "key_password": b"secret-pass", **over}
    row = configure(session, tenant_id, moment=utcnow(), **args)
    session.commit()
    return row


def _verify(folder, manifest: bytes, signature: bytes, ca_file) -> subprocess.CompletedProcess:
    (folder / "manifest.json").write_bytes(manifest)
    (folder / "signature").write_bytes(signature)
    return subprocess.run(["openssl", "smime", "-verify", "-binary", "-inform", "DER", "-in", str(folder / "signature"),
                           "-content", str(folder / "manifest.json"), "-CAfile", str(ca_file), "-purpose", "any",
                           "-out", "/dev/null"], capture_output=True, text=True, timeout=30)


def test_without_configuration_no_button_and_404(client, session, shop, customer_of):
    customer_of(shop["a"])
    assert client.get(f"/my/{shop['a']}/card.pkpass").status_code == 302        # sign in first
    _login(client, session, shop["a"])
    assert "Apple Wallet" not in text(client.get(f"/my/{shop['a']}/"))
    r = client.get(f"/my/{shop['a']}/card.pkpass")
    assert r.status_code == 404 and "Карта для Apple Wallet в этой программе пока не настроена" in text(r)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_signed_pass(client, session, shop, customer_of, pki, tmp_path):
    from hub.customers.bonuses import adjust_bonuses
    c = customer_of(shop["a"], card_number="2000111122223", first_name="Анна")
    adjust_bonuses(session, shop["a"], c.id, amount=12345, kind="gift", reason="Подарок", valid_days=10,
                   moment=utcnow(), idempotency_key=None, source="cabinet", body={})
    session.commit()
    _configure(session, shop["a"], pki)
    # tenant B is not configured: its participants get no pass
    customer_of(shop["b"], phone="+79160000002")
    _login(client, session, shop["a"])
    home = text(client.get(f"/my/{shop['a']}/"))
    assert f'href="/my/{shop["a"]}/card.pkpass"' in home and "Добавить в Apple Wallet" in home
    r = client.get(f"/my/{shop['a']}/card.pkpass")
    assert r.status_code == 200 and r.mimetype == "application/vnd.apple.pkpass"
    assert "attachment" in r.headers["Content-Disposition"]
    zf = zipfile.ZipFile(io.BytesIO(r.data))
    names = set(zf.namelist())
    assert {"pass.json", "manifest.json", "signature", "icon.png", "icon@2x.png", "logo.png"} <= names
    data = json.loads(zf.read("pass.json"))
    assert data["formatVersion"] == 1 and data["passTypeIdentifier"] == "pass.ru.zerno.loyalty"
    assert data["teamIdentifier"] == "ABCDE12345" and data["serialNumber"] == c.id
    assert data["organizationName"] == "Кофейня «Зерно»"
    assert data["barcodes"][0] == {"format": "PKBarcodeFormatQR", "message": "2000111122223",
                                   "messageEncoding": "iso-8859-1", "altText": "2000111122223"}
    fields = {f["key"]: f["value"] for group in data["storeCard"].values() for f in group}
    assert fields["balance"].replace("\u00a0", " ") == "123,45 Б" and fields["level"] and fields["name"] == "Анна"
    assert "authenticationToken" not in data and "webServiceURL" not in data
    for name in ("icon.png", "logo.png"):
        assert zf.read(name).startswith(b"\x89PNG\r\n\x1a\n")
    manifest = json.loads(zf.read("manifest.json"))
    assert set(manifest) == names - {"manifest.json", "signature"}
    for name, digest in manifest.items():
        assert hashlib.sha1(zf.read(name)).hexdigest() == digest, name
    ok = _verify(tmp_path, zf.read("manifest.json"), zf.read("signature"), pki["dir"] / "wwdr.pem")
    assert ok.returncode == 0, ok.stderr
    # the WWDR certificate travels inside the signature; a changed manifest does not verify
    from cryptography.hazmat.primitives.serialization import pkcs7
    certs = pkcs7.load_der_pkcs7_certificates(zf.read("signature"))
    assert {x.subject.rfc4514_string() for x in certs} == {"CN=Test WWDR", "CN=Pass Type ID: pass.ru.zerno.loyalty"}
    bad = _verify(tmp_path, zf.read("manifest.json").replace(b"}", b' , "x": "y"}'), zf.read("signature"),
                  pki["dir"] / "wwdr.pem")
    assert bad.returncode != 0
    # the session does not open tenant B's pass, and B has none
    assert client.get(f"/my/{shop['b']}/card.pkpass").status_code == 302


def test_configuration_is_checked_and_encrypted(session, shop, pki):
    from hub.errors import Invalid
    from hub.wallet.models import WalletPassConfig
    from hub.wallet.operations import usable
    cases = [({"pass_type_id": "ru.zerno"}, "pass_type_id", "pass.ru.example.loyalty"),
             ({"team_id": "abc"}, "team_id", "10 латинских букв"),
             ({"cert_pem": b"not a cert"}, "cert", "Сертификат не читается"),
             ({"key_password": None}, "key", "зашифрован паролем"),
             ({"key_password": b"wrong"}, "key", "неверный пароль"),
             ({"key_pem": pki["other-key.pem"], "key_password": None}, "key", "не подходит к сертификату"),
             ({"wwdr_pem": b"junk"}, "wwdr", "Сертификат не читается")]
    for over, field, message in cases:
        with pytest.raises(Invalid) as err:
            _configure(session, shop["a"], pki, **over)
        session.rollback()
        assert message in " ".join(err.value.details[field]), (over, err.value.details)
    assert usable(session, shop["a"]) is None
    _configure(session, shop["a"], pki, key_pem=pki["plain-key.pem"], key_password=None, wwdr_pem=None)
    row = session.query(WalletPassConfig).filter_by(tenant_id=shop["a"]).one()
    assert b"PRIVATE KEY" not in row.credentials.encode() and "BEGIN" not in row.credentials
    found = usable(session, shop["a"])
    assert found is not None and found[1]["wwdr"] is None and "PRIVATE KEY" in found[1]["key"]
    assert usable(session, shop["b"]) is None


def test_cli_configure_status_remove(tmp_path, pki):
    from hub.cli.main import main
    from hub.extensions import db
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'k.sqlite3'}", "KOPILKA_HOME": str(tmp_path)}
    run = lambda *a: CliRunner().invoke(main, list(a), env=env)
    d = pki["dir"]
    try:
        assert run("db", "upgrade").exit_code == 0
        assert run("tenant", "create", "--name", "Кофейня").exit_code == 0
        assert "не настроен" in run("wallet", "status", "--tenant", "Кофейня").output
        bad = run("wallet", "configure", "--tenant", "Кофейня", "--pass-type-id", "pass.ru.k", "--team-id", "ABCDE12345",
                  "--cert", str(d / "cert.pem"), "--key", str(d / "key.pem"))
        assert bad.exit_code == 1 and "зашифрован паролем" in bad.output
        missing = run("wallet", "configure", "--tenant", "Кофейня", "--pass-type-id", "pass.ru.k", "--team-id",
                      "ABCDE12345", "--cert", str(d / "nope.pem"), "--key", str(d / "key.pem"))
        assert missing.exit_code == 1 and "Не удалось прочитать файл" in missing.output
        out = run("wallet", "configure", "--tenant", "Кофейня", "--pass-type-id", "pass.ru.k", "--team-id", "ABCDE12345",
                  "--cert", str(d / "cert.pem"), "--key", str(d / "key.pem"), "--key-password", "secret-pass",
                  "--wwdr", str(d / "wwdr.pem"))
        assert out.exit_code == 0, out.output
        assert "Apple Wallet настроен: pass.ru.k, команда ABCDE12345" in out.output
        status = run("wallet", "status", "--tenant", "Кофейня").output
        assert "Apple Wallet настроен" in status and "без WWDR" not in status
        assert "удалены" in run("wallet", "remove", "--tenant", "Кофейня").output
        assert "не настроен" in run("wallet", "status", "--tenant", "Кофейня").output
    finally:
        db.session.remove()
