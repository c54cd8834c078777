"""pairwise_table: each pair equals a separate two-rater computation (and statsmodels)."""
import numpy as np
import pytest
import statsmodels.stats.inter_rater as smir

from irr.errors import InsufficientDataError
from irr.stats import Ratings
from irr.stats.chance_corrected import cohen_kappa, percent_agreement
from irr.stats.pairwise import pairwise_table


def _data(seed=0, n=120, raters=5):
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, 5, size=n)
    x = np.clip(truth[:, None] + rng.integers(-1, 2, size=(n, raters)), 1, 4).astype(float)
    x[rng.random(x.shape) < 0.3] = np.nan
    return x


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_each_pair_matches_two_rater_functions(weights):
    x = _data()
    table = pairwise_table(x, weights=weights, categories=[1, 2, 3, 4])
    assert len(table) == 10
    for row in table.itertuples():
        pair = x[:, [row.rater_a, row.rater_b]]
        kappa = cohen_kappa(pair, weights, categories=[1, 2, 3, 4])
        assert row.n == kappa.n_units
        assert row.kappa == pytest.approx(kappa.estimate, abs=1e-12)
        assert row.kappa_se == pytest.approx(kappa.standard_error, abs=1e-12)
        both = pair[~np.isnan(pair).any(axis=1)]
        assert row.exact == pytest.approx(np.mean(both[:, 0] == both[:, 1]))
        assert row.adjacent == pytest.approx(np.mean(np.abs(both[:, 0] - both[:, 1]) <= 1))
        assert row.exact == pytest.approx(percent_agreement(both, categories=[1, 2, 3, 4]).estimate)


def test_matches_statsmodels_table_kappa():
    x = _data(seed=5)
    table = pairwise_table(x, weights=None, categories=[1, 2, 3, 4])
    row = table.iloc[0]
    pair = x[:, [0, 1]]
    both = pair[~np.isnan(pair).any(axis=1)].astype(int)
    cont = np.zeros((4, 4))
    np.add.at(cont, (both[:, 0] - 1, both[:, 1] - 1), 1)
    assert row["kappa"] == pytest.approx(smir.cohens_kappa(cont).kappa, abs=1e-12)


def test_labels_and_pairs_without_overlap():
    import pandas as pd

    df = pd.DataFrame({"unit": [1, 1, 2, 2], "rater": ["ann", "bo", "cy", "dee"], "score": [1, 2, 3, 3]})
    table = pairwise_table(Ratings.from_long(df), weights=None)
    first = table.iloc[0]
    assert (first["rater_a"], first["rater_b"], first["n"]) == ("ann", "bo", 1)
    no_overlap = table[(table.rater_a == "ann") & (table.rater_b == "cy")].iloc[0]
    assert no_overlap["n"] == 0 and np.isnan(no_overlap["kappa"])


def test_needs_two_raters():
    with pytest.raises(InsufficientDataError):
        pairwise_table(np.array([[1.0], [2.0]]))


def test_constant_rater_gives_exact_zero_kappa():
    # A rater who gave every paper a 2: kappa is 0 by construction; the batched formula
    # used to return 7.9e-17 (round-off) for this pair.
    x = np.column_stack([np.full(10, 2.0), [2, 1, 3, 1, 1, 1, 2, 2, 1, 1]])
    row = pairwise_table(x, weights=None, categories=[1, 2, 3]).iloc[0]
    assert row["kappa"] == 0.0 and row["kappa_se"] == 0.0
