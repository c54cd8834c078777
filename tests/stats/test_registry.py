"""The coefficient registry: one registration per coefficient, specs parsed by lookup."""
import doctest

import numpy as np
import pandas as pd
import pytest

import irr.stats as st
from irr.errors import DataError
from irr.stats import registry, tables
from irr.stats.registry import coefficient_names, parse_coefficient, register_coefficient


@pytest.fixture
def clean_registry():
    before = dict(registry._REGISTRY)
    yield
    registry._REGISTRY.clear()
    registry._REGISTRY.update(before)


def test_one_default_list_for_the_package():
    assert st.DEFAULT_COEFFICIENTS is tables.DEFAULT_COEFFICIENTS is registry.DEFAULT_COEFFICIENTS
    assert st.DEFAULT_COEFFICIENTS == ("percent_agreement", "adjacent_agreement", "fleiss_kappa",
                                       "gwet_ac:quadratic", "krippendorff_alpha:ordinal", "icc:A,1")
    assert [parse_coefficient(c).label for c in st.DEFAULT_COEFFICIENTS] == [
        "percent_agreement", "adjacent_agreement", "fleiss_kappa", "gwet_ac2 (quadratic)",
        "krippendorff_alpha (ordinal)", "icc (A,1)"]


def test_names_and_labels_of_the_built_in_coefficients():
    assert coefficient_names() == tables.COEFFICIENTS == (
        "percent_agreement", "adjacent_agreement", "cohen_kappa", "scott_pi", "fleiss_kappa", "conger_kappa",
        "brennan_prediger", "gwet_ac", "gwet_ac1", "gwet_ac2", "krippendorff_alpha", "icc")
    labels = {spec: parse_coefficient(spec).label for spec in (
        "gwet_ac", "gwet_ac1", "gwet_ac2", "gwet_ac:linear", "gwet_ac2:identity", "cohen_kappa:quadratic",
        "fleiss_kappa:identity", "krippendorff_alpha", "krippendorff_alpha:Interval", "icc", "icc:C,1",
        "icc:ICC3k", " icc : a,k ", "percent_agreement:0.5", "adjacent_agreement")}
    assert labels == {
        "gwet_ac": "gwet_ac1", "gwet_ac1": "gwet_ac1", "gwet_ac2": "gwet_ac2 (quadratic)",
        "gwet_ac:linear": "gwet_ac2 (linear)", "gwet_ac2:identity": "gwet_ac1",
        "cohen_kappa:quadratic": "cohen_kappa (quadratic)", "fleiss_kappa:identity": "fleiss_kappa",
        "krippendorff_alpha": "krippendorff_alpha (ordinal)",
        "krippendorff_alpha:Interval": "krippendorff_alpha (interval)", "icc": "icc (A,1)",
        "icc:C,1": "icc (C,1)", "icc:ICC3k": "icc (C,k)", " icc : a,k ": "icc (A,k)",
        "percent_agreement:0.5": "percent_agreement", "adjacent_agreement": "adjacent_agreement"}


@pytest.mark.parametrize("spec, message", [
    ("fleis_kappa", r"unknown coefficient 'fleis_kappa'; choose from percent_agreement, .* "
                    r"\(did you mean 'fleiss_kappa'\?\)"),
    ("cronbach", "unknown coefficient 'cronbach'; choose from percent_agreement"),
    ("gwet_ac:quadratc", r"coefficient 'gwet_ac:quadratc': unknown weights 'quadratc'; use one of identity, "
                         r"linear, quadratic \(did you mean 'quadratic'\?\)"),
    ("krippendorff_alpha:ordnal", "unknown option 'ordnal'; use one of nominal, ordinal, interval, ratio"),
    ("icc:B,1", "unknown ICC form 'B,1'"),
    ("percent_agreement:-1", "tolerance must be a finite number >= 0"),
    ("adjacent_agreement:one", "tolerance must be a number of score points, got 'one'"),
])
def test_unknown_names_and_options_fail_when_parsed_naming_the_valid_ones(spec, message):
    with pytest.raises(DataError, match=message):
        parse_coefficient(spec)
    with pytest.raises(DataError, match=message):       # before any group is computed
        st.agreement_table(pd.DataFrame({"unit": [1, 1], "rater": [1, 2], "score": [1, 2]}), coefficients=[spec])


def test_a_new_coefficient_is_one_registration(clean_registry):
    @register_coefficient("mean_gap", options=("absolute", "signed"), default="absolute",
                          description="mean score difference of the two raters")
    def mean_gap(ratings, option):
        scores = ratings.wide_scores()
        diff = scores[:, 0] - scores[:, 1]
        return st.percent_agreement(ratings, tolerance=float(np.nanmean(np.abs(diff) if option == "absolute"
                                                                           else diff)))

    assert "mean_gap" in coefficient_names() and "mean_gap" in tables.COEFFICIENTS
    assert parse_coefficient("mean_gap").label == "mean_gap (absolute)"
    assert parse_coefficient("mean_gap:Signed").option == "signed"
    assert registry.get_coefficient("mean_gap").description == "mean score difference of the two raters"
    df = pd.DataFrame({"unit": [1, 1, 2, 2], "rater": list("abab"), "score": [1, 2, 3, 3]})
    table = st.agreement_table(df, coefficients=["mean_gap", "percent_agreement"], ci=None)
    assert table["coefficient"].tolist() == ["mean_gap (absolute)", "percent_agreement"]
    assert table["estimate"].tolist() == [0.5, 0.5]        # tolerance 0.5: unit 2 agrees, unit 1 not
    with pytest.raises(DataError, match="already registered"):
        register_coefficient("mean_gap", mean_gap)
    register_coefficient("mean_gap", lambda r, o: st.fleiss_kappa(r), label="gap", replace=True)
    assert parse_coefficient("mean_gap").label == "gap"


def test_registration_rules(clean_registry):
    register_coefficient("no_option", lambda r, o: st.fleiss_kappa(r))
    assert parse_coefficient("no_option").option is None
    with pytest.raises(DataError, match="takes no option"):
        parse_coefficient("no_option:linear")
    with pytest.raises(DataError, match="takes no option, so it cannot have default"):
        register_coefficient("bad_default", lambda r, o: None, default="x")
    with pytest.raises(DataError, match="without ':'"):
        register_coefficient("a:b", lambda r, o: None)


def test_registry_examples_run():
    failures, attempted = doctest.testmod(registry, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert attempted > 0 and failures == 0
    assert "exact_pairs" not in coefficient_names()
