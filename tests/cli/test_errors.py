"""Every command and subcommand, given bad arguments, answers with one message and no traceback.

The commands are found by walking ``irr.cli.main.cli`` (``list_commands``/``get_command``), so a new command is
covered without editing this file.  Each invocation gives the command's required
arguments good values and makes one argument bad (a missing, empty or malformed
store, bank, session, task or file, a folder where a file is expected, an
out-of-range number, an unknown choice...).
"""
from __future__ import annotations

import shutil
import signal
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from irr.cli.main import cli
from irr.store import Store

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
CALIBRATION = EXAMPLES / "calibration"


# `irr ingest` lists every problem of a rejected file under "REJECTED: ..." (irr/cli/store.py)
DESIGNED_LISTINGS = {("ingest",): ("REJECTED:",)}


class _Hung(BaseException):
    """Raised by the alarm: BaseException, so that no handler in the CLI can swallow it."""


def _leaves(group: click.Group, path=()):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):        # the lazy group loads each command here
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            yield from _leaves(command, (*path, name))
        else:
            yield (*path, name), command


@pytest.fixture(scope="module")
def places(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("cli-errors")
    store = root / "store.sqlite"
    runner = CliRunner()
    for name in ("calibration", "regional_scoring"):
        folder = EXAMPLES / name
        files = [str(f) for f in sorted(folder.glob("*.csv"))]
        done = runner.invoke(cli, ["ingest", *files, "--session", str(folder / "session.yaml"), "--store", str(store)])
        assert done.exit_code == 0, done.output
    bank = root / "broken-bank"
    shutil.copytree(REPO / "rubrics", bank / "rubrics")
    shutil.copytree(REPO / "tasks", bank / "tasks")
    (bank / "rubrics" / "ela-argument.yaml").write_text("id: ela-argument\nversion: [unclosed\n")
    profile = root / "broken-profile.yaml"
    profile.write_text("id: broken\nrules: not-a-list\n")
    not_a_store = root / "notes.txt"
    not_a_store.write_text("this is not a database\n" * 50)
    folder = root / "a-folder"
    folder.mkdir()
    return {"store": str(store), "bank": str(bank), "profile": str(profile), "text": str(not_a_store),
            "folder": str(folder), "missing": MISSING, "empty": EMPTY, "root": str(root)}


# placeholders made fresh for every invocation (a command may create the one it is given)
MISSING, EMPTY = "<missing>", "<empty store>"


def _fresh(args: list[str], root: Path, n: int) -> list[str]:
    out = []
    for a in args:
        if a == MISSING:
            a = str(root / f"case{n}" / "no" / "such.csv")
        elif a == EMPTY:
            a = str(root / f"case{n}" / "empty.sqlite")
            Path(a).parent.mkdir(parents=True, exist_ok=True)
            Store(a).close()
        out.append(a)
    return out


def _good(path: tuple, param: click.Parameter, places) -> list[str] | None:
    """A value that lets the command run past this argument (None: leave it out)."""
    name = param.name
    if name == "store_path":
        return [places["store"]]
    if name == "session":
        return [str(CALIBRATION / "session.yaml")] if path[-1] == "ingest" else ["seacoast-calibration-2026-10"]
    if name == "files":
        return [str(CALIBRATION / "scores-room-a.csv")]
    if name == "formats" and path[-1] == "calibrate":
        return ["terminal"]            # no HTML to draw for every case: keeps the test quick
    if name == "task_id":
        return ["ela-g8-argument"]
    if name == "kind" and isinstance(param, click.Argument):
        return [param.type.choices[0]] if isinstance(param.type, click.Choice) else ["rubric"]
    if param.required:
        return ["nosuch"]
    return None


def _bad(param: click.Parameter, places) -> list[tuple[str, bool]]:
    """Bad values for a parameter, each with whether it must be refused (False: may be valid)."""
    name, kind = param.name, param.type
    named = {
        "bank_dir": [places["missing"], places["bank"], places["text"]],
        "session": ["nosuch"], "task": ["nosuch"], "task_id": ["nosuch"], "profile": ["nosuch", places["profile"]],
        "coefficients": ["nosuch"], "by": ["nosuch"], "dimension": ["nosuch"], "mapping": ["no-equals-sign"],
        "encoding": ["no-such-codec"], "level": ["2"], "suppress_below": ["-1"], "formats": ["pdf"],
        "files": [places["missing"], places["folder"], places["text"]],
        "district": ["nosuch"], "read_type": ["nosuch"],
    }
    if name == "store_path":    # a missing or empty store is fine for `ingest`, an error for reading it
        return [(places["folder"], True), (places["text"], True), (places["missing"], False), (places["empty"], False)]
    if name in named:
        return [(v, True) for v in named[name]]
    if getattr(param, "is_flag", False) or isinstance(kind, click.types.BoolParamType):
        return []
    if isinstance(kind, click.Choice):
        return [("nosuch", True)]
    if isinstance(kind, click.types.IntParamType):
        return [("x", True), ("-1", False)]
    if isinstance(kind, click.types.FloatParamType):
        return [("x", True), ("2", False)]
    if isinstance(kind, click.Path):    # a missing path is only bad where it must exist
        values = [(places["missing"], True)] if kind.exists else []
        if not kind.dir_okay:
            values.append((places["folder"], True))
        if not kind.file_okay:
            values.append((places["text"], True))
        return values
    return [("nosuch", False)]


def _args(param: click.Parameter, values: list[str]) -> list[str]:
    if isinstance(param, click.Argument):
        return list(values)
    flag = max(param.opts, key=len)
    return [a for v in values for a in (flag, v)]


def _cases(places):
    yield ("nosuch-command",), ["nosuch-command"], True
    for path, command in _leaves(cli):
        params = [p for p in command.params if p.name not in ("help",)]
        if any(p.required for p in params):
            yield path, [*path], True                                  # required arguments left out
        for bad in params:
            for value, must_fail in _bad(bad, places):
                args = [*path]
                for p in params:
                    values = [value] if p is bad else _good(path, p, places)
                    if values is not None:
                        args += _args(p, values)
                yield path, args, must_fail


def _invoke(args, timeout=90):
    def hung(*_):
        raise _Hung(f"`irr {' '.join(args)}` did not finish in {timeout} s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(timeout)
    try:
        return CliRunner().invoke(cli, args)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_every_command_answers_bad_arguments_with_a_message(places, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)                         # commands that write by default write here
    monkeypatch.delenv("IRR_DEBUG", raising=False)
    monkeypatch.delenv("IRR_STORE", raising=False)
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: None)  # irr serve checks its options, then would serve forever
    for key in ("IRR_SERVE_PASSPHRASE", "IRR_SERVE_STORE", "IRR_SERVE_BANK", "IRR_SERVE_SECRET"):
        monkeypatch.setenv(key, "")                     # irr serve sets them; the monkeypatch puts them back
        monkeypatch.delenv(key)
    problems, seen = [], set()
    for n, (path, args, must_fail) in enumerate(_cases(places)):
        seen.add(path)
        args = _fresh(args, Path(places["root"]), n)
        result = _invoke(args)
        text = result.output
        shown = f"irr {' '.join(args)} -> exit {result.exit_code}: {text.strip()[:300]!r}"
        if "Traceback" in text or (result.exception is not None and not isinstance(result.exception, SystemExit)):
            problems.append(f"{shown} ({type(result.exception).__name__})")
        elif result.exit_code == 0:
            if must_fail:
                problems.append(f"{shown} (accepted a bad value)")
        elif result.exit_code not in (1, 2):
            problems.append(f"{shown} (exit code)")
        elif not text.lstrip().startswith(("Error:", "Usage:", *DESIGNED_LISTINGS.get(path, ()))):
            problems.append(f"{shown} (does not start with Error: or Usage:)")
    assert {p[0] for p in seen} >= {"calibrate", "agreement", "demo", "ingest", "sessions", "export", "validate",
                                     "bank", "schema", "store"}
    assert not problems, "\n".join(problems)


def test_agreement_by_dimension_with_cohen_kappa_prints_a_table(places):
    # the review's traceback: `--by dimension --coefficient cohen_kappa` (24 raters: no estimate,
    # so the count columns are <NA>) ended in "TypeError: Invalid value '' for dtype 'Int64'"
    result = _invoke(["agreement", "--store", places["store"], "--session", "regional-scoring-2026-11",
                      "--coefficient", "cohen_kappa", "--by", "dimension"])
    assert result.exit_code == 0, result.output
    assert "Cohen's kappa" in result.output and "defined for exactly 2 raters" in result.output


def test_unexpected_errors_are_one_line_unless_debugging(places, monkeypatch):
    import irr.analysis.agreement as analysis

    def broken(*args, **kwargs):
        raise ZeroDivisionError("planted")

    monkeypatch.setattr(analysis, "agreement", broken)   # the command looks it up when it runs
    args = ["agreement", "--store", places["store"], "--session", "regional-scoring-2026-11"]
    result = _invoke(args)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.output.startswith("Error: internal error (ZeroDivisionError: planted)")
    assert "please report" in result.output and "Traceback" not in result.output
    monkeypatch.setenv("IRR_DEBUG", "1")
    assert isinstance(_invoke(args).exception, ZeroDivisionError)


def test_calibrate_unknown_session_lists_the_sessions(places):
    result = _invoke(["calibrate", "--store", places["store"], "--session", "seacoast-calibration"])
    assert result.exit_code == 1
    assert "no session 'seacoast-calibration' in" in result.output
    assert "sessions are: " in result.output and "regional-scoring-2026-11" in result.output
    assert "did you mean 'seacoast-calibration-2026-10'?" in result.output
    assert "--kind" not in result.output and "--date" not in result.output


def test_reading_commands_do_not_create_a_store(places, tmp_path):
    missing = tmp_path / "typo.sqlite"
    for command in (["calibrate", "--session", "x"], ["agreement"], ["sessions"], ["export", "--session", "x"],
                    ["store", "check"]):
        result = _invoke([*command, "--store", str(missing)])
        assert result.exit_code == 1 and result.output.startswith(f"Error: no store at {missing}")
        assert not missing.exists()


def test_export_unknown_session_lists_the_sessions(places, tmp_path):
    result = _invoke(["export", "--store", places["store"], "--session", "seacoast-calibration",
                      "--out", str(tmp_path / "x.csv")])
    assert result.exit_code == 1 and "did you mean 'seacoast-calibration-2026-10'?" in result.output
    assert "--kind" not in result.output and not (tmp_path / "x.csv").exists()
