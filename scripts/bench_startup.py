#!/usr/bin/env python3
"""Start-up time of the `irr` command, beside the floor of the interpreter and click.

    python scripts/bench_startup.py [--repeat 7]

Each figure is the median wall time of fresh processes.  Targets (issue 11): `irr --help` and
`irr sessions` under 0.3 s on a machine where `python -c pass` takes about 0.02 s; on a slower
machine compare with the floor rows, measured here in the same run.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _median(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    py = sys.executable
    script = Path(py).parent / "irr"        # the console script, as coordinators run it
    irr = [str(script)] if script.exists() else [py, "-m", "irr.cli.main"]
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "store.sqlite"
        folder = REPO / "examples" / "calibration"
        subprocess.run([*irr, "ingest", *map(str, sorted(folder.glob("*.csv"))), "--session",
                        str(folder / "session.yaml"), "--store", str(store)], check=True, stdout=subprocess.DEVNULL)
        rows = [
            ("python -c pass (floor)", [py, "-c", "pass"]),
            ("python -c 'import click' (floor)", [py, "-c", "import click"]),
            ("python -c 'import irr'", [py, "-c", "import irr"]),
            ("irr --help", [*irr, "--help"]),
            ("irr sessions", [*irr, "sessions", "--store", str(store)]),
            ("python -c 'import pandas' (what was avoided)", [py, "-c", "import pandas"]),
        ]
        results = [(label, _median(cmd, args.repeat)) for label, cmd in rows]
    floor = results[1][1]
    print(f"| what | median of {args.repeat} | vs python + click |")
    print("|---|---:|---:|")
    for label, t in results:
        print(f"| {label} | {t:.3f} s | {t / floor:.2f}x |")


if __name__ == "__main__":
    main()
