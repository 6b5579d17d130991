"""The tree plan: which file each template becomes, expanded over chains, networks and clients.

Templates are laid out like the tree they render (``templates/<top>/...``, ``.j2`` stripped):

- ``nodes/``          once            → ``nodes/...``
- ``chain/``          per chain       → ``nodes/chains/<chain>/...``
- ``chain/clients/``  per client      → ``nodes/chains/<chain>/config/<client config file>``
  (``<client>.j2`` if present, else ``_<config_format>.j2``)
- ``mev/``, ``infrastructure/``, ``environments/``  once → same path

Path segments may name loop variables: ``{chain}`` (the chain's name, in ``chain/``),
``{network}`` (each network of the chain), ``{client}``
(each client of that network), ``{engine}`` (each MEV engine) and ``{env}``. A template that
renders to whitespace only produces no file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable
from typing import Any

import jinja2

from mevops.errors import MevopsError, Problem
from mevops.render.context import ChainView, ClientView, NetworkView, RenderContext
from mevops.render.templates import make_environment

TOPS = ("nodes", "chain", "mev", "infrastructure", "environments")
PARALLEL_MIN_JOBS = 64


@dataclass(frozen=True)
class PlannedFile:
    path: str            # relative to the target root, POSIX separators
    content: bytes
    mode: int
    chain: str | None = None
    network: str | None = None


def _template_names(root: Path) -> list[str]:
    names = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "__")))
        for filename in sorted(filenames):
            if filename.endswith(".j2"):
                names.append(Path(dirpath, filename).relative_to(root).as_posix())
    return names


def _mode(path: str) -> int:
    return 0o755 if path.endswith(".sh") else 0o644


def prepared_environment(root: Path, enough: Callable[[], bool] = lambda: False) -> jinja2.Environment:
    """The Jinja environment with the templates (partials too) loaded and compiled already: what a
    render does while its workspace is validated in another process, until ``enough()`` (the
    validation is done: the rest load as the render needs them, in both of its processes).
    Errors are left for the render to raise, with the file that needs them."""
    env = make_environment(root)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for filename in filenames:
            if enough():
                return env
            if filename.endswith((".j2", ".jinja")):
                try:
                    env.get_template(Path(dirpath, filename).relative_to(root).as_posix())
                except jinja2.TemplateError:
                    pass
    return env


class Planner:
    def __init__(self, templates_root: Path, ctx: RenderContext, env: jinja2.Environment | None = None) -> None:
        self.env = env or make_environment(templates_root)
        self.ctx = ctx
        self.base = ctx.as_dict()
        self.names = _template_names(templates_root)
        self.jobs: list[tuple[str, str, tuple[str | None, str | None], dict[str, Any]]] = []

    def render(self, name: str, out: str, scope: tuple[str | None, str | None] = (None, None), **extra: Any) -> None:
        """Queue one template render; ``plan`` runs the queue."""
        self.jobs.append((name, out, scope, extra))

    def _run(self, job: tuple[str, str, tuple[str | None, str | None], dict[str, Any]]) -> PlannedFile | None:
        name, out, scope, extra = job
        try:
            text = self.env.get_template(name).render(**self.base, **extra)
        except jinja2.TemplateError as exc:
            lineno = getattr(exc, "lineno", None)
            raise MevopsError(Problem(f"templates/{name}", lineno, out, f"{type(exc).__name__}: {exc.message or exc}")) from None
        return PlannedFile(out, text.encode(), _mode(out), *scope) if text.strip() else None

    def _run_all(self, side: Callable[[], Any] | None = None) -> tuple[list[PlannedFile | None], Any]:
        """Render every queued job; on a multi-core machine half of them in a forked child (the
        compiled templates and the context are shared copy-on-write, so it costs no start-up).
        ``side``, a second piece of work that reads only (the inputs' fingerprint), runs in the
        child too; its result is returned with the files."""
        from mevops.render.worker import Worker, can_fork

        jobs = self.jobs
        if len(jobs) < PARALLEL_MIN_JOBS or not can_fork():
            return [self._run(job) for job in jobs], side() if side is not None else None
        # the child: the odd jobs
        worker = Worker("rendering", lambda: ([self._run(job) for job in jobs[1::2]], side() if side is not None else None))
        try:
            evens = [self._run(job) for job in jobs[0::2]]
            value = worker.result()
        finally:
            worker.close()
        odds, side_result = value
        results: list[PlannedFile | None] = [None] * len(jobs)
        results[0::2], results[1::2] = evens, odds
        return results, side_result

    def plan(self, side: Callable[[], Any] | None = None) -> list[PlannedFile]:
        """The planned files; with ``side``, also stores its result in ``self.side_result``."""
        for name in self.names:
            top, _, rest = name.partition("/")
            if top not in TOPS:
                continue
            out = rest.removesuffix(".j2")
            if top == "chain":
                if not rest.startswith("clients/"):
                    for chain in self.ctx.chains:
                        self._expand_chain(name, out, chain)
            elif "{engine}" in out:
                for engine_name, engine in self.ctx.config.mev_engine.engines.items():
                    self.render(name, f"{top}/{out}".replace("{engine}", engine_name), engine=engine, engine_name=engine_name)
            else:
                self.render(name, f"{top}/{out}".replace("{env}", self.ctx.env))
        for chain in self.ctx.chains:
            for network in chain.networks:
                for client in network.clients:
                    self._client_config(chain, network, client)
        files: dict[str, PlannedFile] = {}
        rendered, self.side_result = self._run_all(side)
        for job, result in zip(self.jobs, rendered):
            if result is None:
                continue
            if result.path in files:
                raise MevopsError(Problem(f"templates/{job[0]}", None, result.path, "two templates render the same file"))
            files[result.path] = result
        return sorted(files.values(), key=lambda f: f.path)

    def _expand_chain(self, name: str, out: str, chain: ChainView) -> None:
        prefix = f"nodes/chains/{chain.name}/"
        out = out.replace("{chain}", chain.name)
        if "{network}" not in out:
            self.render(name, prefix + out, (chain.name, None), chain=chain)
            return
        for network in chain.networks:
            with_net = out.replace("{network}", network.key)
            if "{client}" not in with_net:
                self.render(name, prefix + with_net, (chain.name, network.key), chain=chain, network=network)
                continue
            for client in network.clients:
                self.render(name, prefix + with_net.replace("{client}", client.name), (chain.name, network.key),
                            chain=chain, network=network, client=client)

    def _client_config(self, chain: ChainView, network: NetworkView, client: ClientView) -> None:
        specific = f"chain/clients/{client.name}.j2"
        name = specific if specific in self.names else f"chain/clients/_{client.config_format}.j2"
        if name not in self.names:
            return
        self.render(name, f"nodes/chains/{chain.name}/config/{client.config_file}", (chain.name, network.key),
                    chain=chain, network=network, client=client)


def plan_tree(templates_root: Path, ctx: RenderContext, side: Callable[[], Any] | None = None,
              env: jinja2.Environment | None = None) -> tuple[list[PlannedFile], Any]:
    """The planned files and the result of ``side`` (run alongside, see ``Planner._run_all``);
    ``env``: a ``prepared_environment`` of ``templates_root``, if there is one."""
    planner = Planner(templates_root, ctx, env)
    return planner.plan(side), planner.side_result
