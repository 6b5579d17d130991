"""Provision node hosts: the rendered ``infrastructure/deployment/ansible/site.yml`` through ansible-runner.

Each task's result is echoed as it happens (one line per task and host); a failed or unreachable
host ends the run with exit 1 naming the host, the task and Ansible's message, and where the full
log is. Artifacts (stdout, events) are kept in the workspace under
``infrastructure/state/<env>/ansible/`` (the last few runs).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mevops.errors import MevopsError, Problem
from mevops.infra import InfraFailed
from mevops.infra.state import ANSIBLE_DIR, rendered_dir, state_dir

PLAYBOOK = "site.yml"
KEEP_ARTIFACTS = 5
_SHOWN = {"runner_on_ok": "ok", "runner_on_failed": "FAILED", "runner_on_unreachable": "UNREACHABLE",
          "runner_on_skipped": "skipped"}


@dataclass
class ProvisionRequest:
    inventory: Path
    check: bool = False
    syntax_check: bool = False
    limit: str | None = None
    extra_vars: dict[str, Any] = field(default_factory=dict)


@dataclass
class ProvisionReport:
    status: str
    rc: int
    stats: dict[str, dict[str, int]]
    failures: list[str]
    artifacts: Path | None


def ansible_playbook() -> str:
    """ansible-playbook beside this Python (its virtualenv, activated or not), else on PATH."""
    found = shutil.which("ansible-playbook", path=str(Path(sys.executable).parent)) or shutil.which("ansible-playbook")
    if found is None:
        raise MevopsError(Problem("ansible-playbook", None, "", "Ansible is not installed (pip install ansible-core)"))
    return found


def _runner():  # noqa: ANN202
    try:
        import ansible_runner
    except ModuleNotFoundError:
        raise MevopsError(Problem("ansible-runner", None, "", "mevops infra provision needs ansible-runner "
                                  "(pip install ansible-runner)")) from None
    return ansible_runner


def parse_vars(pairs: list[str]) -> dict[str, Any]:
    """``--var KEY=VALUE`` pairs (VALUE is YAML: a string, a number, a list...), or exit 2."""
    import yaml

    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.isidentifier():
            raise MevopsError(Problem("--var", None, pair, "expected KEY=VALUE (KEY a variable name)"))
        try:
            out[key] = yaml.safe_load(value) if value.strip() else ""
        except yaml.YAMLError as exc:
            raise MevopsError(Problem("--var", None, key, f"VALUE is not YAML: {str(exc).splitlines()[0]}")) from None
    return out


class _Progress:
    """ansible-runner event handler: one line per task start and per host result."""

    def __init__(self, echo: Callable[[str], None]) -> None:
        self.echo = echo
        self.failures: list[str] = []

    def __call__(self, event: dict[str, Any]) -> bool:
        kind = event.get("event", "")
        data = event.get("event_data") or {}
        if kind == "playbook_on_play_start":
            self.echo(f"PLAY {data.get('play', '')}")
        elif kind in ("playbook_on_task_start", "playbook_on_handler_task_start"):
            self.echo(f"  {'HANDLER' if 'handler' in kind else 'TASK'} {data.get('task', '')}")
        elif kind in _SHOWN:
            status = _SHOWN[kind]
            res = data.get("res") or {}
            if kind == "runner_on_ok" and res.get("changed"):
                status = "changed"
            host = data.get("host", "?")
            line = f"    {status:<11} {host}"
            if kind in ("runner_on_failed", "runner_on_unreachable") and not data.get("ignore_errors"):
                message = str(res.get("msg") or res.get("stderr") or res.get("reason") or "failed").strip()
                self.failures.append(f"{host}: {data.get('task', '?')}: {message.splitlines()[0][:300] if message else ''}")
                line += f"  {message[:300]}"
            if data.get("item") is not None and kind != "runner_on_skipped":
                item = data["item"]
                label = (item.get("path") or item.get("client") or "") if isinstance(item, dict) else item
                line += f"  ({str(label)[:80]})" if label else ""
            self.echo(line)
        elif kind == "playbook_on_stats":
            count = lambda key, host: (data.get(key) or {}).get(host, 0)  # noqa: E731
            hosts = sorted(set(data.get("ok") or {}) | set(data.get("failures") or {}))
            self.echo("RECAP " + ", ".join(f"{h}: ok={count('ok', h)} changed={count('changed', h)} failed={count('failures', h)}"
                                           for h in hosts))
        return True  # keep the event in the artifacts


def provision(workspace: Path, root: Path, env: str, req: ProvisionRequest,
              echo: Callable[[str], None] = print) -> ProvisionReport:
    """Run site.yml against ``req.inventory``; exit 2 for bad input, InfraFailed (exit 1) when Ansible fails."""
    if not req.inventory.exists():
        raise MevopsError(Problem(str(req.inventory), None, "--inventory", "no such inventory file or directory"))
    project = rendered_dir(root, ANSIBLE_DIR, env, "ansible")
    if not (project / PLAYBOOK).is_file():
        raise MevopsError(Problem(str(project / PLAYBOOK), None, "ansible", f"not rendered; run `mevops render --env {env}`"))
    binary = ansible_playbook()
    runner = _runner()
    private = state_dir(workspace, env, "ansible")
    flags = ["--diff"] + (["--check"] if req.check else []) + (["--syntax-check"] if req.syntax_check else [])
    progress = _Progress(echo)
    env_vars = {"ANSIBLE_CONFIG": str(project / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1", "ANSIBLE_RETRY_FILES_ENABLED": "0",
                "ANSIBLE_LOCAL_TEMP": str(private / "tmp"),
                # ansible-runner runs `ansible-playbook` from PATH (its `binary` option would drop the playbook and events)
                "PATH": str(Path(binary).parent) + os.pathsep + os.environ.get("PATH", "")}
    result = runner.run(private_data_dir=str(private), project_dir=str(project), playbook=PLAYBOOK,
                        inventory=str(req.inventory.resolve()), limit=req.limit, cmdline=" ".join(flags),
                        extravars=dict(req.extra_vars) or None, envvars=env_vars, event_handler=progress, quiet=True,
                        rotate_artifacts=KEEP_ARTIFACTS, suppress_env_files=True)
    artifacts = Path(result.config.artifact_dir) if getattr(result, "config", None) else None
    report = ProvisionReport(result.status, result.rc, result.stats or {}, progress.failures, artifacts)
    if result.status != "successful" or result.rc != 0:
        log = f"{artifacts}/stdout" if artifacts else str(private)
        what = "\n".join(f"  {f}" for f in progress.failures) or _tail(artifacts)
        raise InfraFailed(f"ansible-playbook {PLAYBOOK} failed (rc {result.rc}, {result.status}):\n{what}\n"
                          f"full log: {log}. Fix the cause and run `mevops infra provision` again: the playbook is "
                          "idempotent, hosts that succeeded are left as they are.")
    return report


def _tail(artifacts: Path | None, lines: int = 15) -> str:
    stdout = artifacts / "stdout" if artifacts else None
    if stdout is None or not stdout.is_file():
        return "  (no output)"
    return "\n".join("  " + line for line in stdout.read_text(errors="replace").splitlines()[-lines:])
