"""Layer 3: reading scorer submissions (CSV / Excel score sheets) and manifests."""
from irr.io.submissions import Submission, read_manifest, read_submission

__all__ = ["Submission", "read_submission", "read_manifest"]
