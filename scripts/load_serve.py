"""Load test of a live calibration session (irr serve), on loopback only, bounded in raters and time.

Starts the web application with uvicorn in this process (a thread), opens a live session on a
task's anchor papers, then lets ``--raters`` raters (threads, each its own HTTP client and cookie)
join and submit a full score sheet (every anchor paper x every dimension) all at once.  Reports
p50 / p99 / max latency of the joins and of the submissions, and checks that every score is in
the store exactly once.

    python scripts/load_serve.py --raters 200
"""

from __future__ import annotations

import argparse
import re
import socket
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

TASK = "ela-g8-argument"


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raters", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=120.0, help="Give up after this many seconds.")
    args = parser.parse_args()
    import httpx
    import uvicorn

    from irr.model.bank import load_bank
    from irr.store import Store
    from irr.web.app import create_app

    bank = load_bank()
    task = bank.task(TASK)
    dims = [d.id for d in bank.rubric_for(task).dimensions]
    store_path = Path(tempfile.mkdtemp()) / "load.sqlite"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(store_path), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=base, timeout=args.timeout) as coordinator:
        token = _csrf(coordinator.get(f"/tasks/{TASK}").text)
        coordinator.post("/live", data={"csrf": token, "task_id": TASK, "session_id": "load", "profile": "pace"})
        join = coordinator.get("/live/load.json").json()["join_url"].replace("http://testserver", base)
    barrier = threading.Barrier(args.raters)

    def rater(i: int) -> tuple[float, float, int]:
        with httpx.Client(base_url=base, timeout=args.timeout) as client:
            page = client.get(join)
            barrier.wait()  # everyone joins at once
            t0 = time.perf_counter()
            client.post(join, data={"csrf": _csrf(page.text), "rater_id": f"R{i:03d}"})
            joined = time.perf_counter() - t0
            form = client.get("/live/load/score").text
            fields = {f"s::{p.id}::{d}": str(p.scores[d]) for p in task.anchors for d in dims}
            t1 = time.perf_counter()
            response = client.post("/live/load/score", data={"csrf": _csrf(form), **fields})
            return joined, time.perf_counter() - t1, response.status_code

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.raters) as pool:
        results = list(pool.map(rater, range(args.raters)))
    wall = time.perf_counter() - start
    server.should_exit = True
    joins = np.array([r[0] for r in results]) * 1000
    submits = np.array([r[1] for r in results]) * 1000
    ok = sum(r[2] == 200 for r in results)
    with Store(store_path) as store:
        scores = store.scores(session="load")
    per = scores.groupby(["rater_id", "work_id", "dimension"]).size()
    expected = args.raters * len(task.anchors) * len(dims)
    print(f"{args.raters} raters x {len(task.anchors)} papers x {len(dims)} dimensions, all at once ({wall:.1f} s)")
    for name, values in (("join", joins), ("submit", submits)):
        print(f"  {name:6}: p50 {np.percentile(values, 50):.0f} ms, p99 {np.percentile(values, 99):.0f} ms, "
              f"max {values.max():.0f} ms")
    print(f"  submissions answered 200: {ok} of {args.raters}")
    print(f"  scores stored: {len(scores)} of {expected}; any stored twice: {bool((per > 1).any())}")


if __name__ == "__main__":
    main()
