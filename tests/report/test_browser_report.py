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


@pytest.fixture(scope="module")
def comparability_report(tmp_path_factory) -> Path:
    """The public comparability report of the audit example, with a hostile district name."""
    from irr.analysis.comparability import compare_districts
    from irr.report.privacy import Privacy

    scores = pd.read_csv(EXAMPLES.parent / "audit" / "scores.csv", dtype={"flag_iep": str, "flag_ell": str})
    scores.loc[scores["work_district"] == "Cedar Brook SD", "work_district"] = HOSTILE
    result = compare_districts(scores, load_bank(), pool_small=False)
    out = tmp_path_factory.mktemp("comparability")
    return write_report(result, out, privacy=Privacy(anonymize=True, suppress_below=10))["html"]


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (.ci/run installs it)")
def test_comparability_report_renders_in_chromium(comparability_report):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        page = browser.new_page()
        errors, dialogs = [], []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(comparability_report.as_uri())
        page.wait_for_load_state("load")
        assert errors == [] and dialogs == [] and page.query_selector_all("script") == []
        [forest] = page.query_selector_all(".figure svg")
        box = forest.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 100
        body = page.inner_text("body")
        assert HOSTILE in body  # the district name shown as text
        assert "Granite Hills SD" in body and "lenient" in body and "suppressed (n < 10)" in body
        # the forest plot names the small district but draws no interval for it
        assert "Monadnock Regional SD" in forest.inner_html() and "suppressed (n &lt; 10)" in forest.inner_html()
        browser.close()


@pytest.fixture(scope="module")
def facets_report(tmp_path_factory) -> Path:
    """The rater measurement report of the calibration example, with a hostile rater id."""
    from irr.analysis.facets import fit_facets

    scores = pd.concat([pd.read_csv(f) for f in sorted(EXAMPLES.glob("*.csv"))])
    scores.loc[scores["rater_id"] == "T11", "rater_id"] = HOSTILE  # T11 is the planted harsh rater
    result = fit_facets(scores, correct_bias=False)  # uncorrected: the page, not the estimates, is tested
    out = tmp_path_factory.mktemp("facets")
    return write_report(result, out)["html"]


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (.ci/run installs it)")
def test_facets_report_renders_in_chromium(facets_report):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        page = browser.new_page()
        errors, dialogs = [], []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(facets_report.as_uri())
        page.wait_for_load_state("load")
        assert errors == [] and dialogs == [] and page.query_selector_all("script") == []
        [wright] = page.query_selector_all("#fig-wright svg")
        box = wright.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 200
        assert HOSTILE in wright.inner_html().replace("&lt;", "<").replace("&gt;", ">")  # a label, as text
        body = page.inner_text("body")
        assert HOSTILE in body  # the rater id shown as text in the tables
        assert "harsh: +" in body and "misfit: mean-square" in body and "Rasch-kappa" in body
        assert "Separation and reliability" in body and "Methods" in body
        browser.close()


@pytest.fixture(scope="module")
def gstudy_report(tmp_path_factory) -> Path:
    """The generalizability study of the regional example: works x raters x dimensions, a cut score."""
    from irr.analysis.gstudy import g_study

    scores = pd.read_csv(EXAMPLES.parent / "regional_scoring" / "scores.csv")
    result = g_study(scores, object="work_id", facets=("rater_id", "dimension"), n_resamples=50)
    cut = pd.DataFrame({"cut": [2.5], "phi_lambda": [result.phi_lambda(2.5)]})
    result = result.with_tables({**result.tables, "phi_lambda": cut})
    out = tmp_path_factory.mktemp("gstudy")
    return write_report(result, out)["html"]


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (.ci/run installs it)")
def test_gstudy_report_renders_in_chromium(gstudy_report):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        page = browser.new_page()
        errors, dialogs = [], []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(gstudy_report.as_uri())
        page.wait_for_load_state("load")
        assert errors == [] and dialogs == [] and page.query_selector_all("script") == []
        [plot] = page.query_selector_all("#fig-dstudy svg")
        box = plot.bounding_box()
        assert box and box["width"] > 300 and box["height"] > 150
        assert "target 0.80" in plot.inner_html() and "number of raters" in plot.inner_html()
        assert "number of dimensions" in plot.inner_html()  # the legend: one line per number of dimensions
        body = page.inner_text("body")
        assert "Variance components" in body and "work_id x rater_id x dimension" in body
        assert "Φ(λ) at λ = 2.5" in body and "Smallest design with Φ >= 0.80" in body
        assert "Brennan" in body and "Cronbach" in body and "Methods" in body
        bars = page.query_selector_all("#components .bar")
        assert len(bars) == 7 and bars[0].bounding_box()["width"] > bars[2].bounding_box()["width"]
        browser.close()
