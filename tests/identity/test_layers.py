"""Issue 11: the ICAO code never imports drivers or the CLI; the drivers never import what sits above the ports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What each package must never import (a module or anything below it).
ABOVE_THE_PORTS = ("edge.cli", "edge.wiring", "edge.lane", "edge.api", "edge.daemon", "edge.demo", "edge.selftest")
FORBIDDEN = {
    "edge/identity": ("firmware_bridge", *ABOVE_THE_PORTS),
    "firmware_bridge": ABOVE_THE_PORTS,
}


def imported_modules(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_import_runs_up_the_layers(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no python files under {package}"
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in imported_modules(path)
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[package])
    ]
    assert wrong == []


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("from firmware_bridge.pn532.driver import Pn532\nimport edge.cli.common\n", encoding="utf-8")
    assert imported_modules(sample) == ["firmware_bridge.pn532.driver", "edge.cli.common"]
