"""Analyses of stored scores (layer 4), one module each, each returning an
:class:`~irr.analysis.result.AnalysisResult`: :mod:`~irr.analysis.calibration`
(``calibrate``, ``calibrate_session``) and :mod:`~irr.analysis.agreement` (``agreement``).
Shared: :mod:`~irr.analysis.result`, :mod:`~irr.analysis.scores` (condition codes, scales),
:mod:`~irr.analysis.interpretation` (coefficient names and benchmarks),
:mod:`~irr.analysis.profiles` (qualification rules), :mod:`~irr.analysis.provenance`.
"""
