"""A tiny supervisor for the process backend: ``python -m mevops.lifecycle.supervise SPEC.json``.

Runs one node binary detached in its own session, appends its output to a rotated log file,
restarts it with exponential backoff when it dies, and on SIGTERM stops it politely: SIGTERM,
the grace period, then SIGKILL. Its state lives in a JSON PID file beside the data.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

MAX_LOG_BYTES = 50 * 1024 * 1024
KEEP_LOGS = 5


def rotate(log: Path, max_bytes: int = MAX_LOG_BYTES, keep: int = KEEP_LOGS) -> None:
    try:
        if log.stat().st_size < max_bytes:
            return
    except FileNotFoundError:
        return
    for i in range(keep - 1, 0, -1):
        older = log.with_name(f"{log.name}.{i}")
        if older.exists():
            older.replace(log.with_name(f"{log.name}.{i + 1}"))
    log.replace(log.with_name(f"{log.name}.1"))


_KEY = re.compile(rb"0x[0-9a-fA-F]{64}")
_SECRET_LINE = re.compile(rb"(?i)(mnemonic|private key|secret)")
REDACTED = b"[redacted by mevops]"


class Redactor:
    """Keeps private keys out of logs: dev chains such as anvil print their accounts' keys and
    mnemonic at start. Inside a 'Private Keys' block every 32-byte hex value is redacted; lines
    that name a mnemonic or secret lose their value. Transaction and block hashes elsewhere stay."""

    def __init__(self) -> None:
        self.in_keys = False

    def __call__(self, line: bytes) -> bytes:
        stripped = line.strip()
        if stripped.lower().startswith(b"private keys"):
            self.in_keys = True
            return line
        if self.in_keys:
            if stripped and not stripped.startswith(b"=") and not _KEY.search(stripped):
                self.in_keys = False
            else:
                return _KEY.sub(REDACTED, line)
        if _SECRET_LINE.search(line) and b":" in line:
            head, _, _ = line.partition(b":")
            return head + b": " + REDACTED + b"\n"
        return line


def pump(source, log: Path) -> None:  # noqa: ANN001
    redact = Redactor()
    with source, open(log, "ab", buffering=0) as out:
        for line in iter(source.readline, b""):
            out.write(redact(line))


def write_state(path: Path, state: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state))
    tmp.replace(path)


def main(spec_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text())
    pid_file = Path(spec["pid_file"])
    log = Path(spec["log_file"])
    log.parent.mkdir(parents=True, exist_ok=True)
    grace = float(spec.get("grace", 30))
    max_restarts = int(spec.get("max_restarts", 5))
    stopping = False
    child: subprocess.Popen | None = None
    state = {"supervisor": os.getpid(), "child": None, "state": "starting", "restarts": 0,
             "started": time.time(), "argv": spec["argv"], "last_exit": None}

    def on_term(signum, frame):  # noqa: ANN001, ARG001
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    backoff = 1.0
    while True:
        rotate(log)
        with open(log, "ab", buffering=0) as out:
            out.write(f"--- mevops: starting {' '.join(spec['argv'][:1])} at {time.strftime('%Y-%m-%dT%H:%M:%S')}\n".encode())
        child = subprocess.Popen(spec["argv"], cwd=spec.get("cwd"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, env={**os.environ, **spec.get("env", {})})
        threading.Thread(target=pump, args=(child.stdout, log), daemon=True).start()
        state.update(child=child.pid, state="running", child_started=time.time())
        write_state(pid_file, state)
        while child.poll() is None and not stopping:
            time.sleep(0.1)
        if stopping:
            break
        state.update(last_exit=child.returncode, restarts=state["restarts"] + 1)
        if state["restarts"] > max_restarts:
            state.update(state="crashed", child=None)
            write_state(pid_file, state)
            return 1
        state.update(state="restarting")
        write_state(pid_file, state)
        deadline = time.monotonic() + backoff
        while time.monotonic() < deadline and not stopping:
            time.sleep(0.05)
        backoff = min(backoff * 2, 30.0)
        if stopping:
            child = None
            break
    if child is not None and child.poll() is None:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    pid_file.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
