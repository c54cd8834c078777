"""Analyses of stored scores (layer 4), one module each, each returning an
:class:`~irr.analysis.result.AnalysisResult`: :mod:`~irr.analysis.calibration`
(``calibrate``, ``calibrate_session``), :mod:`~irr.analysis.agreement` (``agreement``) and
:mod:`~irr.analysis.comparability` (``compare_districts``: local scoring against audit rescoring),
:mod:`~irr.analysis.drift` (``rater_drift``) and :mod:`~irr.analysis.facets` (``fit_facets``: rater
measurement by the many-facet Rasch model) and :mod:`~irr.analysis.gstudy` (``g_study``:
generalizability theory); both also importable from ``irr.analysis``.
Shared: :mod:`~irr.analysis.result`, :mod:`~irr.analysis.scores` (condition codes, scales),
:mod:`~irr.analysis.interpretation` (coefficient names and benchmarks),
:mod:`~irr.analysis.profiles` (qualification and comparability thresholds), :mod:`~irr.analysis.provenance`.
Planning: :mod:`~irr.analysis.audit` (``audit_sample``: the works a district peer-review audit rescores).
"""

_LAZY = {
    "fit_facets": "irr.analysis.facets",
    "FacetsResult": "irr.analysis.facets",
    "g_study": "irr.analysis.gstudy",
    "GStudyResult": "irr.analysis.gstudy",
}


def __getattr__(name: str):
    # imported on first use, so `import irr.analysis` stays light for the CLI's start-up
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'irr.analysis' has no attribute {name!r}")
