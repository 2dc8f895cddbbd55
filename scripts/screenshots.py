#!/usr/bin/env python3
"""Screenshots of ``argosy server``'s main pages, from a throwaway home with real workflows.

    python scripts/screenshots.py OUT_DIR

Needs Debian's Chromium (``apt-get install -y chromium``) and ``pip install playwright``.
It submits the workflows of ``tests/server/data/`` (one left running), starts a server on a free
port, and writes ``01-list.png``, ``02-graph.png`` ... to OUT_DIR so a person can look at the UI.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "server" / "data"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def argosy(env: dict[str, str], *args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "argosy.cli.main", *args], env=env, capture_output=True, text=True, timeout=300)
    if out.returncode not in (0, 1):
        raise SystemExit(f"argosy {' '.join(args)} failed: {out.stderr}")
    return out.stdout.strip()


def start_server(env: dict[str, str], *extra: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "argosy.server", "--port", "0", *extra], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    m = re.search(r"(https?://\S+:\d+)", line)
    if not m:
        proc.kill()
        raise SystemExit(f"server did not start: {line}")
    return proc, m.group(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder for the PNG files")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=800)
    ns = parser.parse_args()
    from playwright.sync_api import sync_playwright

    ns.out.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="argosy-shots-"))
    env = {**os.environ, "ARGOSY_HOME": str(home), "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    argosy(env, "apply", "-f", str(DATA / "template.yaml"))
    procs = [subprocess.Popen([sys.executable, "-m", "argosy.cli.main", "submit", str(DATA / f), "--wait", "-o", "name"],
                              env=env, stdout=subprocess.PIPE, text=True) for f in ("steps-fail.yaml", "dag-artifacts.yaml")]
    names = [p.communicate(timeout=300)[0].strip() for p in procs]
    ticker = argosy(env, "submit", str(DATA / "slow.yaml"), "-o", "name")
    report = names[1]
    server, url = start_server(env)
    client, client_url = start_server(env, "--auth-mode", "client")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = browser.new_page(viewport={"width": ns.width, "height": ns.height})

            def shot(name: str) -> None:
                page.wait_for_timeout(300)
                page.screenshot(path=str(ns.out / name))
                print(ns.out / name)

            page.goto(url + "/workflows")
            page.wait_for_selector(f"tr[data-name='{ticker}']")
            shot("01-list.png")
            page.goto(f"{url}/workflows/default/{report}")
            page.wait_for_selector("g.node[data-name='report']")
            shot("02-graph.png")
            page.click("g.node[data-name='report']")
            page.wait_for_selector(".panel .kv")
            shot("03-node-summary.png")
            page.click("button[data-ptab='logs']")
            page.wait_for_selector("pre.log .line")
            shot("04-node-logs.png")
            page.click("button[data-ptab='artifacts']")
            page.click("tr[data-artifact='report'] >> text=Browse")
            page.click("tr[data-entry='stats.json'] button.link")
            page.wait_for_selector(".preview pre.code")
            shot("05-artifact-preview.png")
            page.goto(f"{url}/workflows/default/{report}?tab=artifacts")
            page.click("tr[data-artifact='report'] >> text=Browse")
            page.click("tr[data-entry='shares.csv'] button.link")
            page.wait_for_selector(".csv table")
            shot("06-artifacts-tab-csv.png")
            page.goto(f"{url}/workflows/default/{ticker}?node=" + ticker + "&nodeTab=summary")
            page.wait_for_selector("g.node[data-name='tick']")
            page.click("g.node[data-name='tick']")
            page.click("button[data-ptab='logs']")
            page.wait_for_selector("pre.log .line")
            page.wait_for_timeout(1200)
            shot("07-running-logs.png")
            page.goto(f"{url}/workflows/default/{names[0]}")
            page.wait_for_selector("g.node[data-name='check']")
            page.click("g.node[data-name='check']")
            shot("08-failed-steps.png")
            page.goto(f"{url}/workflows/default/{report}?tab=events")
            page.wait_for_selector(".events-view")
            shot("09-events.png")
            page.goto(url + "/workflow-templates")
            page.click("article[data-template='greeter'] button")
            page.wait_for_selector("dialog[open]")
            shot("10-submit-dialog.png")
            page.goto(client_url + "/workflows")
            page.wait_for_selector("#token")
            shot("11-login.png")
            browser.close()
    finally:
        argosy(env, "terminate", ticker)
        for proc in (server, client):
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
