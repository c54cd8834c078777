"""The web application (irr serve): bank pages and their JSON twins, sessions and reports, the
coordinator login with CSRF and attempt limits, escaping, anchor documents, and the command."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from irr.cli.main import cli
from irr.web.app import create_app
from irr.web.security import hash_passphrase

starlette_testclient = pytest.importorskip("starlette.testclient")
TestClient = starlette_testclient.TestClient
ROOT = Path(__file__).resolve().parents[2]
HOSTILE = '<script>alert("x")</script>'


@pytest.fixture(scope="module")
def bank_dir(tmp_path_factory):
    """A copy of the bank with a hostile title and an anchor document (and one pointing outside it)."""
    root = tmp_path_factory.mktemp("bank")
    shutil.copytree(ROOT / "rubrics", root / "rubrics")
    shutil.copytree(ROOT / "tasks", root / "tasks")
    path = next(p for p in (root / "tasks").rglob("*.yaml") if yaml.safe_load(p.read_text())["id"] == "ela-g8-argument")
    task = yaml.safe_load(path.read_text())
    task["title"] = f"Argument {HOSTILE}"
    task["anchors"][0]["document"] = "anchors/A1.pdf"
    task["anchors"][1]["document"] = "../../../etc/passwd"
    path.write_text(yaml.safe_dump(task, sort_keys=False))
    (root / "anchors").mkdir()
    (root / "anchors" / "A1.pdf").write_bytes(b"%PDF-1.4\n% a tiny test document\n")
    return root


@pytest.fixture(scope="module")
def store_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("store") / "s.sqlite"
    example = ROOT / "examples" / "calibration"
    result = CliRunner().invoke(
        cli,
        [
            "ingest",
            *map(str, sorted(example.glob("*.csv"))),
            "--session",
            str(example / "session.yaml"),
            "--store",
            str(path),
        ],
    )
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture()
def client(bank_dir, store_file):
    return TestClient(create_app(store_file, bank_dir))


def test_bank_page_filters_and_its_json_twin(client):
    page = client.get("/")
    assert page.status_code == 200 and "Task bank" in page.text
    data = client.get("/index.json").json()
    assert data["total"] == len(data["tasks"]) >= 10
    for task in data["tasks"]:
        assert f'href="/tasks/{task["id"]}"' in page.text
    grade8 = client.get("/index.json", params={"grade": "8", "kind": "common"}).json()["tasks"]
    assert grade8 and all(t["grade"] == 8 and t["kind"] == "common" for t in grade8)
    assert len(grade8) < data["total"]
    html = client.get("/", params={"grade": "8", "kind": "common"}).text
    assert html.count("<tr>") == len(grade8) + 1  # the header row and one per task
    subject = data["options"]["subject"][0]
    only = client.get("/index.json", params={"subject": subject}).json()["tasks"]
    assert {t["content_area"] for t in only} == {subject}
    assert client.get("/index.json", params={"q": "no such words anywhere"}).json()["tasks"] == []


def test_task_page_shows_rubric_descriptors_and_anchors_escaped(client):
    page = client.get("/tasks/ela-g8-argument")
    assert page.status_code == 200
    assert HOSTILE not in page.text and "&lt;script&gt;" in page.text  # the bank's words are escaped
    data = client.get("/tasks/ela-g8-argument.json").json()
    assert data["task"]["title"].endswith(HOSTILE)  # the JSON holds the data as it is
    dims = data["rubric"]["dimensions"]
    assert dims and all(d["score_points"] and all(p["descriptor"] for p in d["score_points"]) for d in dims)
    for d in dims:
        for point in d["score_points"][:1]:
            assert point["label"] in page.text
    assert len(data["anchors"]) >= 10
    first = data["anchors"][0]
    assert first["annotation"] and set(first["scores"]) == {d["id"] for d in dims}


def test_anchor_documents_are_served_only_from_inside_the_bank(client):
    anchors = client.get("/tasks/ela-g8-argument.json").json()["anchors"]
    assert anchors[0]["document"] and anchors[1]["document"] is None  # ../../../etc/passwd is not offered
    doc = client.get(anchors[0]["document"])
    assert doc.status_code == 200 and doc.headers["content-type"] == "application/pdf"
    assert doc.content.startswith(b"%PDF")
    sneaky = client.get(f"/tasks/ela-g8-argument/anchors/{anchors[1]['id']}/document")
    assert sneaky.status_code == 404
    assert client.get("/tasks/ela-g8-argument/anchors/NOPE/document").status_code == 404


def test_unknown_pages_are_404_in_html_and_json(client):
    page = client.get("/tasks/no-such-task")
    assert page.status_code == 404 and "no task &#39;no-such-task&#39;" in page.text  # escaped, like all data
    assert client.get("/tasks/no-such-task.json").json()["error"].startswith("no task 'no-such-task'")
    assert client.get("/no/such/path").status_code == 404


def test_sessions_and_the_calibration_report(client, bank_dir):
    rows = client.get("/sessions.json").json()["sessions"]
    assert [r["session_id"] for r in rows] == ["seacoast-calibration-2026-10"] and rows[0]["scores"] > 0
    page = client.get("/sessions")
    assert (
        "seacoast-calibration-2026-10" in page.text
        and "/sessions/seacoast-calibration-2026-10/calibration" in page.text
    )
    report = client.get("/sessions/seacoast-calibration-2026-10/calibration")
    assert report.status_code == 200 and "<svg" in report.text and "Calibration" in report.text
    assert client.get("/sessions/nope/calibration").status_code == 404
    links = [r["url"] for r in rows[0]["reports"]]
    assert links == [f"/sessions/seacoast-calibration-2026-10/{k}" for k in ("calibration", "raters", "agreement")]
    raters = client.get("/sessions/seacoast-calibration-2026-10/raters")
    assert raters.status_code == 200 and 'id="fig-wright"' in raters.text  # the page irr raters writes
    agreement = client.get("/sessions/seacoast-calibration-2026-10/agreement")
    assert agreement.status_code == 200 and "Agreement" in agreement.text
    assert client.get("/sessions/seacoast-calibration-2026-10/nosuch").status_code == 404
    compare = client.get("/sessions/seacoast-calibration-2026-10/compare")  # no audit reads: a message, not a 500
    assert compare.status_code in (400, 404) and ("Error" in compare.text or "Not found" in compare.text)
    bare = TestClient(create_app(None, bank_dir))
    assert bare.get("/sessions.json").json() == {"title": "Sessions", "store": None, "sessions": []}


def test_passphrase_locks_every_page_behind_a_login(bank_dir, store_file):
    app = create_app(store_file, bank_dir, passphrase_hash=hash_passphrase("a long room passphrase"))
    client = TestClient(app)
    first = client.get("/", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"].startswith("/login")
    assert client.get("/index.json").status_code == 401
    assert client.get("/tasks/ela-g8-argument.json").status_code == 401  # consensus scores stay hidden
    form = client.get("/login").text
    token = form.split('name="csrf" value="')[1].split('"')[0]
    assert client.post("/login", data={"passphrase": "a long room passphrase"}).status_code == 400  # no CSRF token
    assert client.post("/login", data={"passphrase": "wrong one", "csrf": token}).status_code == 403
    ok = client.post("/login", data={"passphrase": "a long room passphrase", "csrf": token}, follow_redirects=False)
    assert ok.status_code == 303
    assert client.get("/index.json").status_code == 200
    page = client.get("/")
    new_token = page.text.split('name="csrf" value="')[1].split('"')[0]
    assert new_token != token  # a fresh token after logging in
    assert client.post("/logout", data={}).status_code == 400
    assert client.post("/logout", data={"csrf": new_token}, follow_redirects=False).status_code == 303
    assert client.get("/index.json").status_code == 401


def test_login_attempts_are_limited(bank_dir):
    client = TestClient(create_app(None, bank_dir, passphrase_hash=hash_passphrase("a long room passphrase")))
    token = client.get("/login").text.split('name="csrf" value="')[1].split('"')[0]
    codes = [client.post("/login", data={"passphrase": f"guess {i}", "csrf": token}).status_code for i in range(11)]
    assert codes[:10] == [403] * 10 and codes[10] == 429
    right = client.post("/login", data={"passphrase": "a long room passphrase", "csrf": token})
    assert right.status_code == 429  # even the right one waits out the window


def test_serve_refuses_an_open_address_without_a_passphrase(monkeypatch, tmp_path, store_file):
    calls = []
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: calls.append((a, k)))
    monkeypatch.delenv("IRR_SERVE_PASSPHRASE", raising=False)
    runner = CliRunner()
    open_host = runner.invoke(cli, ["serve", "--host", "0.0.0.0", "--store", str(tmp_path / "s.sqlite")])
    assert open_host.exit_code != 0 and "refusing to listen on 0.0.0.0" in open_host.output
    assert "Traceback" not in open_host.output and not calls
    short = runner.invoke(cli, ["serve", "--host", "0.0.0.0", "--passphrase", "short"])
    assert short.exit_code != 0 and "too short" in short.output
    missing = runner.invoke(cli, ["serve", "--store", str(tmp_path / "none.sqlite")])
    assert missing.exit_code == 1 and missing.output.startswith("Error: no store at") and not calls
    ok = runner.invoke(
        cli,
        [
            "serve",
            "--host",
            "0.0.0.0",
            "--port",
            "8123",
            "--passphrase",
            "a long room passphrase",
            "--store",
            str(store_file),
        ],
    )
    assert ok.exit_code == 0, ok.output
    ((args, kwargs),) = calls
    assert args == ("irr.web.app:app_from_environment",) and kwargs["factory"] and kwargs["port"] == 8123
    assert kwargs["access_log"] is False
    # the application hashes the passphrase and takes it out of the environment
    from irr.web.app import app_from_environment

    assert os.environ.get("IRR_SERVE_PASSPHRASE") == "a long room passphrase"
    app = app_from_environment()
    assert "IRR_SERVE_PASSPHRASE" not in os.environ
    assert app.state.passphrase_hash.startswith("scrypt$")
    for key in ("IRR_SERVE_STORE", "IRR_SERVE_BANK", "IRR_SERVE_SECRET"):
        monkeypatch.delenv(key, raising=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_irr_serve_serves_on_loopback(tmp_path, store_file):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRR_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "irr.cli.main", "serve", "--port", str(port), "--store", str(store_file)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        body = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/sessions.json", timeout=1) as response:
                    body = json.loads(response.read())
                break
            except OSError:
                time.sleep(0.1)
        assert body is not None, proc.stderr.read1().decode() if proc.poll() is not None else "no answer"
        assert body["sessions"][0]["session_id"] == "seacoast-calibration-2026-10"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
