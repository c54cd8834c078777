"""The command-line reference (``docs/cli.md``), generated from every command's ``--help``.

    python -m irr.cli.docs > docs/cli.md

``tests/cli/test_main.py`` fails when ``docs/cli.md`` is not what this prints, so the
reference cannot fall behind the commands (as sqlite-utils does with its docs).
"""

from __future__ import annotations

import click

__all__ = ["cli_reference"]

WIDTH = 100


def _walk(command: click.Command, path: list[str], parent: click.Context | None):
    ctx = click.Context(
        command,
        info_name=path[-1],
        parent=parent,
        terminal_width=WIDTH,
        max_content_width=WIDTH,
        **command.context_settings,
    )
    yield path, command, ctx
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                yield from _walk(sub, [*path, name], ctx)


def cli_reference() -> str:
    """Markdown: a section per command (and subcommand) with its full help text."""
    from irr.cli.main import cli

    parts = [
        "# Command-line reference",
        "",
        "Generated from `--help` by `python -m irr.cli.docs > docs/cli.md`; do not edit by hand.",
        "",
    ]
    for path, command, ctx in _walk(cli, ["irr"], None):
        title = " ".join(path)
        parts += [f"## {title}", "", "```", command.get_help(ctx).rstrip(), "```", ""]
    return "\n".join(parts)


if __name__ == "__main__":  # pragma: no cover
    print(cli_reference(), end="")
