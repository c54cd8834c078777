"""The HTML report in a real headless browser (Debian chromium via Playwright)."""
import shutil
from pathlib import Path

import pandas as pd
import pytest

from irr.analysis.calibration import calibrate
from irr.model import load_bank
from irr.report.render import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "calibration"
HOSTILE = "<script>alert(1)</script>"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    scores = pd.concat([pd.read_csv(f) for f in sorted(EXAMPLES.glob("*.csv"))])
    scores.loc[scores["rater_id"] == "T03", "rater_id"] = HOSTILE
    scores.loc[scores["rater_id"] == "T04", "rater_district"] = '"><img src=x onerror=alert(2)>'
    result = calibrate(scores, load_bank(), "pace", session_id=HOSTILE)
    out = tmp_path_factory.mktemp("report")
    return write_report(result, out)["html"]


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (.ci/run installs it)")
def test_report_renders_in_chromium(report):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = browser.new_page()
        errors, dialogs, requests = [], [], []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("request", lambda r: requests.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
        page.goto(report.as_uri())
        page.wait_for_load_state("load")
        assert errors == [] and dialogs == [] and requests == []   # no script ran, nothing fetched
        figures = page.query_selector_all(".figure svg")
        assert len(figures) == 3
        for svg in figures:
            box = svg.bounding_box()
            assert box and box["width"] > 50 and box["height"] > 50
        body = page.inner_text("body")
        assert HOSTILE in body                      # shown as text
        assert page.query_selector_all("script") == []
        assert page.query_selector_all("img") == []
        assert "Papers that split the room" in body and "Group agreement by dimension" in body
        page.emulate_media(media="print")
        assert page.query_selector_all(".figure svg")[0].bounding_box()["width"] > 50
        browser.close()
