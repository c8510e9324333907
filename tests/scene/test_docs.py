"""docs/scene-format.md keeps up with the registry, the dataset kinds and the training keys."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from bpviz.engine.datasets import DATASET_KINDS
from bpviz.engine.ops import REGISTRY
from bpviz.engine.optim import TrainingConfig

DOC = Path(__file__).resolve().parents[2] / "docs" / "scene-format.md"


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text(encoding="utf-8")


def _table_rows(doc: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        for line in doc.splitlines()
        if line.startswith("| `")
    ]


def test_every_op_is_documented_with_its_ports_and_attrs(doc: str) -> None:
    ops_section = doc[doc.index("### Ops") : doc.index("## Data")]
    rows = {row[0].strip("`"): row for row in _table_rows(ops_section)}
    for name, spec in REGISTRY.items():
        assert name in rows, f"docs/scene-format.md does not list op '{name}'"
        row = rows[name]
        ports = re.findall(r"`(\w+)`", row[1])
        assert ports == list(spec.inputs), name
        for attr in spec.attrs:
            assert f"`{attr}`" in row[2], f"op '{name}': attr '{attr}' undocumented"


def test_every_dataset_kind_and_training_key_is_documented(doc: str) -> None:
    rows = {row[0].strip("`") for row in _table_rows(doc)}
    for kind in DATASET_KINDS:
        assert kind in rows or f'`kind: "{kind}"`' in doc, kind
    for field in dataclasses.fields(TrainingConfig):
        assert field.name in rows, field.name
