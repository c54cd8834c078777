"""The summary of an audit sample (``irr audit sample``): per district, how many works were
drawn and how many near the cut; the auditors' loads; notes and what was left out.

The sample itself is a file of assignments (:func:`irr.io.auditors.write_assignments`), not a
report page, so this kind has a terminal summary only.
"""

from __future__ import annotations

import pandas as pd

from irr.report.formatting import count
from irr.report.terminal import text_table

__all__ = ["terminal"]


def terminal(result) -> str:
    districts = result.tables["districts"]
    frame = pd.DataFrame(
        {
            "district": districts["work_district"].astype(str),
            "works": [count(v) for v in districts["n_works"]],
            "sampled": [count(v) for v in districts["n_sampled"]],
            "near-cut": [count(v) for v in districts["n_near_cut"]],
        }
    )
    loads = result.tables["loads"]["n_assigned"]
    n_linking = result.meta.get("n_linking", 0)
    lines = [
        text_table(frame, right=("works", "sampled", "near-cut")),
        f"{int(districts['n_sampled'].sum())} works sampled from {int(districts['n_works'].sum())}; "
        f"{len(loads)} auditors, {int(loads.min())}-{int(loads.max())} works each"
        + (f" plus {n_linking} linking works for all" if n_linking else ""),
    ]
    lines += [f"note: {note}" for note in result.meta.get("notes", ())]
    lines += [f"left out: {n} {reason}" for reason, n in result.dropped.items()]
    return "\n".join(lines)
