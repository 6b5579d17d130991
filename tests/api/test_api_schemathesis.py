"""Property-based tests of the API from its own OpenAPI document (schemathesis): whatever a
client sends within — or outside — the documented shapes, the API never answers 5xx."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.api.world import api_world

RATE = {"MEVOPS_GLOBAL__SECURITY__API_RATE_LIMITS__DEFAULT": "1000000/second",
        "MEVOPS_GLOBAL__SECURITY__API_RATE_LIMITS__TRADING": "1000000/second"}


class LiveWorld:
    """The API world running in a background thread's event loop for the whole module."""

    def __init__(self, workspace: Path) -> None:
        self.ready = threading.Event()
        self.stop: asyncio.Event | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.world = None
        self.thread = threading.Thread(target=lambda: asyncio.run(self._main(workspace)), daemon=True)
        self.thread.start()
        assert self.ready.wait(30), "the API did not start"

    async def _main(self, workspace: Path) -> None:
        self.loop = asyncio.get_running_loop()
        self.stop = asyncio.Event()
        async with api_world(workspace, env=RATE) as world:
            self.world = world
            self.ready.set()
            await self.stop.wait()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(30)


@pytest.fixture(scope="module")
def live(tmp_path_factory, _pristine_workspace):
    import shutil

    ws = tmp_path_factory.mktemp("schemathesis") / "ws"
    shutil.copytree(_pristine_workspace, ws)
    world = LiveWorld(ws)
    yield world.world
    world.close()


def operations(url: str) -> list:
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


def test_no_server_errors(live):
    """Every operation, generated inputs (valid and invalid) as admin and without a token."""
    tried = []
    for operation in operations(live.url):

        @given(case=operation.as_strategy())
        @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def as_admin(case):
            case.call_and_validate(base_url=live.url, headers=live.headers("admin"), checks=[not_a_server_error])

        @given(case=operation.as_strategy())
        @settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def anonymous(case):
            response = case.call(base_url=live.url)
            assert response.status_code < 500
            if case.path.startswith("/api/v1"):
                assert response.status_code in (401, 404, 405, 422), (case.method, case.path, response.status_code)

        as_admin()
        anonymous()
        tried.append(f"{operation.method.upper()} {operation.path}")
    assert len(tried) >= 18, tried
