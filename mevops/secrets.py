"""The encrypted key store (``mev/config/api-keys.enc``): API keys and signer keys at rest.

Values are encrypted with Fernet under the key at ``global.security.encryption_key_path``.
Nothing here ever logs, prints or returns a secret in an error.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from mevops.errors import MevopsError, Problem


def create_key(path: Path) -> bool:
    """Write a new random key (mode 0600) unless one exists; True if written."""
    from cryptography.fernet import Fernet

    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(Fernet.generate_key())
    return True


def _fernet(key_path: Path):  # noqa: ANN202
    from cryptography.fernet import Fernet

    try:
        return Fernet(key_path.read_bytes().strip())
    except FileNotFoundError:
        raise MevopsError(Problem(str(key_path), None, "encryption_key_path", "key file not found")) from None
    except (ValueError, OSError):
        raise MevopsError(Problem(str(key_path), None, "encryption_key_path", "not a valid key file")) from None


def write_store(store: Path, key_path: Path, values: dict[str, str]) -> None:
    token = _fernet(key_path).encrypt(json.dumps(values, sort_keys=True).encode())
    tmp = store.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(token)
    os.replace(tmp, store)


def read_store(store: Path, key_path: Path) -> dict[str, str]:
    from cryptography.fernet import InvalidToken

    try:
        token = store.read_bytes()
    except FileNotFoundError:
        raise MevopsError(Problem(str(store), None, "", "key store not found")) from None
    try:
        data = json.loads(_fernet(key_path).decrypt(token))
    except InvalidToken:
        raise MevopsError(Problem(str(store), None, "", "cannot decrypt with the configured key (wrong key or corrupted file)")) from None
    if not isinstance(data, dict):
        raise MevopsError(Problem(str(store), None, "", "key store does not hold a mapping"))
    return data


# -- by key bytes: the `mevops secrets` commands ---------------------------------------------------
def _fernet_of(key: bytes, shown: str = "encryption key"):  # noqa: ANN202
    from cryptography.fernet import Fernet

    try:
        return Fernet(key)
    except (ValueError, TypeError):
        raise MevopsError(Problem(shown, None, "encryption_key_path", "not a valid key (32 url-safe base64 bytes)")) from None


def decrypt_store(store: Path, key: bytes) -> dict[str, str]:
    from cryptography.fernet import InvalidToken

    try:
        token = store.read_bytes()
    except FileNotFoundError:
        raise MevopsError(Problem(str(store), None, "", "key store not found")) from None
    try:
        data = json.loads(_fernet_of(key).decrypt(token))
    except InvalidToken:
        raise MevopsError(Problem(str(store), None, "", "cannot decrypt with this key (wrong key or corrupted file); "
                                  "the file is untouched")) from None
    if not isinstance(data, dict):
        raise MevopsError(Problem(str(store), None, "", "key store does not hold a mapping"))
    return data


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def encrypt_store(store: Path, key: bytes, values: dict[str, str]) -> None:
    store.parent.mkdir(parents=True, exist_ok=True)
    _write_private(store, _fernet_of(key).encrypt(json.dumps(values, sort_keys=True).encode()))


def rotate_store(store: Path, key: bytes, key_path: Path) -> int:
    """Re-encrypt under a new key. Order: the old key is copied to <key>.old, the store is
    re-encrypted, then the new key replaces the old: a crash leaves a store one of the two keys opens."""
    from cryptography.fernet import Fernet

    values = decrypt_store(store, key)
    new = Fernet.generate_key()
    _write_private(key_path.with_name(key_path.name + ".old"), key)
    _write_private(key_path.with_name(key_path.name + ".new"), new)
    encrypt_store(store, new, values)
    os.replace(key_path.with_name(key_path.name + ".new"), key_path)
    return len(values)
