"""Where a result's scores came from: the store's files (with SHA-256) of the sessions used."""

from __future__ import annotations

from typing import Sequence

__all__ = ["store_provenance"]


def store_provenance(store, sessions: Sequence[str]) -> dict:
    """``{"files": [{"name", "sha256", "session_id"}...], "sessions": [...]}`` for a result's ``meta``."""
    files = store.files()
    files = files[files["session_id"].isin(list(sessions))]
    return {"files": files[["name", "sha256", "session_id"]].to_dict("records"), "sessions": list(sessions)}
