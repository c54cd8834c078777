"""What the reports show: names not ids, one convention for proportions, reasons, benchmarks, layout."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from irr.analysis.calibration import calibrate
from irr.analysis.interpretation import annotate, coefficient_name
from irr.analysis.profiles import load_profile
from irr.model import load_bank
from irr.report import calibration as report
from irr.report.agreement import display_rows, interpretation_text, render_table
from irr.report.render import render_html, render_terminal, write_report
from irr.stats import coefficient_names, parse_coefficient

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "calibration"
BANK = load_bank()
TASK = BANK.task("ela-g8-argument")


@pytest.fixture(scope="module")
def result():
    """Three raters on the 12 anchors: one exact, one a point high on every paper below 4, one mixed."""
    rows = []
    for i, paper in enumerate(TASK.anchors):
        for dim, cons in paper.scores.items():
            for rater, score in (("a", cons), ("b", min(cons + 1, 4)), ("c", cons if i % 3 else max(cons - 1, 1))):
                rows.append(dict(rater_id=rater, work_id=paper.id, task_id=TASK.id, dimension=dim, score=score))
    return calibrate(pd.DataFrame(rows), BANK, "pace", session_id="s")


def test_every_coefficient_id_has_a_name():
    labels = {parse_coefficient(c).label for c in coefficient_names()} | {
        parse_coefficient(c).label for c in ("fleiss_kappa:linear", "cohen_kappa:quadratic", "icc:C,k",
                                             "krippendorff_alpha:interval", "gwet_ac:linear")}
    names = {label: coefficient_name(label) for label in labels}
    assert all("_" not in name for name in names.values()), names     # no id reaches a coordinator
    assert names["percent_agreement"] == "exact agreement"
    assert names["gwet_ac2 (quadratic)"] == "Gwet's AC2, quadratic weights"
    assert names["icc (C,k)"] == "ICC(C,k), consistency, mean of k raters"
    assert names["fleiss_kappa (linear)"] == "Fleiss' kappa, linear weights"


def _table(**overrides):
    base = dict(dimension="claim", coefficient="fleiss_kappa", estimate=0.5, standard_error=0.05, ci_low=0.4,
                ci_high=0.6, ci_method="analytic", p_value=1e-6, n_units=12, n_raters=3, n_ratings=36,
                dropped="", note="")
    return {**base, **overrides}


def test_annotate_names_reasons_and_no_p_value_for_proportions():
    table = pd.DataFrame([
        _table(coefficient="percent_agreement", estimate=0.64, p_value=1e-40),
        _table(coefficient="fleiss_kappa", estimate=0.41),
        _table(coefficient="icc (A,1)", estimate=0.62, standard_error=np.nan, p_value=1e-3),
        _table(coefficient="krippendorff_alpha (ordinal)", estimate=0.7),
    ])
    out = annotate(table, profile=load_profile("pace"))
    assert out["name"].tolist()[:2] == ["exact agreement", "Fleiss' kappa"]
    assert np.isnan(out.loc[0, "p_value"]) and out.loc[1, "p_value"] == 1e-6 and out.loc[2, "p_value"] == 1e-3
    assert out[["estimate", "standard_error", "ci_low", "ci_high"]].equals(
        table[["estimate", "standard_error", "ci_low", "ci_high"]])          # numbers untouched
    assert out.loc[2, "note"].startswith("no standard error: the ICC has no closed-form SE")
    assert "--ci bootstrap" in out.loc[2, "note"] and out.loc[0, "note"] == ""
    assert out["interpretation"].tolist() == ["below", "moderate", "moderate", "tentative, .667 to .800"]
    assert out["benchmark"].tolist() == ["pace target", "Landis & Koch 1977", "Koo & Li 2016", "Krippendorff 2004"]
    assert out.loc[0, "target"] == 0.85 and out["target"].iloc[1:].isna().all()
    assert [interpretation_text(i, b, t) for i, b, t in zip(out["interpretation"], out["benchmark"], out["target"])] == [
        "below pace target (>= 85%)", "moderate (Landis & Koch 1977)", "moderate (Koo & Li 2016)",
        "tentative, .667 to .800 (Krippendorff 2004)"]
    assert "NHPR, 2015" in out.loc[0, "interpretation_source"]
    assert "Landis & Koch (1977)" in out.loc[1, "interpretation_source"]


@pytest.mark.parametrize("value,band", [(-0.01, "poor"), (0.0, "slight"), (0.2, "slight"), (0.21, "fair"),
                                        (0.6, "moderate"), (0.61, "substantial"), (0.81, "almost perfect")])
def test_landis_koch_bands(value, band):
    out = annotate(pd.DataFrame([_table(estimate=value)]))
    assert out.loc[0, "interpretation"] == band and out.loc[0, "benchmark"] == "Landis & Koch 1977"


def test_display_rows_with_missing_counts_and_percentages():
    # Cohen's kappa with 24 raters: no estimate, counts <NA> in Int64 columns (the CLI's TypeError)
    table = pd.DataFrame([_table(coefficient="cohen_kappa", estimate=np.nan, standard_error=np.nan, ci_low=np.nan,
                                 ci_high=np.nan, p_value=np.nan, n_units=None, n_raters=None, n_ratings=None,
                                 note="Cohen's kappa is defined for exactly 2 raters, got 24"),
                          _table(coefficient="adjacent_agreement", estimate=0.955, ci_low=0.93, ci_high=0.97)])
    for col in ("n_units", "n_raters", "n_ratings"):
        table[col] = table[col].astype("Int64")
    cells = display_rows(annotate(table), by=["dimension"])
    assert cells.loc[1, "estimate"] == "96%" and cells.loc[1, "95% CI"] == "[93%, 97%]"
    assert cells.loc[0, "papers"] == "" and "dropped" not in cells           # an empty column is left out
    text = render_table(cells)
    assert "Cohen's kappa" in text and "cohen_kappa" not in text and "0.955" not in text


def test_terminal_summary_uses_names_and_percentages(result):
    text = render_terminal(result)
    agreement = text[text.index("Group agreement"):]
    assert "Fleiss' kappa" in agreement and "fleiss_kappa" not in agreement
    exact = result.group_agreement.set_index(["dimension", "coefficient"]).loc[("claim", "percent_agreement")]
    assert f"{100 * exact['estimate']:.0f}%" in agreement
    assert f"{exact['estimate']:.3f}" not in agreement and f"{exact['estimate']:.2f} " not in agreement
    assert "pace target (>= 85%)" in agreement and "Landis & Koch" in agreement


def test_html_names_with_ids_in_tooltips_and_no_empty_note_column(result, tmp_path):
    html = render_html(result)
    section = html[html.index('id="agreement"'):]
    assert "<td title=\"gwet_ac2 (quadratic)\">Gwet&#39;s AC2, quadratic weights</td>" in section
    assert "<td title=\"percent_agreement\">exact agreement</td>" in section
    exact = result.group_agreement.set_index(["dimension", "coefficient"]).loc[("claim", "percent_agreement")]
    assert f">{100 * exact['estimate']:.0f}%<" in section and f">{exact['estimate']:.3f}<" not in section
    assert "<th>Note</th>" not in section                                   # every note is empty here
    assert 'title="pace profile: Marion' in section


def test_tables_keep_raw_numbers_with_id_and_name(result, tmp_path):
    write_report(result, tmp_path, formats=["csv"])
    table = pd.read_csv(tmp_path / "tables" / "group_agreement.csv", keep_default_na=False, na_values=[""])
    raw = result.group_agreement
    assert list(table.columns[:3]) == ["dimension", "coefficient", "name"]
    assert np.allclose(table["estimate"], raw["estimate"]) and np.allclose(table["ci_low"], raw["ci_low"])
    proportion = table["coefficient"].isin(["percent_agreement", "adjacent_agreement"])
    assert table.loc[proportion, "p_value"].isna().all()
    assert np.allclose(table.loc[~proportion, "p_value"], raw.loc[~proportion.to_numpy(), "p_value"])
    assert (table["interpretation"].fillna("") != "").all()


def _overlaps(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_accuracy_chart_title_clear_of_every_other_text():
    # the example session's 24 raters (the threshold labels used to be drawn across the title)
    scores = pd.concat([pd.read_csv(f) for f in sorted(EXAMPLES.glob("*.csv"))])
    fig = report.accuracy_figure(calibrate(scores, BANK, "pace"))
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        ax = fig.axes[0]
        title = ax.title.get_window_extent(renderer)
        others = [t for t in fig.findobj(lambda o: hasattr(o, "get_text") and o is not ax.title)
                  if t.get_visible() and t.get_text().strip()]
        assert others
        clashes = [t.get_text() for t in others if _overlaps(title, t.get_window_extent(renderer))]
        assert clashes == []
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


def test_condition_codes_in_terminal_and_html(tmp_path):
    rows = [dict(rater_id=r, work_id=p.id, task_id=TASK.id, dimension=d, score=min(c + (r == "c"), 4),
                 condition_code="") for r in ("a", "b", "c") for p in TASK.anchors for d, c in p.scores.items()]
    df = pd.DataFrame(rows)
    coded = (df["rater_id"] == "b") & (df["work_id"] == TASK.anchors[0].id) & (df["dimension"] == "claim")
    df.loc[coded, "condition_code"] = "off_topic"
    df["score"] = df["score"].astype("Int64").mask(coded)
    result = calibrate(df, BANK, "pace")
    text = render_terminal(result)
    assert "Condition codes (1 score;" in text and "by rater: b (off_topic 1)" in text
    assert f"by paper: {TASK.anchors[0].id} claim (off_topic 1)" in text
    discuss = text[text.index("Papers to discuss"):text.index("Condition codes")]
    assert f"{TASK.anchors[0].id} claim" in discuss and "off_topic:1" in discuss
    assert "1 condition-coded score left out of the coefficients (off_topic 1)" in text
    html = render_html(result)
    assert 'id="condition-codes"' in html and "<th>Note</th>" in html and "off_topic: 1" in html
    write_report(result, tmp_path / "t", formats=["csv"])
    assert len(pd.read_csv(tmp_path / "t" / "tables" / "condition_codes.csv")) == 1
