"""The layering of the package, checked on the source (no import needed).

Each layer imports only layers above it (irr/__init__.py's docstring); `irr.errors`,
`irr._version` and `irr.resources` may be imported by all.  Nothing imports the package root, the
store does not drive ingest, and across packages only public names are imported: names a
module lists in its ``__all__``, from modules without a leading underscore.
"""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "irr"
LAYERS = {"stats": 1, "model": 2, "io": 3, "store": 3, "analysis": 4, "report": 5, "cli": 6, "web": 6}
SHARED = {"errors", "_version", "resources"}


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        if "_bundled" in path.parts:
            continue
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        yield (parts[:-1] if parts[-1] == "__init__" else parts), path


def _all_of(dotted: str) -> set[str] | None:
    base = PACKAGE.parent.joinpath(*dotted.split("."))
    path = base / "__init__.py" if base.is_dir() else base.with_suffix(".py")
    if not path.exists():
        return None
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        targets = [t.id for t in getattr(node, "targets", []) if isinstance(t, ast.Name)]
        if "__all__" in targets and isinstance(node.value, (ast.List, ast.Tuple)):
            names = {elt.value for elt in node.value.elts if isinstance(elt, ast.Constant)}
            for later in ast.parse(path.read_text(encoding="utf-8")).body:   # __all__ += [...]
                if isinstance(later, ast.AugAssign) and getattr(later.target, "id", "") == "__all__":
                    names |= {elt.value for elt in later.value.elts if isinstance(elt, ast.Constant)}
            return names
    return None


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("irr"):
                    yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("irr"):
            yield node.lineno, node.module, [a.name for a in node.names]


CASES = [(name, path) for name, path in _modules() if len(name) > 1]


@pytest.mark.parametrize("name,path", CASES, ids=[".".join(n) for n, _ in CASES])
def test_imports_follow_the_layers(name, path):
    package = name[1]
    mine = LAYERS.get(package)
    problems = []
    for line, module, names in _imports(path):
        parts = module.split(".")
        if parts == ["irr"]:
            problems.append(f"line {line}: imports the package root (from irr import {', '.join(names)})")
            continue
        target = parts[1]
        if target in SHARED or target == package:
            continue
        if mine is None or LAYERS.get(target, 99) > mine:
            problems.append(f"line {line}: layer {package} imports {module}")
        if package == "store" and target == "io" and parts[2:3] == ["ingestion"]:
            problems.append(f"line {line}: the store drives ingest ({module})")
        if {package, target} == {"cli", "web"}:
            problems.append(f"line {line}: {package} imports {target}")
        if any(p.startswith("_") for p in parts[2:]):
            problems.append(f"line {line}: imports the private module {module}")
        public = _all_of(module)
        for n in names:
            if n.startswith("_") or (public is not None and n not in public and not _is_module(module, n)):
                problems.append(f"line {line}: imports {n!r} from {module}, which does not export it")
    assert problems == []


def _is_module(module: str, name: str) -> bool:
    base = PACKAGE.parent.joinpath(*module.split("."), name)
    return base.is_dir() or base.with_suffix(".py").exists()
