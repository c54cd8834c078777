"""ICC: Shrout & Fleiss (1979) known answers, pingouin cross-checks, incomplete designs.

Shrout & Fleiss (1979) 6 targets x 4 judges: published ICC(1,1) .17, ICC(2,1) .29,
ICC(3,1) .71, ICC(1,4) .44, ICC(2,4) .62, ICC(3,4) .91. Ten-decimal values, F tests,
p-values and confidence intervals from R irr 0.84.1 `icc()` (golden/expected_values_computed.csv).
Pinned disagreement: for ICC(A,k) we follow McGraw & Wong / irr (df2 = 4.189093,
CI [0.0394401799, 0.9285731834]); psych and pingouin report the Spearman-Brown
transform of the ICC(A,1) bounds [0.0711368153, 0.9272320402] and F(5, 15).
"""
import numpy as np
import pandas as pd
import pingouin
import pytest

from irr.errors import DataError, InsufficientDataError
from irr.stats.icc import FORMS, icc, icc_table, normalize_form

SHROUT_FLEISS = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8],
                          [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]], dtype=float)

# form: (estimate, F, df1, df2, p, ci_low, ci_high, published 2 dp) -- R irr 0.84.1
IRR_VALUES = {
    "1,1": (0.1657417684, 1.7946784922, 5, 18.0, 0.164769, -0.1329323249, 0.7225600623, 0.17),
    "A,1": (0.2897637795, 11.0272479564, 5, 4.785144, 0.0112699, 0.0187865134, 0.7610843696, 0.29),
    "C,1": (0.7148407148, 11.0272479564, 5, 15.0, 0.000134567, 0.3424647650, 0.9458582600, 0.71),
    "1,k": (0.4427971337, 1.7946784922, 5, 18.0, 0.164769, -0.8844421552, 0.9124154203, 0.44),
    "A,k": (0.6200505476, 11.0272479564, 5, 4.189093, 0.0164781, 0.0394401799, 0.9285731834, 0.62),
    "C,k": (0.9093155424, 11.0272479564, 5, 15.0, 0.000134567, 0.6756747138, 0.9858916782, 0.91),
}


@pytest.mark.parametrize("form", list(IRR_VALUES))
def test_shrout_fleiss_against_irr(form):
    est, f, df1, df2, p, low, high, published = IRR_VALUES[form]
    res = icc(SHROUT_FLEISS, form)
    assert res.estimate == pytest.approx(est, abs=1e-9)
    assert round(res.estimate, 2) == published
    assert res.F == pytest.approx(f, abs=1e-8)
    assert (res.df1, res.df2) == (df1, pytest.approx(df2, abs=1e-6))
    assert res.p_value == pytest.approx(p, rel=1e-5)
    assert res.confidence_interval() == pytest.approx((low, high), abs=1e-9)
    assert res.balanced and "ANOVA" in res.estimator


def test_shrout_fleiss_aliases():
    assert normalize_form("ICC2") == "A,1" and normalize_form("ICC(3,1)") == "C,1"
    assert normalize_form("ICC3k") == "C,k" and normalize_form("2,k") == "A,k"
    assert icc(SHROUT_FLEISS, "ICC2").estimate == icc(SHROUT_FLEISS, "A,1").estimate
    with pytest.raises(DataError, match="unknown ICC form"):
        icc(SHROUT_FLEISS, "ICC(4,1)")


def test_icc_table_has_all_six():
    table = icc_table(SHROUT_FLEISS)
    assert list(table["form"]) == ["ICC(1,1)", "ICC(A,1)", "ICC(C,1)", "ICC(1,k)", "ICC(A,k)", "ICC(C,k)"]
    assert table["estimate"].tolist() == pytest.approx([v[0] for v in IRR_VALUES.values()], abs=1e-9)


def _rubric_scores(rng, n, k, scale):
    """Latent quality + rater severity + noise, cut into the points of ``scale``."""
    latent = rng.normal(size=(n, 1)) + rng.normal(0, 0.4, size=(1, k)) + rng.normal(0, 0.8, size=(n, k))
    cuts = np.quantile(latent, np.linspace(0, 1, len(scale) + 1)[1:-1])
    return np.asarray(scale, dtype=float)[np.searchsorted(cuts, latent)]


# continuous scores (general coding path), an evenly spaced rubric scale (scores from the codes),
# a half-point scale, and an uneven scale (scores looked up)
@pytest.mark.parametrize("seed, scale", [(0, None), (1, None), (2, None), (3, [1, 2, 3, 4]),
                                         (4, [0, 0.5, 1, 1.5, 2]), (5, [1, 2, 4, 8])])
def test_matches_pingouin_on_complete_data(seed, scale):
    rng = np.random.default_rng(seed)
    n, k = 40, 5
    if scale is None:
        x = rng.normal(size=(n, 1)) + rng.normal(0, 0.4, size=(1, k)) + rng.normal(0, 0.8, size=(n, k))
    else:
        x = _rubric_scores(rng, n, k, scale)
    long = pd.DataFrame(x).stack().reset_index()
    long.columns = ["target", "rater", "score"]
    ref = pingouin.intraclass_corr(long, targets="target", raters="rater", ratings="score")
    ref_values = dict(zip(ref["Type"], ref["ICC"]))
    names = {"1,1": ["ICC(1,1)", "ICC1"], "A,1": ["ICC(A,1)", "ICC2"], "C,1": ["ICC(C,1)", "ICC3"],
             "1,k": ["ICC(1,k)", "ICC1k"], "A,k": ["ICC(A,k)", "ICC2k"], "C,k": ["ICC(C,k)", "ICC3k"]}
    for form, labels in names.items():
        expected = next(ref_values[name] for name in labels if name in ref_values)
        assert icc(x, form).estimate == pytest.approx(expected, abs=1e-10)
    table = icc_table(x)
    assert table["estimate"].tolist() == pytest.approx([icc(x, f).estimate for f in FORMS], abs=1e-15)
    if scale is not None:       # variance components are in score units, whatever the coding
        shifted = icc(x + 10, "A,1").variance_components
        for name, value in icc(x, "A,1").variance_components.items():
            assert shifted[name] == pytest.approx(value, rel=1e-9)
        assert icc(x, "A,1").variance_components["residual"] == pytest.approx(
            icc(2 * x, "A,1").variance_components["residual"] / 4, rel=1e-9)


def _incomplete(seed=3, n=400, k=8, per_unit=2):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=(n, 1)) + rng.normal(0, 0.5, size=(1, k)) + rng.normal(0, 0.7, size=(n, k))
    keep = np.argsort(rng.random((n, k)), axis=1)[:, :per_unit]
    mask = np.zeros((n, k), dtype=bool)
    np.put_along_axis(mask, keep, True, axis=1)
    return np.where(mask, y, np.nan)


def test_incomplete_design_uses_every_unit():
    x = _incomplete()
    res = icc(x, "A,1")
    assert not res.balanced and "Henderson" in res.estimator
    assert res.n_units == 400 and res.n_ratings == 800 and res.k == pytest.approx(2)
    # true components: units 1, raters 0.25, residual 0.49 -> ICC(A,1) = 1 / 1.74
    assert res.estimate == pytest.approx(1 / 1.74, abs=0.08)
    assert res.variance_components["raters"] == pytest.approx(0.25, abs=0.2)
    low, high = res.confidence_interval()
    assert low < res.estimate < high


def test_resampler_reproduces_the_estimate():
    # the unit-totals form used for bootstrap/jackknife must equal the direct estimate
    for x in (SHROUT_FLEISS, _incomplete(n=60)):
        for form in ("1,1", "A,1", "C,k"):
            res = icc(x, form)
            assert res._resampler.estimate() == pytest.approx(res.estimate, abs=1e-10)


def test_units_with_one_rating_are_reported():
    x = SHROUT_FLEISS.copy()
    x[0, 1:] = np.nan
    res = icc(x, "C,1")
    assert res.dropped == {"one rating (contributes to rater effects only)": 1}


def test_bootstrap_interval():
    res = icc(_incomplete(n=200), "A,1")
    low, high = res.confidence_interval(method="bootstrap", n_resamples=300)
    assert low < res.estimate < high


def test_degenerate():
    with pytest.raises(InsufficientDataError):
        icc(np.array([[1.0, 2.0]]), "A,1")
    with pytest.raises(InsufficientDataError):
        icc(np.array([[1.0], [2.0], [3.0]]), "A,1")


def test_perfect_agreement_does_not_crash():
    x = np.array([[1.0, 1.0, 1.0], [2.0, 2.0, 2.0], [4.0, 4.0, 4.0]])
    for form in ("1,1", "A,1", "C,1", "A,k"):
        res = icc(x, form)
        assert res.estimate == pytest.approx(1.0) and np.isinf(res.F) and res.p_value == 0.0


@pytest.mark.filterwarnings("ignore:The design matrix is rank-deficient")  # statsmodels, disconnected case
@pytest.mark.parametrize("connected", [True, False])
def test_henderson_components_match_least_squares_fits_in_statsmodels(connected):
    # Henderson III from first principles: reductions in the residual sum of squares of
    # OLS fits with unit and rater dummies (statsmodels), against the matrix-product version.
    smf = pytest.importorskip("statsmodels.formula.api")
    x = _incomplete(seed=7, n=50, k=6, per_unit=3)
    x[0, :] = np.nan                      # a unit nobody rated
    x[1, 1:] = np.nan                     # units with one rating only
    x[2, :] = np.where(np.isnan(x[2]), np.nan, 2.0)
    x[2, np.flatnonzero(~np.isnan(x[2]))[1:]] = np.nan
    if not connected:                     # raters 0-2 and 3-5 never share a unit: two separate rooms
        x[3:25, 3:] = np.nan
        x[25:, :3] = np.nan
        x[:3, :] = np.nan
        x[1, 0] = 3.0
        x[0, 3:5] = [1.0, 2.0]
    units, raters = np.nonzero(~np.isnan(x))
    df = pd.DataFrame({"u": units.astype(str), "r": raters.astype(str), "y": x[units, raters]})
    sse = {f: smf.ols(f"y ~ {f}", df).fit().ssr for f in ("C(u)", "C(r)", "C(u) + C(r)")}
    total, n, k = len(df), df.u.nunique(), df.r.nunique()
    residual = sse["C(u) + C(r)"] / (total - n - k + 1)
    raters_var = ((sse["C(u)"] - sse["C(u) + C(r)"]) / (k - 1) - residual) / ((total - n) / (k - 1))
    units_var = ((sse["C(r)"] - sse["C(u) + C(r)"]) / (n - 1) - residual) / ((total - k) / (n - 1))
    res = icc(x, "A,1")
    assert res.n_units == n and res.dropped.get("no ratings", 0) == 50 - n
    assert res.variance_components["residual"] == pytest.approx(residual, rel=1e-10)
    assert res.variance_components["raters"] == pytest.approx(raters_var, rel=1e-9)
    assert res.variance_components["units"] == pytest.approx(units_var, rel=1e-10)
    assert res.estimate == pytest.approx(units_var / (units_var + raters_var + residual), rel=1e-10)


def test_sparse_path_for_many_raters_equals_the_matrix_path(monkeypatch):
    # designs with many raters and few ratings per unit skip the units x raters matrix
    import importlib
    icc_module = importlib.import_module("irr.stats.icc")
    x = _incomplete(seed=11, n=120, k=9, per_unit=2)
    x[0, :] = np.nan
    x[1, np.flatnonzero(~np.isnan(x[1]))[1:]] = np.nan
    dense = {form: icc(x, form) for form in FORMS}
    monkeypatch.setattr(icc_module, "_DENSE_CELLS", 0)
    for form in FORMS:
        sparse = icc(x, form)
        assert sparse.estimate == pytest.approx(dense[form].estimate, abs=1e-12)
        assert sparse.analytic_ci == pytest.approx(dense[form].analytic_ci, abs=1e-10)
        assert dict(sparse.variance_components) == pytest.approx(dict(dense[form].variance_components), abs=1e-12)
        assert sparse.dropped == dense[form].dropped and sparse.n_ratings == dense[form].n_ratings
    assert np.isnan(icc(x, "A,1").standard_error)       # resampling needs the matrix: a NaN, not a crash
    with pytest.raises(InsufficientDataError, match="analytic interval"):
        icc(x, "A,1").confidence_interval(method="bootstrap")
