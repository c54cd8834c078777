"""The package works when installed: bundled data, where the bank is found, `irr init`, dependencies."""
import ast
import doctest
import importlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
import tomllib
import yaml
from click.testing import CliRunner

from irr import resources
from irr.analysis.profiles import available_profiles, load_profile, profile_dirs
from irr.cli.main import cli
from irr.errors import BankError, NotFoundError
from irr.model.bank import BankLocation, load_bank, locate_bank, resolve_bank_path

REPO = Path(__file__).resolve().parents[1]
DATA = ("rubrics", "tasks", "profiles", "examples")


@pytest.fixture(autouse=True)
def no_env(monkeypatch):
    monkeypatch.delenv("IRR_BANK", raising=False)
    monkeypatch.delenv("IRR_PROFILES", raising=False)


def copy_bank(dest: Path, with_profiles: bool = False) -> Path:
    for name in ("rubrics", "tasks") + (("profiles",) if with_profiles else ()):
        shutil.copytree(REPO / name, dest / name)
    return dest


def write_profile(folder: Path, name: str, exact: float) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.yaml").write_text(yaml.safe_dump({
        "id": name, "title": f"{name} ({exact})", "rules": [{"metric": "exact", "min": exact}]}))


# ------------------------------------------------------- bank resolution order
def test_explicit_path_beats_env_beats_current_directory(tmp_path, monkeypatch):
    here, env, given = (copy_bank(tmp_path / n) for n in ("here", "env", "given"))
    monkeypatch.chdir(here)
    monkeypatch.setenv("IRR_BANK", str(env))
    assert locate_bank(given) == BankLocation(given, "argument")
    assert locate_bank().path == env and locate_bank().source == "IRR_BANK"
    monkeypatch.delenv("IRR_BANK")
    assert locate_bank().path == here and locate_bank().source == "current directory"


def test_a_bank_in_the_current_directory_wins_over_the_shipped_one(tmp_path, monkeypatch):
    # The user ran `irr init DIR`, cd'd into it and removed a task: commands see their copy.
    copy_bank(tmp_path)
    (tmp_path / "tasks/wsp-g9-community-project.yaml").unlink()
    monkeypatch.chdir(tmp_path)
    assert resolve_bank_path() == tmp_path
    out = CliRunner().invoke(cli, ["validate"]).output
    assert f"11 tasks in {tmp_path}" in out


def test_a_folder_without_a_bank_falls_back_to_the_checkout(tmp_path, monkeypatch):
    (tmp_path / "rubrics").mkdir()  # rubrics/ alone is not a bank
    monkeypatch.chdir(tmp_path)
    location = locate_bank()
    assert location.source == "repository checkout" and location.path == REPO


def test_an_installed_package_uses_its_bundled_copy(tmp_path, monkeypatch):
    bundled = copy_bank(tmp_path / "site" / "irr" / "_bundled")
    monkeypatch.setattr(resources, "checkout_root", lambda: None)
    monkeypatch.setattr(resources, "BUNDLED_DIR", bundled)
    monkeypatch.chdir(tmp_path)
    assert locate_bank().source == "installed package" and locate_bank().path == bundled
    assert len(load_bank().tasks) == 12


def test_no_bank_anywhere_names_what_was_searched_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(resources, "checkout_root", lambda: None)
    monkeypatch.setattr(resources, "BUNDLED_DIR", tmp_path / "missing")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(BankError) as info:
        load_bank()
    text = str(info.value)
    for searched in ("--bank", "$IRR_BANK", str(tmp_path), "repository checkout", str(tmp_path / "missing")):
        assert searched in text
    for fix in ("--bank DIR", "IRR_BANK=DIR", "irr init DIR"):
        assert fix in text
    result = CliRunner().invoke(cli, ["bank", "list"])
    assert result.exit_code == 1 and "irr init DIR" in result.output and "Traceback" not in result.output


def test_a_given_folder_that_is_not_a_bank_says_how_to_make_one(tmp_path, monkeypatch):
    monkeypatch.setenv("IRR_BANK", str(tmp_path))
    with pytest.raises(BankError, match=r"no rubrics/ folder \(the folder \$IRR_BANK names\)") as info:
        load_bank()
    assert "irr init DIR" in str(info.value)
    with pytest.raises(BankError, match="bank folder not found") as info:
        load_bank(tmp_path / "nope")
    assert "irr init DIR" in str(info.value)


def test_shipped_data_is_found_in_the_checkout():
    assert resources.checkout_root() == REPO
    assert resources.data_root() == REPO
    assert resources.data_path("examples") == REPO / "examples"
    with pytest.raises(ValueError, match="unknown data folder"):
        resources.data_path("nope")


@pytest.mark.parametrize("name", ["irr.resources", "irr.model.bank", "irr.analysis.profiles"])
def test_docstring_examples(name):
    failures, attempted = doctest.testmod(importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert attempted > 0 and failures == 0


# ------------------------------------------------------------------ profiles
def test_profiles_next_to_the_bank_in_use_are_found_first(tmp_path, monkeypatch):
    bank = copy_bank(tmp_path / "bank", with_profiles=True)
    write_profile(bank / "profiles", "district", 0.7)
    write_profile(bank / "profiles", "pace", 0.5)  # an edited copy of a shipped profile
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert load_profile("district", bank=bank).rules[0].min == 0.7
    assert load_profile("pace", bank=load_bank(bank)).rules[0].min == 0.5
    assert "district" in available_profiles(bank)
    with pytest.raises(NotFoundError, match="no rule profile 'district'"):
        load_profile("district")  # the shipped bank is in use
    monkeypatch.setenv("IRR_BANK", str(bank))
    assert load_profile("district").rules[0].min == 0.7
    monkeypatch.delenv("IRR_BANK")
    monkeypatch.chdir(bank)
    assert load_profile("pace").rules[0].min == 0.5


def test_profile_search_order_env_then_cwd_then_shipped(tmp_path, monkeypatch):
    shipped_pace = load_profile("pace").rules[0].min
    env, cwd = tmp_path / "env", tmp_path / "cwd"
    write_profile(env, "pace", 0.11)
    write_profile(cwd / "profiles", "pace", 0.22)
    monkeypatch.chdir(cwd)  # no bank here: the shipped bank is in use
    assert load_profile("pace").rules[0].min == 0.22
    monkeypatch.setenv("IRR_PROFILES", str(env))
    assert load_profile("pace").rules[0].min == 0.11
    assert profile_dirs() == [env, cwd / "profiles", REPO / "profiles"]
    shutil.rmtree(env)
    shutil.rmtree(cwd / "profiles")
    assert load_profile("pace").rules[0].min == shipped_pace
    with pytest.raises(NotFoundError, match="searched: .*profiles"):
        load_profile("no-such-profile")


# ------------------------------------------------------------------ irr init
def test_init_makes_a_bank_that_validate_accepts(tmp_path, monkeypatch):
    target = tmp_path / "district-bank"
    runner = CliRunner()
    result = runner.invoke(cli, ["init", str(target)])
    assert result.exit_code == 0, result.output
    assert "4 rubrics, 12 tasks, 5 profiles" in result.output
    for name in ("rubrics", "tasks", "profiles"):
        shipped = sorted(p.name for p in (REPO / name).iterdir())
        assert sorted(p.name for p in (target / name).iterdir()) == shipped
    assert not (target / "examples").exists()
    readme = (target / "README.md").read_text()
    for needed in (f"irr validate --bank {target}", f"irr bank list --bank {target}", "irr schema rubric",
                   "IRR_PROFILES", "profiles/"):
        assert needed in readme
    ok = runner.invoke(cli, ["validate", "--bank", str(target)])
    assert ok.exit_code == 0 and f"OK: 4 rubrics, 12 tasks in {target}" in ok.output
    monkeypatch.chdir(target)
    assert "ela-g8-argument" in runner.invoke(cli, ["bank", "list"]).output
    assert Path(load_profile("pace").path).parent == target / "profiles"


def test_init_refuses_a_folder_that_is_not_empty_unless_forced(tmp_path):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    runner = CliRunner()
    refused = runner.invoke(cli, ["init", str(target)])
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert f"{target} is not empty (it holds notes.txt)" in refused.output and "--force" in refused.output
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]
    (target / "rubrics").mkdir()
    (target / "rubrics" / "ela-argument.yaml").write_text("stale")
    forced = runner.invoke(cli, ["init", "--force", str(target)])
    assert forced.exit_code == 0, forced.output
    assert (target / "notes.txt").read_text() == "keep me"
    assert (target / "rubrics/ela-argument.yaml").read_text() == (REPO / "rubrics/ela-argument.yaml").read_text()
    assert runner.invoke(cli, ["validate", str(target)]).exit_code == 0


def test_init_into_an_empty_folder_needs_no_force(tmp_path):
    assert CliRunner().invoke(cli, ["init", str(tmp_path)]).exit_code == 0
    assert (tmp_path / "README.md").is_file()


# -------------------------------------------------------------- dependencies
DIST_TO_IMPORT = {"pyyaml": "yaml", "jinja2": "jinja2", "scikit-learn": "sklearn", "pillow": "PIL"}
# in the test extra and imported by none: setuptools and wheel so the wheel test builds offline;
# ruff, mypy and PyYAML's stubs are run by .ci/run on the package; pytest-xdist runs the suite
BUILD_TOOLS = {"setuptools", "wheel", "ruff", "mypy", "types-pyyaml", "pytest-xdist"}
# declared, never imported by name: what a dependency needs for a feature the package uses
THROUGH = {
    "python-multipart": "starlette parses form posts with it (request.form())",
    "itsdangerous": "starlette's SessionMiddleware signs the session cookie with it",
    "httptools": "uvicorn parses HTTP with it when it is installed (irr serve, many raters at once)",
    "uvloop": "uvicorn runs its event loop on it when it is installed (irr serve)",
    "httpx2": "starlette.testclient.TestClient sends its requests with it (tests)",
    "irr-toolkit": "the test extra includes the package's own dask extra (irr-toolkit[dask])",
}
# optional extras (not the test extra): imported lazily, only when their feature is used
OPTIONAL_EXTRAS = ("dask",)


def requirement_names(requirements: list[str]) -> list[str]:
    return [re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", r).group(0).lower().replace("_", "-") for r in requirements]


def import_name(dist: str) -> str:
    return DIST_TO_IMPORT.get(dist, dist.replace("-", "_"))


def imported_modules(*paths: Path) -> set[str]:
    """Top-level module names of every import (including the lazy ones inside functions)."""
    names = set()
    for root in paths:
        for file in [root] if root.is_file() else root.rglob("*.py"):
            for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names.update(a.name.split(".")[0] for a in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names.add(node.module.split(".")[0])
    return names


@pytest.fixture(scope="module")
def project() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def named_modules(root: Path) -> set[str]:
    """String constants that name a module, as pandas takes its Excel engine: ``engine="openpyxl"``."""
    return {node.value for file in root.rglob("*.py") for node in ast.walk(ast.parse(file.read_text("utf-8")))
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isidentifier()}


@pytest.fixture(scope="module")
def package() -> set[str]:
    return imported_modules(REPO / "irr")


def test_every_runtime_dependency_is_imported_by_the_package(project, package):
    used = package | named_modules(REPO / "irr")
    unused = [d for d in requirement_names(project["dependencies"]) if import_name(d) not in used and d not in THROUGH]
    assert not unused, f"runtime dependencies no module of irr/ imports (move them to the test extra): {unused}"


def test_every_third_party_import_of_the_package_is_a_runtime_dependency(project, package):
    declared = {import_name(d) for d in requirement_names(project["dependencies"])}
    for extra in OPTIONAL_EXTRAS:
        declared |= {import_name(d) for d in requirement_names(project["optional-dependencies"][extra])}
    declared |= {"distributed"}  # dask[distributed] installs it
    third_party = package - set(sys.stdlib_module_names) - {"irr"}
    assert third_party - declared == set(), "imported by irr/ but not in [project] dependencies"


def test_test_extra_is_used_by_tests_and_scripts_only(project, package):
    outside = imported_modules(REPO / "tests", REPO / "scripts", REPO / "setup.py")
    test_extra = requirement_names(project["optional-dependencies"]["test"])
    assert {"krippendorff", "raschpy"} <= set(test_extra)  # the independent implementations tests compare with
    in_package = [d for d in test_extra if import_name(d) in package]
    assert not in_package, f"the package imports test-only dependencies (declare them at run time): {in_package}"
    unused = [d for d in test_extra if d not in BUILD_TOOLS | set(THROUGH) and import_name(d) not in outside]
    assert not unused, f"test extra packages nothing imports: {unused}"


# ------------------------------------------------- the built, installed package
SOURCE_FILES = ("irr", "pyproject.toml", "setup.py", "MANIFEST.in", "README.md") + DATA


def data_files() -> set[str]:
    return {str(p.relative_to(REPO)) for name in DATA for p in (REPO / name).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and not p.name.startswith(".")}


@pytest.mark.slow
def test_wheel_carries_the_data_and_works_installed(tmp_path):
    """Build the sdist and the wheel offline from a copy of the source, install the wheel without
    the checkout and run the `irr` entry point from an unrelated folder (dependencies: this venv)."""
    src = tmp_path / "src"
    for name in SOURCE_FILES:
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy2
        copy(REPO / name, src / name, **({"ignore": shutil.ignore_patterns("__pycache__")} if copy is shutil.copytree else {}))
    dist = tmp_path / "dist"
    run = dict(capture_output=True, text=True, timeout=240)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                            "-w", str(dist), str(src)], **run)
    assert built.returncode == 0, built.stdout + built.stderr
    sdist = subprocess.run([sys.executable, "-c", "import sys; from setuptools import build_meta as b; "
                            f"b.build_sdist({str(dist)!r})"], cwd=src, **run)
    assert sdist.returncode == 0, sdist.stdout + sdist.stderr

    (wheel,) = dist.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"irr/_bundled/{f}" for f in data_files()} <= names
    assert "irr/report/templates/calibration.html.j2" in names
    assert not any(n.startswith(("tests/", "scripts/", "rubrics/", "examples/")) for n in names)
    record = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("dist-info/RECORD"))).decode()
    assert "irr/_bundled/tasks/ela-g8-argument.yaml" in record
    (tar,) = dist.glob("*.tar.gz")
    members = {m.split("/", 1)[1] for m in tarfile.open(tar).getnames() if "/" in m}
    assert data_files() | {"setup.py", "MANIFEST.in"} <= members
    assert not any(m.startswith("irr/_bundled") for m in members)

    target = tmp_path / "installed"
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                                str(target), str(wheel)], **run)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("IRR_BANK", "IRR_PROFILES", "IRR_STORE")}
    env["PYTHONPATH"] = str(target)
    # All commands in one process (.ci/run also runs the console script of a wheel in a fresh venv).
    driver = subprocess.run([sys.executable, "-c", INSTALLED_CHECKS], cwd=elsewhere, env=env, **run)
    assert driver.returncode == 0, driver.stdout + driver.stderr
    assert "PASS" in driver.stdout and (elsewhere / "report" / "calibration-report.html").is_file()
    lines = driver.stdout.splitlines()
    assert lines[:2] == [str(target / "irr" / "__init__.py"), "None"]  # the wheel's copy, not the checkout
    assert f"OK: 4 rubrics, 12 tasks in {target / 'irr' / '_bundled'}" in driver.stdout
    assert "ela-g8-argument" in driver.stdout and "OK: 4 rubrics, 12 tasks in mine" in driver.stdout


INSTALLED_CHECKS = """
import irr, irr.resources
from click.testing import CliRunner
from irr.cli.main import cli
print(irr.__file__)
print(irr.resources.checkout_root())
for args in (["validate"], ["bank", "list"], ["init", "mine"], ["validate", "--bank", "mine"],
             ["demo", "--out", "report"]):
    result = CliRunner().invoke(cli, args)
    print(result.output)
    assert result.exit_code == 0, args
"""
