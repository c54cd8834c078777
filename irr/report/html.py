"""The HTML page every analysis report is: one shared base template, the analysis's sections.

:func:`render_page` renders ``templates/KIND.html.j2`` (which extends ``base.html.j2``) with
the parts every report has -- heading, summary cards, navigation to the sections, methods,
and a provenance footer (version, time, data files with SHA-256, sessions, what was left out,
privacy) -- and whatever the analysis adds.  Jinja2 autoescapes every value, so a rater id or
a district name cannot become markup; figures are passed as trusted SVG from
:mod:`irr.report.plots`.
"""

from __future__ import annotations

from typing import Any, Sequence

from irr.analysis.result import AnalysisResult

__all__ = ["environment", "render_page", "table_links"]

_ENV = None


def table_links(name: str, table_formats: Sequence[str]) -> list[tuple[str, str]]:
    """(format, relative link) of one table's files as :func:`irr.report.render.write_report` writes them.

    >>> table_links("summary", ["CSV", "XLSX"])
    [('CSV', 'tables/summary.csv'), ('XLSX', 'tables/tables.xlsx')]
    """
    out = []
    for fmt in table_formats:
        f = fmt.lower()
        out.append((fmt, f"tables/{name}.{f}" if f in ("csv", "json") else "tables/tables.xlsx"))
    return out


def environment():
    """The Jinja2 environment of the package's templates (autoescaping)."""
    global _ENV
    if _ENV is None:
        from jinja2 import Environment, PackageLoader, select_autoescape

        _ENV = Environment(
            loader=PackageLoader("irr.report", "templates"),
            autoescape=select_autoescape(["html", "j2"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
    return _ENV


def render_page(
    result: AnalysisResult,
    template: str,
    *,
    heading: str,
    page_title: str | None = None,
    cards: Sequence[tuple[Any, str]] = (),
    methods: Sequence[str] = (),
    footer_items: Sequence[tuple[str, Any]] = (),
    table_formats: Sequence[str] = ("CSV", "JSON"),
    **context: Any,
) -> str:
    """Render ``template`` (an analysis's page) with the shared parts filled from ``result``."""
    privacy = result.meta.get("privacy") or {}
    nav = [(s.id, s.title) for s in result.sections if context.get("show_" + s.id.replace("-", "_"), True)]
    return (
        environment()
        .get_template(template)
        .render(
            r=result,
            meta=result.meta,
            heading=heading,
            page_title=page_title or heading,
            cards=cards,
            nav=nav,
            methods=methods,
            footer_items=footer_items,
            privacy_text=privacy.get("description", ""),
            dropped=list(result.dropped.items()),
            table_formats=table_formats,
            suppress_below=privacy.get("suppress_below"),
            **context,
        )
    )
