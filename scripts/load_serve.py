"""Load test of a live calibration session (irr serve), on loopback only, bounded in raters and time.

Starts ``irr serve`` as its own process on a copy of the bank whose grade 8 argument task has 15
anchor papers (the bundled one has 12) x 4 dimensions, opens a live session, then lets
``--raters`` raters join and submit their whole score sheet (15 x 4 = 60 scores), all at once:
every rater's request leaves in the same instant.  Then every rater corrects their sheet at
once (``--rounds 2``: the second submission replaces the first).  A sheet is posted as the
scoring page's script posts it, to the page's JSON twin (``--no-script``: as a browser without
scripts posts the form, getting the whole page back).  The raters are one asyncio
client with one keep-alive connection and cookie each, speaking plain HTTP/1.1 -- a light
client, so that the two cores measure the server, not the load generator.  The coordinator's
dashboard (its JSON twin) is read every ``--poll`` seconds meanwhile, as a coordinator's
browser would.

Reports p50 / p99 / max latency of the joins, the scoring page loads and each round of
submissions, and checks that the store holds every rater's latest 60 scores exactly once.

    python scripts/load_serve.py --raters 200
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import numpy as np
import yaml

TASK = "ela-g8-argument"
PAPERS = 15
SESSION = "load"


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    if match is None:
        raise RuntimeError(f"no CSRF token in the page: {html[:300]!r}")
    return match.group(1)


def make_bank(folder: Path) -> Path:
    """A copy of the bundled bank with the task's anchor set grown to PAPERS papers."""
    from irr.model.bank import load_bank

    source = Path(load_bank().root)
    for part in ("rubrics", "tasks", "profiles"):
        if (source / part).is_dir():
            shutil.copytree(source / part, folder / part)
    path = folder / "tasks" / f"{TASK}.yaml"
    task = yaml.safe_load(path.read_text(encoding="utf-8"))
    rng = np.random.default_rng(7)
    dims = list(task["anchors"][0]["scores"])
    for i in range(len(task["anchors"]), PAPERS):
        task["anchors"].append(
            {
                "id": f"ELA8-L{i + 1:02d}",
                "scores": {d: int(rng.integers(1, 5)) for d in dims},
                "position": "mid",
                "role": "anchor",
                "annotation": "Load-test paper.",
            }
        )
    path.write_text(yaml.safe_dump(task, sort_keys=False), encoding="utf-8")
    load_bank(folder)  # the copy is a valid bank
    return folder


class Client:
    """One rater's (or the coordinator's) keep-alive HTTP/1.1 connection with its session cookie."""

    def __init__(self, port: int):
        self.port = port
        self.cookie = ""
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str, str]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        # as a browser encodes a form (WHATWG urlencoded: "*" stays as it is, which Python would escape)
        body = urllib.parse.urlencode(form, safe="*").encode() if form is not None else b""
        head = [f"{method} {path} HTTP/1.1", f"host: 127.0.0.1:{self.port}", f"content-length: {len(body)}"]
        if form is not None:
            head.append("content-type: application/x-www-form-urlencoded")
        if self.cookie:
            head.append(f"cookie: {self.cookie}")
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length, location = 0, ""
        while True:
            line = (await self.reader.readline()).decode("latin-1").strip()
            if not line:
                break
            name, _, value = line.partition(":")
            name, value = name.lower(), value.strip()
            if name == "content-length":
                length = int(value)
            elif name == "set-cookie":
                self.cookie = value.split(";", 1)[0]
            elif name == "location":
                location = value
        text = (await self.reader.readexactly(length)).decode() if length else ""
        return status, text, location

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the process and its descendants have used so far (Linux /proc; 0
    elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = [
            int(c) for tasks in Path(f"/proc/{pid}/task").iterdir() for c in (tasks / "children").read_text().split()
        ]
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") + sum(cpu_seconds(c) for c in children)


def percentiles(seconds: list[float]) -> str:
    ms = np.array(seconds) * 1000
    return f"p50 {np.percentile(ms, 50):6.0f} ms   p99 {np.percentile(ms, 99):6.0f} ms   max {ms.max():6.0f} ms"


async def run(
    port: int, pid: int, n_raters: int, rounds: int, poll: float, papers, dims, no_script: bool = False
) -> dict:
    coordinator = Client(port)
    status, page, _ = await coordinator.request("GET", f"/tasks/{TASK}")
    status, _, where = await coordinator.request(
        "POST", "/live", {"csrf": _csrf(page), "task_id": TASK, "session_id": SESSION, "profile": "pace"}
    )
    assert status == 303, status
    _, dashboard, _ = await coordinator.request("GET", f"/live/{SESSION}.json")
    join_path = urllib.parse.urlparse(re.search(r'"join_url":"([^"]+)"', dashboard).group(1)).path
    raters = [Client(port) for _ in range(n_raters)]
    timings: dict[str, list[float]] = {"join": [], "page": []}
    server_cpu: dict[str, float] = {}
    client_cpu: dict[str, float] = {}
    go = asyncio.Event()
    ready = 0

    async def timed(name: str, coro):
        t0 = time.perf_counter()
        out = await coro
        timings.setdefault(name, []).append(time.perf_counter() - t0)
        return out

    async def all_at_once(name: str, calls):
        """Start every call in the same instant (after each client is ready), time each."""
        nonlocal ready
        go.clear()
        ready = 0

        async def one(call):
            nonlocal ready
            ready += 1
            if ready == len(calls):
                go.set()
            await go.wait()
            return await timed(name, call())

        before, client_before = cpu_seconds(pid), time.process_time()
        out = await asyncio.gather(*(one(c) for c in calls))
        server_cpu[name] = cpu_seconds(pid) - before
        client_cpu[name] = time.process_time() - client_before
        return out

    pages = await asyncio.gather(*(r.request("GET", join_path) for r in raters))
    joined = await all_at_once(
        "join",
        [
            (lambda r=r, p=p, i=i: r.request("POST", join_path, {"csrf": _csrf(p[1]), "rater_id": f"R{i:03d}"}))
            for i, (r, p) in enumerate(zip(raters, pages))
        ],
    )
    assert all(s == 303 for s, _, _ in joined), [s for s, _, _ in joined]
    sheets = await all_at_once("page", [(lambda r=r: r.request("GET", f"/live/{SESSION}/score")) for r in raters])
    tokens = [_csrf(page) for _, page, _ in sheets]
    rng = np.random.default_rng(1)
    expected: dict[tuple[str, str, str], int] = {}
    polling = True

    async def poll_dashboard():
        while polling:
            await timed("dashboard", coordinator.request("GET", f"/live/{SESSION}.json"))
            await asyncio.sleep(poll)

    poller = asyncio.create_task(poll_dashboard()) if poll > 0 else None
    for round_ in range(1, rounds + 1):
        forms = []
        for i, token in enumerate(tokens):
            scores = {(p, d): int(rng.integers(1, 5)) for p in papers for d in dims}
            expected.update({(f"R{i:03d}", p, d): s for (p, d), s in scores.items()})
            forms.append({"csrf": token, **{f"s*{p}*{d}": str(s) for (p, d), s in scores.items()}})
        # as the scoring page's script posts the form (to its JSON twin), or as a browser without scripts
        target = f"/live/{SESSION}/score" + ("" if no_script else ".json")
        answers = await all_at_once(
            f"submit {round_}",
            [(lambda r=r, f=f, t=target: r.request("POST", t, f)) for r, f in zip(raters, forms)],
        )
        bad = [s for s, page, _ in answers if s != 200 or "Saved: 60 scores" not in page]
        assert not bad, f"round {round_}: {len(bad)} submissions not saved (statuses {sorted(set(bad))})"
    polling = False
    if poller is not None:
        await poller
    for client in (coordinator, *raters):
        client.close()
    return {"timings": timings, "expected": expected, "server_cpu": server_cpu, "client_cpu": client_cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raters", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2, help="Submissions per rater (later ones correct).")
    parser.add_argument(
        "--poll", type=float, default=5.0, help="Seconds between dashboard reads (0: none; the page reloads every 5 s)."
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="Give up after this many seconds.")
    parser.add_argument(
        "--no-script",
        action="store_true",
        help="Post the plain form and get the whole page back (a browser without scripts), not the JSON twin.",
    )
    args = parser.parse_args()
    if not 1 <= args.raters <= 1000:
        parser.error("--raters is 1 to 1000")

    from irr.model.bank import load_bank
    from irr.store import Store

    folder = Path(tempfile.mkdtemp(prefix="irr-load-"))
    bank = load_bank(make_bank(folder / "bank"))
    task = bank.task(TASK)
    papers = [a.id for a in task.anchors]
    dims = [d.id for d in bank.rubric_for(task).dimensions]
    store_path = folder / "load.sqlite"
    Store(store_path).close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [
            sys.executable,
            *os.environ.get("IRR_LOAD_SERVER", "-c|from irr.cli.main import main; main()").split("|"),
            "serve",
            "--store",
            str(store_path),
            "--bank",
            str(folder / "bank"),
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("irr serve did not start") from None
                time.sleep(0.1)
        print(
            f"{args.raters} raters x {len(papers)} papers x {len(dims)} dimensions, {args.rounds} round(s), "
            f"one irr serve process on 127.0.0.1"
        )
        start = time.perf_counter()
        out = asyncio.run(
            asyncio.wait_for(
                run(port, server.pid, args.raters, args.rounds, args.poll, papers, dims, args.no_script),
                timeout=args.timeout,
            )
        )
        wall = time.perf_counter() - start
    finally:
        server.terminate()
        server.wait(timeout=30)
    for name, seconds in out["timings"].items():
        cpu, mine = out["server_cpu"].get(name), out["client_cpu"].get(name)
        used = f"   server CPU {cpu * 1000:4.0f} ms, client {mine * 1000:4.0f} ms" if cpu is not None else ""
        print(f"{name:>10} ({len(seconds):4d}): {percentiles(seconds)}{used}")
    with Store(store_path) as store:
        scores = store.scores(session=SESSION)
    keys = list(zip(scores["rater_id"], scores["work_id"], scores["dimension"]))
    expected = out["expected"]
    duplicated = len(keys) - len(set(keys))
    lost = len(set(expected) - set(keys))
    wrong = sum(int(s) != expected.get(k, -1) for k, s in zip(keys, scores["score"]))
    print(
        f"store: {len(keys)} scores for {len(expected)} expected; lost {lost}, duplicated {duplicated}, "
        f"wrong value {wrong}; wall {wall:.1f} s"
    )
    if lost or duplicated or wrong or len(keys) != len(expected):
        raise SystemExit("the store does not hold every score exactly once")


if __name__ == "__main__":
    main()
