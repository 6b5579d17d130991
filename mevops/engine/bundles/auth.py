"""``X-Flashbots-Signature``: who sent a relay request, proven over its exact body bytes.

The header is ``<address>:<signature>``: an EIP-191 personal-sign signature, by the searcher's
*reputation* key, of the text ``0x`` + hex(keccak256(body)) (the 66 characters, not the 32
bytes), with v = 27/28 like ethers, cast and flashbots/go-utils. The reputation key only
identifies the searcher to relays and builders; it holds no funds and must not be the trading
key. Neither key ever appears in a repr, a log or an error: only the address.
"""

from __future__ import annotations

import os
import secrets

from mevops.engine.bundles.hashing import checksum_address, keccak
from mevops.errors import MevopsError, Problem

HEADER = "X-Flashbots-Signature"
ENV_KEY = "MEVOPS_RELAY_AUTH_KEY"


class SignatureError(ValueError):
    """The header is missing, malformed, or not a signature of this body by that address."""


def signed_digest(body: bytes) -> bytes:
    """The 32 bytes actually signed: keccak256 of the EIP-191 message wrapping hex(keccak256(body))."""
    text = b"0x" + keccak(body).hex().encode("ascii")
    return keccak(b"\x19Ethereum Signed Message:\n" + str(len(text)).encode("ascii") + text)


def address_of(public_key: bytes) -> str:
    """The EIP-55 address of an uncompressed secp256k1 public key (65 bytes, 0x04 first)."""
    return checksum_address(keccak(public_key[1:])[12:])


class FlashbotsAuth:
    """The searcher's reputation identity: signs request bodies for the ``X-Flashbots-Signature`` header."""

    __slots__ = ("_key", "address")

    def __init__(self, private_key: str | bytes, source: str = "relay auth key") -> None:
        import coincurve

        try:
            raw = bytes.fromhex(private_key[2:] if private_key[:2] in ("0x", "0X") else private_key) \
                if isinstance(private_key, str) else bytes(private_key)
            self._key = coincurve.PrivateKey(raw)
        except (ValueError, TypeError):
            raise MevopsError(Problem(source, None, "relay_auth_key", "not a valid private key (value not shown)")) from None
        self.address = address_of(self._key.public_key.format(compressed=False))

    def __repr__(self) -> str:
        return f"FlashbotsAuth({self.address})"

    __str__ = __repr__

    @classmethod
    def random(cls) -> FlashbotsAuth:
        """A fresh identity (relays accept any key; reputation accrues to the address that keeps signing)."""
        return cls(secrets.token_bytes(32), "random")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> FlashbotsAuth | None:
        env = os.environ if environ is None else environ
        return cls(env[ENV_KEY].strip(), ENV_KEY) if env.get(ENV_KEY) else None

    def signature(self, body: bytes) -> bytes:
        """65 bytes r || s || v (v = 27 or 28), RFC 6979 deterministic, low s."""
        sig = self._key.sign_recoverable(signed_digest(body), hasher=None)
        return sig[:64] + bytes([sig[64] + 27])

    def header(self, body: bytes) -> str:
        """The ``X-Flashbots-Signature`` value for exactly these body bytes."""
        return f"{self.address}:0x{self.signature(body).hex()}"

    def headers(self, body: bytes) -> dict[str, str]:
        return {"content-type": "application/json", HEADER: self.header(body)}


def verify(header: str | None, body: bytes) -> str:
    """The signing address if ``header`` is a valid ``X-Flashbots-Signature`` of ``body``; else SignatureError."""
    import coincurve

    if not header:
        raise SignatureError(f"no {HEADER} header")
    claimed, sep, sig_hex = header.strip().partition(":")
    if not sep or not claimed:
        raise SignatureError("expected <address>:<signature>")
    try:
        sig = bytes.fromhex(sig_hex[2:] if sig_hex[:2] in ("0x", "0X") else sig_hex)
    except ValueError:
        raise SignatureError("the signature is not hex") from None
    if len(sig) != 65:
        raise SignatureError(f"the signature has {len(sig)} bytes, not 65")
    v = sig[64] - 27 if sig[64] >= 27 else sig[64]
    if v not in (0, 1):
        raise SignatureError("bad recovery id")
    try:
        public = coincurve.PublicKey.from_signature_and_message(sig[:64] + bytes([v]), signed_digest(body), hasher=None)
    except Exception:  # noqa: BLE001 - coincurve raises plain Exception for an unrecoverable signature
        raise SignatureError("the signature does not recover a key") from None
    signer = address_of(public.format(compressed=False))
    if signer.lower() != claimed.lower():
        raise SignatureError(f"signed by {signer}, not by {claimed}")
    return signer
