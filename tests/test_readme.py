"""The README's Python API example runs: a script can do what `irr calibrate`, `irr agreement` and
`irr compare` do."""
import os
import re
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]


def test_readme_python_api_example_runs(tmp_path, monkeypatch):
    import irr
    from irr.io import ingest

    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Python API"):]
    block = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    os.symlink(REPO / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    with irr.Store(tmp_path / "irr-store.sqlite") as store:
        for name in ("calibration", "regional_scoring", "audit"):
            folder = REPO / "examples" / name
            ingest(store, sorted(folder.glob("*.csv")), folder / "session.yaml", bank=irr.load_bank())
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)
    result, table = namespace["result"], namespace["table"]
    assert result.meta["parameters"]["profile"] == "naep"
    assert {"dimension", "work_district", "estimate", "interpretation"} <= set(table.columns)
    assert (tmp_path / "report" / "calibration-report.html").exists()
    districts = namespace["audit"].districts.set_index("district")
    assert districts.loc["Granite Hills SD", "direction"] == "lenient"
    day = namespace["day"].flags.set_index("rater_id")  # T21 drifts through the day (examples/README.md)
    assert day.loc["T21", "flagged"] and int(day["flagged"].sum()) == 1
    raters = pd.read_csv(tmp_path / "report" / "tables" / "raters.csv")
    assert raters["rater_id"].str.startswith("Rater ").all()
    assert all(pd.api.types.is_numeric_dtype(t[c]) for t in namespace["result"].tables.values()
               for c in ("n", "exact", "estimate", "count") if c in t)
