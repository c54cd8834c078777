"""Ratings.from_long codes ids the way pd.factorize(sort=True) does, whatever their dtype."""
import numpy as np
import pandas as pd
import pytest

from irr.errors import DataError
from irr.stats import Ratings, icc_table


def _long(seed=0, n=40, raters=3):
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 5, size=(n, raters)).astype(float)
    x[rng.random(x.shape) < 0.15] = np.nan
    df = pd.DataFrame(x).stack(future_stack=True).reset_index()
    df.columns = ["unit", "rater", "score"]
    return df.sample(frac=1, random_state=seed).reset_index(drop=True), x   # rows in no order


def _reference(df):
    """What from_long did before: factorize the ids of the scored rows, sorted."""
    keep = df["score"].notna().to_numpy()
    units, unit_labels = pd.factorize(df["unit"].to_numpy()[keep], sort=True)
    raters, rater_labels = pd.factorize(df["rater"].to_numpy()[keep], sort=True)
    return units, list(unit_labels), raters, list(rater_labels)


@pytest.mark.parametrize("ids", ["int", "negative int", "wide int", "int8", "uint64", "str", "object str",
                                 "mixed", "float", "categorical", "categorical int"])
def test_ids_of_every_dtype_are_coded_as_a_sorted_factorization(ids):
    df, _ = _long(1)
    u, r = df["unit"], df["rater"]
    df = df.assign(unit={
        "int": u, "negative int": u - 17, "wide int": u * 10**12, "int8": u.astype(np.int8),
        "uint64": u.astype(np.uint64), "str": "paper-" + u.astype(str), "object str": ("p" + u.astype(str)).astype(object),
        "mixed": [f"p{v}" if v % 2 else int(v) for v in u], "float": u / 4,
        "categorical": pd.Categorical("p" + u.astype(str), categories=[f"p{i}" for i in range(45)][::-1]),
        "categorical int": pd.Categorical(u, categories=list(range(50))[::-1]),
    }[ids], rater=("rater-" + r.astype(str)) if ids == "str" else r)
    ratings = Ratings.from_long(df)
    units, unit_labels, raters, rater_labels = _reference(df.assign(unit=df["unit"].astype(object))
                                                          if ids.startswith("categorical") else df)
    assert ratings.unit.tolist() == units.tolist() and ratings.rater.tolist() == raters.tolist()
    assert ratings.unit_labels.tolist() == unit_labels and ratings.rater_labels.tolist() == rater_labels
    assert ratings.dropped == {"missing score": int(df["score"].isna().sum())}


def test_long_and_wide_give_the_same_matrix_and_icc():
    df, x = _long(2)
    wide = Ratings.from_wide(x)
    long = Ratings.from_long(df)
    keep = ~np.isnan(x).all(axis=1)
    assert np.array_equal(long.wide_codes, wide.wide_codes[keep])
    # the matrix from_long keeps is the one the scatter of the ratings gives
    fresh = Ratings(categories=long.scale, unit_labels=long.unit_labels, rater_labels=long.rater_labels,
                    unit=long.unit, rater=long.rater, code=long.code)
    assert np.array_equal(fresh.wide_codes, long.wide_codes)
    pd.testing.assert_frame_equal(icc_table(long), icc_table(Ratings.from_wide(x[keep])))


@pytest.mark.parametrize("spread", [1, 10**9])            # dense grid (scatter) and sparse grid (sort)
def test_duplicates_are_named_on_dense_and_sparse_grids(spread):
    df = pd.DataFrame({"unit": np.array([1, 1, 2, 2, 2, 3]) * spread, "rater": ["a", "b", "a", "b", "b", "a"],
                       "score": [1, 2, 3, 3, 4, 1]})
    with pytest.raises(DataError, match=rf"1 \(unit, rater\) pair\(s\) have more than one rating, "
                                        rf"e.g. \({2 * spread}, 'b'\)"):
        Ratings.from_long(df)


def test_missing_ids_are_refused_unless_their_score_is_missing():
    df = pd.DataFrame({"unit": ["a", "a", None, "b"], "rater": [1, 2, 1, 2], "score": [1, 2, 3, np.nan]})
    with pytest.raises(DataError, match="missing unit or rater identifiers"):
        Ratings.from_long(df)
    ok = Ratings.from_long(df.assign(score=[1, 2, np.nan, 3]))
    assert ok.unit_labels.tolist() == ["a", "b"] and ok.dropped == {"missing score": 1}


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_the_callers_frame_stays_writable(dtype):
    df = pd.DataFrame({"unit": np.array([0, 0, 1, 1], dtype=dtype), "rater": np.array([0, 1, 0, 1], dtype=dtype),
                       "score": [1.0, 2.0, 2.0, 2.0]})
    Ratings.from_long(df)
    df.loc[0, "unit"] = 5
    df.loc[0, "score"] = 4.0
    assert df["unit"].tolist() == [5, 0, 1, 1] and df["score"].tolist() == [4.0, 2.0, 2.0, 2.0]
