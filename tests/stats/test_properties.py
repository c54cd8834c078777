"""Property tests (hypothesis) for the whole coefficient family."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from irr.errors import InsufficientDataError
from irr.stats import brennan_prediger, conger_kappa, fleiss_kappa, gwet_ac, icc, krippendorff_alpha, percent_agreement

SCALE = [1, 2, 3, 4]
MULTI = [percent_agreement, fleiss_kappa, gwet_ac, brennan_prediger, conger_kappa,
         lambda x, **kw: krippendorff_alpha(x, "interval", **kw)]

ratings = arrays(np.float64, st.tuples(st.integers(2, 12), st.integers(2, 5)),
                 elements=st.sampled_from([1.0, 2.0, 3.0, 4.0, np.nan]))


def _value(func, x):
    try:
        return func(x, categories=SCALE).estimate
    except InsufficientDataError:
        return None


@settings(max_examples=60, deadline=None)
@given(x=ratings, rnd=st.randoms(use_true_random=False))
def test_relabelling_units_and_raters_changes_nothing(x, rnd):
    units, raters = list(range(x.shape[0])), list(range(x.shape[1]))
    rnd.shuffle(units)
    rnd.shuffle(raters)
    shuffled = x[np.ix_(units, raters)]
    for func in MULTI:
        a, b = _value(func, x), _value(func, shuffled)
        assert (a is None) == (b is None)
        if a is not None and np.isfinite(a):
            assert b == pytest.approx(a, abs=1e-10)


@settings(max_examples=40, deadline=None)
@given(truth=arrays(np.float64, st.integers(3, 15), elements=st.sampled_from([1.0, 2.0, 3.0, 4.0])),
       raters=st.integers(2, 5))
def test_perfect_agreement_gives_one(truth, raters):
    x = np.repeat(truth[:, None], raters, axis=1)
    for func in MULTI:
        value = _value(func, x)
        if value is not None:     # chance agreement 1 (one category used) is a documented error
            assert value == pytest.approx(1.0)
    if len(np.unique(truth)) > 1:
        assert icc(x, "A,1").estimate == pytest.approx(1.0)


@settings(max_examples=40, deadline=None)
@given(x=ratings)
def test_estimates_are_bounded_and_results_complete(x):
    for func in MULTI:
        try:
            res = func(x, categories=SCALE)
        except InsufficientDataError:
            continue
        assert res.estimate <= 1 + 1e-12
        assert res.n_units + sum(v for k, v in res.dropped.items() if "no ratings" in k) <= x.shape[0]
        assert res.n_ratings <= int((~np.isnan(x)).sum())


def test_one_rating_per_unit_and_empty_input_are_clear():
    single = np.array([[1.0, np.nan], [np.nan, 2.0], [3.0, np.nan]])
    for func in MULTI:
        with pytest.raises(InsufficientDataError):
            func(single, categories=SCALE)
    with pytest.raises(Exception) as info:
        fleiss_kappa(np.empty((0, 3)))
    assert "Traceback" not in str(info.value) and isinstance(info.value, ValueError)


NAMES = np.array(["blank", "one", "two", "three", "four"], dtype=object)
NOMINAL = [percent_agreement, fleiss_kappa, gwet_ac, brennan_prediger, conger_kappa,
           lambda x, **kw: krippendorff_alpha(x, "nominal", **kw)]


@settings(max_examples=40, deadline=None)
@given(x=ratings, mixed=st.booleans())
def test_nominal_coefficients_see_labels_as_they_see_numbers(x, mixed):
    # replace the scores by labels one to one (all of them, or only 1 -> 'blank' for mixed data):
    # nominal coefficients depend only on which ratings are equal, so nothing may change
    labelled = np.empty(x.shape, dtype=object)
    rated = ~np.isnan(x)
    labelled[~rated] = None
    labelled[rated] = NAMES[x[rated].astype(int)]
    if mixed:
        labelled[rated & (x != 1)] = x[rated & (x != 1)]
        scale = ["one", 2, 3, 4]
    else:
        scale = list(NAMES[1:])
    for func in NOMINAL:
        a, b = _value(func, x), _value(lambda y, **kw: func(y, **{**kw, "categories": scale}), labelled)
        assert (a is None) == (b is None)
        if a is not None and np.isfinite(a):
            assert b == pytest.approx(a, abs=1e-12)
