"""Options shared by several commands (light: click only, so that importing a command module
for `irr --help` loads nothing heavy)."""

from __future__ import annotations

import click

BANK_OPTION = click.option(
    "--bank",
    "bank_dir",
    type=click.Path(file_okay=False),
    envvar="IRR_BANK",
    default=None,
    help="Bank folder with rubrics/ and tasks/ (default: $IRR_BANK, else ./ if it holds rubrics/ and tasks/, "
    "else the bundled bank).",
)
