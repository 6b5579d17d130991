"""`migrate apply --stop` pieces that need no live node: which owner a holder's /proc says it has (from
fake /proc cgroup texts and a fake /proc tree), container paths translated through fake mountinfo,
and stopping a systemd unit through the systemd backend driving a fake systemctl (no systemd runs
here: PID 1 is not systemd)."""

from __future__ import annotations

import os
import subprocess

import pytest

from mevops.errors import CheckFailed
from mevops.lifecycle.systemd import SystemdBackend
from mevops.migrate.holders import Busy, Owner, cgroup_owner, owner_of
from mevops.migrate.mountns import Translator, read_mountinfo
from mevops.migrate.stop import Stopper, stop_users

CID = "3f" * 32
OTHER = "a1" * 32

FAKE_CGROUPS = [
    # cgroup v2, a system service
    ("0::/system.slice/geth.service\n", Owner("unit", "geth.service")),
    # v2 with a delegated sub-cgroup below the unit
    ("0::/system.slice/erigon.service/payload\n", Owner("unit", "erigon.service")),
    # cgroup v1: the name=systemd hierarchy says where systemd put it
    ("12:memory:/system.slice/nitro.service\n1:name=systemd:/system.slice/nitro.service\n0::/\n", Owner("unit", "nitro.service")),
    # a user manager's unit
    ("0::/user.slice/user-1000.slice/user@1000.service/app.slice/reth.service\n", Owner("user-unit", "reth.service")),
    # a login session: no unit owns it
    ("0::/user.slice/user-1000.slice/session-3.scope\n", None),
    # the user manager itself is not a node's unit
    ("0::/user.slice/user-1000.slice/user@1000.service/init.scope\n", None),
    # Docker with the systemd cgroup driver, and with cgroupfs (v1)
    (f"0::/system.slice/docker-{CID}.scope\n", Owner("container", CID)),
    (f"4:memory:/docker/{CID}\n1:name=systemd:/docker/{CID}\n", Owner("container", CID)),
    # podman (systemd driver; cgroupfs as in this repository's podman tests)
    (f"0::/machine.slice/libpod-{CID}.scope/container\n", Owner("container", CID)),
    (f"0::/libpod_parent/libpod-{CID}\n", Owner("container", CID)),
    # podman's conmon is not the container
    (f"0::/machine.slice/libpod-conmon-{CID}.scope\n", None),
    # Kubernetes
    (f"0::/kubepods.slice/kubepods-besteffort.slice/cri-containerd-{OTHER}.scope\n",
     Owner("pod", f"/kubepods.slice/kubepods-besteffort.slice/cri-containerd-{OTHER}.scope")),
    ("0::/\n", None),
]


@pytest.mark.parametrize(("text", "owner"), FAKE_CGROUPS)
def test_fake_proc_cgroup_text_maps_to_its_owner(text, owner):
    assert cgroup_owner(text, own="0::/user.slice/user-0.slice/session-1.scope\n") == owner


def test_the_unit_or_container_mevops_runs_in_is_not_an_owner():
    """Stopping it would stop mevops itself: the holder counts as a bare process."""
    assert cgroup_owner("0::/system.slice/ci-runner.service\n", own="0::/system.slice/ci-runner.service\n") is None
    assert cgroup_owner(f"0::/system.slice/docker-{CID}.scope\n", own=f"0::/system.slice/docker-{CID}.scope\n") is None
    assert cgroup_owner(f"0::/system.slice/docker-{OTHER}.scope\n",
                        own=f"0::/system.slice/docker-{CID}.scope\n") == Owner("container", OTHER)


def _fake_proc(tmp_path, processes: dict[int, tuple[int, str, str]]):
    """A fake /proc: pid → (parent, cmdline words joined by spaces, cgroup text); "self" is a bare shell."""
    proc = tmp_path / "proc"
    for pid, (parent, cmdline, cgroup) in processes.items():
        d = proc / str(pid)
        d.mkdir(parents=True)
        d.joinpath("stat").write_text(f"{pid} (x) S {parent} " + " ".join(["0"] * 40) + "\n")
        d.joinpath("cmdline").write_bytes(b"\0".join(w.encode() for w in cmdline.split()) + b"\0")
        d.joinpath("cgroup").write_text(cgroup)
    (proc / "self").mkdir()
    (proc / "self/cgroup").write_text("0::/user.slice/user-0.slice/session-1.scope\n")
    return str(proc)


def test_owner_from_a_fake_proc_tree(tmp_path):
    session = "0::/user.slice/user-0.slice/session-1.scope\n"
    proc = _fake_proc(tmp_path, {
        100: (1, "/usr/bin/python3 -m mevops.lifecycle.supervise /srv/geth/mevops.spec.json", session),
        101: (100, "/usr/local/bin/geth --datadir /data/nodes/geth-mainnet/data", session),
        200: (1, f"/usr/bin/conmon --api-version 1 -c {CID} -u {CID} -r /usr/bin/runc", "0::/\n"),
        201: (200, "geth --datadir /root/.ethereum", "0::/\n"),  # a container whose cgroup we cannot see
        300: (1, "/usr/local/bin/op-geth --datadir /data/op", "0::/system.slice/op-geth.service\n"),
        400: (1, "bash start.sh", session),
        401: (400, "/usr/local/bin/bsc --datadir /data/bsc", session),
    })
    assert owner_of(101, proc) == Owner("supervised", "/srv/geth/mevops.spec.json")
    assert owner_of(201, proc) == Owner("container", CID)
    assert owner_of(300, proc) == Owner("unit", "op-geth.service")
    assert owner_of(401, proc) == Owner("process", "401")


def test_container_paths_translate_through_fake_mountinfo(tmp_path):
    theirs = tmp_path / "theirs"
    theirs.write_text("600 500 0:91 / / rw - overlay overlay rw\n"
                      "601 600 254:0 /srv/legacy\\040nodes/geth-mainnet/data /root/.ethereum rw - ext4 /dev/vda rw\n"
                      "602 600 254:0 /etc/resolv.conf /etc/resolv.conf rw - ext4 /dev/vda rw\n")
    ours = tmp_path / "ours"
    ours.write_text("27 1 254:0 / / rw - ext4 /dev/vda rw\n"
                    "43 27 254:0 /srv /mnt/srv rw - ext4 /dev/vda rw\n")
    translate = Translator(read_mountinfo(str(theirs)), read_mountinfo(str(ours)))
    lock = "/srv/legacy nodes/geth-mainnet/data/geth/chaindata/LOCK"
    assert translate("/root/.ethereum/geth/chaindata/LOCK") == [lock, "/mnt" + lock]
    assert translate("/root/.ethereum") == ["/srv/legacy nodes/geth-mainnet/data", "/mnt/srv/legacy nodes/geth-mainnet/data"]
    assert translate("/usr/bin/geth") == []  # the image's overlay: not mounted here


class FakeSystemctl:
    """Stands in for systemctl: records calls; `show` reports the states it is given, one per call (the last one
    repeats), and "failed" once the unit has been sent SIGKILL."""

    def __init__(self, states: list[str]) -> None:
        self.calls: list[list[str]] = []
        self.states = states

    def __call__(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        self.calls.append(argv)
        out = ""
        if "show" in argv:
            state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
            if any("kill" in call for call in self.calls):
                state = "failed"
            out = f"LoadState=loaded\nActiveState={state}\n"
        return subprocess.CompletedProcess(argv, 0, out, "")


def test_a_fake_unit_holder_is_stopped_through_the_systemd_backend():
    fake = FakeSystemctl(["active", "deactivating", "inactive"])
    stopper = Stopper(grace=5, backends={"systemd": SystemdBackend(runner=fake)})
    owner = Owner("unit", "geth.service")
    assert stopper.problems({owner: {4242: None}}) == {}
    stopped = stopper.stop(owner, {4242: None})
    assert fake.calls[0] == ["systemctl", "stop", "--no-block", "geth.service"]
    assert not any(c[1] == "kill" for c in fake.calls)
    assert (stopped.what, stopped.how, stopped.pids, stopped.killed) == ("systemd unit geth.service", "systemd backend", [4242], False)


def test_a_fake_unit_that_does_not_stop_in_the_grace_period_is_killed():
    fake = FakeSystemctl(["deactivating"])
    stopper = Stopper(grace=0.3, backends={"systemd-user": SystemdBackend(user=True, runner=fake)})
    stopped = stopper.stop(Owner("user-unit", "reth.service"), {77: None})
    assert ["systemctl", "--user", "kill", "--signal=SIGKILL", "reth.service"] in fake.calls and stopped.killed
    assert "killed (SIGKILL) after the grace period (the systemd backend first)" in str(stopped)


def test_owners_that_cannot_be_stopped_are_named():
    stopper = Stopper(grace=1)
    pod = Owner("pod", "/kubepods.slice/x")
    unit = Owner("unit", "geth.service")
    problems = stopper.problems({pod: {10: None}, unit: {11: None}, Owner("process", "1"): {1: None}})
    assert "Kubernetes pod" in problems[pod]
    if not os.path.isdir("/run/systemd/system"):  # no systemd PID 1 in this sandbox
        assert "systemd is not running here" in problems[unit]
    assert "ancestor of this mevops" in problems[Owner("process", "1")]


def test_still_in_use_after_stopping_refuses_with_exit_1():
    left = Busy(["geth/chaindata/LOCK: pid 9 (geth): open file"], {9: ["geth/chaindata/LOCK"]})
    with pytest.raises(CheckFailed, match="still in use after --stop") as caught:
        stop_users(Busy(), lambda: left, grace=1)
    assert caught.value.exit_code == 1 and "geth/chaindata/LOCK: pid 9" in str(caught.value)
