"""Reports of analysis results (layer 5).

Shared pieces: :mod:`~irr.report.formatting` (numbers and percentages), :mod:`~irr.report.privacy`
(anonymising, small-cell suppression), :mod:`~irr.report.tables` (the one CSV/JSON/XLSX writer,
formulas neutralised), :mod:`~irr.report.html` (the base page), :mod:`~irr.report.plots`,
:mod:`~irr.report.terminal`; :mod:`~irr.report.render` puts them together for any result.  Each
analysis kind has its module here (:mod:`~irr.report.calibration`, :mod:`~irr.report.agreement`)
with ``terminal(result)`` and ``html(result)``.
"""
