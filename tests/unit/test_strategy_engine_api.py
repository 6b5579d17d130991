"""`mevops strategy` against the engine's strategy API, here a *fake* of its contract (a tiny HTTP
server in a thread, scripted answers). The end-to-end test against the real engine on anvil lives
with the engine's tests."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.unit.test_strategy_cli import ACTIVE, VALID, history

PREFIX = "/api/v1/strategies"
TOKEN = "mevops_fake-token"


class FakeEngine:
    """A fake of the engine API's strategy endpoints: what the CLI relies on, nothing more."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, str | None]] = []
        self.items: dict[str, dict] = {}
        self.texts: dict[str, str] = {}
        self.reload_reply: tuple[int, dict] = (200, {"updated": [], "added": [], "disabled": [], "unchanged": [], "refused": {}})
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def reply(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def handle_one(self, method: str) -> None:
                auth = self.headers.get("Authorization")
                fake.requests.append((method, self.path, auth))
                if auth != f"Bearer {TOKEN}":
                    return self.reply(401, {"detail": "missing or invalid API token"})
                status, body = fake.answer(method, self.path)
                self.reply(status, body)

            def do_GET(self) -> None:  # noqa: N802
                self.handle_one("GET")

            def do_POST(self) -> None:  # noqa: N802
                self.handle_one("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def load(self, name: str, text: str, enabled: bool = True) -> None:
        self.items[name] = {"name": name, "type": "arbitrage", "stage": "active", "chains": ["ethereum"],
                            "enabled_in_file": True, "loaded": True, "enabled": enabled}
        self.texts[name] = text

    def answer(self, method: str, path: str) -> tuple[int, dict]:
        if method == "GET" and path == PREFIX:
            return 200, {"items": list(self.items.values())}
        if method == "POST" and path == f"{PREFIX}/reload":
            return self.reload_reply
        name = path[len(PREFIX) + 1:].split("/")[0]
        if method == "GET" and name in self.items:
            return 200, {"name": name, "stage": "active", "loaded": True, "enabled": self.items[name]["enabled"],
                         "text": self.texts[name], "sha256": "x"}
        if method == "POST" and path.endswith("/disable") and name in self.items:
            self.items[name]["enabled"] = False
            return 200, {"name": name, "enabled": False}
        return 404, {"detail": f"no strategy {name!r}"}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_engine():
    engine = FakeEngine()
    yield engine
    engine.close()


@pytest.fixture
def mevops(run, workspace, fake_engine):
    def _mevops(*args: str, token: str | None = TOKEN):
        env = {"MEVOPS_MEV_ENGINE__API__PORT": fake_engine.url.rsplit(":", 1)[1]}
        if token:
            env["MEVOPS_API_TOKEN"] = token
        return run("strategy", *args, cwd=workspace, env=env)

    return _mevops


def deploy_new(mevops, tmp_path: Path, *extra: str, **options: str | None):
    source = tmp_path / "weth-dai-cycles.yml"
    source.write_text(VALID)
    return mevops("deploy", str(source), "--to", "testing", *extra, **options)


def test_list_shows_what_the_running_engine_loaded(mevops, fake_engine, workspace):
    fake_engine.load("eth-usdc-dex-arbitrage", (workspace / ACTIVE).read_text())
    fake_engine.load("private-flow-guard", "", enabled=False)
    rows = {r["name"]: r for r in json.loads(mevops("list", "--json").out)}
    assert (rows["eth-usdc-dex-arbitrage"]["loaded"], rows["eth-usdc-dex-arbitrage"]["running"]) == (True, True)
    assert (rows["private-flow-guard"]["loaded"], rows["private-flow-guard"]["running"]) == (True, False)
    assert rows["cross-chain-usdc-arbitrage"]["loaded"] is False
    table = mevops("list").out
    assert "paused" in table and "not running" not in table
    assert fake_engine.requests[-1] == ("GET", PREFIX, f"Bearer {TOKEN}")


def test_deploy_hot_reloads_the_engine_with_the_token(mevops, fake_engine, workspace, tmp_path):
    fake_engine.reload_reply = (200, {"updated": [], "added": ["weth-dai-cycles"], "disabled": [], "unchanged": [],
                                      "refused": {}})
    result = deploy_new(mevops, tmp_path)
    assert result.code == 0, result.err
    assert f"engine at {fake_engine.url} reloaded: added weth-dai-cycles" in result.out
    assert ("POST", f"{PREFIX}/reload", f"Bearer {TOKEN}") in fake_engine.requests
    # a dry run never calls the engine
    fake_engine.requests.clear()
    assert mevops("archive", "weth-dai-cycles", "--dry-run").code == 0
    assert fake_engine.requests == []


def test_engine_refusal_is_reported_as_file_line_problems(mevops, fake_engine, workspace, tmp_path):
    fake_engine.reload_reply = (422, {"detail": "invalid strategies or config: nothing changed", "problems": [
        {"file": "mev/strategies/testing/arbitrage/weth-dai-cycles.yml", "line": 13, "key": "parameters.max_position_size",
         "reason": "300,000.00 USD exceeds strategy_limits.arbitrage.max_position_size (250,000.00 USD) in production"},
        {"file": "MEVOPS_MEV__MAX_GAS_PRICE", "line": None, "key": "mev.max_gas_price", "reason": "unknown unit"}]})
    result = deploy_new(mevops, tmp_path)
    assert result.code == 2
    errors = result.err.splitlines()
    assert "refused the reload and keeps its previous strategies; the workspace change is done" in errors[0]
    assert errors[1] == ("error: mev/strategies/testing/arbitrage/weth-dai-cycles.yml:13: parameters.max_position_size: "
                         "300,000.00 USD exceeds strategy_limits.arbitrage.max_position_size (250,000.00 USD) in production")
    assert errors[2] == "error: MEVOPS_MEV__MAX_GAS_PRICE: mev.max_gas_price: unknown unit"
    assert "deploy: weth-dai-cycles new -> testing" in result.out
    assert (workspace / "mev/strategies/testing/arbitrage/weth-dai-cycles.yml").is_file()
    assert history(workspace)[-1]["strategy"] == "weth-dai-cycles"


def test_engine_that_cannot_reload_or_load_says_so(mevops, fake_engine, workspace, tmp_path):
    fake_engine.reload_reply = (200, {"updated": [], "added": [], "disabled": [], "unchanged": [],
                                      "refused": {"eth-usdc-dex-arbitrage": "this engine cannot run arbitrage strategies"}})
    result = mevops("deploy", ACTIVE, "--to", "active")
    assert result.code == 0
    assert "warning: the engine did not load eth-usdc-dex-arbitrage: this engine cannot run arbitrage strategies" in result.err
    fake_engine.reload_reply = (409, {"detail": "this engine was started without a workspace"})
    result = mevops("archive", "eth-usdc-dex-arbitrage")
    assert result.code == 2
    assert "the engine cannot reload strategies (this engine was started without a workspace)" in result.err
    assert "restart the engine" in result.err


def test_missing_token_is_a_clear_error(mevops, fake_engine, workspace, tmp_path):
    result = deploy_new(mevops, tmp_path, token=None)
    assert result.code == 2
    assert f"error: {fake_engine.url}: engine API: POST {PREFIX}/reload: 401 missing or invalid API token " \
           "(pass --token or set MEVOPS_API_TOKEN)" in result.err
    assert fake_engine.requests[-1][2] is None
    listed = mevops("list", "--json", token=None)
    assert listed.code == 0 and "warning:" in listed.err
    assert all(r["loaded"] is None for r in json.loads(listed.out))
    assert mevops("list", "--json", "--token", TOKEN, token=None).code == 0
    assert fake_engine.requests[-1][2] == f"Bearer {TOKEN}"


def test_disable_stops_it_in_the_engine_then_edits_the_file(mevops, fake_engine, workspace):
    fake_engine.load("eth-usdc-dex-arbitrage", (workspace / ACTIVE).read_text())
    result = mevops("disable", "eth-usdc-dex-arbitrage", "--reason", "incident 42")
    assert result.code == 0, result.err
    assert [r[:2] for r in fake_engine.requests] == [("POST", f"{PREFIX}/eth-usdc-dex-arbitrage/disable"),
                                                     ("POST", f"{PREFIX}/reload")]
    assert fake_engine.items["eth-usdc-dex-arbitrage"]["enabled"] is False
    assert "enabled: false" in (workspace / ACTIVE).read_text()
    assert f"disabled eth-usdc-dex-arbitrage in the engine at {fake_engine.url}" in result.out
    # a second disable: the file already says false, the engine still is told, and it is audited
    again = mevops("disable", "eth-usdc-dex-arbitrage")
    assert again.code == 0 and "already enabled: false" in again.out
    assert [e["action"] for e in history(workspace)] == ["disable", "disable"]
    # not loaded in the engine: the file is still edited
    other = mevops("disable", "cross-chain-usdc-arbitrage")
    assert other.code == 0 and "is not loaded in the engine" in other.out


def test_diff_against_the_copy_the_engine_loaded(mevops, fake_engine, workspace):
    path = workspace / ACTIVE
    fake_engine.load("eth-usdc-dex-arbitrage", path.read_text())
    same = mevops("diff", "eth-usdc-dex-arbitrage", "--exit-code")
    assert same.code == 0 and "no differences" in same.out and f"engine:eth-usdc-dex-arbitrage ({fake_engine.url})" in same.out
    path.write_text(path.read_text().replace("gas_limit: 350000", "gas_limit: 300000"))
    changed = mevops("diff", "eth-usdc-dex-arbitrage", "--exit-code")
    assert changed.code == 1
    assert "-  gas_limit: 350000\n+  gas_limit: 300000" in changed.out
    # an engine that has not loaded it, no git: nothing to compare with
    result = mevops("diff", "cross-chain-usdc-arbitrage")
    assert result.code == 2 and "nothing to compare with" in result.err


def test_api_address_from_the_config(workspace):
    from mevops.config.validate import effective_config
    from mevops.strategies.engine_api import api_url
    from mevops.workspace import Workspace

    ws = Workspace.open(workspace)
    assert api_url(effective_config(ws, "development", {})[0]) == "http://127.0.0.1:8080"
    # production: the API listens on every address with TLS; the CLI talks to loopback over https
    assert api_url(effective_config(ws, "production", {})[0]) == "https://127.0.0.1:8080"
    assert api_url(effective_config(ws, "development", {})[0], "http://engine:9000/") == "http://engine:9000"
