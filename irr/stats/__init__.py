"""Agreement statistics on integer-coded ratings (layer 1: no I/O, no project imports
beyond :mod:`irr.errors`)."""
from irr.stats._ratings import Ratings, as_ratings
from irr.stats._results import AgreementResult, ConfidenceInterval
from irr.stats._weights import agreement_weights

__all__ = ["Ratings", "as_ratings", "AgreementResult", "ConfidenceInterval", "agreement_weights"]
