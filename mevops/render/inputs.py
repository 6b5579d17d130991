"""What a render reads from the workspace: validated once per change, then cached per user.

``load_inputs`` returns the effective config, the chain catalog and the strategies of an
environment as snapshots (plain objects, see ``mevops.config.snapshot``). The first render of a
workspace state validates it (pydantic) and stores the snapshots, pickled, under
``$XDG_CACHE_HOME/mevops/inputs/`` (``~/.cache``; the directory 0700, the files 0600); a later
render of the same state, in any process and into any target root, reads them back without
importing pydantic. The stored entry is used only if its fingerprint still matches: a hash of
every file validation reads (``mevops.yml`` and everything under ``INPUT_DIRS``, bytes and
names), every MEVOPS_<SECTION>__<KEY> variable (they layer the config; none is stored while one
that may hold a secret is set), the environment, the workspace path,
mevops' own version and code and the installed pydantic and PyYAML. Anything else — a missing, foreign, truncated or unreadable
entry, or a cache directory that cannot be written — means validating as if there were no
cache. Only a valid workspace is stored, and only the ``KEEP`` most recent entries are kept.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mevops.errors import MevopsError

if TYPE_CHECKING:
    from mevops.workspace import Workspace

INPUT_DIRS = ("config", "environments", "mev/config", "mev/strategies", "chains")
FORMAT = b"mevops-inputs-1"
KEEP = 32  # cache entries kept (one per workspace and environment; about 100 KB each)
_PACKAGE = Path(__file__).resolve().parent.parent


def user_cache_dir(name: str) -> Path | None:
    """``$XDG_CACHE_HOME/mevops/<name>`` (``~/.cache``), created private; None if not writable."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mevops" / name
    try:
        base.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return None
    return base if os.access(base, os.W_OK) else None


def _files(top: Path) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(top, followlinks=True):
        dirnames.sort()
        found += [Path(dirpath, f) for f in sorted(filenames)]
    return [p for p in found if p.is_file()]


def _code_stamp(h: "hashlib._Hash") -> None:
    """mevops' own code and the libraries validating depends on: a change to any module (or an
    upgrade) invalidates (stat only: cheap; the libraries are found, not imported)."""
    import importlib.util

    for library in ("pydantic", "pydantic_core", "yaml"):
        spec = importlib.util.find_spec(library)
        origin = spec.origin if spec is not None else None
        st = os.stat(origin) if origin else None
        h.update(f"{library}:{origin}:{st.st_size if st else 0}:{st.st_mtime_ns if st else 0}\0".encode())
    for dirpath, dirnames, filenames in os.walk(_PACKAGE):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for filename in sorted(filenames):
            if filename.endswith(".py"):
                st = os.stat(os.path.join(dirpath, filename))
                h.update(f"{os.path.relpath(os.path.join(dirpath, filename), _PACKAGE)}:{st.st_size}:{st.st_mtime_ns}\0".encode())


def overlay_variables() -> list[str]:
    """The MEVOPS_* variables that layer the config (``MEVOPS_<SECTION>__<KEY>``); the others
    (MEVOPS_SIGNER_KEY, MEVOPS_API_TOKEN, ...) are not configuration and never enter the cache."""
    return sorted(k for k in os.environ if k.startswith("MEVOPS_") and "__" in k)


_SECRET_WORDS = ("PASSWORD", "SECRET", "TOKEN", "KEY", "URL", "DSN", "AUTH", "CREDENTIAL")


def secret_overlay() -> str | None:
    """An overlay variable whose value may be a secret (a password, a URL with credentials...),
    if one is set: its value would be in the validated config, so that config is not written to disk."""
    for name in overlay_variables():
        last = name.rsplit("__", 1)[-1]
        if any(word in last for word in _SECRET_WORDS) and not last.endswith(("_FILE", "_PATH")):
            return name
    return None


def input_fingerprint(ws: "Workspace", env: str) -> str:
    """A hash of everything validating ``env`` of ``ws`` reads, and of the code that reads it."""
    from mevops import __version__

    h = hashlib.sha256(repr((FORMAT, __version__, env, str(ws.root))).encode())
    for name in overlay_variables():
        h.update(f"{name}={os.environ[name]}\0".encode())
    for path in [ws.root / "mevops.yml", *(p for d in INPUT_DIRS for p in _files(ws.root / d))]:
        h.update(f"{path.relative_to(ws.root)}\0".encode())
        h.update(hashlib.sha256(path.read_bytes()).digest())
    _code_stamp(h)
    return h.hexdigest()


@dataclass
class Inputs:
    """The validated model of one environment, as snapshots."""

    config: Any                # EffectiveConfig snapshot
    catalog: dict[str, Any]    # chain name → Chain snapshot
    strategies: list[Any]      # StrategyRecord, spec as a snapshot
    cached: bool = False       # read from the cache (nothing validated in this process)


def _entry(ws: "Workspace", env: str) -> Path | None:
    base = user_cache_dir("inputs")
    if base is None:
        return None
    key = hashlib.sha256(f"{ws.root}\0{env}".encode()).hexdigest()[:32]
    return base / f"{key}.pickle"


def _read(entry: Path, fingerprint: str) -> Inputs | None:
    head = FORMAT + b" " + fingerprint.encode() + b"\n"
    try:
        with open(entry, "rb") as fh:
            if fh.read(len(head)) != head:
                return None
            inputs = pickle.load(fh)
    except FileNotFoundError:
        return None
    except Exception:  # noqa: BLE001 - a damaged or foreign entry is a miss; validating replaces it
        return None
    return replace(inputs, cached=True) if isinstance(inputs, Inputs) else None


def _write(entry: Path, fingerprint: str, inputs: Inputs) -> None:
    data = FORMAT + b" " + fingerprint.encode() + b"\n" + pickle.dumps(inputs, protocol=pickle.HIGHEST_PROTOCOL)
    tmp = entry.with_name(f".{entry.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, entry)
    except OSError:  # a cache that cannot be written only costs the next render a validation
        tmp.unlink(missing_ok=True)
        return
    _prune(entry.parent)


def _prune(base: Path) -> None:
    """Keep the ``KEEP`` most recently written entries (workspaces come and go: tests, clones)."""
    try:
        entries = sorted(base.glob("*.pickle"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in entries[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass


def import_validation() -> None:
    """Import what ``validate_inputs`` needs (pydantic, the models): the slow part of validating."""
    import mevops.catalog
    import mevops.config.snapshot
    import mevops.config.validate
    import mevops.strategies.checks
    import mevops.strategies.store  # noqa: F401


def validate_inputs(ws: "Workspace", env: str) -> Inputs:
    """Validate the workspace (pydantic) and snapshot the result; MevopsError if it is invalid."""
    from mevops.config.snapshot import snapshot
    from mevops.config.validate import validate_workspace

    report = validate_workspace(ws, env)
    if not report.ok:
        raise MevopsError(report.problems)
    return Inputs(snapshot(report.config), snapshot(report.catalog),
                  [replace(r, spec=snapshot(r.spec)) for r in report.strategies])


def cached_inputs(ws: "Workspace", env: str, fingerprint: str) -> Inputs | None:
    """The stored snapshots of this state of the workspace, if any."""
    entry = _entry(ws, env)
    return _read(entry, fingerprint) if entry is not None else None


def store_inputs(ws: "Workspace", env: str, fingerprint: str, inputs: Inputs) -> None:
    """Cache validated inputs, unless the workspace changed since ``fingerprint`` was taken."""
    if secret_overlay() is not None:   # secrets never leak: an env-provided secret stays out of ~/.cache
        return
    entry = _entry(ws, env)
    if entry is not None and input_fingerprint(ws, env) == fingerprint:  # not edited while validating
        _write(entry, fingerprint, inputs)


def load_inputs(ws: "Workspace", env: str, fingerprint: str | None = None) -> Inputs:
    """The validated model of ``env``: from the cache if the inputs are unchanged, else validated
    (and stored). ``fingerprint``: ``input_fingerprint(ws, env)`` if the caller has it already."""
    fingerprint = fingerprint or input_fingerprint(ws, env)
    inputs = cached_inputs(ws, env, fingerprint)
    if inputs is None:
        inputs = validate_inputs(ws, env)
        store_inputs(ws, env, fingerprint, inputs)
    return inputs


class PendingInputs:
    """``load_inputs`` started: a validation (a cache miss) runs in a forked process, so the
    caller can prepare the rest of its work meanwhile (a render loads its templates: the two
    take about as long). ``validating`` says whether that is worth it; ``result()`` returns the
    inputs or raises what validating raised; ``close()`` reaps the process (it stores the
    snapshots after sending them)."""

    def __init__(self, ws: "Workspace", env: str, fingerprint: str) -> None:
        from mevops.render import prefork
        from mevops.render.worker import Worker, can_fork

        self._value = cached_inputs(ws, env, fingerprint)
        self._worker: Worker | prefork.Prefork | None = None
        self.validating = self._value is None
        started = prefork.take()  # the CLI's validator, waiting since the process started
        if not self.validating:
            if started is not None:
                started.close(kill=True)
        elif started is not None:
            self._worker = started.validate(ws, env, fingerprint)
        elif can_fork():
            self._worker = Worker("validating the workspace", lambda: validate_inputs(ws, env),
                                  lambda inputs: store_inputs(ws, env, fingerprint, inputs))
        else:
            self._value = validate_inputs(ws, env)
            store_inputs(ws, env, fingerprint, self._value)

    @property
    def pid(self) -> int | None:
        """The validating process, until it is reaped."""
        return self._worker.pid if self._worker is not None else None

    def ready(self) -> bool:
        """``result()`` would not wait."""
        return self._value is not None or self._worker is None or self._worker.ready()

    def result(self) -> Inputs:
        if self._value is None:
            assert self._worker is not None
            self._value = self._worker.result()
        return self._value

    def close(self) -> None:
        if self._worker is not None:
            self._worker.close()
