"""Labelled (nominal) categories: known answers on published labelled data, the scale forms of
`categories=`, Categorical and nullable input, refusals of statistics that need numbers or an order.

Sources of the expected values (copied here; the tests never read the golden files):
- Fleiss (1971) psychiatric diagnoses, 30 subjects x 6 raters, as R irr's `diagnoses` with its text
  labels: Fleiss kappa 0.4302445201 (irr 0.84.1, statsmodels, nltk, irrCAC), category kappas
  .245/.245/.520/.471/.566 (irr `kappam.fleiss(detail=TRUE)`, 3 dp), Conger 0.4418085403 (irr
  `exact=TRUE`, nltk, irrCAC), Brennan-Prediger 0.4444444444 (irrCAC, statsmodels randolph, nltk S),
  AC1 0.4478845158 with SE 0.05566 and percent agreement 0.5555555556 (irrCAC 1.0/1.4), nominal
  alpha 0.4334098283 (krippendorff 0.9.0, nltk, irrCAC).
- Artstein & Poesio (2008), "Inter-coder agreement for computational linguistics", Computational
  Linguistics 34(4), the dialogue-act table of section 2 (coder A rows x coder B columns, 100 items,
  labels stat/ireq/chck).  A_o = 88/100; S uses A_e = 1/3; pi uses the pooled shares
  (.49, .38, .13), A_e = .4014; kappa uses the two coders' shares, A_e = .396 -- so S = .82,
  pi = .4786/.5986 = .79953, kappa = .484/.604 = .80132 (the paper's formulas by hand); cross-checked
  at run time against scikit-learn `cohen_kappa_score` and the `krippendorff` package on the
  expanded labels.
"""
import krippendorff
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from irr.errors import CategoryError, DataError, IrrError
from irr.stats import (
    NonNumericScaleError,
    Ratings,
    Scale,
    UnorderedScaleError,
    agreement_table,
    agreement_weights,
    brennan_prediger,
    cohen_kappa,
    conger_kappa,
    fleiss_kappa,
    gwet_ac,
    icc,
    krippendorff_alpha,
    percent_agreement,
    scott_pi,
)

# --- Fleiss (1971) diagnoses: one string per subject, one digit per rater (irr's rater order) -------
DIAGNOSES = {"1": "1. Depression", "2": "2. Personality Disorder", "3": "3. Schizophrenia",
             "4": "4. Neurosis", "5": "5. Other"}
FLEISS_1971 = [
    "444444", "222555", "233335", "555555", "222444", "113333", "333355", "113334", "114444", "555555",
    "144444", "124444", "222333", "144444", "224445", "333335", "111455", "111112", "224444", "133555",
    "555555", "244444", "224555", "114444", "144445", "222224", "111155", "224444", "133333", "555555",
]


def _diagnoses_wide() -> pd.DataFrame:
    rows = [[DIAGNOSES[c] for c in subject] for subject in FLEISS_1971]
    return pd.DataFrame(rows, index=pd.Index(range(1, 31), name="subject"),
                        columns=[f"rater{i}" for i in range(1, 7)])


def _diagnoses_long() -> pd.DataFrame:
    wide = _diagnoses_wide()
    return wide.reset_index().melt(id_vars="subject", var_name="rater", value_name="score")


@pytest.fixture(scope="module", params=["wide", "long"])
def diagnoses(request) -> Ratings:
    if request.param == "wide":
        return Ratings.from_wide(_diagnoses_wide())
    return Ratings.from_long(_diagnoses_long(), unit="subject")


def test_fleiss_1971_diagnoses_with_their_text_labels(diagnoses):
    assert diagnoses.labels == list(DIAGNOSES.values())       # sorted labels, not 1..5 codes
    assert diagnoses.values is None and not diagnoses.is_ordered
    fleiss = fleiss_kappa(diagnoses)
    assert fleiss.estimate == pytest.approx(0.4302445201, abs=1e-9)
    per = fleiss.details["per_category"]
    assert list(per) == list(DIAGNOSES.values())
    assert [round(v, 3) for v in per.values()] == [0.245, 0.245, 0.520, 0.471, 0.566]
    assert brennan_prediger(diagnoses).estimate == pytest.approx(0.4444444444, abs=1e-9)
    assert krippendorff_alpha(diagnoses, "nominal").estimate == pytest.approx(0.4334098283, abs=1e-9)
    ac1 = gwet_ac(diagnoses)
    assert ac1.estimate == pytest.approx(0.4478845158, abs=1e-9)
    assert ac1.standard_error == pytest.approx(0.05566, abs=5e-6)
    assert percent_agreement(diagnoses).estimate == pytest.approx(0.5555555556, abs=1e-9)
    assert conger_kappa(diagnoses).estimate == pytest.approx(0.4418085403, abs=1e-9)


def test_fleiss_1971_diagnoses_through_agreement_table():
    table = agreement_table(_diagnoses_long(), unit="subject", ci=None,
                            coefficients=["percent_agreement", "fleiss_kappa", "conger_kappa",
                                          "brennan_prediger", "gwet_ac", "krippendorff_alpha:nominal"])
    got = table.set_index("coefficient")["estimate"]
    expected = {"percent_agreement": 0.5555555556, "fleiss_kappa": 0.4302445201, "conger_kappa": 0.4418085403,
                "brennan_prediger": 0.4444444444, "gwet_ac1": 0.4478845158,
                "krippendorff_alpha (nominal)": 0.4334098283}
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, abs=1e-9), name
    assert (table["note"] == "").all()


# --- Artstein & Poesio (2008): two coders, dialogue acts -------------------------------------------
AP_LABELS = ["stat", "ireq", "chck"]
AP_TABLE = pd.DataFrame([[46, 0, 0], [6, 32, 6], [0, 0, 10]],
                        index=pd.Index(AP_LABELS, name="coderA"), columns=AP_LABELS)
AP_EXPECTED = {"percent_agreement": 0.88, "brennan_prediger": 0.82,
               "scott_pi": 0.4786 / 0.5986, "cohen_kappa": 0.484 / 0.604}


def _ap_expanded() -> pd.DataFrame:
    """One row per item: coder A's and coder B's label."""
    a, b = [], []
    for i, row in enumerate(AP_LABELS):
        for j, col in enumerate(AP_LABELS):
            n = int(AP_TABLE.iloc[i, j])
            a += [row] * n
            b += [col] * n
    return pd.DataFrame({"A": a, "B": b})


def _ap_ratings(path: str) -> Ratings:
    if path == "table":
        return Ratings.from_table(AP_TABLE)
    pairs = _ap_expanded()
    if path == "wide":
        return Ratings.from_wide(pairs)
    long = pairs.rename_axis("item").reset_index().melt(id_vars="item", var_name="coder", value_name="label")
    return Ratings.from_long(long, unit="item", rater="coder", score="label")


@pytest.mark.parametrize("path", ["table", "wide", "long"])
def test_artstein_poesio_dialogue_acts(path):
    ratings = _ap_ratings(path)
    assert set(ratings.labels) == set(AP_LABELS) and ratings.n_units == 100
    assert percent_agreement(ratings).estimate == pytest.approx(AP_EXPECTED["percent_agreement"], abs=1e-12)
    assert brennan_prediger(ratings).estimate == pytest.approx(AP_EXPECTED["brennan_prediger"], abs=1e-12)
    assert scott_pi(ratings).estimate == pytest.approx(AP_EXPECTED["scott_pi"], abs=1e-12)
    kappa = cohen_kappa(ratings).estimate
    assert kappa == pytest.approx(AP_EXPECTED["cohen_kappa"], abs=1e-12)
    pairs = _ap_expanded()
    assert kappa == pytest.approx(cohen_kappa_score(pairs["A"], pairs["B"]), abs=1e-12)
    # the krippendorff package takes raters x units of numeric codes
    coded = pairs.replace({label: i for i, label in enumerate(AP_LABELS)}).to_numpy(dtype=float).T
    reference = krippendorff.alpha(coded, level_of_measurement="nominal")
    assert krippendorff_alpha(ratings, "nominal").estimate == pytest.approx(reference, abs=1e-12)


def test_artstein_poesio_through_agreement_table():
    pairs = _ap_expanded()
    long = pairs.rename_axis("item").reset_index().melt(id_vars="item", var_name="coder", value_name="label")
    table = agreement_table(long, unit="item", rater="coder", score="label", ci=None,
                            coefficients=list(AP_EXPECTED))
    got = table.set_index("coefficient")["estimate"]
    for name, value in AP_EXPECTED.items():
        assert got[name] == pytest.approx(value, abs=1e-12), name


# --- statistics that need numbers or an order say so ------------------------------------------------
def test_weighted_coefficients_icc_and_metric_alpha_refuse_labels_clearly():
    ratings = Ratings.from_table(AP_TABLE)
    for call in (lambda: gwet_ac(ratings, weights="quadratic"), lambda: cohen_kappa(ratings, "linear"),
                 lambda: fleiss_kappa(ratings, "quadratic"), lambda: icc(ratings, "A,1"),
                 lambda: krippendorff_alpha(ratings, "interval"),
                 lambda: percent_agreement(ratings, tolerance=1)):
        with pytest.raises(NonNumericScaleError, match=r"numeric score values; the categories are labels "
                                                       r"\('stat', 'ireq', 'chck'\)") as info:
            call()
        assert isinstance(info.value, IrrError) and "nominal" in str(info.value)
    with pytest.raises(UnorderedScaleError, match="order"):
        krippendorff_alpha(ratings, "ordinal")


def test_agreement_weights_refuse_numeric_weights_on_labels():
    assert agreement_weights(np.array(["blank", "off_topic"], dtype=object)).tolist() == [[1, 0], [0, 1]]
    with pytest.raises(NonNumericScaleError, match=r"^quadratic weights .* labels \('blank', 'off_topic'\)"):
        agreement_weights(np.array(["blank", "off_topic"], dtype=object), "quadratic")
    with_blank = Ratings.from_wide([["blank", 1], [2, 3]], categories={"blank": None, 1: 1, 2: 2, 3: 3})
    with pytest.raises(NonNumericScaleError, match=r"^linear weights .* the category 'blank' has none"):
        agreement_weights(with_blank, "linear")
    named = Ratings.from_wide([["low", "high"]], categories={"low": 1, "mid": 2, "high": 4})
    assert agreement_weights(named, "linear").round(3).tolist() == [[1, 0.667, 0], [0.667, 1, 0.333],
                                                                    [0, 0.333, 1]]


# --- mixed numbers and condition codes ----------------------------------------------------------------
MIXED = np.array([[1, 1, 2], ["blank", "blank", 1], [3, 3, 3], [2, "blank", 2], [4, 4, 3], [1, 2, 1]],
                 dtype=object)


def _blank_as(value) -> np.ndarray:
    out = MIXED.copy()
    out[out == "blank"] = value
    return out.astype(float)


def test_mixed_numbers_and_labels_work_for_nominal_coefficients():
    mixed = Ratings.from_wide(MIXED)
    assert mixed.labels == [1.0, 2.0, 3.0, 4.0, "blank"] and mixed.values is None
    recoded = _blank_as(0)          # nominal coefficients see only which ratings are equal
    for func in (percent_agreement, fleiss_kappa, gwet_ac, brennan_prediger, conger_kappa):
        assert func(mixed).estimate == pytest.approx(func(recoded).estimate, abs=1e-12), func.__name__
    assert krippendorff_alpha(mixed, "nominal").estimate == pytest.approx(
        krippendorff_alpha(recoded, "nominal").estimate, abs=1e-12)
    with pytest.raises(NonNumericScaleError, match="the category 'blank' has none: .*numeric_only"):
        gwet_ac(mixed, weights="quadratic")


def test_a_label_without_value_refuses_weights_until_its_ratings_are_left_out():
    scale = {"blank": None, 1: 1, 2: 2, 3: 3, 4: 4}
    ratings = Ratings.from_wide(MIXED, categories=scale)
    assert ratings.labels == ["blank", 1.0, 2.0, 3.0, 4.0] and ratings.values is None
    with pytest.raises(NonNumericScaleError, match="'blank'"):
        icc(ratings)
    numeric = ratings.numeric_only()
    assert numeric.labels == [1.0, 2.0, 3.0, 4.0] and numeric.values.tolist() == [1, 2, 3, 4]
    assert numeric.dropped == {"category 'blank'": 3} and numeric.n_ratings == ratings.n_ratings - 3
    as_missing = _blank_as(np.nan)
    assert gwet_ac(numeric, weights="quadratic").estimate == pytest.approx(
        gwet_ac(as_missing, weights="quadratic", categories=[1, 2, 3, 4]).estimate, abs=1e-12)
    assert icc(numeric).estimate == pytest.approx(icc(as_missing).estimate, abs=1e-12)


# --- the forms of categories= --------------------------------------------------------------------------
def test_a_label_sequence_is_the_scale_in_the_order_given():
    x = np.array([["fail", "pass"], ["pass", "pass"], ["fail", "fail"]], dtype=object)
    ratings = Ratings.from_wide(x, categories=["fail", "borderline", "pass"])
    assert ratings.labels == ["fail", "borderline", "pass"] and ratings.is_ordered
    assert ratings.counts.tolist() == [[1, 0, 1], [0, 0, 2], [2, 0, 0]]
    # an unused declared label counts: Brennan-Prediger chance agreement is 1/3, not 1/2
    assert brennan_prediger(ratings).estimate == pytest.approx((2 / 3 - 1 / 3) / (2 / 3))
    assert krippendorff_alpha(ratings, "ordinal").estimate == pytest.approx(
        krippendorff_alpha(np.where(x == "fail", 1.0, 3.0), "ordinal", categories=[1, 2, 3]).estimate)
    with pytest.raises(CategoryError, match=r"not points of the declared scale \['fail', 'pass'\]: 'borderline'"):
        Ratings.from_wide(np.array([["fail", "borderline"]], dtype=object), categories=["fail", "pass"])


def test_a_mapping_gives_labels_their_values():
    x = np.array([["low", "mid"], ["high", "high"], ["mid", "mid"], ["low", "high"]], dtype=object)
    values = {"low": 1, "mid": 2, "high": 4}
    ratings = Ratings.from_wide(x, categories=values)
    assert ratings.labels == ["low", "mid", "high"] and ratings.values.tolist() == [1, 2, 4]
    numeric = np.vectorize(values.get)(x).astype(float)
    for weights in ("linear", "quadratic"):
        assert gwet_ac(ratings, weights=weights).estimate == pytest.approx(
            gwet_ac(numeric, weights=weights, categories=[1, 2, 4]).estimate, abs=1e-12)
    assert icc(ratings).estimate == pytest.approx(icc(numeric).estimate, abs=1e-12)
    # a mapping whose values are all numbers is ordered by value, whatever the order of its keys
    reordered = Ratings.from_wide(x, categories={"high": 4, "low": 1, "mid": 2})
    assert reordered.labels == ["low", "mid", "high"] and reordered.is_ordered


@pytest.mark.parametrize("bad, message", [
    ({"blank": "none"}, "give each label a number"),
    ({"a": np.inf}, "finite"),
    (["a", "b", "a"], "duplicates: 'a'"),
    ([1, 2, 1.0 + 1e-13], "duplicates: 1"),
    ("abc", "got the string 'abc'"),
    ([1, None], "missing value"),
])
def test_bad_scale_declarations_are_named(bad, message):
    with pytest.raises(CategoryError, match=message):
        Ratings.from_wide(np.array([[1.0]]), categories=bad)


def test_labels_print_plainly_in_messages():
    with pytest.raises(CategoryError) as info:
        Ratings.from_wide(np.array([["a", "b"]]), categories=["a", "c"])
    assert "['a', 'c']: 'b'" in str(info.value) and "np.str_" not in str(info.value)
    long = pd.DataFrame({"unit": [0, 0], "rater": ["x", "y"], "score": ["blank", 7]})
    with pytest.raises(CategoryError, match=r"column 'score' are not points .*\[1, 2, 'blank'\]: 7;"):
        Ratings.from_long(long, categories=[1, 2, "blank"])
    assert repr(Ratings.from_wide(MIXED)).endswith("scale [1, 2, 3, 4, 'blank'])")


# --- pandas Categorical: the declared categories are the scale ------------------------------------------
CAT_SCORES = np.array([[1, 1, 2], [2, 2, 2], [3, 3, 3], [1, 2, 1], [3, 3, 2], [1, 1, 1]], dtype=float)


def _categorical_long(dtype) -> pd.DataFrame:
    units, raters = np.nonzero(~np.isnan(CAT_SCORES))
    return pd.DataFrame({"unit": units, "rater": raters,
                         "score": pd.Series(CAT_SCORES[units, raters].astype(int)).astype(dtype)})


@pytest.mark.parametrize("path", ["wide", "long", "table"])
def test_categorical_input_keeps_an_unused_declared_category(path):
    dtype = pd.CategoricalDtype([1, 2, 3, 4])           # nobody used 4
    declared = {"categories": [1, 2, 3, 4]}
    if path == "wide":
        ratings = Ratings.from_wide(pd.DataFrame(CAT_SCORES.astype(int)).astype(dtype))
    elif path == "long":
        ratings = Ratings.from_long(_categorical_long(dtype))
    else:
        table = agreement_table(_categorical_long(dtype), coefficients=["brennan_prediger", "gwet_ac"], ci=None)
        got = table.set_index("coefficient")["estimate"]
        assert got["brennan_prediger"] == pytest.approx(brennan_prediger(CAT_SCORES, **declared).estimate)
        assert got["gwet_ac1"] == pytest.approx(gwet_ac(CAT_SCORES, **declared).estimate)
        assert got["brennan_prediger"] != pytest.approx(brennan_prediger(CAT_SCORES).estimate)
        return
    assert ratings.categories.tolist() == [1, 2, 3, 4]
    assert brennan_prediger(ratings).estimate == pytest.approx(brennan_prediger(CAT_SCORES, **declared).estimate)
    assert gwet_ac(ratings).estimate == pytest.approx(gwet_ac(CAT_SCORES, **declared).estimate)


def test_categorical_labels_ordered_or_not_and_explicit_categories_win():
    grades = pd.CategoricalDtype(["fail", "pass", "merit"], ordered=True)
    df = pd.DataFrame({"a": ["fail", "pass"], "b": ["fail", "fail"]}).astype(grades)
    ordered = Ratings.from_wide(df)
    assert ordered.labels == ["fail", "pass", "merit"] and ordered.is_ordered
    loose = Ratings.from_long(_categorical_long(pd.CategoricalDtype([3, 1, 2, 5])))
    assert loose.labels == [1, 2, 3, 5]                 # numbers: ordered by value
    unordered = Ratings.from_wide(df.astype(pd.CategoricalDtype(["pass", "fail", "merit"])))
    assert unordered.labels == ["pass", "fail", "merit"] and not unordered.is_ordered
    explicit = Ratings.from_wide(df, categories=["fail", "pass"])
    assert explicit.labels == ["fail", "pass"]
    with pytest.raises(CategoryError, match="'pass'"):
        Ratings.from_wide(df, categories=["fail"])


# --- infinite scores: refused alike on every path --------------------------------------------------------
def test_infinite_scores_are_refused_alike_in_long_and_wide_input():
    long = pd.DataFrame({"unit": [0, 0, 1, 1], "rater": ["a", "b", "a", "b"], "score": [1.0, np.inf, 2.0, 2.0]})
    with pytest.raises(CategoryError) as from_long:
        Ratings.from_long(long)
    with pytest.raises(CategoryError) as from_wide:
        Ratings.from_wide(np.array([[1.0, np.inf], [2.0, 2.0]]))
    assert "1 score(s) in column 'score' are infinite; scores must be finite" in str(from_long.value)
    assert "1 score(s) in the ratings are infinite; scores must be finite" in str(from_wide.value)
    assert str(from_long.value).split("infinite")[1] == str(from_wide.value).split("infinite")[1]
    with pytest.raises(CategoryError, match="infinite"):
        Ratings.from_long(long.assign(score=long.score.astype(object).where(long.index != 3, "blank")))
    # agreement_table: every coefficient of the group carries the reason (it used to compute NaN
    # for ICC and alpha, and a "custom weight matrix" error for percent agreement)
    table = agreement_table(long, coefficients=["percent_agreement", "icc", "krippendorff_alpha"], ci=None)
    assert table["estimate"].isna().all() and table["note"].str.contains("are infinite").all()


# --- scale points given as floats match within a tolerance ------------------------------------------------
def test_float_scale_points_match_within_a_tolerance_on_every_path():
    third = 0.1 + 0.2                                   # 0.30000000000000004
    wide = np.array([[third, 0.3], [0.6, 0.6], [third, 0.6]])
    for ratings in (Ratings.from_wide(wide, categories=[0.3, 0.6]),
                    Ratings.from_long(pd.DataFrame({"unit": [0, 0, 1, 1, 2, 2], "rater": [0, 1] * 3,
                                                    "score": wide.ravel()}), categories=[0.3, 0.6]),
                    Ratings.from_wide(wide)):             # inferred: 0.1 + 0.2 and 0.3 are one point
        assert ratings.n_categories == 2 and ratings.counts.tolist() == [[2, 0], [0, 2], [1, 1]]
    assert percent_agreement(wide, categories=[0.3, 0.6]).estimate == pytest.approx(2 / 3)
    built = Ratings.from_wide(wide, categories=[0.3, 0.6])
    assert fleiss_kappa(built, categories=[third, 0.6]).estimate == fleiss_kappa(built).estimate
    with pytest.raises(CategoryError, match="not points of the declared scale"):
        Ratings.from_wide(np.array([[0.3 + 1e-6, 0.6]]), categories=[0.3, 0.6])


# --- nullable pandas dtypes ------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["Int64", "Float64"])
@pytest.mark.parametrize("missing", [False, True])
def test_nullable_dtypes_work_like_numpy_dtypes(dtype, missing):
    df = pd.DataFrame({"unit": [0, 0, 1, 1, 2, 2, 3], "rater": ["a", "b"] * 3 + ["a"],
                       "score": [1, 2, 2, 2, 3, 3, 1]})
    if missing:
        df.loc[6, "score"] = None
    plain = df.astype({"score": "float64"})
    nullable = df.astype({"score": dtype})
    a, b = Ratings.from_long(plain), Ratings.from_long(nullable)
    assert np.array_equal(a.categories, b.categories) and np.array_equal(a.counts, b.counts)
    assert a.dropped == b.dropped
    wide_plain = plain.pivot(index="unit", columns="rater", values="score")
    wide_nullable = wide_plain.astype(dtype)
    assert np.array_equal(Ratings.from_wide(wide_nullable).wide_codes, Ratings.from_wide(wide_plain).wide_codes)
    coefficients = ["percent_agreement", "fleiss_kappa", "gwet_ac:quadratic", "icc:A,1"]
    got = agreement_table(nullable, coefficients=coefficients, ci=None)
    want = agreement_table(plain, coefficients=coefficients, ci=None)
    pd.testing.assert_series_equal(got["estimate"], want["estimate"])


def test_scale_objects_round_trip_through_categories():
    ratings = Ratings.from_wide(MIXED, categories={"blank": None, 1: 1, 2: 2, 3: 3, 4: 4})
    again = Ratings.from_wide(MIXED, categories=ratings.scale)
    assert again.scale == ratings.scale and np.array_equal(again.wide_codes, ratings.wide_codes)
    assert isinstance(ratings.scale, Scale) and "'blank': None" in repr(ratings.scale)
    assert fleiss_kappa(ratings, categories=ratings.scale).estimate == fleiss_kappa(ratings).estimate
    with pytest.raises(CategoryError, match="differs from the scale"):
        fleiss_kappa(ratings, categories=[1, 2, 3, 4])
    assert issubclass(NonNumericScaleError, CategoryError) and issubclass(UnorderedScaleError, DataError)


def test_declaring_the_order_of_inferred_labels_enables_ordinal_alpha():
    x = np.array([["low", "mid"], ["mid", "mid"], ["high", "mid"], ["low", "low"]], dtype=object)
    inferred = Ratings.from_wide(x)                     # labels sorted as text, no order
    assert inferred.labels == ["high", "low", "mid"] and not inferred.is_ordered
    with pytest.raises(UnorderedScaleError, match="were not given in an order"):
        krippendorff_alpha(inferred, "ordinal")
    ordered = Ratings.from_wide(x, categories=["low", "mid", "high"])
    as_numbers = np.vectorize({"low": 1, "mid": 2, "high": 3}.get)(x).astype(float)
    assert krippendorff_alpha(ordered, "ordinal").estimate == pytest.approx(
        krippendorff_alpha(as_numbers, "ordinal").estimate, abs=1e-12)
    # the same labels declared in their text order make the Ratings ordered without a rebuild
    declared = krippendorff_alpha(inferred, "ordinal", categories=["high", "low", "mid"])
    assert np.isfinite(declared.estimate)


def test_numeric_only_orders_by_value_and_works_on_counts():
    scale = {"blank": None, 3: 3, 1: 1, 2: 2}
    ratings = Ratings.from_wide(np.array([[3, 1], ["blank", 2], [2, 2]], dtype=object), categories=scale)
    numeric = ratings.numeric_only()
    assert numeric.labels == [1.0, 2.0, 3.0] and numeric.scale.is_plain_numeric
    assert numeric.wide_codes.tolist() == [[2, 0], [-1, 1], [1, 1]]
    counts = Ratings.from_counts(pd.DataFrame({"blank": [1, 0], "1": [1, 2], "2": [0, 1]}))
    assert counts.numeric_only().counts.tolist() == [[1, 0], [2, 1]]
    assert counts.numeric_only().dropped == {"category 'blank'": 1}
