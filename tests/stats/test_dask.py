"""Agreement statistics on Dask equal the in-memory path (to 1e-9), on a LocalCluster and threaded."""

import warnings

import numpy as np
import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

from irr.stats import Ratings, agreement_table, coefficient_names, fleiss_kappa  # noqa: E402
from irr.stats.distributed import UnitsShuffledWarning  # noqa: E402

# need each unit's ratings: documented to say so on Dask instead of collecting them
PER_UNIT = {"conger_kappa"}
SPECS = [c for c in coefficient_names() if c not in PER_UNIT] + [
    "gwet_ac:quadratic",
    "krippendorff_alpha:interval",
    "krippendorff_alpha:nominal",
    "icc:C,1",
    "icc:1,k",
    "fleiss_kappa:linear",
]
NUMBERS = ["estimate", "ci_low", "ci_high", "p_value"]


def _design(seed=1, n_units=80, n_raters=5, labels=False):
    rng = np.random.default_rng(seed)
    rows = []
    for dim in ("content", "style"):
        for unit in range(n_units):
            true = rng.integers(1, 5)
            for r in rng.choice(n_raters, size=rng.integers(1, min(4, n_raters + 1)), replace=False):
                rows.append((dim, unit, f"r{r}", float(np.clip(true + rng.integers(-1, 2), 1, 4))))
    df = pd.DataFrame(rows, columns=["dim", "unit", "rater", "score"])
    df.loc[::13, "score"] = np.nan
    if labels:
        df["score"] = df["score"].map({1.0: "low", 2.0: "mid", 3.0: "high", 4.0: "top"}).astype(object)
    return df


def _same(a, b, columns=NUMBERS):
    assert list(a["coefficient"]) == list(b["coefficient"])
    for col in columns:
        np.testing.assert_allclose(a[col].astype(float), b[col].astype(float), rtol=0, atol=1e-9, err_msg=col)
    for col in ("n_units", "n_raters", "n_ratings"):
        assert a[col].equals(b[col]), col
    icc = a["coefficient"].str.startswith("icc")
    np.testing.assert_allclose(a.loc[~icc, "standard_error"], b.loc[~icc, "standard_error"], rtol=0, atol=1e-9)


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
    ours = agreement_table(ddf, by="dim", coefficients=SPECS, ci=ci)
    _same(
        agreement_table(df, by="dim", coefficients=SPECS, ci=ci),
        ours,
        NUMBERS if ci == "analytic" else ["estimate", "p_value"],
    )
    if ci != "analytic":
        icc = ours["coefficient"].str.startswith("icc")
        expected = agreement_table(df, by="dim", coefficients=SPECS, ci=ci)
        np.testing.assert_allclose(ours.loc[~icc, "ci_low"], expected.loc[~icc, "ci_low"], rtol=0, atol=1e-9)
        np.testing.assert_allclose(ours.loc[~icc, "ci_high"], expected.loc[~icc, "ci_high"], rtol=0, atol=1e-9)
        assert ours.loc[icc, "ci_low"].isna().all()  # resampling the ICC needs each unit's scores


def test_units_split_across_partitions_are_shuffled_and_said(client):
    df = _design(seed=3).sample(frac=1.0, random_state=0)  # every unit in several partitions
    ddf = dd.from_pandas(df, npartitions=5, sort=False)
    with pytest.warns(UnitsShuffledWarning):
        ours = agreement_table(ddf, by="dim", coefficients=SPECS)
    assert ours.attrs["dask"]["shuffled"]
    _same(agreement_table(df, by="dim", coefficients=SPECS), ours)


def test_threaded_scheduler_without_by_and_conger_says_why():
    df = _design(seed=5)
    ddf = dd.from_pandas(df[df.dim == "content"], npartitions=3, sort=False)
    import dask

    with dask.config.set(scheduler="threads"), warnings.catch_warnings():
        warnings.simplefilter("ignore", UnitsShuffledWarning)
        ours = agreement_table(ddf, coefficients=[*SPECS, "conger_kappa"])
    expected = agreement_table(df[df.dim == "content"], coefficients=[*SPECS, "conger_kappa"])
    _same(expected.iloc[:-1], ours.iloc[:-1])
    assert np.isnan(ours["estimate"].iloc[-1]) and "merged tables" in ours["note"].iloc[-1]


def test_labelled_categories_and_two_raters(client):
    df = _design(seed=7, n_raters=2, labels=True)
    scale = ["low", "mid", "high", "top"]
    specs = ["percent_agreement", "cohen_kappa", "scott_pi", "fleiss_kappa", "gwet_ac1", "krippendorff_alpha:ordinal"]
    ddf = dd.from_pandas(df, npartitions=3, sort=False)
    ours = agreement_table(ddf, by="dim", coefficients=specs, categories=scale, ci="bootstrap")
    _same(agreement_table(df, by="dim", coefficients=specs, categories=scale, ci="bootstrap"), ours)


def test_ratings_from_dask_holds_tables_only(client):
    df = _design(seed=9)
    df = df[df.dim == "style"]
    ratings = Ratings.from_dask(dd.from_pandas(df, npartitions=2, sort=False), categories=[1, 2, 3, 4])
    in_memory = Ratings.from_long(df, categories=[1, 2, 3, 4])
    assert ratings.sufficient_statistics is not None
    assert (ratings.n_units, ratings.n_raters, ratings.n_ratings) == (
        in_memory.n_units,
        in_memory.n_raters,
        in_memory.n_ratings,
    )
    assert abs(fleiss_kappa(ratings).estimate - fleiss_kappa(in_memory).estimate) < 1e-12
    from irr.stats._ratings import PerUnitDataError

    with pytest.raises(PerUnitDataError, match="merged tables"):
        _ = ratings.wide_codes
