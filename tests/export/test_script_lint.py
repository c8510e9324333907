"""Exported scripts are clean Python: no undefined or unused names, only the helpers they use."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bpviz.export import export_scene
from bpviz.scene import load_scene
from tests.export.graphs import EXAMPLES
from tests.test_code_quality import _tool

SCENES = Path(__file__).resolve().parents[2] / "scenes"


def test_exported_scripts_pass_pyflakes(tmp_path: Path) -> None:
    for name in EXAMPLES:
        for target in ("numpy", "torch"):
            export_scene(
                load_scene(SCENES / f"{name}.json"), target, tmp_path / f"{name}_{target}.py"
            )
    result = subprocess.run(
        [_tool("ruff"), "check", "--no-cache", "--isolated", "--select", "F,E9", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_numpy_script_carries_only_the_helpers_it_uses(tmp_path: Path) -> None:
    (script,) = export_scene(load_scene(SCENES / "neuron.json"), "numpy", tmp_path / "n.py")
    text = script.read_text()
    assert "def _unbroadcast" in text
    for unused in ("def _softmax", "def _ce_grad", "def _matmul_grad_a", "def _sigmoid"):
        assert unused not in text
    (script,) = export_scene(load_scene(SCENES / "spiral.json"), "numpy", tmp_path / "s.py")
    assert "def _ce_grad" in script.read_text() and "def _softmax" in script.read_text()
