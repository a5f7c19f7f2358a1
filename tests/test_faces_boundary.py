"""The workbench's pages reach runs through the run service only (no runner, no store of the engine)."""

from __future__ import annotations

import ast
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = ("agents_core.engine.runner", "agents_core.engine.store", "agents_core.runs.store")


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_pages_and_home_import_no_runner_and_no_store() -> None:
    faces = [REPO_ROOT / "app.py", *sorted((REPO_ROOT / "pages").glob("*.py")), REPO_ROOT / "workbench" / "run_view.py"]
    for path in faces:
        bad = sorted(m for m in _imports(path) if m.startswith(FORBIDDEN))
        assert not bad, f"{path.relative_to(REPO_ROOT)} imports {bad}; use agents_core.runs (the run service)"


def test_the_engine_store_shim_is_gone() -> None:
    assert not (REPO_ROOT / "agents_core" / "engine" / "store.py").exists()
