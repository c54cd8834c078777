"""Aligned plain-text tables for the terminal reports.

>>> import pandas as pd
>>> print(text_table(pd.DataFrame({"rater": ["T01", "T2"], "n": ["48", "7"]}), right=("n",)))
RATER   N
T01    48
T2      7
"""

from __future__ import annotations

from typing import Iterable

import pandas as pd

__all__ = ["text_table"]


def text_table(frame: pd.DataFrame, right: Iterable[str] = ()) -> str:
    """``frame``'s cells (already text) aligned under upper-case headers; ``right`` columns right-aligned."""
    right = set(right) | {c for c in frame.columns if str(c).endswith(" CI")}
    heads = [str(c).upper() for c in frame.columns]
    rows = frame.astype(str).to_numpy().tolist()
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(heads)]
    last = len(heads) - 1

    def line(values):
        parts = [
            v.rjust(w) if c in right else (v if i == last else v.ljust(w))
            for i, (v, w, c) in enumerate(zip(values, widths, frame.columns))
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(heads), *(line(r) for r in rows)])
