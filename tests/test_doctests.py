"""The docstring examples run and show what the code does."""
import doctest
import importlib

import pytest

MODULES = [
    "irr.stats._ratings", "irr.stats._weights", "irr.stats.chance_corrected", "irr.stats.krippendorff",
    "irr.stats.icc", "irr.stats.pairwise", "irr.stats.tables", "irr.stats.registry", "irr.stats._results", "irr.stats._inference",
    "irr.resources", "irr.analysis.result", "irr.analysis.scores", "irr.analysis.interpretation",
    "irr.analysis.agreement", "irr.analysis.calibration", "irr.report.formatting", "irr.report.privacy",
    "irr.report.tables", "irr.report.terminal", "irr.report.agreement",
    "irr.analysis.comparability", "irr.analysis.audit", "irr.analysis.profiles", "irr.report.comparability",
    "irr.io.auditors", "irr.stats.drift", "irr.stats.multiplicity", "irr.analysis.drift", "irr.report.drift",
    "irr.stats.facets", "irr.analysis.facets", "irr.report.facets", "irr.stats.gtheory", "irr.analysis.gstudy", "irr.report.gstudy", "irr.web.security", "irr.web.app",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    failures, attempted = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert attempted > 0, f"{name} has no examples"
    assert failures == 0
