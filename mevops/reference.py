"""Where the shipped reference workspace and templates live.

A wheel carries them inside the package (``mevops/_reference``, copied at build time by
``setup.py``); an editable checkout reads them from the repository root.
"""

from __future__ import annotations

from pathlib import Path

REFERENCE_DIRS = ("chains", "config", "environments", "mev", "infrastructure")
_PACKAGE = Path(__file__).resolve().parent


def reference_root() -> Path:
    bundled = _PACKAGE / "_reference"
    if (bundled / "config").is_dir():
        return bundled
    checkout = _PACKAGE.parent
    if (checkout / "config" / "global.yml").is_file():
        return checkout
    raise RuntimeError("the mevops reference workspace is missing from this installation")  # a packaging bug


def templates_root() -> Path:
    return reference_root() / "templates"
