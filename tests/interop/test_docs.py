"""docs/interop.md keeps up with the import tables and the op registry."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bpviz.engine.ops import REGISTRY
from bpviz.interop.onnx_import import ONNX_IMPORTS
from bpviz.interop.torch_import import TORCH_IMPORTS

DOC = Path(__file__).resolve().parents[2] / "docs" / "interop.md"


def section(title: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def first_cells(title: str) -> str:
    """The first column of the section's table(s)."""
    rows = [line for line in section(title).splitlines() if line.startswith("| ")]
    return " ".join(row.split("|")[1] for row in rows[2:])


def test_every_onnx_import_is_in_the_onnx_table() -> None:
    cells = first_cells("ONNX import")
    assert [op for op in ONNX_IMPORTS if f"`{op}`" not in cells] == []


def test_every_torch_import_is_in_the_torch_table() -> None:
    cells = first_cells("PyTorch import")
    assert [k for k in TORCH_IMPORTS if not re.search(rf"\b{re.escape(k)}\b", cells)] == []


@pytest.mark.parametrize("op", sorted(REGISTRY))
def test_every_op_has_a_row_both_ways(op: str) -> None:
    """A new op fails here until its import (or why there is none) is written down."""
    assert f"`{op}`" in first_cells("Each bpviz op, both ways"), f"docs/interop.md lacks '{op}'"
