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


BLOCKS = python_blocks(README.read_text(encoding="utf-8"))


def test_readme_has_python_blocks() -> None:
    assert len(BLOCKS) == 5


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_block_runs(index: int, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """Run from a fresh folder holding a copy of scenes/, as a reader at the repo root would
    (blocks save files into the current folder). `bpviz.show` opens a window and waits for it
    to close, so here it only records what it was given."""
    import bpviz

    block = BLOCKS[index]
    if "import torch" in block:
        pytest.importorskip("torch", reason="needs torch: pip install 'bpviz[torch]'")
    shown: list = []
    monkeypatch.setattr(bpviz, "show", shown.append, raising=False)
    shutil.copytree(ROOT / "scenes", tmp_path / "scenes")
    monkeypatch.chdir(tmp_path)
    exec(compile(block, f"README.md python block {index + 1}", "exec"), {"__name__": "readme"})
    if "scene.save(" in block:
        assert bpviz.load_scene("trained.json").has_state  # learned weights were saved
    if "bpviz.show(" in block:
        assert len(shown) == 1


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
