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

from irr import __version__
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
            raise                     # usage errors and exits: click prints them ("Usage: ...", code 2)
        except OSError as exc:        # a file or folder the toolkit could not read or write
            where = f": {exc.filename}" if getattr(exc, "filename", None) else ""
            click.echo(f"Error: {exc.strerror or exc}{where}; check the path and its permissions", err=True)
            ctx.exit(1)
        except Exception as exc:      # a bug: one line, not a traceback (IRR_DEBUG=1 shows it)
            if os.environ.get("IRR_DEBUG") == "1":
                raise
            click.echo(f"Error: internal error ({type(exc).__name__}: {exc}) - please report it with the command "
                       "you ran; IRR_DEBUG=1 shows the traceback", err=True)
            ctx.exit(1)


@click.group(cls=IrrGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="irr")
def cli() -> None:
    """Calibrate and audit the human scoring of performance assessments.

    Rubrics and tasks live in a bank folder (--bank or IRR_BANK); scores live in
    an embedded store (--store or IRR_STORE).  Start with `irr demo`; `irr init DIR`
    makes an editable copy of the bank.
    """


def _register() -> None:
    from irr.cli import bank as _bank, store as _store, analysis as _analysis, init as _init

    for module in (_bank, _store, _analysis, _init):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="irr")


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
