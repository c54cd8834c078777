"""`irr init DIR`: a working folder with an editable copy of the shipped bank.

The folder gets ``rubrics/``, ``tasks/`` and ``profiles/`` copied from the bank
shipped with irr-toolkit (the repository checkout, else the installed package)
and a ``README.md`` on how to edit and use them.  ``cd DIR`` is then enough for
every command to use it (a bank in the current directory wins over the shipped
one); from elsewhere pass ``--bank DIR`` or set ``IRR_BANK=DIR``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import click

import irr.resources as resources
from irr.errors import BankError, FolderNotEmptyError, NotFoundError
from irr.model.bank import load_bank

COPIED = ("rubrics", "tasks", "profiles")
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")


README = """\
# Rubric and task bank: {name}

Made by `irr init` (irr-toolkit {version}) as an editable copy of the shipped bank. Edit the
YAML files here; nothing outside this folder changes.

| path | what |
|---|---|
| `rubrics/*.yaml` | one rubric (`id`, `version`) per file: its dimensions, score points and descriptors |
| `tasks/*.yaml` | one task per file: grade, content area, `kind` (common or local), the rubric it uses (`rubric: id@version`) and its anchor papers with their consensus scores |
| `profiles/*.yaml` | qualification rule profiles (`pace`, `naep`, `pact`, `pearson`): which agreement with the anchors a rater needs to pass |

## Using this bank

Inside this folder (`cd {name}`) every `irr` command uses it: a bank in the current directory
(a folder with `rubrics/` and `tasks/`) comes before the shipped one. From anywhere else, pass
`--bank {name}` or set `IRR_BANK={name}`.

```bash
irr validate --bank {name}        # check every file; all problems are listed with the fix
irr bank list --bank {name}       # one line per task
irr bank show TASK_ID --bank {name}
irr schema rubric > rubric.schema.json   # JSON Schema for editors (also: irr schema task)
```

Run `irr validate` after every edit. A changed rubric that is already used by stored scores
should get a new `version` (keep the old file) rather than be edited in place.

## Profiles

`--profile NAME` is looked up, first match wins, in: `profiles/` next to the bank in use (this
folder's, when this bank is in use), `$IRR_PROFILES`, `./profiles`, then the profiles shipped
with irr-toolkit. Add a profile by copying one of these files under a new name; `--profile
path/to/file.yaml` also works.
"""


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--force",
    is_flag=True,
    help="Write into a folder that is not empty: files with the same names are replaced, other files are kept.",
)
def init(directory: Path, force: bool) -> None:
    """Create DIRECTORY with an editable copy of the shipped bank (rubrics/, tasks/, profiles/).

    Refuses a folder that is not empty unless --force. Then `cd DIRECTORY`, or
    pass --bank DIRECTORY, to use the copy.
    """
    from irr._version import __version__

    source = resources.data_root()
    if source is None:
        raise NotFoundError(
            f"the shipped bank is missing (looked in the repository checkout and "
            f"{resources.BUNDLED_DIR}); reinstall irr-toolkit"
        )
    if directory.is_dir() and not force:
        entries = sorted(p.name + ("/" if p.is_dir() else "") for p in directory.iterdir())
        if entries:
            shown = ", ".join(entries[:5]) + (f", ... ({len(entries)} in all)" if len(entries) > 5 else "")
            raise FolderNotEmptyError(
                f"{directory} is not empty (it holds {shown}); irr init makes a new bank folder -> "
                "choose a new or empty folder, or pass --force to write into this one (files with the "
                "same names are replaced, other files are kept)"
            )
    directory.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        shutil.copytree(source / name, directory / name, ignore=_SKIP, dirs_exist_ok=True)
    (directory / "README.md").write_text(README.format(name=directory, version=__version__), encoding="utf-8")

    try:
        bank = load_bank(directory)
    except BankError as exc:  # only possible with --force over files that were already there
        raise BankError(
            exc.problems,
            summary=f"wrote the bank to {directory}, but with the files that "
            "were already there it is invalid; fix these or run irr init in an empty folder",
        ) from None
    profiles = sorted(p.stem for p in (directory / "profiles").glob("*.yaml"))
    click.echo(
        f"Created {directory}: {len(bank.rubrics)} rubrics, {len(bank.tasks)} tasks, "
        f"{len(profiles)} profiles ({', '.join(profiles)}) and README.md, copied from {source}"
    )
    click.echo(f"Next: cd {directory} && irr validate    (or from elsewhere: irr bank list --bank {directory})")


COMMANDS = [init]
