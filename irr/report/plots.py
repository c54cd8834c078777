"""Plot helpers shared by the reports: matplotlib on demand, inline SVG, count heatmaps.

matplotlib is imported when the first figure is drawn (it takes longer to import than the
rest of the command line).  Figures are returned as inline SVG text with no metadata, and
text stays text (``svg.fonttype: none``) so the page can be searched and printed.  A count
heatmap draws a suppressed cell (``"<10"``) as text on white: a plot never shows more than
the tables.
"""

from __future__ import annotations

import io
import re
from typing import Any, Sequence

import numpy as np
import pandas as pd

__all__ = ["pyplot", "svg", "percent_axis", "count_heatmap", "numeric"]


def pyplot():
    """matplotlib's pyplot with the reports' style, imported on first use."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "font.size": 9, "font.family": "sans-serif"})
    return plt


def svg(fig) -> str:
    """The figure as inline SVG (closed afterwards)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    pyplot().close(fig)
    text = buf.getvalue()
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)  # creator/date: not needed inline
    return text[text.index("<svg") :]


def percent_axis(ax, axis: str = "x") -> None:
    from matplotlib.ticker import PercentFormatter

    getattr(ax, f"{axis}axis").set_major_formatter(PercentFormatter(1.0))


def numeric(values: Any) -> np.ndarray:
    """Floats of a column that may hold suppressed text cells (those become NaN)."""
    return pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(dtype=float)


def count_heatmap(ax, cells: Sequence[Sequence[Any]], *, cmap: str = "Blues") -> None:
    """Draw a matrix of counts; text cells (suppressed) are written as they are, uncoloured."""
    grid = np.array([[v for v in row] for row in cells], dtype=object)
    values = np.array(
        [[np.nan if isinstance(v, str) or v is None else float(v) for v in row] for row in grid], dtype=float
    )
    ax.imshow(np.ma.masked_invalid(values), cmap=cmap)
    top = np.nanmax(values) if np.isfinite(values).any() else 0.0
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            v = grid[i, j]
            text = v if isinstance(v, str) else ("" if v is None else str(int(v)))
            dark = not isinstance(v, str) and v is not None and float(v) > top / 2
            ax.text(j, i, text, ha="center", va="center", fontsize=7, color="white" if dark else "black")
