"""Layer 3: reading scorer submissions (CSV / Excel score sheets) and manifests, and ingesting them.

:func:`ingest` is the ingest flow: it reads and validates each file
(:func:`read_submission`) and stores it through the store's write API
(:meth:`irr.store.Store.write_submission`).  The names load on first use, so
importing a light module of this package (e.g. for ``irr sessions``) does not
load pandas.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "Submission",
    "read_submission",
    "read_manifest",
    "ingest",
    "ingest_sheets",
    "resolve_session",
    "read_auditors",
    "write_assignments",
]

_LAZY = {
    "Submission": "irr.io.submissions",
    "read_submission": "irr.io.submissions",
    "read_manifest": "irr.io.submissions",
    "ingest": "irr.io.ingestion",
    "ingest_sheets": "irr.io.ingestion",
    "resolve_session": "irr.io.ingestion",
    "read_auditors": "irr.io.auditors",
    "write_assignments": "irr.io.auditors",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'irr.io' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
