"""kill -9 at many points of `migrate apply`, then `resume`: nothing lost or corrupted, the final tree
exactly as planned. Rollback after a partial apply (and an interrupted rollback) restores the original
tree byte for byte: contents, modes, owners, times, links, hard links, sparseness."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mevops.migrate.apply import steps_of
from mevops.migrate.plan import load_plan
from tests.migrate_fixture import compare_trees, expected_tree, make_messy_tree, snapshot_tree, tree_state

SHM = Path("/dev/shm")


class Scenario:
    """One fixture at fixed paths, rebuilt identically before every run, so one plan serves them all."""

    def __init__(self, base: Path, root: Path) -> None:
        self.base, self.root = base, root
        self.src = base / "nodes"
        self.plan_file = base / "plan.yml"
        self.env = {**os.environ, "XDG_STATE_HOME": str(base / "state")}
        self.env.pop("MEVOPS_MIGRATE_FAULT", None)
        self.reset()
        result = self.mevops("plan", self.src, "--root", root, "-o", self.plan_file)
        assert result.returncode == 0, result.stderr
        self.plan = load_plan(self.plan_file)
        self.before = snapshot_tree(self.src)
        self.expected = expected_tree(self.before, self.plan, self.src)
        self.steps = steps_of(self.plan)

    def reset(self) -> None:
        for path in (self.src, self.base / "nodes-outside", self.root, self.base / "state"):
            if path.exists():
                subprocess.run(["chmod", "-R", "u+rwx", str(path)], check=False)
                shutil.rmtree(path)
        make_messy_tree(self.src)

    def mevops(self, *args: object, fault: str | None = None) -> subprocess.CompletedProcess[str]:
        env = dict(self.env)
        if fault:
            env["MEVOPS_MIGRATE_FAULT"] = fault
        return subprocess.run([sys.executable, "-m", "mevops", "migrate", *map(str, args)], env=env,
                              capture_output=True, text=True, timeout=300, check=False)

    def final_problems(self) -> list[str]:
        return compare_trees(self.expected, tree_state(self.src, self.root), self.plan, allocation=False)

    def source_problems(self) -> list[str]:
        after = snapshot_tree(self.src)
        diffs = [f"{k}: {self.before.get(k)} != {after.get(k)}" for k in sorted(set(self.before) | set(after))
                 if self.before.get(k) != after.get(k)]
        leftovers = [p for p in os.listdir(self.root) if p != ".mevops"] if self.root.exists() else []
        return diffs + [f"left in the root: {p}" for p in leftovers]


def kill_points(scenario: Scenario, copies: bool, count: int, seed: int) -> list[str]:
    """A fixed-seed sample of (step, phase) kill points over every kind of step and phase
    (MEVOPS_MIGRATE_KILL_POINTS=all runs every one; =N a bigger sample)."""
    points = []
    for s in scenario.steps:
        if s.op == "rewrite":
            phases = ["before", "mid", "after"]
        elif copies:
            phases = ["before", "mid", "remove", "after"]
        else:
            phases = ["before", "after"]
        points += [f"kill:{s.n}:{p}" for p in phases]
    if os.environ.get("MEVOPS_MIGRATE_KILL_POINTS") == "all":
        return points
    count = int(os.environ.get("MEVOPS_MIGRATE_KILL_POINTS") or count)
    rng = random.Random(seed)
    first_last = [points[0], points[-1]]
    return first_last + rng.sample(points[2:], min(count, len(points)) - 2)


def forked_apply(scenario: Scenario, fault: str) -> int:
    """`migrate apply` in a forked child (modules already imported: no interpreter start-up per kill
    point); the fault SIGKILLs it like `kill -9` would. Returns the child's status (-9 when killed)."""
    from mevops.migrate.apply import apply_plan
    from mevops.migrate.faults import Faults

    pid = os.fork()
    if pid == 0:  # the child: apply, then leave without running any of pytest's cleanup
        code = 0
        try:
            apply_plan(load_plan(scenario.plan_file), scenario.plan_file.read_text(), faults=Faults(fault))
        except BaseException:  # noqa: BLE001 - report through the exit status only
            code = 3
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def crash_and_resume(scenario: Scenario, fault: str, cli: bool = False) -> bool:
    """apply (a real process: the CLI, or a fork) dies by SIGKILL at ``fault``; resume; the tree must be
    exactly as planned. Returns whether the kill happened (a mid-copy point of an item that ends up
    hard-linked to an earlier copy, for one, is never reached: apply then simply finishes)."""
    from mevops.migrate.apply import resume
    from mevops.migrate.journal import Migration
    from mevops.migrate.verify import verify

    scenario.reset()
    if cli:
        crashed = scenario.mevops("apply", scenario.plan_file, "--yes", fault=fault)
        assert crashed.returncode == -signal.SIGKILL, (fault, crashed.returncode, crashed.stderr)
    else:
        status = forked_apply(scenario, fault)
        assert status in (-signal.SIGKILL, 0), (fault, status)
        if status == 0:
            assert not scenario.final_problems(), fault
            return False
    if cli:
        status = scenario.mevops("status")
        assert status.returncode == 0 and "interrupted" in status.stdout, status.stdout + status.stderr
        resumed = scenario.mevops("resume")
        assert resumed.returncode == 0, (fault, resumed.stderr)
    else:
        resume(Migration.find(scenario.root))
    problems = scenario.final_problems()
    assert not problems, (fault, problems[:10])
    if cli:
        checked = scenario.mevops("verify", scenario.plan_file)
        assert checked.returncode == 0, (fault, checked.stdout[-2000:])
    else:
        bad = [c for c in verify(Migration.find(scenario.root)) if not c.ok]
        assert not bad, (fault, bad[:5])
    return True


@pytest.fixture(scope="module")
def same_fs(tmp_path_factory) -> Scenario:
    base = tmp_path_factory.mktemp("crash-samefs")
    return Scenario(base, base / "root")


@pytest.fixture(scope="module")
def cross_fs(tmp_path_factory) -> Scenario:
    if not SHM.is_dir() or os.stat(SHM).st_dev == os.stat(tmp_path_factory.getbasetemp()).st_dev:
        pytest.skip("needs /dev/shm on another filesystem than the temporary directory")
    base = tmp_path_factory.mktemp("crash-crossfs")
    root = SHM / f"mevops-test-{os.getpid()}-crash"
    shutil.rmtree(root, ignore_errors=True)
    yield Scenario(base, root)
    shutil.rmtree(root, ignore_errors=True)


def test_kill_anywhere_then_resume_same_filesystem(same_fs):
    points = kill_points(same_fs, copies=False, count=12, seed=4)
    killed = sum(crash_and_resume(same_fs, fault, cli=i == 0) for i, fault in enumerate(points))
    print(f"same filesystem: {killed} of {len(points)} kill points reached, every one resumed to the planned tree")
    assert killed == len(points)


def test_kill_anywhere_then_resume_across_filesystems(cross_fs):
    points = kill_points(cross_fs, copies=True, count=12, seed=9)
    killed = sum(crash_and_resume(cross_fs, fault, cli=i == 0) for i, fault in enumerate(points))
    print(f"cross-filesystem: {killed} of {len(points)} kill points reached, every one resumed to the planned tree")
    assert killed >= len(points) * 0.9, f"only {killed} of {len(points)} kill points were reached"


@pytest.mark.parametrize("where", ["first", "middle", "rewrite"])
def test_rollback_after_partial_apply_restores_every_byte(same_fs, where):
    moves = [s for s in same_fs.steps if s.op == "move"]
    step = {"first": moves[0], "middle": moves[len(moves) // 2],
            "rewrite": next(s for s in same_fs.steps if s.op == "rewrite")}[where]
    same_fs.reset()
    assert forked_apply(same_fs, f"kill:{step.n}:{'mid' if where == 'rewrite' else 'after'}") == -signal.SIGKILL
    rollback_in_process(same_fs)
    assert not same_fs.source_problems()


@pytest.mark.parametrize("phase", ["mid", "remove"])
def test_rollback_after_partial_copy_restores_every_byte(cross_fs, phase):
    step = next(s for s in cross_fs.steps if s.item.source == "geth-mainnet/data")
    cross_fs.reset()
    assert forked_apply(cross_fs, f"kill:{step.n}:{phase}") == -signal.SIGKILL
    rollback_in_process(cross_fs)
    assert not cross_fs.source_problems()


def rollback_in_process(scenario: Scenario) -> None:
    from mevops.migrate.journal import Migration
    from mevops.migrate.rollback import rollback

    rollback(Migration.find(scenario.root))


def test_interrupted_rollback_runs_again_to_the_original(cross_fs):
    step = next(s for s in cross_fs.steps if s.item.source == "mev-bots/arb-bot-py")
    cross_fs.reset()
    assert cross_fs.mevops("apply", cross_fs.plan_file, "--yes").returncode == 0
    crashed = cross_fs.mevops("rollback", cross_fs.plan_file, "--yes", fault=f"undo-kill:{step.n}:mid")
    assert crashed.returncode == -signal.SIGKILL
    assert "rollback interrupted" in cross_fs.mevops("status").stdout
    refused = cross_fs.mevops("resume")
    assert refused.returncode == 2 and "rollback" in refused.stderr
    result = cross_fs.mevops("rollback", cross_fs.plan_file, "--yes")
    assert result.returncode == 0, result.stderr
    assert not cross_fs.source_problems()


def test_external_kill_during_a_big_copy_then_resume(tmp_path):
    """A real SIGKILL from outside at a random moment of a copy of bigger files."""
    if os.stat(SHM).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("needs /dev/shm on another filesystem")
    from tests.migrate_fixture import FixtureSpec

    root = SHM / f"mevops-test-{os.getpid()}-bigkill"
    shutil.rmtree(root, ignore_errors=True)
    try:
        src = make_messy_tree(tmp_path / "nodes", FixtureSpec(chaindata_files=2, file_size=1 << 20, sparse_size=32 << 20))
        env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
        run = lambda *a: subprocess.run([sys.executable, "-m", "mevops", "migrate", *map(str, a)], env=env,  # noqa: E731
                                        capture_output=True, text=True, timeout=300, check=False)
        assert run("plan", src, "--root", root, "-o", tmp_path / "plan.yml").returncode == 0
        plan = load_plan(tmp_path / "plan.yml")
        expected = expected_tree(snapshot_tree(src), plan, src)
        proc = subprocess.Popen([sys.executable, "-m", "mevops", "migrate", "apply", str(tmp_path / "plan.yml"), "--yes"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        journal = root / ".mevops/migrate/current/journal.jsonl"
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:  # wait for copying to be under way
            if journal.exists() and journal.read_text().count('"kind": "copy"') >= 3:
                break
            time.sleep(0.02)
        time.sleep(random.Random(7).uniform(0.0, 0.3))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert run("resume").returncode == 0
        assert not compare_trees(expected, tree_state(src, root), plan, allocation=False)
        assert run("verify", tmp_path / "plan.yml").returncode == 0
    finally:
        shutil.rmtree(root, ignore_errors=True)
