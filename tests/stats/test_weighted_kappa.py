"""weighted_kappa_from_tables: Cohen (1968) kappa with the Fleiss-Cohen-Everitt (1969) SE, batched."""
import numpy as np
import pytest

import irr.stats as st
from irr.errors import DataError
from irr.stats import weighted_kappa_from_tables


def test_hand_computed_table():
    # (1,1), (2,2), (3,2): p_o = 2/3, p_e = 1/3, kappa = 0.5;
    # FCE: sum p_ij [w_ij - (wbar_i. + wbar_.j)(1 - kappa)]^2 = 26/108, minus (kappa - p_e(1 - kappa))^2 = 1/9,
    # over n (1 - p_e)^2 = 4/3
    kappa, se = weighted_kappa_from_tables([[1, 0, 0], [0, 1, 0], [0, 1, 0]])
    assert kappa == pytest.approx(0.5)
    assert se == pytest.approx(np.sqrt((26 / 108 - 1 / 9) / (4 / 3)))
    assert isinstance(kappa, float) and isinstance(se, float)


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_batch_matches_cohen_kappa_table_by_table(weights):
    rng = np.random.default_rng(3)
    x = np.array([1.0, 2.0, 4.0, 5.0])
    tables = rng.integers(0, 6, size=(7, 4, 4)) + 5 * np.eye(4, dtype=int)
    kappa, se = weighted_kappa_from_tables(tables, weights, categories=x)
    assert kappa.shape == se.shape == (7,)
    for t, k, s in zip(tables, kappa, se):
        ref = st.cohen_kappa(st.Ratings.from_table(t, categories=x), weights)
        assert k == pytest.approx(ref.estimate, abs=1e-12)
        assert s == pytest.approx(ref.standard_error, abs=1e-12)
    matrix = st.agreement_weights(x, weights)
    assert np.allclose(weighted_kappa_from_tables(tables, matrix)[0], kappa)


def test_undefined_tables_are_nan_and_bad_input_is_named():
    kappa, se = weighted_kappa_from_tables(np.array([[[3, 0], [0, 0]], [[0, 0], [0, 0]]]))
    assert np.isnan(kappa).all() and np.isnan(se).all()
    with pytest.raises(DataError, match="need the score values"):
        weighted_kappa_from_tables(np.ones((3, 3)), "quadratic")
    with pytest.raises(DataError, match="K x K"):
        weighted_kappa_from_tables(np.ones((2, 3)))
    with pytest.raises(DataError, match="non-negative"):
        weighted_kappa_from_tables([[1, -1], [0, 2]])
    with pytest.raises(DataError, match="must be 3x3"):
        weighted_kappa_from_tables(np.ones((3, 3)), np.eye(2))
