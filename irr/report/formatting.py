"""Number formatting shared by every report (terminal, HTML).

Every function takes a raw value and returns text; a value that is already text (a
suppressed cell such as ``"<10"``) is returned as it is, and a missing value gives ``""``.

Examples
--------
>>> pct(0.6417), signed(0.5), num(0.12345, 3), count(12), count("<10")
('64%', '+0.50', '0.123', '12', '<10')
>>> format_estimate("percent_agreement", 0.6417), format_estimate("fleiss_kappa", 0.6417)
('64%', '0.64')
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from irr.analysis.interpretation import is_proportion

__all__ = ["pct", "signed", "num", "count", "format_estimate", "format_se", "ci_text", "plural", "is_missing"]


def is_missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _passthrough(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if is_missing(value):
        return ""
    return None


def pct(value: Any, digits: int = 0) -> str:
    """A proportion as a percentage: ``0.6417 -> "64%"``."""
    text = _passthrough(value)
    return text if text is not None else f"{100 * float(value):.{digits}f}%"


def signed(value: Any, digits: int = 2) -> str:
    """A difference with its sign: ``0.5 -> "+0.50"``."""
    text = _passthrough(value)
    return text if text is not None else f"{float(value):+.{digits}f}"


def num(value: Any, digits: int = 2) -> str:
    text = _passthrough(value)
    return text if text is not None else f"{float(value):.{digits}f}"


def count(value: Any) -> str:
    text = _passthrough(value)
    return text if text is not None else str(int(value))


def format_estimate(label: str, value: Any, digits: int = 2) -> str:
    """``64%`` for a proportion, ``0.64`` for a coefficient, ``""`` for a missing value."""
    return pct(value) if is_proportion(label) else num(value, digits)


def format_se(label: str, value: Any) -> str:
    return pct(value, 1) if is_proportion(label) else num(value, 3)


def ci_text(label: str, low: Any, high: Any) -> str:
    """``"[0.41, 0.62]"`` in the estimate's format; ``""`` when either end is missing."""
    if is_missing(low) or is_missing(high):
        return ""
    return f"[{format_estimate(label, low)}, {format_estimate(label, high)}]"


def plural(n: Any, word: str) -> str:
    """``plural(1, "score") -> "1 score"``, ``plural("<10", "score") -> "<10 scores"``."""
    return f"{n} {word}" if str(n) == "1" else f"{n} {word}s"
