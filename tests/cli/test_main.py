"""The `irr` group: commands load lazily, their listed help matches their own, and the CLI
reference in docs/cli.md is what `--help` prints."""
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from irr.cli.docs import cli_reference
from irr.cli.main import COMMANDS, cli

REPO = Path(__file__).resolve().parents[2]


def test_the_listed_help_of_each_command_is_its_own():
    ctx = click.Context(cli)
    for name, (_, _, listed) in COMMANDS.items():
        command = cli.get_command(ctx, name)
        assert command is not None and command.get_short_help_str(limit=300) == listed, name


def test_help_lists_every_command_without_importing_them():
    code = ("import sys; from irr.cli.main import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print('LOADED', ' '.join(sorted(m for m in sys.modules if m.startswith(('irr.', 'pandas', 'numpy')))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = out.split("LOADED", 1)[1].split()
    assert all(name in out for name in COMMANDS)
    assert not [m for m in loaded if m.startswith(("pandas", "numpy", "irr.cli.analysis", "irr.cli.store"))]


def test_unknown_command_is_a_usage_error():
    result = CliRunner().invoke(cli, ["calibrat"])
    assert result.exit_code == 2 and "No such command" in result.output


def test_docs_cli_md_is_up_to_date():
    expected = cli_reference()
    path = REPO / "docs" / "cli.md"
    assert path.exists() and path.read_text(encoding="utf-8") == expected, (
        "docs/cli.md is out of date: run `python -m irr.cli.docs > docs/cli.md`")
