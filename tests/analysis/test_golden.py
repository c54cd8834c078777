"""The tables of `irr calibrate` and `irr agreement` pinned to those of the release before the
analyses were given one shape (issue 11): every column both versions have holds the same values
(numbers to 1e-12).  `tests/golden/` holds the earlier tables, written by `irr calibrate
--format csv` and `irr agreement --format csv` on the bundled examples (and, for condition
codes, on `tests/golden/coded/scores.csv`: room A with eight scores replaced by codes).  They were
written by the code of commit 1f45475."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from irr.analysis.agreement import agreement
from irr.analysis.calibration import calibrate
from irr.io.submissions import read_manifest, read_submission
from irr.model import load_bank

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden"
EXAMPLES = REPO / "examples"
BANK = load_bank()
# Columns whose text became data: the sentence is written by the report from flags/columns now.
CHANGED = {"interpretation", "note"}


def _scores(folder: Path, manifest: Path, files) -> pd.DataFrame:
    session = read_manifest(manifest)
    frames = [read_submission(f, BANK, session).scores.assign(session_id=session.id) for f in files]
    return pd.concat(frames, ignore_index=True)


def _same(before: pd.DataFrame, after: pd.DataFrame, name: str) -> None:
    assert len(before) == len(after), name
    common = [c for c in before.columns if c in after.columns and c not in CHANGED]
    assert len(common) >= len(before.columns) - 6, (name, common)
    for col in common:
        old = before[col]
        new = after[col].reset_index(drop=True)
        old_num = pd.to_numeric(old, errors="coerce")
        if old_num.notna().any() and old_num.notna().sum() == old.notna().sum():
            new_num = pd.to_numeric(new.astype(object).where(new.notna(), np.nan), errors="coerce")
            np.testing.assert_allclose(new_num.to_numpy(float), old_num.to_numpy(float), rtol=1e-12, atol=1e-12,
                                       equal_nan=True, err_msg=f"{name}.{col}")
        else:
            as_text = lambda s: s.astype(object).where(s.notna(), "").astype(str).tolist()  # noqa: E731
    assert as_text(old) == as_text(new), f"{name}.{col}"


@pytest.mark.parametrize("case", ["calibration", "coded"])
def test_calibration_tables_are_unchanged(case):
    if case == "calibration":
        folder = EXAMPLES / "calibration"
        scores = _scores(folder, folder / "session.yaml", sorted(folder.glob("*.csv")))
    else:
        folder = GOLDEN / "coded"
        scores = _scores(folder, folder / "session.yaml", [folder / "scores.csv"])
    result = calibrate(scores, BANK, "pace", session_id=scores["session_id"].iloc[0])
    for path in sorted((GOLDEN / case).glob("*.csv")):
        if path.name == "scores.csv":
            continue
        before = pd.read_csv(path)
        _same(before, result.tables[path.stem], f"{case}/{path.stem}")


@pytest.mark.parametrize("name,folder,options", [
    ("agr_cal", "calibration", {}),
    ("agr_reg", "regional_scoring", {
        "by": ["dimension", "work_district"], "ci": "jackknife",
        "coefficients": ["cohen_kappa", "icc:C,k", "gwet_ac:linear", "krippendorff_alpha:interval"]}),
])
def test_agreement_tables_are_unchanged(name, folder, options):
    # agr_cal: `irr agreement --session seacoast-calibration-2026-10 --format csv`;
    # agr_reg: `irr agreement --session regional-scoring-2026-11 --by dimension,work_district
    #           --coefficient cohen_kappa --coefficient icc:C,k --coefficient gwet_ac:linear
    #           --coefficient krippendorff_alpha:interval --ci jackknife --format csv`
    scores = _scores(EXAMPLES / folder, EXAMPLES / folder / "session.yaml", sorted((EXAMPLES / folder).glob("*.csv")))
    result = agreement(scores, BANK, **options)
    _same(pd.read_csv(GOLDEN / "agreement" / f"{name}.csv"), result.tables["agreement"], name)
