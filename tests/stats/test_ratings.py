"""`Ratings`: the wide fast path (lookup-table coding, packed counts) against the long path."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from irr.errors import CategoryError, DataError
from irr.stats import Ratings
from irr.stats._ratings import _encode_wide_fast, pack_unit_counts, unpack_unit_counts


def _long_twin(x, categories=None):
    """The same ratings built through from_long (sort-based coding, bincount counts)."""
    units, raters = np.nonzero(~np.isnan(x))
    df = pd.DataFrame({"unit": units, "rater": raters, "score": x[units, raters]})
    return Ratings.from_long(df, categories=categories)


def _assert_same(wide: Ratings, long: Ratings):
    assert np.array_equal(wide.categories, long.categories)
    rated = wide.ratings_per_unit > 0
    assert np.array_equal(wide.counts[rated], long.counts)
    assert wide.n_ratings == long.n_ratings
    # from_long knows only raters and units that rated; compare through the labels
    assert np.array_equal(wide.unit_labels[wide.unit], long.unit_labels[long.unit])
    assert np.array_equal(wide.rater_labels[wide.rater], long.rater_labels[long.rater])
    assert np.array_equal(wide.code, long.code)
    assert np.array_equal(wide.rater_counts[long.rater_labels.astype(int)], long.rater_counts)


scores = st.sampled_from([0.0, 1.0, 2.0, 3.0, 5.0, 7.0, np.nan])


@settings(max_examples=80, deadline=None)
@given(x=arrays(np.float64, st.tuples(st.integers(1, 15), st.integers(1, 6)), elements=scores))
def test_wide_matches_long_with_inferred_scale(x):
    if np.isnan(x).all():
        with pytest.raises(DataError, match="nothing to analyse"):
            Ratings.from_wide(x)
        return
    _assert_same(Ratings.from_wide(x), _long_twin(x))


@settings(max_examples=80, deadline=None)
@given(x=arrays(np.float64, st.tuples(st.integers(1, 15), st.integers(1, 6)), elements=scores))
def test_wide_matches_long_with_declared_scale_with_gaps(x):
    scale = [0, 1, 2, 3, 5, 7, 9]           # 4, 6 and 8 are integers between declared points
    wide = Ratings.from_wide(x, categories=scale)
    if (~np.isnan(x)).any():
        _assert_same(wide, _long_twin(x, scale))
    assert wide.counts.shape == (x.shape[0], 7)


@pytest.mark.parametrize("bad, shown", [(4.0, "4"), (2.5, "2.5"), (12.0, "12"), (-1.0, "-1")])
def test_off_scale_scores_are_named_whichever_path_finds_them(bad, shown):
    x = np.array([[1.0, 2.0], [3.0, np.nan], [bad, 1.0]])
    with pytest.raises(CategoryError, match=rf"not points of the declared scale .*: {shown}"):
        Ratings.from_wide(x, categories=[0, 1, 2, 3, 5])


def test_fast_path_is_taken_for_integer_scales_and_not_for_fractions():
    x = np.array([[1.0, 2.0, np.nan], [4.0, 4.0, 1.0]])
    assert _encode_wide_fast(x, [1, 2, 3, 4]) is not None
    assert _encode_wide_fast(x, None) is not None
    assert _encode_wide_fast(x / 2, None) is None          # 0.5 steps: general path
    assert _encode_wide_fast(x * 1000, None) is None       # spans more than 250 points
    codes, scale = _encode_wide_fast(x, None)
    assert scale.tolist() == [1, 2, 4]                     # only the values used
    assert codes.tolist() == [[0, 1, -1], [2, 2, 0]]


def test_infinite_scores_are_refused():
    with pytest.raises(CategoryError, match="infinite"):
        Ratings.from_wide(np.array([[1.0, np.inf], [2.0, 1.0]]))


@pytest.mark.parametrize("raters, k", [(3, 4), (200, 4), (2, 30), (600, 5), (30, 25)])
def test_packed_counts_are_exact_in_int32_int64_and_the_wide_case(raters, k):
    # (3, 4) packs into int32, (200, 4) and (2, 30) into int64, (600, 5) takes the matrix product,
    # (30, 25) does not fit in 62 bits and is counted by comparisons
    rng = np.random.default_rng(raters * k)
    codes = rng.integers(-1, k, size=(300, raters)).astype(np.int8)
    codes[0] = k - 1                                       # one unit with a digit at its maximum
    expected = np.stack([(codes == c).sum(axis=1) for c in range(k)], axis=1)
    packed = pack_unit_counts(codes, k)
    if (raters, k) == (30, 25):
        assert packed is None
    else:
        assert np.array_equal(unpack_unit_counts(*packed, k), expected)
    ratings = Ratings(categories=np.arange(k), unit_labels=np.arange(300), rater_labels=np.arange(raters),
                      wide=codes)
    assert np.array_equal(ratings.counts, expected)
    patterns, mult = ratings.count_patterns()
    assert mult.sum() == 300 and len({tuple(p) for p in patterns}) == len(patterns)
    assert np.array_equal(np.unique(expected, axis=0), np.unique(patterns, axis=0))


def test_select_raters_keeps_the_wide_form():
    x = np.array([[1.0, 2.0, 3.0], [np.nan, 2.0, 2.0]])
    sub = Ratings.from_wide(x, categories=[1, 2, 3]).select_raters([0, 2])
    assert sub.wide_codes.tolist() == [[0, 2], [-1, 1]]
    assert sub.counts.tolist() == [[1, 0, 1], [0, 1, 0]]


@pytest.mark.parametrize("n", [3, 2_000])     # a dense unit x rater grid (bincount), a sparse one (sort)
def test_from_long_names_a_rater_who_scored_a_unit_twice(n):
    # rater i scores unit i only; the last rater scores the last unit twice
    df = pd.DataFrame({"unit": np.r_[np.arange(n), n - 1], "rater": np.r_[np.arange(n), n - 1],
                       "score": np.r_[np.ones(n), 2.0]})
    with pytest.raises(DataError, match=rf"^1 \(unit, rater\) pair\(s\) .* e\.g\. \({n - 1}, {n - 1}\);"):
        Ratings.from_long(df)


@pytest.mark.parametrize("scores, categories, shown", [([1, 2, 7], [1, 2, 3], "7"), ([1, 2.5, 3], [1, 2, 3], "2.5"),
                                                       ([1, 4, 3], [1, 3, 5], "4")])
def test_from_long_names_off_scale_scores(scores, categories, shown):
    df = pd.DataFrame({"unit": [0, 1, 2], "rater": ["a", "a", "a"], "score": scores})
    with pytest.raises(CategoryError, match=rf"column 'score' are not points of the declared scale .*: {shown};"):
        Ratings.from_long(df, categories=categories)


def test_from_long_codes_fractional_and_integer_scores_alike():
    df = pd.DataFrame({"unit": [0, 0, 1, 1], "rater": ["a", "b", "a", "b"], "score": [0.5, 1.5, 1.5, 2.5]})
    assert Ratings.from_long(df).code.tolist() == [0, 1, 1, 2]
    assert Ratings.from_long(df.assign(score=df.score * 2)).code.tolist() == [0, 1, 1, 2]


def test_long_scales_use_wider_codes_and_still_match_the_long_path():
    # 200 score points: codes no longer fit int8, counts no longer pack into 62 bits
    rng = np.random.default_rng(5)
    x = rng.integers(0, 200, size=(40, 6)).astype(float)
    x[rng.random(x.shape) < 0.2] = np.nan
    wide = Ratings.from_wide(x, categories=range(200))
    assert wide.wide_codes.dtype == np.int16
    _assert_same(wide, _long_twin(x, list(range(200))))


# --- scales with labels (issue 10, item 8) ------------------------------------------------------
def test_scale_forms_numbers_labels_and_mappings():
    from irr.stats._ratings import _parse_categories

    numbers = _parse_categories([3, 1, 2])
    assert numbers.labels.tolist() == [1, 2, 3] and numbers.is_plain_numeric and numbers.ordered
    labels = _parse_categories(["low", "mid", "high"])
    assert labels.labels.tolist() == ["low", "mid", "high"] and labels.ordered and not labels.is_numeric
    mixed = _parse_categories({"blank": None, 1: 1, "2": 2})      # "2" read from a CSV is the number 2
    assert mixed.labels.tolist() == ["blank", 1.0, 2.0] and np.isnan(mixed.points[0]) and not mixed.ordered
    valued = _parse_categories({"high": 4, "low": 1})
    assert valued.labels.tolist() == ["low", "high"] and valued.points.tolist() == [1, 4] and valued.ordered
    assert _parse_categories({1: 1, 2: 2}).is_plain_numeric           # the fast path still applies


def test_fast_path_is_kept_for_numeric_scales_and_skipped_for_labels():
    x = np.array([[1.0, 2.0, np.nan], [4.0, 4.0, 1.0]])
    assert _encode_wide_fast(x, {1: 1, 2: 2, 3: 3, 4: 4}) is not None
    assert _encode_wide_fast(x, ["blank", 1, 2, 3, 4]) is None
    assert _encode_wide_fast(x, {"one": 1, "two": 2, "three": 3, "four": 4}) is None
    # the general path codes the same ratings the same way on the labelled scale
    coded = Ratings.from_wide(x, categories=["blank", 1, 2, 3, 4])
    assert coded.wide_codes.tolist() == [[1, 2, -1], [4, 4, 1]]


def test_labelled_ratings_reshape_and_select_raters_keeping_their_labels():
    x = np.array([["blank", 1, 2], [None, 2, 2], [3, "off_topic", 3]], dtype=object)
    ratings = Ratings.from_wide(x)
    assert ratings.labels == [1.0, 2.0, 3.0, "blank", "off_topic"]
    again = Ratings.from_long(ratings.to_long())
    assert again.labels == ratings.labels and np.array_equal(again.counts, ratings.counts[[0, 1, 2]])
    wide = ratings.to_wide()
    assert wide.iloc[0].tolist() == ["blank", 1.0, 2.0] and wide.iloc[1, 0] is None
    sub = ratings.select_raters([1])
    assert sub.labels == ratings.labels and sub.wide_codes[:, 0].tolist() == [0, 1, 4]
    with pytest.raises(CategoryError, match="'blank', 'off_topic' have none"):
        ratings.wide_scores()


def test_tables_and_counts_with_label_headers():
    table = pd.DataFrame([[5, 1], [2, 4]], index=["pass", "fail"], columns=["fail", "pass"])
    ratings = Ratings.from_table(table)
    assert ratings.labels == ["pass", "fail"] and not ratings.is_ordered
    # columns were put in the order of the index: (pass, pass) holds 1, (pass, fail) holds 5
    assert ratings.pair_table(0, 1).tolist() == [[1, 5], [4, 2]]
    counts = pd.DataFrame({"blank": [2, 0], "1": [1, 3]})
    from_counts = Ratings.from_counts(counts)
    assert from_counts.labels == ["blank", 1.0] and from_counts.counts.tolist() == [[2, 1], [0, 3]]


def test_inferred_numeric_scale_merges_points_within_the_tolerance_only():
    x = np.array([[0.1 + 0.2, 0.3], [0.3 + 1e-7, 0.6]])
    assert Ratings.from_wide(x).categories.tolist() == [0.3, 0.3 + 1e-7, 0.6]      # the smallest stands for a point
    big = np.array([[1e6, 1e6 + 1e-4], [2e6, 2e6]])               # the tolerance is relative to the spread
    assert Ratings.from_wide(big).n_categories == 2


@pytest.mark.parametrize("complete", [True, False])
def test_unit_code_patterns_agree_from_wide_long_and_merged_tables(complete):
    # the order of the patterns (what bootstrap draws over) must not depend on how the ratings are held
    from irr.stats._sufficient import unit_tables

    rng = np.random.default_rng(3)
    x = rng.integers(1, 4, size=(60, 4)).astype(float)
    if not complete:
        x[rng.random(x.shape) < 0.4] = np.nan
        x[5] = np.nan  # a unit without ratings
    units, raters = np.nonzero(~np.isnan(x))
    df = pd.DataFrame({"unit": units, "rater": raters, "score": x[units, raters]})
    labelled = df.assign(rater=df["rater"].map(lambda r: f"r{r}"))  # string ids: the long path
    held = [Ratings.from_wide(x), Ratings.from_long(df), Ratings.from_long(labelled)]
    wide = held[0]
    u, r, c = wide.unit, wide.rater, wide.code
    # local unit codes per part: factorize as the Dask partitions do
    halves = [
        unit_tables(pd.factorize(u[s])[0], r[s], c[s], 4, 3, unit_pattern_limit=10_000)
        for s in (u < 30, u >= 30)
    ]
    held.append(Ratings.from_sufficient_statistics(halves[1].merge(halves[0]), [1, 2, 3], wide.rater_labels))
    rows, mult = held[0].unit_code_patterns("test")
    assert mult.sum() == (~np.isnan(x)).any(axis=1).sum()
    for other in held[1:]:
        other_rows, other_mult = other.unit_code_patterns("test")
        assert np.array_equal(rows, other_rows) and np.array_equal(mult, other_mult)
