"""Start-up stays light: the CLI and `import irr` load neither scipy.stats nor matplotlib.

Coordinators run `irr` dozens of times a session; those two libraries are most of the
import time and are only needed by some analyses and the HTML plots.
"""
import subprocess
import sys


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_import_irr_and_the_cli_load_neither_scipy_stats_nor_matplotlib():
    loaded = _loaded_after("import irr, irr.cli.main")
    assert "irr.cli.main" in loaded           # the check itself sees what was imported
    assert "scipy.stats" not in loaded
    assert not any(m == "matplotlib" or m.startswith("matplotlib.") for m in loaded)
