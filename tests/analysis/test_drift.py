"""`rater_drift`: references, blocks, the planted-drift study at small size, null false alarms,
the control-chart methods, and `irr drift` end to end.

Full size: scripts/sim_drift.py (figures in scripts/README.md)."""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from irr.analysis.drift import rater_drift
from irr.errors import DataError, NotFoundError

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("sim_drift", ROOT / "scripts" / "sim_drift.py")
SIM = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(SIM)

DRIFTERS = [f"R{r:02d}" for r in range(1, 6)]
LENIENT = [f"R{r:02d}" for r in range(6, 11)]


def test_leave_one_out_reference_and_bias_by_block():
    # two raters read the same two works in two sessions; R2 is one point higher in session 2
    rows = []
    for s, extra in (("s1", 0), ("s2", 1)):
        for w in range(6):
            for r, bump in (("R1", 0), ("R2", extra)):
                rows.append(
                    dict(
                        session_id=s,
                        session_date=s,
                        rater_id=r,
                        work_id=f"{s}{w}",
                        task_id="t",
                        dimension="d",
                        score=2 + bump,
                        read_type="first",
                    )
                )
    result = rater_drift(pd.DataFrame(rows), min_block=1, n_sim=200)
    series = result.series.set_index(["rater_id", "block_label"])
    assert series.loc[("R2", "s1"), "bias"] == 0 and series.loc[("R2", "s2"), "bias"] == 1
    assert series.loc[("R1", "s2"), "bias"] == -1  # the reference of R1 is R2's read
    assert series.loc[("R2", "s2"), "exact"] == 0 and series.loc[("R2", "s1"), "exact"] == 1
    assert result.flags.set_index("rater_id").loc["R2", "reference"] == "others"


def test_anchor_reference_comes_first_and_consensus_reads_are_references():
    from irr.model.bank import load_bank

    bank = load_bank()
    anchor = bank.task("ela-g8-argument").anchors[0]
    rows = [
        dict(
            session_id="s1",
            session_date="2026-01-01",
            rater_id="R1",
            work_id=anchor.id,
            task_id="ela-g8-argument",
            dimension="claim",
            score=anchor.scores["claim"] + 1,
            read_type="first",
        ),
        dict(
            session_id="s1",
            session_date="2026-01-01",
            rater_id="R2",
            work_id=anchor.id,
            task_id="ela-g8-argument",
            dimension="claim",
            score=anchor.scores["claim"],
            read_type="first",
        ),
        dict(
            session_id="s1",
            session_date="2026-01-01",
            rater_id="R1",
            work_id="W9",
            task_id="ela-g8-argument",
            dimension="claim",
            score=3,
            read_type="first",
        ),
        dict(
            session_id="s1",
            session_date="2026-01-01",
            rater_id="P",
            work_id="W9",
            task_id="ela-g8-argument",
            dimension="claim",
            score=2,
            read_type="consensus",
        ),
    ]
    result = rater_drift(pd.DataFrame(rows), bank, min_block=1, n_sim=100)
    series = result.series.set_index("rater_id")
    # R1: +1 on the anchor (its consensus, not R2's read) and +1 against the consensus read of W9
    assert series.loc["R1", "bias"] == 1.0 and series.loc["R1", "n"] == 2
    assert "P" not in series.index  # a consensus read is a reference, not a rater's score
    # R2's anchor read and R1's two; P's consensus read is a reference, not a judged score
    assert result.meta["references_used"] == {"anchor": 2, "consensus": 1}
    assert "consensus read (a reference, not a rater's score)" in result.dropped


def test_sessions_are_ordered_by_date_not_by_id():
    rng = np.random.default_rng(5)
    scores = SIM.simulate_drift(rng, n_raters=10, n_sessions=4, works=10, drifters=0, lenient=0)
    # rename the sessions so that id order disagrees with date order
    names = {"S01": "zeta", "S02": "alpha", "S03": "mid", "S04": "beta"}
    scores["session_id"] = scores["session_id"].map(names)
    result = rater_drift(scores, n_sim=200)
    assert result.meta["blocks"] == ["zeta", "alpha", "mid", "beta"]


@pytest.mark.parametrize("seed", [1, 2])
def test_planted_drifters_are_found_and_stable_lenient_raters_are_not(seed):
    """Issue 13's study at full design, a few seeds: 50 raters x 12 sessions, R01-R05 +0.3 from S07,
    R06-R10 lenient +0.4 all along. Full size (scripts/sim_drift.py): see scripts/README.md."""
    scores = SIM.simulate_drift(np.random.default_rng(seed))
    flags = rater_drift(scores, n_sim=1000).flags.set_index("rater_id")
    hit = flags.loc[DRIFTERS]
    found = hit["flagged"].astype(bool) & hit["direction"].str.contains("lenient")
    assert found.sum() >= 4
    assert hit.loc[found, "first_alarm"].isin(["S07", "S08", "S09"]).all()
    assert (hit.loc[found, "shift"].between(0.1, 0.5)).all()
    assert not flags.loc[LENIENT, "flagged"].astype(bool).any()
    assert (flags.loc[LENIENT, "baseline_bias"] > 0.15).all()  # they are lenient, just not drifting
    others = flags.drop(DRIFTERS + LENIENT)
    assert not others["flagged"].astype(bool).any()


def test_no_drift_raises_no_alarm_beyond_alpha():
    # 12 seeded drift-free seasons (30 raters x 8 sessions, 5 stably lenient): the control is across
    # raters, so the share of seasons with any rater flagged should be about alpha = 5%; allow 2 of 12
    # (P(Binom(12, .05) >= 3) = 0.02).  Full size: scripts/sim_drift.py.
    rng = np.random.default_rng(2026)
    any_flag = 0
    for _ in range(12):
        scores = SIM.simulate_drift(rng, n_raters=30, n_sessions=8, works=12, drifters=0, start=5)
        any_flag += bool(rater_drift(scores, n_sim=500).flags["flagged"].astype(bool).any())
    assert any_flag <= 2


@pytest.mark.parametrize("method", ["changepoint", "shewhart"])
def test_less_accurate_rater_is_found_by_the_agreement_series(method):
    # changepoint: the change-point test on exact agreement; shewhart: the p chart beside the x-bar chart
    rng = np.random.default_rng(8)
    scores = SIM.simulate_drift(rng, n_raters=20, n_sessions=10, works=20, drifters=0, lenient=0)
    # R01 becomes noisy (no shift in bias) from session 6
    late = (scores["rater_id"] == "R01") & (scores["session_id"] >= "S06")
    if method == "changepoint":
        noise = np.random.default_rng(9).choice([-1, 0, 1], size=int(late.sum()), p=[0.35, 0.3, 0.35])
        scores.loc[late, "score"] = np.clip(scores.loc[late, "score"] + noise, 1, 4)
    else:  # a chart sees one block at a time: a plainer loss, 2 and 3 swapped (no bias; clipping-free)
        middle = late & scores["score"].between(2, 3)
        scores.loc[middle, "score"] = 5 - scores.loc[middle, "score"]
    flags = rater_drift(scores, n_sim=1000, method=method).flags.set_index("rater_id")
    assert flags.loc["R01", "flagged"] and flags.loc["R01", "first_alarm"] >= "S06"
    if method == "changepoint":
        assert "less accurate" in flags.loc["R01", "direction"] and flags.loc["R01", "accuracy_change"] < -0.15
    else:
        assert flags.loc["R01", "direction"] == "less accurate"
    assert flags["flagged"].astype(bool).sum() == 1


@pytest.mark.parametrize("method", ["cusum", "ewma", "shewhart"])
def test_control_charts_alarm_on_a_drifter_after_the_change(method):
    scores = SIM.simulate_drift(
        np.random.default_rng(3), n_raters=20, n_sessions=12, works=25, drifters=1, lenient=1, shift=0.5
    )
    result = rater_drift(scores, method=method)
    flags = result.flags.set_index("rater_id")
    assert flags.loc["R01", "flagged"] and flags.loc["R01", "first_alarm"] >= "S07"
    series = result.series
    # lenient from the start: charted against its own (lenient) baseline, it sits near 0
    lenient = series[series["rater_id"] == "R02"]
    assert lenient["baseline"].iloc[0] > 0.2 and abs(lenient["z"].mean()) < 1
    # the charts run per rater without a correction across raters: a few false alarms are the price
    assert flags["flagged"].astype(bool).drop("R01").sum() <= 3
    assert series.loc[series["rater_id"] == "R01", "alarm"].any()
    if method != "shewhart":
        assert series["upper_limit"].notna().any()


def test_mfrm_rater_by_block_interaction_finds_the_drifter():
    """Optional MFRM rater x block term (FACETS Table 13 on blocks): a rater who turned lenient at S05
    has harsh early and lenient late blocks relative to the rater's own severity; null data: none."""
    from irr.analysis.drift import _mfrm_alarms

    scores = SIM.simulate_drift(
        np.random.default_rng(1), n_raters=12, n_sessions=8, works=30, drifters=2, lenient=2, shift=1.0, start=5
    )
    result = rater_drift(scores, reference="others", mfrm=True)
    table = result.tables["mfrm"]
    late = table[(table["rater_id"] == "R01") & (table["block_label"] >= "S05")]
    assert (late["bias"] < 0).all() and (late["p_adjusted"] < 0.05).any()
    raters = np.array(sorted(scores["rater_id"].unique()), dtype=object)
    alarms = _mfrm_alarms(table, raters, 0.05, result.meta["blocks"])
    hit = dict(zip(raters[alarms["flag"]], alarms["direction"][alarms["flag"]]))
    assert hit.get("R01") == "lenient" and hit.get("R02") == "lenient"
    assert result.meta["blocks"][alarms["first"][0]] == "S05"
    assert "MFRM rater x block" in result.flags["method"].iloc[0]
    null = SIM.simulate_drift(
        np.random.default_rng(2), n_raters=12, n_sessions=8, works=30, drifters=2, lenient=2, shift=0.0, start=5
    )
    quiet = rater_drift(null, reference="others", mfrm=True)
    assert (quiet.tables["mfrm"]["p_adjusted"].dropna() >= 0.05).all()
    assert not quiet.flags["flagged"].any()


def test_exact_drop_rule():
    scores = SIM.simulate_drift(
        np.random.default_rng(4), n_raters=10, n_sessions=6, works=20, drifters=1, lenient=0, shift=0.8, start=4
    )
    flags = rater_drift(scores, exact_drop=0.15, n_sim=500).flags.set_index("rater_id")
    assert "exact drop >= 0.15" in flags.loc["R01", "method"]
    assert flags.loc["R01", "flagged"] and flags.loc["R01", "first_alarm"] in ("S04", "S05")


def test_timestamp_blocks_by_duration_and_by_count():
    rng = np.random.default_rng(6)
    scores = SIM.simulate_drift(rng, n_raters=6, n_sessions=1, works=40, drifters=0, lenient=0)
    order = scores.groupby("rater_id").cumcount()
    scores["timestamp"] = (pd.Timestamp("2026-11-04 09:00") + pd.to_timedelta(order * 2, unit="min")).astype(str)
    by_time = rater_drift(scores, time="timestamp", block="1h", n_sim=200)
    assert by_time.meta["blocks"][0].startswith("2026-11-04 09:00-10:00")
    by_count = rater_drift(scores, time="timestamp", block=40, n_sim=200)
    assert by_count.meta["blocks"][:2] == ["scores 1-40", "scores 41-80"]
    assert (by_count.series.groupby("rater_id")["n"].first() == 40).all()


def test_bad_input():
    scores = SIM.simulate_drift(np.random.default_rng(0), n_raters=4, n_sessions=2, works=4)
    with pytest.raises(DataError, match="method must be"):
        rater_drift(scores, method="magic")
    with pytest.raises(DataError, match="lack column"):
        rater_drift(scores.drop(columns="session_id"))
    with pytest.raises(DataError, match="timestamp"):
        rater_drift(scores, time="timestamp")
    lone = scores[scores["read_type"] == "first"].drop_duplicates("work_id")
    with pytest.raises(NotFoundError, match="no score has a reference"):
        rater_drift(lone)


def test_irr_drift_command(tmp_path):
    from irr.cli.main import cli

    scores = SIM.simulate_drift(
        np.random.default_rng(1), n_raters=8, n_sessions=5, works=20, drifters=1, lenient=1, shift=0.8, start=3
    )
    runner = CliRunner()
    store = str(tmp_path / "s.sqlite")
    for session, part in scores.groupby("session_id"):
        date = part["session_date"].iloc[0]
        (tmp_path / f"{session}.yaml").write_text(f"id: {session}\nkind: regional_scoring\ndate: '{date}'\n")
        part.drop(columns=["session_id", "session_date"]).to_csv(tmp_path / f"{session}.csv", index=False)
        result = runner.invoke(
            cli,
            [
                "ingest",
                str(tmp_path / f"{session}.csv"),
                "--session",
                str(tmp_path / f"{session}.yaml"),
                "--store",
                store,
            ],
        )
        assert result.exit_code == 0, result.output
    out = tmp_path / "drift"
    result = runner.invoke(cli, ["drift", "--all", "--store", store, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "R01: lenient from S03" in result.output or "R01: lenient from S04" in result.output
    flags = pd.read_csv(out / "tables" / "flags.csv")
    assert flags["rater_id"].iloc[0] == "R01" and flags["flagged"].iloc[0]
    assert not flags.set_index("rater_id").loc["R02", "flagged"]
    html = (out / "drift-report.html").read_text()
    assert "<svg" in html and "R01: lenient" in html
    assert (out / "tables" / "series.csv").exists()
    bad = runner.invoke(cli, ["drift", "--store", store])
    assert bad.exit_code == 2 and "--all" in bad.output


def test_calibration_report_shows_the_raters_drift_across_sessions(tmp_path):
    """A calibration session whose raters also scored earlier sessions: the calibration result
    carries their drift (irr drift) and the report names it beside the rater."""
    import irr
    from irr.analysis.calibration import calibrate_session
    from irr.io import ingest
    from irr.report.render import render_terminal

    bank = irr.load_bank()
    scores = SIM.simulate_drift(
        np.random.default_rng(1), n_raters=20, n_sessions=6, works=20, drifters=1, lenient=1, shift=0.6, start=4
    )
    room = pd.concat([pd.read_csv(f) for f in sorted((ROOT / "examples" / "calibration").glob("*.csv"))])
    room = room[room["rater_id"] <= "T20"].assign(rater_id=lambda f: "R" + f["rater_id"].str[1:])
    with irr.Store(tmp_path / "s.sqlite") as store:
        for session, part in scores.groupby("session_id"):
            part.drop(columns=["session_id", "session_date"]).to_csv(tmp_path / f"{session}.csv", index=False)
            ingest(
                store,
                tmp_path / f"{session}.csv",
                {"id": session, "kind": "regional_scoring", "date": part["session_date"].iloc[0]},
                bank=bank,
            )
        room.to_csv(tmp_path / "room.csv", index=False)
        ingest(store, tmp_path / "room.csv", {"id": "cal", "kind": "calibration", "date": "2026-10-20"}, bank=bank)
        [result] = calibrate_session(store, "cal", bank, "pace")
    drift = result.tables["drift"].set_index("rater_id")
    assert set(drift.index) == set(room["rater_id"]) and drift.loc["R01", "flagged"]
    assert "drift across sessions: lenient from S0" in render_terminal(result)
    # the rater report (irr raters) on one of the sessions links to the same drift
    from irr.cli.main import cli

    run = CliRunner().invoke(
        cli, ["raters", "--session", "S03", "--store", str(tmp_path / "s.sqlite"), "--format", "terminal"]
    )
    assert run.exit_code == 0, run.output
    line = next(row for row in run.output.splitlines() if row.startswith("R01 "))
    assert "lenient from S0" in line
    # a store with the calibration session alone has no drift table
    with irr.Store(tmp_path / "alone.sqlite") as store:
        ingest(store, tmp_path / "room.csv", {"id": "cal", "kind": "calibration", "date": "2026-10-20"}, bank=bank)
        [alone] = calibrate_session(store, "cal", bank, "pace")
    assert "drift" not in alone.tables
