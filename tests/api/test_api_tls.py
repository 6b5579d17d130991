"""Optional TLS: with a certificate and key the API speaks HTTPS only."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def self_signed(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mevops test")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "api.crt", tmp_path / "api.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_https_with_a_certificate(tmp_path):
    from mevops.engine.api.server import ApiOptions, ApiServer
    from fastapi import FastAPI

    cert, key = self_signed(tmp_path)
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict:
        return {"ok": True}

    async def scenario():
        server = ApiServer(app, ApiOptions(port=0, cert_path=str(cert), key_path=str(key)))
        await server.start()
        try:
            async with httpx.AsyncClient(verify=str(cert)) as tls:
                secure = await tls.get(f"{server.url}/healthz")
            async with httpx.AsyncClient() as plain:
                with pytest.raises(httpx.HTTPError):
                    await plain.get(server.url.replace("https://", "http://") + "/healthz")
        finally:
            await server.stop()
        return server.url, secure

    url, secure = asyncio.run(scenario())
    assert url.startswith("https://127.0.0.1:") and secure.json() == {"ok": True}


def test_tls_needs_both_paths(tmp_path):
    from mevops.engine.api.server import ApiOptions, ApiServer
    from mevops.errors import MevopsError

    with pytest.raises(MevopsError, match="both cert_path and key_path"):
        ApiServer(object(), ApiOptions(port=0, cert_path=str(tmp_path / "x.crt")))
