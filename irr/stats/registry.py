"""The coefficients :func:`~irr.stats.agreement_table` knows by name.

A coefficient spec is ``"name"`` or ``"name:option"``, e.g. ``"fleiss_kappa"``,
``"gwet_ac:quadratic"``, ``"krippendorff_alpha:interval"``, ``"icc:C,1"``.  Each
name is registered once with the function that computes it, how its one option
(weights, level, ICC form, tolerance) is read and checked, the option used when
none is given, the label of its table rows and a one-line description.  Adding
a coefficient is one call::

    @register_coefficient("mean_score_gap", description="mean |a - b| in score points",
                          options=None)
    def _gap(ratings, option):
        ...                       # returns an AgreementResult

Options are checked when the spec is parsed, so an unknown option fails at
once with the valid ones listed, not later in every row of a table.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from irr.errors import DataError
from irr.stats._ratings import Ratings
from irr.stats.chance_corrected import (
    brennan_prediger,
    cohen_kappa,
    conger_kappa,
    fleiss_kappa,
    gwet_ac,
    percent_agreement,
    scott_pi,
)
from irr.stats.icc import FORMS, icc, normalize_form
from irr.stats.krippendorff import LEVELS, krippendorff_alpha

__all__ = [
    "DEFAULT_COEFFICIENTS",
    "Coefficient",
    "CoefficientSpec",
    "register_coefficient",
    "coefficient_names",
    "get_coefficient",
    "parse_coefficient",
]

#: The coefficients of ``irr agreement`` and of calibration's group table, in table order.
DEFAULT_COEFFICIENTS = (
    "percent_agreement",
    "adjacent_agreement",
    "fleiss_kappa",
    "gwet_ac:quadratic",
    "krippendorff_alpha:ordinal",
    "icc:A,1",
)

OptionParser = Callable[[str], str]


@dataclass(frozen=True)
class Coefficient:
    """One registered coefficient (see :func:`register_coefficient`)."""

    name: str
    function: Callable[[Ratings, Any], Any]
    parse_option: OptionParser | None  # None: the coefficient takes no option
    default: str | None
    label: Callable[[str, str | None], str]
    description: str
    option_help: str = ""  # e.g. "weights: identity, linear, quadratic"


@dataclass(frozen=True)
class CoefficientSpec:
    """A coefficient name with its one option (weights, level or ICC form), ready to call."""

    name: str
    option: str | None
    label: str
    call: Callable[[Ratings], Any]
    description: str = ""


_REGISTRY: dict[str, Coefficient] = {}


def _default_label(name: str, option: str | None) -> str:
    """``name`` alone, or ``name (option)``: ``fleiss_kappa (quadratic)``, ``icc (A,1)``."""
    return name if option is None else f"{name} ({option})"


def _choice_parser(choices: Sequence[str], what: str, aliases: dict[str, str] | None = None) -> OptionParser:
    """An option that is one of ``choices`` (any case; ``aliases`` map to a choice)."""
    lookup = {c.lower(): c for c in choices}
    lookup.update({a.lower(): c for a, c in (aliases or {}).items()})

    def parse(text: str) -> str:
        found = lookup.get(text.lower())
        if found is None:
            raise DataError(f"unknown {what} {text!r}; use one of {', '.join(choices)}{_did_you_mean(text, lookup)}")
        return found

    return parse


def register_coefficient(
    name: str,
    function: Callable[[Ratings, Any], Any] | None = None,
    *,
    options: Sequence[str] | OptionParser | None = None,
    default: str | None = None,
    label: str | Callable[[str, str | None], str] | None = None,
    description: str = "",
    option_help: str = "",
    replace: bool = False,
):
    """Register a coefficient under ``name`` for specs ``"name"`` / ``"name:option"``.

    Parameters
    ----------
    name : str
        The name in specs and in ``irr agreement --coefficient``.
    function : callable ``(ratings, option) -> AgreementResult``
        Called with the group's :class:`~irr.stats.Ratings` and the checked
        option (``default`` when the spec gives none; ``None`` without one).
        Without ``function``, returns a decorator.
    options : sequence of str, callable or None
        The valid options (matched in any case), or a callable that turns the
        option text into its canonical form and raises
        :class:`~irr.errors.DataError` when it is not valid; ``None``: the
        coefficient takes no option.
    default : str, optional
        The option used when the spec gives none.
    label : str or callable ``(name, option) -> str``, optional
        The ``coefficient`` column of its rows: a fixed text, or a function of
        the option.  Default: ``name`` alone, or ``"name (option)"``.
    description : str
        One line for help texts.
    option_help : str
        What the option is, e.g. ``"weights: identity, linear, quadratic"``.
    replace : bool
        Allow replacing a registered name (else :class:`~irr.errors.DataError`).

    Examples
    --------
    >>> from irr.stats import percent_agreement
    >>> @register_coefficient("exact_pairs", description="share of agreeing rating pairs")
    ... def _exact(ratings, option):
    ...     return percent_agreement(ratings)
    >>> parse_coefficient("exact_pairs").label
    'exact_pairs'
    >>> _ = _REGISTRY.pop("exact_pairs")          # (keep the registry as it was)
    """
    if function is None:
        return lambda fn: register_coefficient(
            name,
            fn,
            options=options,
            default=default,
            label=label,
            description=description,
            option_help=option_help,
            replace=replace,
        )
    if not name or ":" in name or name != name.strip():
        raise DataError(f"a coefficient name must be non-empty, without ':' or surrounding spaces, got {name!r}")
    if name in _REGISTRY and not replace:
        raise DataError(f"coefficient {name!r} is already registered; pass replace=True to replace it")
    if options is None:
        parser = None
        if default is not None:
            raise DataError(f"coefficient {name!r} takes no option, so it cannot have default {default!r}")
    elif callable(options):
        parser = options
    else:
        parser = _choice_parser(list(options), "option")
        option_help = option_help or ", ".join(options)
    if isinstance(label, str):
        fixed = label
        label_of: Callable[[str, str | None], str] = lambda _name, _option: fixed
    else:
        label_of = label or _default_label
    _REGISTRY[name] = Coefficient(name, function, parser, default, label_of, description, option_help)
    return function


def coefficient_names() -> tuple[str, ...]:
    """The registered coefficient names, in registration order (for help texts).

    >>> coefficient_names()[:3]
    ('percent_agreement', 'adjacent_agreement', 'cohen_kappa')
    """
    return tuple(_REGISTRY)


def get_coefficient(name: str) -> Coefficient:
    """The registration of ``name`` (its function, option rules, description)."""
    found = _REGISTRY.get(name)
    if found is None:
        raise DataError(
            f"unknown coefficient {name!r}; choose from {', '.join(_REGISTRY)}{_did_you_mean(name, _REGISTRY)}"
        )
    return found


def _did_you_mean(text: str, known) -> str:
    close = difflib.get_close_matches(text.lower(), list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def parse_coefficient(spec: str) -> CoefficientSpec:
    """Parse ``"name"`` or ``"name:option"`` into a callable :class:`CoefficientSpec`.

    Names (see :func:`coefficient_names`): ``percent_agreement`` (option:
    tolerance, default 0), ``adjacent_agreement`` (within one point),
    ``cohen_kappa``, ``scott_pi``, ``fleiss_kappa``, ``conger_kappa``,
    ``brennan_prediger``, ``gwet_ac`` / ``gwet_ac1`` / ``gwet_ac2`` (option:
    ``identity`` / ``linear`` / ``quadratic`` weights), ``krippendorff_alpha``
    (option: level, default ``ordinal``) and ``icc`` (option: form, default
    ``A,1``; Shrout & Fleiss names such as ``ICC2`` are accepted).  An unknown
    name or option raises :class:`~irr.errors.DataError` naming the valid ones.

    >>> parse_coefficient("gwet_ac:quadratic").label
    'gwet_ac2 (quadratic)'
    >>> parse_coefficient("icc:ICC3").label
    'icc (C,1)'
    >>> parse_coefficient("fleis_kappa")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    irr.errors.DataError: unknown coefficient 'fleis_kappa'; choose from ... (did you mean 'fleiss_kappa'?)
    """
    name, has_option, text = spec.strip().partition(":")
    name, text = name.strip(), text.strip()
    found = _REGISTRY.get(name)
    if found is None:
        raise DataError(
            f"unknown coefficient {spec!r}; choose from {', '.join(_REGISTRY)}{_did_you_mean(name, _REGISTRY)}"
        )
    if found.parse_option is None:
        if text:
            raise DataError(f"coefficient {name!r} takes no option, got {spec!r}")
        option = None
    else:
        try:
            option = found.parse_option(text) if text else found.default
        except DataError as exc:
            raise DataError(f"coefficient {spec!r}: {exc}") from None
    function = found.function
    return CoefficientSpec(name, option, found.label(name, option), lambda r: function(r, option), found.description)


# ------------------------------------------------------------ the built-in coefficients
_WEIGHTS = ("identity", "linear", "quadratic")
_parse_weights = _choice_parser(_WEIGHTS, "weights", {"unweighted": "identity", "nominal": "identity"})


def _weights_arg(option: str | None) -> str | None:
    return None if option in (None, "identity") else option


def _with_weights(fn: Callable[..., Any]) -> Callable[[Ratings, Any], Any]:
    """``fn`` called with the checked weights option; binds ``fn`` now, not at the loop's end."""
    return lambda r, w: fn(r, weights=_weights_arg(w))


def _weighted_label(name: str, option: str | None) -> str:
    return name if option in (None, "identity") else f"{name} ({option})"


def _gwet_label(_name: str, option: str | None) -> str:
    """AC1 unweighted, AC2 with weights (Gwet 2014): the name says which."""
    return "gwet_ac1" if option in (None, "identity") else f"gwet_ac2 ({option})"


def _parse_tolerance(text: str) -> str:
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"the tolerance must be a number of score points, got {text!r}") from None
    if not np.isfinite(value) or value < 0:
        raise DataError(f"the tolerance must be a finite number >= 0, got {text!r}")
    return text


register_coefficient(
    "percent_agreement",
    lambda r, tol: percent_agreement(r, tolerance=float(tol)),
    options=_parse_tolerance,
    default="0",
    label="percent_agreement",
    description="share of rating pairs within a unit that agree exactly (or within the tolerance)",
    option_help="tolerance in score points (default 0)",
)
register_coefficient(
    "adjacent_agreement",
    lambda r, tol: percent_agreement(r, tolerance=float(tol)),
    options=_parse_tolerance,
    default="1",
    label="adjacent_agreement",
    description="share of rating pairs within one score point (exact plus adjacent)",
    option_help="tolerance in score points (default 1)",
)
for _name, _fn, _text in (
    ("cohen_kappa", cohen_kappa, "Cohen's (1960) kappa, weighted kappa (Cohen 1968); two raters"),
    ("scott_pi", scott_pi, "Scott's (1955) pi; two raters"),
    ("fleiss_kappa", fleiss_kappa, "Fleiss' (1971) kappa, any number of raters"),
    ("conger_kappa", conger_kappa, "Conger's (1980) kappa, rater-specific marginals"),
    ("brennan_prediger", brennan_prediger, "Brennan & Prediger's (1981) kappa, uniform chance agreement"),
):
    register_coefficient(
        _name,
        _with_weights(_fn),
        options=_parse_weights,
        label=_weighted_label,
        description=_text,
        option_help="weights: identity (default), linear, quadratic",
    )
for _name, _default in (("gwet_ac", None), ("gwet_ac1", None), ("gwet_ac2", "quadratic")):
    register_coefficient(
        _name,
        lambda r, w: gwet_ac(r, weights=_weights_arg(w)),
        options=_parse_weights,
        default=_default,
        label=_gwet_label,
        description="Gwet's AC1 (unweighted) / AC2 (weighted) (Gwet 2008)",
        option_help=f"weights: identity, linear, quadratic (default {_default or 'identity'})",
    )
register_coefficient(
    "krippendorff_alpha",
    lambda r, level: krippendorff_alpha(r, level=level),
    options=LEVELS,
    default="ordinal",
    description="Krippendorff's alpha (Krippendorff 2011)",
    option_help=f"level: {', '.join(LEVELS)} (default ordinal)",
)


def _parse_form(text: str) -> str:
    return normalize_form(text)  # canonical McGraw & Wong name; DataError lists the forms


register_coefficient(
    "icc",
    lambda r, form: icc(r, form=form),
    options=_parse_form,
    default="A,1",
    description="intraclass correlation (McGraw & Wong 1996)",
    option_help=f"form: {', '.join(FORMS)} (default A,1) or ICC1..ICC3k",
)
del _name, _fn, _text, _default
