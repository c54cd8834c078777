"""Where the data shipped with irr-toolkit is: the bank, the profiles, the examples.

The repository's top-level folders ``rubrics/``, ``tasks/``, ``profiles/`` and
``examples/`` are the single source of this data.  Two layouts find it:

- a **repository checkout** (``pip install -e .`` or running from the source
  tree): the folders next to the ``irr`` package, beside ``pyproject.toml``;
- an **installed package** (``pip install .``, a wheel): ``setup.py`` copies the
  folders into ``irr/_bundled/`` of the build, so they sit inside the package.

The checkout is preferred, so that an edit to ``rubrics/`` in a checkout is what
an editable install sees.  A zipped install (zipimport) is not supported: the
bank is read as ordinary files.

Like :mod:`irr.errors`, this module imports nothing from the project and may be
imported by every layer except :mod:`irr.stats` (which does no I/O).

Examples
--------
>>> from irr.resources import data_root, DATA_FOLDERS
>>> root = data_root()
>>> all((root / name).is_dir() for name in DATA_FOLDERS)
True
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "DATA_FOLDERS",
    "BANK_FOLDERS",
    "PACKAGE_DIR",
    "BUNDLED_DIR",
    "checkout_root",
    "data_root",
    "data_path",
    "is_bank",
]

#: The shipped data folders, by name (the same names in the checkout and in ``irr/_bundled``).
DATA_FOLDERS = ("rubrics", "tasks", "profiles", "examples")
#: The folders that make a directory a bank.
BANK_FOLDERS = ("rubrics", "tasks")

PACKAGE_DIR = Path(__file__).resolve().parent
BUNDLED_DIR = PACKAGE_DIR / "_bundled"


def is_bank(folder: str | Path) -> bool:
    """True when ``folder`` holds ``rubrics/`` and ``tasks/`` (it may still be invalid)."""
    folder = Path(folder)
    return all((folder / name).is_dir() for name in BANK_FOLDERS)


def checkout_root() -> Path | None:
    """The repository checkout the package is imported from, or None for an installed package.

    A checkout is recognised by ``pyproject.toml`` and a bank next to the
    ``irr`` package; ``site-packages`` (an install) has neither.
    """
    root = PACKAGE_DIR.parent
    if (root / "pyproject.toml").is_file() and is_bank(root):
        return root
    return None


def data_root() -> Path | None:
    """The folder holding the shipped data: the checkout, else ``irr/_bundled``; None if neither has it."""
    for root in (checkout_root(), BUNDLED_DIR):
        if root is not None and is_bank(root):
            return root
    return None


def data_path(name: str) -> Path | None:
    """One shipped data folder (``"rubrics"``, ``"tasks"``, ``"profiles"``, ``"examples"``), or None.

    Examples
    --------
    >>> (data_path("examples") / "calibration" / "session.yaml").is_file()
    True
    """
    if name not in DATA_FOLDERS:
        raise ValueError(f"unknown data folder {name!r}; choose one of {', '.join(DATA_FOLDERS)}")
    root = data_root()
    if root is None or not (root / name).is_dir():
        return None
    return root / name
