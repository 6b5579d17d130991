"""The web dashboard end to end, in a real browser: Debian's chromium driven by Selenium through
Debian's chromedriver, against `mevops demo --blocks 0` (a real engine on a real anvil, the built
dashboard served by the engine at ``/``).

Logs in, sees trades arrive live (no reload), opens a trade's details, checks a viewer has no
emergency-stop button, then presses emergency stop as an operator and sees the engine stop while
the next blocks bring no trades. Controls are found by their computed accessible names (what a
screen reader announces), so the labels are tested too. Screenshots of every page, wide and
narrow, go to ``build/test-artifacts/dashboard/`` (or ``$MEVOPS_TEST_ARTIFACTS/dashboard``).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
STATIC = REPO / "mevops" / "web" / "static"
PAGES = ("Overview", "Opportunities", "Trades", "Strategies", "Risk", "Nodes")

pytestmark = pytest.mark.slow


def _browser_paths() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if os.access("/usr/bin/chromedriver", os.X_OK) else None)
    if not chromium or not driver:
        pytest.skip("chromium and chromedriver are not installed (scripts/install-test-tools installs Debian's)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.skip("selenium is not installed (pip install -e '.[dev]')")
    if not (STATIC / "index.html").is_file():
        pytest.skip("the dashboard is not built (npm --prefix web ci && npm --prefix web run build)")
    return chromium, driver


@pytest.fixture(scope="module")
def artifacts() -> Path:
    base = Path(os.environ.get("MEVOPS_TEST_ARTIFACTS", REPO / "build" / "test-artifacts")) / "dashboard"
    base.mkdir(parents=True, exist_ok=True)
    return base


@pytest.fixture(scope="module")
def demo(anvil_binary):
    """`mevops demo --blocks 0`: the URL, the admin token it prints, and operator/viewer tokens made through the API."""
    _browser_paths()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "400",
           "PATH": f"{anvil_binary.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.Popen([sys.executable, "-m", "mevops", "demo", "--blocks", "0", "--api-port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    url = token = None
    lines: list[str] = []
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline and (url is None or token is None):
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if m := re.search(r"engine API on (http://[\d.]+:\d+).*demo admin token.*?: (mevops_\S+)", line):
                url, token = m.group(1), m.group(2)
        assert url and token, "the demo printed no API URL and token:\n" + "".join(lines)
        drain = __import__("threading").Thread(target=lambda: [None for _ in proc.stdout], daemon=True)
        drain.start()     # keep reading its live view so it never blocks on a full pipe
        admin = {"Authorization": f"Bearer {token}"}
        tokens = {"admin": token}
        with httpx.Client(base_url=url, headers=admin, timeout=10) as c:
            for role in ("operator", "viewer"):
                made = c.post("/api/v1/tokens", json={"name": f"e2e-{role}", "role": role})
                assert made.status_code == 201, made.text
                tokens[role] = made.json()["token"]
        yield {"url": url, "tokens": tokens, "admin": admin}
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = _browser_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,800",
                "--force-device-scale-factor=1", "--lang=en-US"):
        options.add_argument(arg)
    os.environ.setdefault("SE_OFFLINE", "true")   # Selenium Manager must never try to download a driver
    drv = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    drv.set_window_size(1280, 800)
    yield drv
    drv.quit()


# -- helpers: find controls by their accessible name, as assistive technology would -------------------------
def wait_for(predicate, timeout: float = 20, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            result = predicate()
            if result:
                return result
        except Exception as exc:  # noqa: BLE001 - stale elements while React re-renders: try again
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}" + (f" (last error: {last})" if last else ""))


def named(drv, css: str, name: str):
    """Visible elements matching ``css`` whose computed accessible name is ``name``."""
    return [e for e in drv.find_elements("css selector", css) if e.is_displayed() and e.accessible_name.strip() == name]


def one(drv, css: str, name: str, timeout: float = 20):
    return wait_for(lambda: (named(drv, css, name) or [None])[0], timeout, f"{css} named {name!r}")


def by_testid(drv, tid: str):
    return drv.find_element("css selector", f'[data-testid="{tid}"]')


def login(drv, demo, role: str) -> None:
    drv.get(demo["url"] + "/")
    field = one(drv, "input", "API token")
    field.clear()
    field.send_keys(demo["tokens"][role])
    one(drv, "button", "Sign in").click()
    wait_for(lambda: by_testid(drv, "role").text.strip() == role, what=f"signed in as {role}")
    wait_for(lambda: by_testid(drv, "connection").text.strip() == "live", what="the streams connected")


def go(drv, page: str) -> None:
    nav = drv.find_element("css selector", 'nav[aria-label="Main"]')
    link = wait_for(lambda: next(e for e in nav.find_elements("css selector", "a") if e.accessible_name.strip() == page),
                    what=f"nav link {page}")
    link.click()
    wait_for(lambda: drv.current_url.endswith(f"#/{page.lower()}"), what=f"page {page}")


def shoot(drv, artifacts: Path, name: str) -> Path:
    time.sleep(0.3)     # let charts finish drawing
    path = artifacts / f"{name}.png"
    assert drv.save_screenshot(str(path)), path
    assert path.stat().st_size > 5_000, f"{path} is blank"
    return path


def api(demo, path: str, role: str = "admin"):
    with httpx.Client(base_url=demo["url"], timeout=10, headers={"Authorization": f"Bearer {demo['tokens'][role]}"}) as c:
        return c.get(path).json()


# -- the tests (in this order: the last one stops the engine) -----------------------------------------------
def test_a_wrong_token_is_refused(demo, browser):
    browser.get(demo["url"] + "/")
    one(browser, "input", "API token").send_keys("mevops_not-a-token")
    one(browser, "button", "Sign in").click()
    alert = wait_for(lambda: browser.find_element("css selector", '[role="alert"]'), what="an alert")
    wait_for(lambda: "invalid token" in alert.text.lower(), what="'invalid token' in the alert")
    assert not browser.find_elements("css selector", '[data-testid="role"]')


def test_trades_arrive_live_and_open_in_details(demo, browser, artifacts):
    login(browser, demo, "operator")
    go(browser, "Trades")
    table = wait_for(lambda: named(browser, "table", "Trades")[0], what="the Trades table")
    rows = wait_for(lambda: table.find_elements("css selector", '[data-testid="trade-row"]'), 60, "a first trade")
    seen = {r.get_attribute("data-tx") for r in rows}
    url_before = browser.current_url
    navigations = browser.execute_script("return performance.getEntriesByType('navigation').length")
    # live: more trades land while we watch, without a reload
    wait_for(lambda: {r.get_attribute("data-tx") for r in table.find_elements("css selector", '[data-testid="trade-row"]')} - seen,
             90, "a new trade to appear live")
    assert browser.current_url == url_before
    assert browser.execute_script("return performance.getEntriesByType('navigation').length") == navigations
    assert int(re.sub(r"\D", "", by_testid(browser, "trades-total").text)) >= len(seen) + 1
    row = table.find_elements("css selector", '[data-testid="trade-row"]')[0]
    tx = row.get_attribute("data-tx")
    assert re.fullmatch(r"0x[0-9a-f]{64}", tx), tx
    row.click()
    dialog = wait_for(lambda: next(d for d in browser.find_elements("css selector", '[role="dialog"]')
                                   if d.accessible_name.strip() == "Trade details"), what="the trade details dialog")
    assert tx in dialog.text
    stored = api(demo, "/api/v1/history/trades?page_size=500", "viewer")["items"]
    assert any(t["tx_hash"] == tx for t in stored), "the dialog shows a trade the engine stored"
    shoot(browser, artifacts, "trade-details")
    next(b for b in dialog.find_elements("css selector", "button") if b.accessible_name.strip() == "Close").click()
    wait_for(lambda: not [d for d in browser.find_elements("css selector", '[role="dialog"]') if d.is_displayed()],
             what="the dialog closed")


def test_every_page_wide_and_narrow(demo, browser, artifacts):
    login(browser, demo, "operator")
    for width, height, tag in ((1280, 800, "wide"), (390, 844, "narrow")):
        browser.set_window_size(width, height)
        for page in PAGES:
            go(browser, page)
            if page == "Opportunities":
                wait_for(lambda: named(browser, "table", "Opportunities")[0]
                         .find_elements("css selector", '[data-testid="opportunity-row"]'), 60, "opportunities")
            if page == "Nodes":
                wait_for(lambda: browser.find_elements("css selector", '[data-testid="node-row"][data-node="ethereum/local"]'),
                         30, "the ethereum/local node row")
            if page == "Overview":
                wait_for(lambda: by_testid(browser, "engine-state").text.strip(), what="the engine state")
            if tag == "wide":   # every control a keyboard or screen-reader user reaches has a name
                unnamed = [f"<{e.tag_name} {e.get_attribute('outerHTML')[:120]}>"
                           for e in browser.find_elements("css selector", "button, input, select, textarea, a[href]")
                           if e.is_displayed() and not e.accessible_name.strip()]
                assert not unnamed, f"{page}: controls without an accessible name: {unnamed}"
            # nothing spills sideways off the page on a narrow screen (wide tables scroll inside their box)
            overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{page} at {width}px overflows by {overflow}px"
            shoot(browser, artifacts, f"{page.lower()}-{tag}")
    node_row = browser.find_element("css selector", '[data-testid="node-row"][data-node="ethereum/local"]')
    assert "process" in node_row.text     # the backend the demo's anvil runs on


def test_a_viewer_has_no_emergency_stop_and_no_toggles(demo, browser, artifacts):
    login(browser, demo, "viewer")
    go(browser, "Risk")
    wait_for(lambda: by_testid(browser, "emergency-state").text.strip(), what="the emergency state")
    assert not named(browser, "button", "Emergency stop")
    assert not [b for b in browser.find_elements("css selector", "button") if b.accessible_name.startswith("Emergency")]
    shoot(browser, artifacts, "risk-viewer")
    go(browser, "Strategies")
    wait_for(lambda: named(browser, "table", "Strategies"), what="the Strategies table")
    assert not [b for b in browser.find_elements("css selector", "button")
                if re.match(r"(Enable|Disable) ", b.accessible_name)], "a viewer may not toggle strategies"


def test_an_operator_disables_and_enables_a_strategy(demo, browser):
    login(browser, demo, "operator")
    go(browser, "Strategies")
    name = "eth-usdc-dex-arbitrage"
    one(browser, "button", f"Disable {name}").click()
    wait_for(lambda: api(demo, "/api/v1/status", "viewer")["strategies"][name]["enabled"] is False, 10, "the engine disabled it")
    one(browser, "button", f"Enable {name}").click()      # the button follows the engine's state
    wait_for(lambda: api(demo, "/api/v1/status", "viewer")["strategies"][name]["enabled"] is True, 10, "the engine enabled it")
    one(browser, "button", f"Disable {name}")
    actions = [a["action"] for a in api(demo, "/api/v1/audit")["items"] if a["target"] == name]
    assert actions[:2] == ["strategy.enable", "strategy.disable"], actions


def test_an_operator_stops_the_engine_and_the_next_blocks_bring_no_trades(demo, browser, artifacts):
    login(browser, demo, "operator")
    go(browser, "Risk")
    assert by_testid(browser, "emergency-state").text.strip().lower() == "emergency stop: off"
    one(browser, "button", "Emergency stop").click()
    dialog = wait_for(lambda: next(d for d in browser.find_elements("css selector", '[role="dialog"]')
                                   if d.accessible_name.strip() == "Confirm emergency stop"), what="the confirmation dialog")
    reason = next(e for e in dialog.find_elements("css selector", "input, textarea") if e.accessible_name.strip() == "Reason")
    reason.clear()
    reason.send_keys("e2e: operator pressed the button")
    shoot(browser, artifacts, "emergency-stop-confirm")
    next(b for b in dialog.find_elements("css selector", "button") if b.accessible_name.strip() == "Confirm emergency stop").click()
    wait_for(lambda: by_testid(browser, "emergency-state").text.strip().lower() == "emergency stop: active", what="stop shown")
    status = api(demo, "/api/v1/status", "viewer")
    assert status["emergency_stop"] and "e2e: operator pressed the button" in status["emergency_stop"] and not status["trading"]
    audit = api(demo, "/api/v1/audit")["items"]
    assert any(a["action"] == "risk.emergency_stop" and a["role"] == "operator" for a in audit)
    at_stop = status["opportunities"]
    total = api(demo, "/api/v1/history/trades", "viewer")["total"]
    block = status["last_block"]
    wait_for(lambda: api(demo, "/api/v1/status", "viewer")["last_block"] >= block + 3, 30, "three more blocks")
    after = api(demo, "/api/v1/status", "viewer")["opportunities"]
    # nothing found, signed or sent after the stop; only a transaction already in flight may still land
    assert after["found"] == at_stop["found"] and after["sent"] == at_stop["sent"], (at_stop, after)
    assert after["landed"] <= at_stop["sent"], (at_stop, after)
    assert api(demo, "/api/v1/history/trades", "viewer")["total"] == total, "no trade was signed after the emergency stop"
    go(browser, "Overview")
    wait_for(lambda: "emergency stop" in by_testid(browser, "engine-state").text.lower(), what="the overview shows the stop")
    shoot(browser, artifacts, "overview-stopped")
