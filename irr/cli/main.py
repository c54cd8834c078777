"""Entry point of the ``irr`` command.

Every command is a thin call into the Python API.  Errors derived from
:class:`irr.errors.IrrError` and file-system errors are shown as one "Error: ..."
line (no traceback) with exit code 1; usage errors exit with 2 as click does.
Anything else is a bug: it is reported as a one-line "internal error" with the
exception type (the traceback only with ``IRR_DEBUG=1``).
"""

from __future__ import annotations

import os
import sys

import click

from irr._version import __version__
from irr.errors import IrrError


class IrrGroup(click.Group):
    """A click group that turns toolkit errors into clean messages."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except IrrError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(getattr(exc, "exit_code", 1))
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise  # usage errors and exits: click prints them ("Usage: ...", code 2)
        except OSError as exc:  # a file or folder the toolkit could not read or write
            where = f": {exc.filename}" if getattr(exc, "filename", None) else ""
            click.echo(f"Error: {exc.strerror or exc}{where}; check the path and its permissions", err=True)
            ctx.exit(1)
        except Exception as exc:  # a bug: one line, not a traceback (IRR_DEBUG=1 shows it)
            if os.environ.get("IRR_DEBUG") == "1":
                raise
            click.echo(
                f"Error: internal error ({type(exc).__name__}: {exc}) - please report it with the command "
                "you ran; IRR_DEBUG=1 shows the traceback",
                err=True,
            )
            ctx.exit(1)


# name -> (module, attribute, one-line help).  Commands are imported only when run (or when
# their own --help is asked for), so `irr --help` loads click and nothing else; the help
# lines are checked against the commands' docstrings by tests/cli/test_main.py.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": (
        "irr.cli.init",
        "init",
        "Create DIRECTORY with an editable copy of the shipped bank (rubrics/, tasks/, profiles/).",
    ),
    "validate": ("irr.cli.bank", "validate", "Check every rubric and task file of a bank; list all problems."),
    "bank": ("irr.cli.bank", "bank_group", "Browse the rubric and task bank."),
    "schema": ("irr.cli.bank", "schema", "Print the JSON Schema of rubric or task files (for editor validation)."),
    "ingest": ("irr.cli.store", "ingest", "Validate score sheets (CSV or .xlsx) against the bank and store them."),
    "sessions": (
        "irr.cli.store",
        "sessions",
        "List the sessions in the store with counts of files, scores, raters and works.",
    ),
    "export": (
        "irr.cli.store",
        "export",
        "Export a session's scores; cells a spreadsheet would run as formulas are neutralised.",
    ),
    "store": ("irr.cli.store", "store_group", "Look after the store file."),
    "calibrate": (
        "irr.cli.analysis",
        "calibrate",
        "Calibration report: who qualifies, which papers split the room, how well the group agrees.",
    ),
    "agreement": (
        "irr.cli.analysis",
        "agreement",
        "Agreement table for any selection of scores: one row per group and coefficient.",
    ),
    "compare": (
        "irr.cli.compare",
        "compare",
        "District comparability: local scores against audit rescoring, by district and subgroup.",
    ),
    "audit": ("irr.cli.audit", "audit_group", "Plan district peer-review audits (the sample to rescore)."),
    "drift": ("irr.cli.drift", "drift", "Rater drift: which raters changed over the season or within a scoring day."),
    "raters": (
        "irr.cli.raters",
        "raters",
        "Rater measurement: who is harsh, who is erratic, whose scores are too predictable.",
    ),
    "gstudy": (
        "irr.cli.gstudy",
        "gstudy",
        "Generalizability study: variance components, G and phi, and how many tasks and raters a score needs.",
    ),
    "serve": (
        "irr.cli.serve",
        "serve",
        "Web application: the task bank, the store's sessions and their reports, in a browser.",
    ),
    "demo": (
        "irr.cli.analysis",
        "demo",
        "Ingest the bundled example calibration session into a temporary store and report on it.",
    ),
}


class LazyGroup(IrrGroup):
    """Loads a command's module when the command is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.commands or name not in COMMANDS:
            return self.commands.get(name)
        import importlib

        module, attr, _ = COMMANDS[name]
        command = getattr(importlib.import_module(module), attr)
        self.commands[name] = command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # the help lines from the table: listing the commands must not import them
        rows = [
            (
                name,
                COMMANDS[name][2]
                if name in COMMANDS and name not in self.commands
                else self.commands[name].get_short_help_str(limit=formatter.width),
            )
            for name in self.list_commands(ctx)
        ]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="irr")
def cli() -> None:
    """Calibrate and audit the human scoring of performance assessments.

    Rubrics and tasks live in a bank folder (--bank or IRR_BANK); scores live in
    an embedded store (--store or IRR_STORE).  Start with `irr demo`; `irr init DIR`
    makes an editable copy of the bank.
    """


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="irr")


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
