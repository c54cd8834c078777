"""Build step: ship the bank, profiles and examples inside the package.

The top-level folders ``rubrics/``, ``tasks/``, ``profiles/`` and ``examples/``
are the single source of this data (not duplicated in git).  ``build_py`` copies
them into ``irr/_bundled/`` of the build directory, so a wheel (``pip install .``)
carries them and :mod:`irr.resources` finds them there.  An editable install
(``pip install -e .``) copies nothing: the package reads the checkout's folders.
The sdist gets the folders from ``MANIFEST.in``.  Everything else is in
``pyproject.toml``.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
DATA_FOLDERS = ("rubrics", "tasks", "profiles", "examples")  # = irr.resources.DATA_FOLDERS
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")


class build_py_with_data(build_py):
    """``build_py`` that also copies the data folders to ``<build>/irr/_bundled/``."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return  # the editable package reads the checkout; never write into the source tree
        for name, source in self._data_sources():
            target = Path(self.build_lib) / "irr" / "_bundled" / name
            if target.exists():
                shutil.rmtree(target)  # a stale build/ must not keep deleted files
            shutil.copytree(source, target, ignore=SKIP)

    def _data_sources(self):
        missing = [name for name in DATA_FOLDERS if not (HERE / name).is_dir()]
        if missing:
            raise SystemExit(f"error: cannot build irr-toolkit: the data folder(s) {missing} are missing "
                             f"from {HERE}; build from a full checkout or sdist")
        return [(name, HERE / name) for name in DATA_FOLDERS]

    def get_outputs(self, include_bytecode=1):
        outputs = list(super().get_outputs(include_bytecode))
        if getattr(self, "editable_mode", False):
            return outputs
        for name, source in self._data_sources():
            for file in source.rglob("*"):
                if file.is_file() and "__pycache__" not in file.parts and not file.name.startswith("."):
                    outputs.append(str(Path(self.build_lib) / "irr" / "_bundled" / name / file.relative_to(source)))
        return outputs


setup(cmdclass={"build_py": build_py_with_data})
