"""Human and machine output: rich for people, JSON for scripts."""

from __future__ import annotations

import json
import sys
from typing import Any

_SECRET_WORDS = ("private_key", "api_key", "secret", "password", "token", "mnemonic")


def is_secret_key(key: object) -> bool:
    return isinstance(key, str) and any(word in key.lower() for word in _SECRET_WORDS)


def mask_secrets(value: Any) -> Any:
    """A copy with every value under a secret-looking key replaced by '***'."""
    if isinstance(value, dict):
        return {k: ("***" if is_secret_key(k) and v is not None else mask_secrets(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_secrets(v) for v in value]
    return value


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def console(stderr: bool = False):  # noqa: ANN201
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)
