"""Forked render workers: values and errors come back; a broken template is named whichever process hits it."""

from __future__ import annotations

import os
import shutil

import pytest

from mevops.errors import MevopsError, Problem
from mevops.render.worker import Worker


def test_worker_returns_the_value_and_runs_then_after(tmp_path):
    marker = tmp_path / "then"
    worker = Worker("testing", lambda: {"pid": os.getpid()}, lambda value: marker.write_text(str(value["pid"])))
    value = worker.result()
    worker.close()
    assert value["pid"] != os.getpid() and marker.read_text() == str(value["pid"]) and worker.pid is None


def _problem():
    raise MevopsError(Problem("f.yml", 3, "key", "bad"))


def test_worker_errors_are_raised_in_the_parent():
    with pytest.raises(MevopsError) as err:
        Worker("testing", _problem).result()
    assert err.value.problems[0].reason == "bad"
    with pytest.raises(RuntimeError, match="testing failed in the worker process: ZeroDivisionError"):
        Worker("testing", lambda: 1 / 0).result()


def test_a_broken_template_is_reported_by_name(workspace, tmp_path, monkeypatch):
    from mevops.reference import templates_root
    from mevops.render.plan import plan_tree, prepared_environment
    from mevops.render.run import RenderRequest, load_context
    from mevops.workspace import Workspace

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    templates = tmp_path / "templates"
    shutil.copytree(templates_root(), templates)
    broken = templates / "chain/deployment/kubernetes/{network}/{client}-service.yaml.j2"  # one job per client: both processes
    broken.write_text(broken.read_text() + "\n{{ client.no_such_attribute }}\n")
    ctx = load_context(Workspace.open(workspace), RenderRequest(tmp_path / "root", "development"))
    for env in (None, prepared_environment(templates)):
        with pytest.raises(MevopsError) as err:
            plan_tree(templates, ctx, None, env)
        assert err.value.problems[0].file == "templates/chain/deployment/kubernetes/{network}/{client}-service.yaml.j2"
