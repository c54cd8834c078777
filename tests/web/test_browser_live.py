"""A live calibration session in a real browser (Debian chromium via Playwright): a coordinator
opens it, three raters on separate browser contexts (one on a phone-sized screen) join and submit,
the dashboard shows them, the coordinator reveals the consensus, and irr calibrate on the store
gives the numbers the dashboard showed."""

from __future__ import annotations

import shutil
import socket
import threading
import time

import pytest

from irr.analysis.calibration import calibrate_session
from irr.model.bank import load_bank
from irr.store import Store

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TASK = "ela-g8-argument"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture()
def server(tmp_path):
    import uvicorn

    from irr.web.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = tmp_path / "live.sqlite"
    instance = uvicorn.Server(uvicorn.Config(create_app(store), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    for _ in range(100):
        if instance.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", store
    instance.should_exit = True
    thread.join(timeout=10)


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (.ci/run installs it)")
def test_three_raters_score_a_live_session_in_chromium(server):
    from playwright.sync_api import sync_playwright

    base, store_path = server
    bank = load_bank()
    task = bank.task(TASK)
    dims = [d.id for d in bank.rubric_for(task).dimensions]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        coordinator = browser.new_context().new_page()
        errors: list[str] = []
        coordinator.on("pageerror", lambda e: errors.append(str(e)))
        coordinator.goto(f"{base}/tasks/{TASK}")
        coordinator.fill("input[name=session_id]", "browser-room")
        coordinator.click("text=Open a live calibration session")
        coordinator.wait_for_url(f"{base}/live/browser-room")
        join_url = coordinator.get_attribute("#join-link", "href")
        assert coordinator.locator("svg").count() >= 1  # the QR code
        for n, rater in enumerate(("T01", "T02", "T03")):
            viewport = {"width": 390, "height": 844} if n == 0 else {"width": 1200, "height": 900}
            page = browser.new_context(viewport=viewport).new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(join_url)
            page.fill("input[name=rater_id]", rater)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/live/browser-room/score")
            choices = [
                f"input[name='s*{paper.id}*{dim}'][value='{score}']"
                for paper in task.anchors
                for dim in dims
                for score in [paper.scores[dim] if (n != 1 or dim != dims[0]) else max(1, paper.scores[dim] - 1)]
            ]
            page.check(choices[0])  # one real click (on the phone-sized page too), the rest in one round trip
            page.evaluate("sel => sel.forEach(s => { document.querySelector(s).checked = true; })", choices[1:])
            page.click("text=Submit my scores")  # posted in the background by the page's script
            page.wait_for_function("() => document.getElementById('message').textContent.startsWith('Saved:')")
            assert page.url == f"{base}/live/browser-room/score" and page.inner_text("#stored") == str(len(choices))
            assert page.inner_text("#status").startswith("Saved:")  # beside the button the rater just pressed
        coordinator.goto(f"{base}/live/browser-room")
        table = coordinator.inner_text("#raters")
        assert all(r in table for r in ("T01", "T02", "T03")) and "3 submitted of 3 joined" in coordinator.content()
        shown = {row.split("\t")[0]: row.split("\t")[2] for row in table.splitlines()[1:]}
        coordinator.click("text=Reveal consensus scores")
        coordinator.wait_for_url(f"{base}/live/browser-room")
        assert "consensus revealed" in coordinator.content()
        browser.close()
    assert errors == []
    with Store(store_path) as store:
        [result] = calibrate_session(store, "browser-room", bank, "pace")
    exact = result.tables["raters"].set_index("rater_id")["exact"]
    for rater, text in shown.items():
        assert text == f"{100 * exact[rater]:.0f}%"
    assert exact["T01"] == 1.0 and exact["T02"] < 1.0
