"""Entry point of the ``irr`` command.

Every command is a thin call into the Python API.  Errors derived from
:class:`irr.errors.IrrError` are shown as plain text (no traceback) with exit
code 1; usage errors exit with 2 as click does.
"""
from __future__ import annotations

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
        except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
            click.echo(f"Error: {exc.strerror}: {exc.filename}", err=True)
            ctx.exit(1)


@click.group(cls=IrrGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="irr")
def cli() -> None:
    """Calibrate and audit the human scoring of performance assessments.

    Rubrics and tasks live in a bank folder (--bank or IRR_BANK); scores live in
    an embedded store (--store or IRR_STORE).  Start with `irr demo`.
    """


def _register() -> None:
    from irr.cli import bank as _bank, store as _store, analysis as _analysis

    for module in (_bank, _store, _analysis):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="irr")


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
