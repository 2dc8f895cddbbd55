"""The web UI in a real headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.server.conftest import Running, Seed, start_server

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

if not Path(CHROMIUM).exists():
    pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install -y chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright (pip install playwright)")
expect = sync_api.expect


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    context.set_default_timeout(15000)
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.on("console", lambda m: errors.append(m.text) if m.type == "error" and "Content Security Policy" in m.text else None)
    yield p
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def test_list_graph_node_logs_and_artifacts_inside_a_tgz(page: Any, server: Running, seed: Seed, tmp_path: Path) -> None:
    page.goto(server.url + "/")
    expect(page.locator(f"tr[data-name='{seed.report}']")).to_be_visible()
    expect(page.locator(f"tr[data-name='{seed.flaky}'] .pill")).to_have_text("Failed")
    page.click(f"a:text-is('{seed.report}')")
    expect(page).to_have_url(re.compile(f"/workflows/default/{seed.report}$"))
    for step in ("extract", "clean", "enrich", "report"):
        expect(page.locator(f"g.node[data-name='{step}']")).to_be_visible()
    assert page.locator("svg.graph path.edge").count() == 5  # root->extract, extract->clean/enrich, both->report

    page.click("g.node[data-name='report']")
    expect(page.locator(".panel .ptitle")).to_contain_text("report")
    expect(page.locator(".panel dl.kv")).to_contain_text("Pod name")
    page.click("button[data-ptab='logs']")
    expect(page.locator(".panel pre.log")).to_contain_text("step 3 of the report")

    page.click("button[data-ptab='artifacts']")
    page.click("tr[data-artifact='report'] button:text('Browse')")
    browser_box = page.locator("[data-browser='report']")
    expect(browser_box.locator(".tag")).to_have_text("inside tgz")
    browser_box.locator("tr[data-entry='charts'] button.link").click()
    expect(browser_box.locator("tr[data-entry='bars.svg']")).to_be_visible()
    browser_box.locator("button.crumb", has_text="report").click()
    browser_box.locator("tr[data-entry='stats.json'] button.link").click()
    expect(browser_box.locator(".preview pre.code")).to_contain_text('"cities": 3')
    browser_box.locator("button.crumb", has_text="report").click()
    with page.expect_download() as dl:
        browser_box.locator("tr[data-entry='shares.csv'] a", has_text="Download").click()
    saved = tmp_path / "shares.csv"
    dl.value.save_as(saved)
    assert saved.read_text().startswith("city,share\nLisbon,0.56")

    page.keyboard.press("Escape")
    expect(page.locator(".panel .panel-hint")).to_be_visible()


def test_keyboard_navigation_and_workflow_tabs(page: Any, server: Running, seed: Seed) -> None:
    page.goto(server.url + "/workflows")
    expect(page.locator("tr.row").first).to_be_visible()
    bar = page.locator(f"tr[data-name='{seed.flaky}'] .fill")
    assert bar.evaluate("e => e.getBoundingClientRect().width / e.parentElement.getBoundingClientRect().width") == pytest.approx(2 / 3, abs=0.02)
    page.keyboard.press("/")
    page.keyboard.type("flaky")
    expect(page.locator("tr.row")).to_have_count(1)
    page.keyboard.press("Escape")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(f"/workflows/default/{seed.flaky}"))
    expect(page.locator("h1 .pill")).to_have_text("Failed")
    expect(page.locator("button", has_text="Retry")).to_be_visible()
    node = page.locator("g.node[data-name='check']")
    node.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".panel .message")).to_contain_text("exit code 3")
    page.click("button[data-tab='logs']")
    expect(page.locator("pre.log")).to_contain_text("threshold exceeded")
    page.click("button[data-tab='events']")
    expect(page.locator(".events-view h3").first).to_have_text("Conditions")


def test_submit_from_template_then_follow_it_live(page: Any, server: Running) -> None:
    page.goto(server.url + "/workflow-templates")
    page.click("article[data-template='greeter'] button")
    page.fill("#p-who", "Grace")
    page.select_option("#p-lang", "fr")
    page.click("dialog button[type='submit']")
    expect(page).to_have_url(re.compile(r"/workflows/default/greeter-"))
    expect(page.locator("h1 .pill")).to_have_text("Succeeded", timeout=60000)
    page.click("button[data-tab='logs']")
    expect(page.locator("pre.log")).to_contain_text("hello Grace (fr)")


def test_running_step_log_follows_and_terminate_button_stops_it(page: Any, server: Running) -> None:
    wf = {"metadata": {"generateName": "ticker-"}, "spec": {"entrypoint": "tick", "templates": [{"name": "tick", "container": {
        "image": "busybox", "command": ["sh", "-c", "i=0; while [ $i -lt 900 ]; do echo tick $i; i=$((i+1)); sleep 0.1; done"]}}]}}
    name = server.json("POST", "/api/v1/workflows/default", {"workflow": wf})["metadata"]["name"]
    page.goto(f"{server.url}/workflows/default/{name}?tab=logs")
    expect(page.locator(".log-status")).to_have_text("Following…")
    expect(page.locator("pre.log")).to_contain_text("tick 10", timeout=30000)
    page.click("button:text('Terminate')")
    page.click("dialog button:text('Confirm')")
    expect(page.locator("h1 .pill")).to_have_text(re.compile("Failed|Error"), timeout=30000)
    expect(page.locator(".log-status")).not_to_have_text("Following…")


def test_client_mode_login_flow(page: Any, home: Path, seed: Seed) -> None:
    from argosy.server.cli import auth

    token = CliRunner().invoke(auth, ["token"], env={"ARGOSY_HOME": str(home)}).output.strip()
    httpd, running = start_server(home, "client")
    try:
        page.goto(running.url + f"/workflows/default/{seed.report}")
        expect(page).to_have_url(re.compile(r"/login\?redirect="))
        page.fill("#token", "argosy_not-a-token")
        page.click("button[type='submit']")
        expect(page.locator(".login-card .error")).to_have_text("That token is not valid.")
        page.fill("#token", token)
        page.click("button[type='submit']")
        expect(page).to_have_url(re.compile(f"/workflows/default/{seed.report}$"))
        expect(page.locator("g.node[data-name='report']")).to_be_visible()
        page.click("#nav a:text('Workflows')")
        expect(page.locator(f"tr[data-name='{seed.report}']")).to_be_visible()
        page.click("button:text('Log out')")
        expect(page.locator("#token")).to_be_visible()
    finally:
        httpd.shutdown()
        httpd.server_close()
