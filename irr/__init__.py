"""irr-toolkit: calibrate and audit the human scoring of performance assessments.

Layers (each imports only those above it):

1. :mod:`irr.stats`    -- agreement statistics on integer-coded ratings
2. :mod:`irr.model`    -- rubric, task, anchor, session and score records
3. :mod:`irr.io`, :mod:`irr.store` -- scorer submissions; the embedded store
4. :mod:`irr.analysis` -- calibration, severity, drift, comparability
5. :mod:`irr.report`   -- terminal, HTML, CSV/JSON renderings
6. :mod:`irr.cli`      -- the ``irr`` command

:mod:`irr.errors` holds the one exception hierarchy and may be imported by all.
"""
from __future__ import annotations

__version__ = "0.1.0"

from irr.stats._ratings import Ratings  # noqa: E402  (light: numpy/pandas only)

__all__ = ["__version__", "Ratings", "load_bank", "Store"]


def __getattr__(name: str):
    # Heavier layers load on first use so `import irr` stays quick.
    if name == "load_bank":
        from irr.model import load_bank

        return load_bank
    if name == "Store":
        from irr.store import Store

        return Store
    raise AttributeError(f"module 'irr' has no attribute {name!r}")
