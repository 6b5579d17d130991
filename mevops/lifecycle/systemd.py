"""The systemd backend: the rendered units, installed and driven through systemctl.

``up`` installs ``nodes/chains/<chain>/deployment/systemd/<service>.service`` into
``/etc/systemd/system`` (or ``~/.config/systemd/user`` with ``user=True``), reloads systemd when a
unit changed, ``enable --now``s them and restarts running units whose file changed. ``down``
``disable --now``s them (unit files and data stay). ``status`` reads ``systemctl show``; ``logs`` is
systemd's journal for the units followed by the node's own log file (the units append to it).

Every systemctl and journalctl call goes through one runner (``run_tool``), so a test can put a
fake on PATH or pass another runner.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from mevops.errors import MevopsError, Problem
from mevops.lifecycle.base import Node, ServiceStatus

if TYPE_CHECKING:
    from mevops.render.context import ClientView

SYSTEM_UNIT_DIR = Path("/etc/systemd/system")
SHOW = "LoadState,ActiveState,SubState,MainPID,NRestarts,Result,ExecMainStatus,UnitFileState"
Runner = Callable[[list[str]], "subprocess.CompletedProcess[str]"]


def run_tool(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """Run systemctl/journalctl; a missing tool or a failed call is a user-facing error (exit 2)."""
    path = shutil.which(argv[0])
    if path is None:
        raise MevopsError(Problem("--backend systemd", None, "", f"{argv[0]} is not installed: this host does not run "
                                  "systemd; choose --backend process or docker"))
    result = subprocess.run([path, *argv[1:]], capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
                            check=False)
    if result.returncode and argv[1:2] != ["show"]:
        reason = (result.stderr or result.stdout).strip().splitlines()
        last = reason[-1] if reason else f"exit {result.returncode}"
        raise MevopsError(Problem(" ".join(argv[:3]), None, "", f"failed: {last}"))
    return result


def user_unit_dir() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "systemd" / "user"


def rendered_unit(node: Node, client: ClientView) -> Path:
    return Path(node.chain.dir) / "deployment" / "systemd" / client.unit


def unit_setting(text: str, key: str) -> str | None:
    return next((line.split("=", 1)[1].strip() for line in text.splitlines() if line.startswith(f"{key}=")), None)


def exec_binary(exec_start: str) -> str:
    """The program of an ExecStart= line (prefixes such as ``-`` or ``+`` dropped, specifiers unescaped)."""
    import shlex

    try:
        words = shlex.split(exec_start)
    except ValueError:
        words = exec_start.split()
    return words[0].lstrip("@-:+!").replace("%%", "%") if words else ""


def as_user_unit(text: str) -> str:
    """A user manager cannot switch users and has no multi-user.target."""
    lines = [line for line in text.splitlines() if not line.startswith(("User=", "Group="))]
    return "\n".join(line.replace("WantedBy=multi-user.target", "WantedBy=default.target") for line in lines) + "\n"


class SystemdBackend:
    name = "systemd"

    def __init__(self, user: bool = False, unit_dir: str | Path | None = None, runner: Runner | None = None) -> None:
        self.user = user
        self.unit_dir = Path(unit_dir) if unit_dir else (user_unit_dir() if user else SYSTEM_UNIT_DIR)
        self.run = runner or run_tool

    def _systemctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run(["systemctl", *(["--user"] if self.user else []), *args])

    # -- up -------------------------------------------------------------------------------
    def up(self, node: Node) -> list[ServiceStatus]:
        units = {client.unit: self._unit_text(node, client) for client in node.services}
        for client in node.services:
            self._prepare_dirs(node, client, units[client.unit])
        replaced = [c.unit for c in node.services if (self.unit_dir / c.unit).exists() and
                    (self.unit_dir / c.unit).read_text() != units[c.unit]]
        running = [unit for unit in replaced if self._show(unit).get("ActiveState") == "active"]
        if self._install(units):
            self._systemctl("daemon-reload")
        self._systemctl("enable", "--now", *units)
        if running:
            self._systemctl("try-restart", *running)  # running units whose file changed pick it up
        return self.status(node)

    def _unit_text(self, node: Node, client: ClientView) -> str:
        source = rendered_unit(node, client)
        try:
            text = source.read_text()
        except FileNotFoundError:
            raise MevopsError(Problem(str(source), None, node.name,
                                      "no rendered systemd unit; run `mevops render` first")) from None
        binary = exec_binary(unit_setting(text, "ExecStart") or "")
        if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
            raise MevopsError(Problem(str(source), None, "ExecStart", f"{binary} is not an executable file; run "
                                      f"`mevops chain install {node.chain.name} --client {client.name}`"))
        return as_user_unit(text) if self.user else text

    def _prepare_dirs(self, node: Node, client: ClientView, text: str) -> None:
        """ReadWritePaths= must exist; a system unit's User= must exist and own them."""
        owner = None if self.user else unit_setting(text, "User")
        uid = gid = None
        if owner:
            import pwd

            try:
                entry = pwd.getpwnam(owner)
            except KeyError:
                raise MevopsError(Problem(client.unit, None, "User", f"the unit runs as {owner!r}, which does not exist; "
                                          f"create it (useradd --system {owner}) or use user units")) from None
            uid, gid = entry.pw_uid, entry.pw_gid
        for directory in (Path(client.data_dir), Path(client.log_dir)):
            directory.mkdir(parents=True, exist_ok=True)
            if uid is not None and os.geteuid() == 0 and directory.stat().st_uid != uid:
                os.chown(directory, uid, gid)

    def _install(self, units: dict[str, str]) -> list[str]:
        """Write the units that differ from what is installed; the names of those written."""
        self.unit_dir.mkdir(parents=True, exist_ok=True)
        changed = []
        for name, text in units.items():
            target = self.unit_dir / name
            try:
                if target.read_text() == text:
                    continue
            except FileNotFoundError:
                pass
            tmp = target.with_name(f".{name}.mevops-tmp")
            tmp.write_text(text)
            tmp.chmod(0o644)
            tmp.replace(target)
            changed.append(name)
        return changed

    # -- down -----------------------------------------------------------------------------
    def down(self, node: Node) -> list[ServiceStatus]:
        installed = [c.unit for c in reversed(node.services) if (self.unit_dir / c.unit).exists()]
        if installed:
            self._systemctl("disable", "--now", *installed)
        return self.status(node)

    def stop_unit(self, unit: str, grace: float, poll: float = 0.2) -> tuple[str, bool]:
        """Stop one unit, mevops's or not (``migrate apply --stop``), without waiting on systemd's job: up to ``grace``
        seconds for it to go inactive, then SIGKILL what is left of it. Its last ActiveState, and whether it was killed."""
        self._systemctl("stop", "--no-block", unit)
        active = self._wait_inactive(unit, grace, poll)
        if active in ("inactive", "failed", ""):
            return active, False
        self._systemctl("kill", "--signal=SIGKILL", unit)
        return self._wait_inactive(unit, 10, poll), True

    def _wait_inactive(self, unit: str, seconds: float, poll: float) -> str:
        deadline = time.monotonic() + seconds
        while True:
            active = self._show(unit).get("ActiveState", "")
            if active in ("inactive", "failed", "") or time.monotonic() >= deadline:
                return active
            time.sleep(poll)

    # -- status ---------------------------------------------------------------------------
    def status(self, node: Node) -> list[ServiceStatus]:
        return [self._status(client) for client in node.services]

    def _show(self, unit: str) -> dict[str, str]:
        shown = self._systemctl("show", unit, f"--property={SHOW}")
        return dict(line.split("=", 1) for line in shown.stdout.splitlines() if "=" in line)

    def _status(self, client: ClientView) -> ServiceStatus:
        props = self._show(client.unit)
        extra: dict[str, object] = {"unit": client.unit, "restarts": int(props.get("NRestarts") or 0),
                                    "enabled": props.get("UnitFileState", "")}
        load, active, sub = props.get("LoadState", ""), props.get("ActiveState", ""), props.get("SubState", "")
        if load in ("not-found", ""):
            return ServiceStatus(client.service, client.name, "stopped", detail="unit not installed", extra=extra)
        pid = int(props.get("MainPID") or 0) or None
        if active == "active":
            return ServiceStatus(client.service, client.name, "running", pid, extra=extra)
        if active == "activating":
            return ServiceStatus(client.service, client.name, "restarting" if sub == "auto-restart" else "starting", pid,
                                 extra=extra)
        if active == "failed":
            return ServiceStatus(client.service, client.name, "crashed", extra=extra,
                                 detail=f"{props.get('Result', '')}, exit status {props.get('ExecMainStatus', '?')}")
        return ServiceStatus(client.service, client.name, "stopping" if active == "deactivating" else "stopped", extra=extra)

    # -- logs -----------------------------------------------------------------------------
    def logs(self, node: Node, *, lines: int = 100, follow: bool = False) -> Iterator[str]:
        from mevops.lifecycle.supervise import Redactor

        for client in node.services:
            try:
                journal = self.run(["journalctl", *(["--user"] if self.user else []), "-u", client.unit, "-n", str(lines),
                                    "--no-pager", "-o", "short-iso"]).stdout
            except MevopsError as exc:  # no journal here: the node's own log file still tells
                journal = f"-- {client.unit}: journal unavailable ({exc.problems[0].reason})"
            yield from (line + "\n" for line in journal.splitlines())
            redact = Redactor()
            yield from (redact(line).decode(errors="replace")
                        for line in _tail(Path(client.log_file), lines, follow and client is node.services[-1]))


def _tail(path: Path, lines: int, follow: bool) -> Iterator[bytes]:
    try:
        with open(path, "rb") as fh:
            yield from fh.read().splitlines(True)[-lines:]
            while follow:
                line = fh.readline()
                if line:
                    yield line
                else:
                    time.sleep(0.2)
    except FileNotFoundError:
        return
