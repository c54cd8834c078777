"""Agreement statistics on integer-coded ratings (layer 1: no I/O, no project imports
beyond :mod:`irr.errors`)."""

from irr.errors import NonNumericScaleError, UnorderedScaleError
from irr.stats._ratings import Ratings, Scale, as_ratings
from irr.stats._results import AgreementResult, ConfidenceInterval
from irr.stats._weights import agreement_weights

__all__ = [
    "Ratings",
    "Scale",
    "as_ratings",
    "AgreementResult",
    "ConfidenceInterval",
    "agreement_weights",
    "NonNumericScaleError",
    "UnorderedScaleError",
]
from irr.stats.chance_corrected import (
    brennan_prediger,
    cohen_kappa,
    conger_kappa,
    fleiss_kappa,
    gwet_ac,
    percent_agreement,
    scott_pi,
    weighted_kappa_from_tables,
)
from irr.stats.drift import (
    ChangepointResult,
    CusumResult,
    EwmaResult,
    PChartResult,
    ShewhartResult,
    changepoint_test,
    cusum,
    ewma,
    p_chart,
    shewhart,
)
from irr.stats.icc import ICCResult, icc, icc_table
from irr.stats.krippendorff import coincidence_matrix, krippendorff_alpha
from irr.stats.multiplicity import MULTIPLICITY_METHODS, adjust_pvalues
from irr.stats.pairwise import pair_tables, pairwise_table
from irr.stats.registry import DEFAULT_COEFFICIENTS, coefficient_names, parse_coefficient, register_coefficient
from irr.stats.tables import agreement_table

__all__ += [
    "percent_agreement",
    "cohen_kappa",
    "scott_pi",
    "fleiss_kappa",
    "conger_kappa",
    "brennan_prediger",
    "gwet_ac",
    "krippendorff_alpha",
    "coincidence_matrix",
    "icc",
    "icc_table",
    "ICCResult",
    "agreement_table",
    "pairwise_table",
    "pair_tables",
    "weighted_kappa_from_tables",
    "DEFAULT_COEFFICIENTS",
    "register_coefficient",
    "coefficient_names",
    "parse_coefficient",
    "cusum",
    "ewma",
    "shewhart",
    "p_chart",
    "changepoint_test",
    "CusumResult",
    "EwmaResult",
    "ShewhartResult",
    "PChartResult",
    "ChangepointResult",
    "adjust_pvalues",
    "MULTIPLICITY_METHODS",
]
