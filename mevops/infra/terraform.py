"""Terraform targets through python-terraform, fixed for Terraform 1.x.

A target is a rendered root module, ``infrastructure/deployment/terraform/targets/<target>``; its
state, plan file and ``.terraform`` directory live in the workspace under
``infrastructure/state/<env>/<target>/`` (the targets declare an empty ``backend "local"`` and
``init`` passes ``-backend-config=path=...``), so the rendered tree stays pure output.

python-terraform 0.10 is used for what it does well (turning options into argv) and wrapped where it
is wrong for Terraform 1.x: ``destroy()`` sends ``-force`` (removed in Terraform 0.15: "flag
provided but not defined") instead of ``-auto-approve``; ``cmd()`` cannot stream (its
``synchronous=False`` leaks into argv as ``-synchronous=false``) nor take an environment; every
command gets ``{}`` as an empty ``-var-file``; and it reads ``terraform.tfstate`` from the working
directory after each command. ``TerraformRunner`` fixes those four.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mevops.errors import MevopsError, Problem

try:
    from python_terraform import IsFlagged, IsNotFlagged, Terraform
except ModuleNotFoundError:  # pragma: no cover - a declared dependency
    raise MevopsError(Problem("python-terraform", None, "", "mevops infra needs python-terraform "
                              "(pip install python-terraform)")) from None
from mevops.infra import InfraFailed
from mevops.infra.credentials import missing_credentials
from mevops.infra.state import TERRAFORM_DIR, check_rendered_env, rendered_dir, state_dir

TARGETS = ("local", "aws", "gcp", "azure")
LOCK_TIMEOUT = "60s"
Echo = Callable[[str], None]


class TerraformRunner(Terraform):
    """python-terraform's argv building, with Terraform 1.x semantics and streamed output."""

    def __init__(self, working_dir: Path, *, binary: str, env: dict[str, str], echo: Echo | None = None) -> None:
        super().__init__(working_dir=str(working_dir), terraform_bin_path=binary)
        self.variables = None  # otherwise python-terraform adds an empty -var-file to every command
        self.env = env
        self.echo = echo

    def read_state_file(self, file_path: str | None = None) -> None:
        """The state is the backend's (in the workspace), not ``<working dir>/terraform.tfstate``."""
        self.tfstate = None

    def destroy(self, dir_or_plan: str | None = None, auto_approve: bool = True, **kwargs: Any):  # noqa: ANN201
        """``terraform destroy -auto-approve`` (python-terraform sends ``-force``, which 1.x rejects)."""
        kwargs["auto_approve"] = IsFlagged if auto_approve else IsNotFlagged
        return super().destroy(dir_or_plan, force=IsNotFlagged, **kwargs)

    def cmd(self, cmd: str, *args: Any, **kwargs: Any) -> tuple[int, str, str]:
        """Run one command, echoing each output line as it comes; stderr is merged into stdout."""
        echo = kwargs.pop("echo", self.echo)
        for unsupported in ("capture_output", "raise_on_error", "synchronous"):
            kwargs.pop(unsupported, None)
        argv = self.generate_cmd_string(cmd, *args, **kwargs)
        try:
            proc = subprocess.Popen(argv, cwd=self.working_dir, env=self.env, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, bufsize=1)
        except OSError as exc:
            raise MevopsError(Problem(argv[0], None, "terraform", f"cannot run: {exc.strerror or exc}")) from None
        lines = []
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if echo is not None:
                echo(line.rstrip("\n"))
        rc = proc.wait()
        self.temp_var_files.clean_up()
        return rc, "".join(lines), ""


def terraform_binary() -> str:
    path = shutil.which("terraform")
    if path is None:
        raise MevopsError(Problem("terraform", None, "", "terraform is not installed (https://developer.hashicorp.com/"
                                  "terraform/install); mevops infra needs Terraform >= 1.5"))
    return path


def _errors(output: str, limit: int = 12) -> str:
    """Terraform's "Error: ..." blocks, shortened: what the user needs to read."""
    lines = output.splitlines()
    start = next((i for i, line in enumerate(lines) if line.lstrip("│ ").startswith("Error:")), max(0, len(lines) - limit))
    kept = [line.lstrip("│╷╵ ").rstrip() for line in lines[start:]]
    return "\n".join(line for line in kept if line)[:2000] or "(no output)"


@dataclass
class PlanResult:
    changes: bool
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class TerraformTarget:
    """One rendered target and its state in the workspace."""

    name: str
    env: str
    config_dir: Path
    state_dir: Path
    runner: TerraformRunner

    @property
    def state_file(self) -> Path:
        return self.state_dir / "terraform.tfstate"

    @property
    def plan_file(self) -> Path:
        return self.state_dir / "plan.tfplan"

    def _next_steps(self, verb: str) -> str:
        return (f"state: {self.state_file} records what exists now. Fix the cause above, then run "
                f"`mevops infra {verb} --target {self.name} --env {self.env}` again"
                + ("" if verb == "destroy" else f" (or `mevops infra destroy --target {self.name}` to remove it)"))

    def init(self) -> None:
        rc, out, _ = self.runner.init(backend_config={"path": str(self.state_file)}, reconfigure=IsFlagged,
                                      input=False, echo=None)
        if rc != 0:
            raise InfraFailed(f"terraform init failed in {self.config_dir}:\n{_errors(out)}")

    def plan(self, *, destroy: bool = False) -> PlanResult:
        """``terraform plan -out`` (streamed); the plan file is what ``apply`` applies."""
        self.plan_file.unlink(missing_ok=True)
        rc, out, _ = self.runner.plan(out=str(self.plan_file), input=False, lock_timeout=LOCK_TIMEOUT,
                                      destroy=IsFlagged if destroy else IsNotFlagged)
        if rc not in (0, 2):  # -detailed-exitcode: 0 no changes, 2 changes
            self.plan_file.unlink(missing_ok=True)
            raise InfraFailed(f"terraform plan failed for target {self.name}:\n{_errors(out)}")
        return PlanResult(rc == 2)

    def plan_counts(self) -> dict[str, int]:
        """Resource changes of the saved plan by action (create, update, delete, replace...)."""
        rc, out, _ = self.runner.cmd("show", str(self.plan_file), json=IsFlagged, no_color=IsFlagged, echo=None)
        if rc != 0:
            raise InfraFailed(f"terraform show failed:\n{_errors(out)}")
        counts: dict[str, int] = {}
        for change in json.loads(out).get("resource_changes", []):
            actions = change["change"]["actions"]
            key = "replace" if sorted(actions) == ["create", "delete"] else actions[0]
            if key != "no-op" and key != "read":
                counts[key] = counts.get(key, 0) + 1
        return counts

    def apply(self) -> None:
        """Apply the saved plan exactly as shown."""
        if not self.plan_file.is_file():
            raise MevopsError(Problem(str(self.plan_file), None, "plan", "no saved plan; run the plan first"))
        rc, out, _ = self.runner.apply(str(self.plan_file), input=False, lock_timeout=LOCK_TIMEOUT)
        self.plan_file.unlink(missing_ok=True)
        if rc != 0:
            raise InfraFailed(f"terraform apply failed for target {self.name}:\n{_errors(out)}\n{self._next_steps('apply')}")

    def destroy(self) -> None:
        rc, out, _ = self.runner.destroy(input=False, lock_timeout=LOCK_TIMEOUT)
        if rc != 0:
            raise InfraFailed(f"terraform destroy failed for target {self.name}:\n{_errors(out)}\n{self._next_steps('destroy')}")

    def outputs(self) -> dict[str, Any]:
        """``terraform output -json``: name → value (sensitive values masked)."""
        rc, out, _ = self.runner.output_cmd(json=IsFlagged, no_color=IsFlagged, echo=None)
        if rc != 0:
            raise InfraFailed(f"terraform output failed for target {self.name}:\n{_errors(out)}")
        raw = json.loads(out or "{}")
        return {name: ("(sensitive)" if o.get("sensitive") else o.get("value")) for name, o in raw.items()}

    def resource_count(self) -> int:
        """Resources in the state (0 before the first apply and after a destroy)."""
        if not self.state_file.is_file():
            return 0
        state = json.loads(self.state_file.read_text() or "{}")
        return sum(len(r.get("instances", [])) for r in state.get("resources", []) if r.get("mode") == "managed")


def open_target(workspace: Path, root: Path, env: str, target: str, echo: Echo | None = None) -> TerraformTarget:
    """Check everything a user can get wrong (exit 2), then ``terraform init`` the target."""
    if target not in TARGETS:
        raise MevopsError(Problem("--target", None, target, f"unknown target (one of: {', '.join(TARGETS)})"))
    binary = terraform_binary()
    config_dir = rendered_dir(root, f"{TERRAFORM_DIR}/targets/{target}", env, "--target")
    check_rendered_env(config_dir / "variables.tf", env, root)
    missing = missing_credentials(target)
    if missing:
        raise MevopsError(Problem("--target", None, target, missing))
    where = state_dir(workspace, env, "terraform", target)
    run_env = {**os.environ, "TF_DATA_DIR": str(where / ".terraform"), "TF_IN_AUTOMATION": "1", "TF_INPUT": "0",
               "CHECKPOINT_DISABLE": "1"}
    tf = TerraformTarget(target, env, config_dir, where, TerraformRunner(config_dir, binary=binary, env=run_env, echo=echo))
    tf.init()
    return tf
