"""Layer 3: the embedded SQLite store of sessions and scores."""

from irr.store.store import IngestResult, Store

__all__ = ["Store", "IngestResult"]
