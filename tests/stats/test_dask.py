"""Agreement statistics on Dask equal the in-memory path (to 1e-9), on a LocalCluster and threaded.

Every coefficient, its standard error, analytic, jackknife and bootstrap intervals (same
``random_state``: the resamples are drawn over patterns in the same order on both paths).
"""

import importlib
import warnings

import numpy as np
import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

import dask  # noqa: E402

from irr.stats import Ratings, agreement_table, coefficient_names, conger_kappa, fleiss_kappa  # noqa: E402
from irr.stats import _sufficient  # noqa: E402
from irr.stats._ratings import PerUnitDataError  # noqa: E402
from irr.stats.distributed import UnitsShuffledWarning, grouped_ratings_from_dask  # noqa: E402

icc = importlib.import_module("irr.stats.icc")  # the module (irr.stats.icc is also the function)

SPECS = [*coefficient_names()] + [
    "gwet_ac:quadratic",
    "krippendorff_alpha:interval",
    "krippendorff_alpha:nominal",
    "conger_kappa:quadratic",
    "icc:C,1",
    "icc:1,k",
    "icc:A,k",
    "fleiss_kappa:linear",
]
NUMBERS = ["estimate", "standard_error", "ci_low", "ci_high", "p_value"]
BOOT = {"ci": "bootstrap", "n_resamples": 199, "random_state": 11}


def _design(seed=1, n_units=80, n_raters=5, labels=False):
    rng = np.random.default_rng(seed)
    rows = []
    for dim in ("content", "style"):
        for unit in range(n_units):
            true = rng.integers(1, 5)
            for r in rng.choice(n_raters, size=rng.integers(1, min(4, n_raters + 1)), replace=False):
                rows.append((dim, unit, f"r{r}", float(np.clip(true + rng.integers(-1, 2), 1, 4))))
    df = pd.DataFrame(rows, columns=["dim", "unit", "rater", "score"])
    df.loc[::13, "score"] = np.nan  # missing ratings
    if labels:
        df["score"] = df["score"].map({1.0: "low", 2.0: "mid", 3.0: "high", 4.0: "top"}).astype(object)
    return df


def _complete(seed=2, n_units=60, n_raters=3):
    rng = np.random.default_rng(seed)
    true = rng.integers(1, 5, size=n_units)
    rows = [
        (unit, f"r{r}", float(np.clip(true[unit] + rng.integers(-1, 2), 1, 4)))
        for unit in range(n_units)
        for r in range(n_raters)
    ]
    return pd.DataFrame(rows, columns=["unit", "rater", "score"])


def _same(a, b, columns=NUMBERS):
    assert list(a["coefficient"]) == list(b["coefficient"])
    for col in columns:
        np.testing.assert_allclose(a[col].astype(float), b[col].astype(float), rtol=0, atol=1e-9, err_msg=col)
    for col in ("n_units", "n_raters", "n_ratings"):
        assert a[col].equals(b[col]), col
    assert list(a["note"].fillna("")) == list(b["note"].fillna(""))


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


@pytest.mark.parametrize("ci", ["analytic", "bootstrap", "jackknife"])
def test_agreement_table_by_group_on_cluster(client, ci):
    df = _design()
    ddf = dd.from_pandas(df.sort_values(["dim", "unit"]), npartitions=4, sort=False)
    kwargs = BOOT if ci == "bootstrap" else {"ci": ci}
    ours = agreement_table(ddf, by="dim", coefficients=SPECS, **kwargs)
    expected = agreement_table(df, by="dim", coefficients=SPECS, **kwargs)
    _same(expected, ours)
    computed = ~ours["coefficient"].str.match("cohen|scott")  # five raters: refused alike
    assert ours.loc[computed, ["estimate", "standard_error"]].notna().all().all()
    if ci != "analytic":  # every coefficient has its resampled interval, the ICC's and Conger's too
        assert ours.loc[computed, ["ci_low", "ci_high"]].notna().all().all()


def test_complete_design_bootstrap_on_cluster(client):
    df = _complete()
    ddf = dd.from_pandas(df, npartitions=3, sort=False)
    specs = [*SPECS, "cohen_kappa"]  # three raters: Cohen refuses, alike
    ours = agreement_table(ddf, coefficients=specs, **BOOT)
    _same(agreement_table(df, coefficients=specs, **BOOT), ours)
    icc_rows = ours["coefficient"].str.startswith("icc")
    assert ours.loc[icc_rows, "ci_low"].notna().all()


def test_units_split_across_partitions_are_shuffled_and_said(client):
    df = _design(seed=3).sample(frac=1.0, random_state=0)  # every unit in several partitions
    ddf = dd.from_pandas(df, npartitions=5, sort=False)
    with pytest.warns(UnitsShuffledWarning):
        ours = agreement_table(ddf, by="dim", coefficients=SPECS, **BOOT)
    assert ours.attrs["dask"]["shuffled"]
    _same(agreement_table(df, by="dim", coefficients=SPECS, **BOOT), ours)


def test_threaded_scheduler_without_by():
    df = _design(seed=5)
    df = df[df.dim == "content"]
    ddf = dd.from_pandas(df, npartitions=3, sort=False)
    with dask.config.set(scheduler="threads"), warnings.catch_warnings():
        warnings.simplefilter("ignore", UnitsShuffledWarning)
        ours = agreement_table(ddf, coefficients=SPECS, **BOOT)
        jack = agreement_table(ddf, coefficients=SPECS, ci="jackknife")
    _same(agreement_table(df, coefficients=SPECS, **BOOT), ours)
    _same(agreement_table(df, coefficients=SPECS, ci="jackknife"), jack)


def test_labelled_categories_and_two_raters(client):
    df = _design(seed=7, n_raters=2, labels=True)
    scale = ["low", "mid", "high", "top"]
    specs = [
        "percent_agreement",
        "cohen_kappa",
        "scott_pi",
        "fleiss_kappa",
        "gwet_ac1",
        "krippendorff_alpha:ordinal",
        "conger_kappa",
        "icc:A,1",
    ]
    ddf = dd.from_pandas(df, npartitions=3, sort=False)
    ours = agreement_table(ddf, by="dim", coefficients=specs, categories=scale, **BOOT)
    _same(agreement_table(df, by="dim", coefficients=specs, categories=scale, **BOOT), ours)
    icc_rows = ours["coefficient"].str.startswith("icc")
    assert ours.loc[icc_rows, "estimate"].isna().all() and ours.loc[icc_rows, "note"].str.contains("numeric").all()
    assert ours.loc[ours.coefficient == "conger_kappa", "ci_low"].notna().all()


def _icc_cells(df):
    """n (7 + 3k + k^2) and n x k of each group, as the in-memory ICC counts them."""
    out = {}
    for dim, sub in df.groupby("dim"):
        r = Ratings.from_long(sub)
        out[dim] = (r.n_units * (7 + 3 * r.n_raters + r.n_raters**2), r.n_units * r.n_raters)
    return out


@pytest.mark.parametrize("limit", ["resample", "dense"])
def test_icc_design_size_refusal_matches_in_memory(monkeypatch, limit):
    df = _design(seed=4, n_units=70).query("not (dim == 'style' and unit >= 50)")  # groups of two sizes
    cells = _icc_cells(df)
    which = 0 if limit == "resample" else 1
    assert cells["style"][which] < cells["content"][which]
    monkeypatch.setattr(icc, "_RESAMPLE_CELLS" if limit == "resample" else "_DENSE_CELLS", cells["style"][which])
    specs = ["icc:A,1", "icc:C,1", "fleiss_kappa"]
    # one partition per group: no unit split, so pass 1 counts the units exactly
    ddf = dd.concat([dd.from_pandas(df[df.dim == d], npartitions=1, sort=False) for d in ("content", "style")])
    with dask.config.set(scheduler="threads"):
        ours = agreement_table(ddf, by="dim", coefficients=specs, ci="jackknife")
        built, facts = grouped_ratings_from_dask(ddf, by="dim")
    assert not facts["units_split"]
    expected = agreement_table(df, by="dim", coefficients=specs, ci="jackknife")
    _same(expected, ours)
    se = ours.set_index(["dim", "coefficient"])["standard_error"]
    assert np.isnan(se[("content", "icc (A,1)")]) and np.isfinite(se[("style", "icc (A,1)")])
    note = ours.set_index(["dim", "coefficient"])["note"][("content", "icc (A,1)")]
    assert "too many units x raters" in note
    # the unit pattern table is reduced only for the group the in-memory ICC resamples
    tables = {key[0]: r.sufficient_statistics for key, r in built}
    assert tables["content"].unit_patterns is None and tables["content"].unit_pattern_limit == 0
    assert tables["style"].unit_patterns is not None


@pytest.mark.filterwarnings("ignore::irr.stats.distributed.UnitsShuffledWarning")
def test_large_sparse_design_reduces_no_unit_patterns(monkeypatch):
    monkeypatch.setattr(icc, "_DENSE_CELLS", 10)
    ddf = dd.from_pandas(_design(seed=6), npartitions=2, sort=False)
    with dask.config.set(scheduler="threads"):
        built, _ = grouped_ratings_from_dask(ddf, by="dim")  # the ICC alone: no table, no units counted
    assert all(r.sufficient_statistics.unit_pattern_limit == 0 for _, r in built)


@pytest.mark.filterwarnings("ignore::irr.stats.distributed.UnitsShuffledWarning")
def test_unit_pattern_table_over_its_limit_refuses(client, monkeypatch):
    monkeypatch.setattr(_sufficient, "MAX_UNIT_PATTERN_CELLS", 40)  # read on the client, sent to the workers
    df = _design(seed=8)
    ddf = dd.from_pandas(df.sort_values(["dim", "unit"]), npartitions=3, sort=False)
    ours = agreement_table(ddf, by="dim", coefficients=["conger_kappa", "icc:A,1", "fleiss_kappa"], ci="jackknife")
    conger = ours[ours.coefficient == "conger_kappa"]
    assert conger["estimate"].isna().all() and conger["note"].str.contains("over its limit of 40 entries").all()
    icc_rows = ours[ours.coefficient.str.startswith("icc")]
    assert icc_rows["estimate"].notna().all() and icc_rows["standard_error"].isna().all()
    assert icc_rows["note"].str.contains("unit pattern table").all()
    fleiss = ours[ours.coefficient == "fleiss_kappa"]
    assert fleiss["ci_low"].notna().all()


def test_ratings_from_dask_holds_tables_only(client):
    df = _design(seed=9)
    df = df[df.dim == "style"]
    ddf = dd.from_pandas(df, npartitions=2, sort=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnitsShuffledWarning)
        ratings = Ratings.from_dask(ddf, categories=[1, 2, 3, 4])
        with_units = Ratings.from_dask(ddf, categories=[1, 2, 3, 4], unit_patterns=True)
    in_memory = Ratings.from_long(df, categories=[1, 2, 3, 4])
    assert ratings.sufficient_statistics is not None
    assert (ratings.n_units, ratings.n_raters, ratings.n_ratings) == (
        in_memory.n_units,
        in_memory.n_raters,
        in_memory.n_ratings,
    )
    assert abs(fleiss_kappa(ratings).estimate - fleiss_kappa(in_memory).estimate) < 1e-12
    with pytest.raises(PerUnitDataError, match="merged tables"):
        _ = ratings.wide_codes
    with pytest.raises(PerUnitDataError, match="unit_patterns=True"):
        conger_kappa(ratings)
    assert np.isnan(icc.icc(ratings).standard_error)
    ours, theirs = conger_kappa(with_units), conger_kappa(in_memory)
    for attr in ("estimate", "standard_error", "p_value"):
        assert abs(getattr(ours, attr) - getattr(theirs, attr)) < 1e-12, attr
    boot = [r.confidence_interval(method="bootstrap", n_resamples=99, random_state=3) for r in (ours, theirs)]
    np.testing.assert_allclose(boot[0][:2], boot[1][:2], rtol=0, atol=1e-12)
    assert abs(icc.icc(with_units).standard_error - icc.icc(in_memory).standard_error) < 1e-12


def test_partitions_sorted_by_unit_skip_the_key_shuffle(client, monkeypatch):
    # each unit in one partition, unit ranges disjoint (data written sorted by unit): pass 1's ranges
    # tell, and the shuffle of the keys that would check it is not run
    import irr.stats.distributed as distributed_module

    df = _design(seed=8)
    ddf = dd.from_pandas(df.set_index("unit"), npartitions=4, sort=True).reset_index()
    assert ddf.npartitions > 1
    monkeypatch.setattr(distributed_module, "_units_split", lambda *a: pytest.fail("keys shuffled"))
    ours = agreement_table(ddf, by="dim", coefficients=SPECS)
    assert ours.attrs["dask"]["shuffled"] is False
    _same(agreement_table(df, by="dim", coefficients=SPECS), ours)
    # a unit on both sides of a partition boundary: the ranges touch, so the keys are checked
    assert not distributed_module._ranges_disjoint([(0, 5), (5, 9)])
    assert distributed_module._ranges_disjoint([(6, 9), (), (0, 5)])
    assert not distributed_module._ranges_disjoint([(0, 5), None])


def test_a_missing_by_value_is_one_group_across_worker_processes(client):
    # NaN is not equal to itself and each worker unpickles its own: the partitions' NaN groups must
    # still merge into the one group the in-memory table has
    df = _design(seed=9)
    df["dim"] = df["dim"].map({"content": 1.0, "style": np.nan})
    ddf = dd.from_pandas(df.sort_values("unit"), npartitions=3, sort=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnitsShuffledWarning)
        ours = agreement_table(ddf, by="dim", coefficients=SPECS)
    expected = agreement_table(df, by="dim", coefficients=SPECS)
    assert len(ours) == len(expected) == 2 * len(SPECS)
    _same(expected, ours)
