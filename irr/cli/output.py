"""One way for every analysis command to show and write its result.

``@report_options(...)`` adds ``--format``, ``--out``, ``--public``, ``--anonymize`` and
``--suppress-below`` to a command; :func:`emit` takes the command's result(s) and those
options and prints / writes what was asked, through :mod:`irr.report`.  A command is then:
options -> store query -> analysis function -> ``emit``.

Formats: ``terminal`` prints the text report; ``html`` writes ``KIND-report.html``; ``csv``,
``json`` and ``xlsx`` write every table into ``OUT/tables/``.  Without ``--out``, a command with
no default folder (``irr agreement``) prints its single table as CSV or JSON to standard output
(for pipes) and writes files only when a folder is given; ``irr calibrate`` writes into its
default folder.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Callable, Sequence

import click

__all__ = ["report_options", "emit", "parse_formats", "FORMATS"]

FORMATS = ("terminal", "html", "csv", "json", "xlsx")
_ALIASES = {"table": "terminal", "text": "terminal"}


def parse_formats(value: str) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(_ALIASES.get(v.strip(), v.strip()) for v in value.split(",") if v.strip()))
    bad = [v for v in chosen if v not in FORMATS]
    if bad or not chosen:
        raise click.BadParameter(
            f"unknown format(s) {bad or [value]}; choose from {', '.join(FORMATS)} (comma-separated)",
            param_hint="--format",
        )
    return chosen


def report_options(default_formats: str, out_help: str) -> Callable:
    """Decorator: the output and privacy options shared by the analysis commands."""

    def decorate(command: Callable) -> Callable:
        options = [
            click.option(
                "--format",
                "formats",
                default=default_formats,
                show_default=True,
                help=f"Comma-separated: {', '.join(FORMATS)}.",
            ),
            click.option("--out", type=click.Path(file_okay=False, path_type=Path), help=out_help),
            click.option(
                "--public",
                is_flag=True,
                help="For publication: anonymise raters and suppress numbers from fewer than 10 works or "
                "scores (or --suppress-below N).",
            ),
            click.option(
                "--anonymize", is_flag=True, help="Replace rater ids by 'Rater 01', ... and leave out rater districts."
            ),
            click.option(
                "--suppress-below",
                type=click.IntRange(min=1),
                metavar="N",
                help="Show counts below N as '<N' and blank every number computed from fewer than N works "
                "or scores; leave out lists of individual scores.",
            ),
        ]
        for option in reversed(options):
            command = option(command)

        @functools.wraps(command)
        def wrapper(*args, formats, out, public, anonymize, suppress_below, **kwargs):
            from irr.report.privacy import Privacy

            output = Output(
                parse_formats(formats),
                out,
                Privacy.from_options(public=public, anonymize=anonymize, suppress_below=suppress_below),
            )
            return command(*args, output=output, **kwargs)

        return wrapper

    return decorate


class Output:
    """What a command was asked to produce."""

    def __init__(self, formats: Sequence[str], out: Path | None, privacy):
        self.formats, self.out, self.privacy = tuple(formats), out, privacy

    def __repr__(self) -> str:
        return f"Output(formats={self.formats}, out={self.out}, privacy={self.privacy})"


def emit(
    results,
    output: Output,
    *,
    default_out: Path | None = None,
    subfolder: Callable | None = None,
    echo: Callable = click.echo,
) -> list[Path]:
    """Print and write ``results`` (one result or a list) as ``output`` asks; returns the files written.

    ``default_out`` is the folder used when files are asked for without ``--out`` (None: a
    single table is printed to standard output instead); ``subfolder(result)`` names each
    result's folder when there are several.
    """
    from irr.report.render import render_terminal, write_report
    from irr.report.tables import to_csv_text, to_json_text

    results = list(results) if isinstance(results, (list, tuple)) else [results]
    file_formats = [f for f in output.formats if f != "terminal"]
    written: list[Path] = []
    for result in results:
        if "terminal" in output.formats:
            echo(render_terminal(result, output.privacy))
            if len(results) > 1 or file_formats:
                echo("")
    if not file_formats:
        return written
    target = output.out or default_out
    if target is None:
        return _to_stdout(results, file_formats, output, echo, to_csv_text, to_json_text)
    for result in results:
        folder = target / subfolder(result) if subfolder and len(results) > 1 else target
        paths = write_report(result, folder, formats=file_formats, privacy=output.privacy)
        written.extend(paths.values())
        if "html" in paths:
            echo(f"report: {paths['html']}")
        if "tables" in paths:
            echo(f"tables: {paths['tables']}")
    return written


def _to_stdout(results, file_formats, output, echo, to_csv_text, to_json_text) -> list[Path]:
    from irr.report.privacy import apply_privacy

    if len(file_formats) != 1 or file_formats[0] not in ("csv", "json") or len(results) != 1:
        raise click.UsageError(
            f"--format {','.join(file_formats)} writes files: give a folder with --out DIR "
            "(only a single csv or json table can go to standard output)"
        )
    shown = apply_privacy(results[0], output.privacy)
    name = shown.sections[0].tables[0] if shown.sections and shown.sections[0].tables else next(iter(shown.tables))
    table = shown.tables[name]
    echo((to_csv_text(table) if file_formats[0] == "csv" else to_json_text(table)).rstrip("\n"))
    return []
