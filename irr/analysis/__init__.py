"""Analyses of stored scores (layer 4), one module each, each returning an
:class:`~irr.analysis.result.AnalysisResult`: :mod:`~irr.analysis.calibration`
(``calibrate``, ``calibrate_session``), :mod:`~irr.analysis.agreement` (``agreement``) and
:mod:`~irr.analysis.comparability` (``compare_districts``: local scoring against audit rescoring).
Shared: :mod:`~irr.analysis.result`, :mod:`~irr.analysis.scores` (condition codes, scales),
:mod:`~irr.analysis.interpretation` (coefficient names and benchmarks),
:mod:`~irr.analysis.profiles` (qualification and comparability thresholds), :mod:`~irr.analysis.provenance`.
Planning: :mod:`~irr.analysis.audit` (``audit_sample``: the works a district peer-review audit rescores).
"""
