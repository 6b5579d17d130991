"""`mevops infra provision` for REAL: ansible-runner drives ansible-playbook against localhost
(ansible_connection=local) into a temporary root prefix (mevops_prefix), so users, the directory
tree, configs, a pinned binary, systemd units, logrotate, the firewall ruleset and the log shipping
pipeline are written below it and the running system is not touched. No systemctl runs here: the
installed units are checked with `systemd-analyze verify --root` when it is present.
"""

from __future__ import annotations

import hashlib
import shutil
import stat
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import require_tool, run_tool
from tests.integration.test_infra_terraform import assert_user_error, mevops, small_workspace

ANSIBLE = "infrastructure/deployment/ansible"


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    require_tool("ansible-playbook")
    pytest.importorskip("ansible_runner", reason="ansible-runner is not installed (pip install ansible-runner)")
    ws, root = small_workspace(tmp_path_factory.mktemp("infra-ansible"), "production")
    return ws, root


def _inventory(path: Path, **host_vars: str) -> Path:
    extra = " ".join(f"{k}={v}" for k, v in host_vars.items())
    path.write_text("[node_hosts]\nlocalhost ansible_connection=local ansible_become=false "
                    f"ansible_python_interpreter={sys.executable} {extra}\n")
    return path


def _release(tmp: Path) -> dict:
    """A client release as chains/*.yml pins one: a tarball with the binary inside, and its sha256."""
    binary = tmp / "pkg" / "bin" / "geth"
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\necho geth\n")
    binary.chmod(0o755)
    archive = tmp / "geth.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp / "pkg", arcname="pkg")
    return {"chain": "ethereum", "client": "geth", "binary": "geth", "version": "1.17.10", "url": archive.as_uri(),
            "sha256": hashlib.sha256(archive.read_bytes()).hexdigest(), "member": "pkg/bin/geth"}


def test_every_playbook_passes_syntax_check(rendered, tree):
    tool = require_tool("ansible-playbook")
    for env, root in rendered.items():
        playbooks = sorted((root / ANSIBLE).glob("*.yml"))
        assert [p.name for p in playbooks] == ["site.yml"], env
        result = run_tool(tool, "--syntax-check", "-i", "inventory/hosts.ini", *playbooks, cwd=root / ANSIBLE)
        assert result.returncode == 0, (env, result.stdout[-2000:], result.stderr[-2000:])
    ws, root = tree
    through_runner = mevops("infra", "provision", "-i", str(root / ANSIBLE / "inventory/hosts.ini"), "--syntax-check",
                            "-e", "production", "--root", str(root), ws=ws)
    assert through_runner.returncode == 0, through_runner.stdout[-2000:] + through_runner.stderr[-2000:]
    assert "syntax check" in through_runner.stdout


def test_check_mode_writes_nothing_then_provision_writes_the_host_tree(tree, tmp_path):
    ws, root = tree
    prefix = tmp_path / "host"
    inventory = _inventory(tmp_path / "hosts.ini", mevops_prefix=str(prefix))

    checked = mevops("infra", "provision", "-i", str(inventory), "--check", "-e", "production", "--root", str(root), ws=ws)
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-3000:]
    assert "TASK Install the standardized directory tree" in checked.stdout  # progress is streamed
    assert "check (nothing changed)" in checked.stdout
    assert not prefix.exists()

    release = _release(tmp_path / "release")
    provisioned = mevops("infra", "provision", "-i", str(inventory), "-e", "production", "--root", str(root),
                         "--var", "mevops_binaries=" + yaml.safe_dump([release], default_flow_style=True).strip(), ws=ws)
    assert provisioned.returncode == 0, provisioned.stdout[-3000:] + provisioned.stderr[-3000:]
    assert "failed=0" in provisioned.stdout

    # the service user, created by systemd-sysusers in the prefix's /etc/passwd
    passwd = (prefix / "etc/passwd").read_text()
    assert passwd.startswith("mevops:x:") and f":{root}:/usr/sbin/nologin" in passwd
    # the standardized tree with its modes, the configs with theirs
    layout = yaml.safe_load((root / ANSIBLE / "group_vars/all.yml").read_text())["mevops_layout"]
    host_root = prefix / str(root).lstrip("/")
    for entry in layout:
        path = host_root / entry["path"]
        assert path.is_dir() and stat.S_IMODE(path.stat().st_mode) == int(entry["mode"], 8), entry
    for rendered_file in (root / "nodes/chains").glob("*/config/**/*"):
        if rendered_file.is_file():
            copy = host_root / rendered_file.relative_to(root)
            assert copy.read_bytes() == rendered_file.read_bytes(), copy
            assert stat.S_IMODE(copy.stat().st_mode) == stat.S_IMODE(rendered_file.stat().st_mode), copy
    jwt = host_root / "nodes/chains/ethereum/config/jwt/mainnet.hex"
    assert stat.S_IMODE(jwt.stat().st_mode) == 0o600
    # units of the mainnet and testnet nodes (local devnets stay on the operator's machine)
    units = sorted(p.name for p in (prefix / "etc/systemd/system").iterdir())
    expected = sorted(p.name for p in root.glob("nodes/chains/*/deployment/systemd/*.service") if "-local-" not in p.name)
    assert units == expected and "ethereum-mainnet-geth.service" in units
    # logrotate, firewall, log shipping: the rendered files, installed where the system reads them
    for installed, source in (("etc/logrotate.d/mevops", "monitoring/logging/logrotate.conf"),
                              ("etc/nftables.d/mevops.nft", "security/nftables.conf"),
                              ("etc/vector/vector.yaml", "monitoring/logging/vector.yaml")):
        assert (prefix / installed).read_bytes() == (root / "infrastructure" / source).read_bytes(), installed
    assert 'include "/etc/nftables.d/mevops.nft"' in (prefix / "etc/nftables.conf").read_text()
    # the pinned binary: <version>/<binary>, current -> <version>
    current = host_root / "nodes/chains/ethereum/binaries/geth/current"
    assert current.is_symlink() and current.readlink() == Path("1.17.10")
    assert (current / "geth").read_text() == "#!/bin/sh\necho geth\n" and (current / "geth").stat().st_mode & 0o111
    assert sorted(p.name for p in current.iterdir()) == ["geth"]  # only the member, not the archive's tree

    analyze = shutil.which("systemd-analyze")
    if analyze:  # the unit is valid and its ExecStart binary resolves inside the prefix
        shutil.copytree("/usr/lib/systemd/system", prefix / "usr/lib/systemd/system", symlinks=True, dirs_exist_ok=True)
        result = run_tool(analyze, "verify", f"--root={prefix}", "ethereum-mainnet-geth.service")
        assert result.returncode == 0, result.stdout + result.stderr


def test_a_failing_provision_says_which_host_task_and_why(tree, tmp_path):
    ws, root = tree
    inventory = _inventory(tmp_path / "hosts.ini", mevops_prefix=str(tmp_path / "host"),
                           mevops_render_root=str(tmp_path / "not-rendered"))
    failed = mevops("infra", "provision", "-i", str(inventory), "-e", "production", "--root", str(root), ws=ws)
    assert failed.returncode == 1, failed.stdout[-2000:] + failed.stderr[-2000:]
    assert "Traceback" not in failed.stderr
    assert "ansible-playbook site.yml failed" in failed.stderr
    assert "localhost: Pack the tree" in failed.stderr and "full log: " in failed.stderr
    assert not (tmp_path / "host").exists()

    assert_user_error(mevops("infra", "provision", "-i", str(tmp_path / "missing.ini"), "-e", "production", "--root", str(root),
                             ws=ws), "missing.ini: --inventory: no such inventory file or directory")
    assert_user_error(mevops("infra", "provision", "-i", str(inventory), "--var", "not a pair", "-e", "production",
                             "--root", str(root), ws=ws), "--var: not a pair: expected KEY=VALUE")
