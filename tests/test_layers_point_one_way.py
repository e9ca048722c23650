"""Layers point one way (STYLE.md): the rules import nothing of ours, rendering sits below the notifications and the
reports that both use it, and no lower layer reaches up, not even inside a function to dodge an import cycle."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"cli", "flows", "models", "notifications", "policy", "portal", "rendering", "reports", "settings"}
FORBIDDEN = {
    "policy": OURS - {"policy"},
    "rendering": {"notifications", "reports", "flows", "cli", "portal"},
    "notifications": {"reports", "flows", "cli", "portal"},
    "reports": {"flows", "cli", "portal"},
    "models": {"notifications", "reports", "flows", "cli", "portal"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):  # every import, top level or inside a function
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names & OURS


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_lower_layer_never_imports_a_higher_one(package: str) -> None:
    reaching_up = {str(path.relative_to(ROOT)): sorted(imported_packages(path) & FORBIDDEN[package])
                   for path in sorted((ROOT / package).rglob("*.py"))}
    assert {path: found for path, found in reaching_up.items() if found} == {}
