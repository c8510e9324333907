"""README.md stays true: its Python runs as written and it names every command-line verb and
option the parser has."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bpviz.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def test_readme_has_python_blocks() -> None:
    assert len(python_blocks(README.read_text(encoding="utf-8"))) == 2


@pytest.mark.parametrize("index", [0, 1])
def test_readme_python_block_runs(index: int, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """Run from a fresh folder holding a copy of scenes/, as a reader at the repo root would
    (the first block saves trained.json into the current folder)."""
    block = python_blocks(README.read_text(encoding="utf-8"))[index]
    shutil.copytree(ROOT / "scenes", tmp_path / "scenes")
    monkeypatch.chdir(tmp_path)
    exec(compile(block, f"README.md python block {index + 1}", "exec"), {"__name__": "readme"})
    if index == 0:
        import bpviz

        assert bpviz.load_scene("trained.json").has_state  # learned weights were saved


def test_import_bpviz_reaches_the_registry() -> None:
    """In a fresh interpreter, so nothing else has imported the submodules first."""
    code = "import bpviz; print(len(bpviz.engine.ops.REGISTRY['dense'].inputs))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout == "1\n"


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_readme_names_every_verb_and_option() -> None:
    text = README.read_text(encoding="utf-8")
    usage = text[text.index("## Command line") : text.index("## Python API")]
    for verb, sub in _subparsers(build_parser()).items():
        assert re.search(rf"^    bpviz {verb}\b", usage, flags=re.M), f"README lacks `{verb}`"
        for action in sub._actions:
            for flag in action.option_strings:
                if flag.startswith("--") and flag != "--help":
                    assert f"bpviz {verb}" in usage and flag in usage, (verb, flag)


def test_every_argument_has_help() -> None:
    """`bpviz VERB --help` describes each positional and option, not just names it."""
    for verb, sub in _subparsers(build_parser()).items():
        for action in sub._actions:
            if not isinstance(action, argparse._HelpAction):
                assert action.help, f"bpviz {verb}: {action.dest} has no help text"
