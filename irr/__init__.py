"""irr-toolkit: calibrate and audit the human scoring of performance assessments.

Layers (each imports only those above it):

1. :mod:`irr.stats`    -- agreement statistics on integer-coded ratings
2. :mod:`irr.model`    -- rubric, task, anchor, session and score records
3. :mod:`irr.io`, :mod:`irr.store` -- scorer submissions; the embedded store
4. :mod:`irr.analysis` -- calibration, agreement (and the analyses to come), each returning a result
5. :mod:`irr.report`   -- terminal, HTML, CSV/JSON/XLSX renderings of any analysis result
6. :mod:`irr.cli`      -- the ``irr`` command (a thin layer over the API above)

:mod:`irr.errors` holds the one exception hierarchy and :mod:`irr._version` the version; every
layer may import them.  Nothing heavy is imported here: ``import irr`` is quick, and the names
below load on first use.
"""

from __future__ import annotations

from typing import Any

from irr._version import __version__

__all__ = ["__version__", "Ratings", "load_bank", "Store"]

_LAZY = {
    "Ratings": ("irr.stats._ratings", "Ratings"),
    "load_bank": ("irr.model", "load_bank"),
    "Store": ("irr.store", "Store"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'irr' has no attribute {name!r}")
