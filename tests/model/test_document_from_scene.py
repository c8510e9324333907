"""A document made from a loaded scene (opening a file builds its graph once, and does not
run it) is the document its scene dict makes: for every scene shipped, one saved with learned
state and one without positions; and it edits as any document does."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import bpviz
from bpviz.model import Document
from bpviz.scene import load_scene

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(
    [
        *ROOT.glob("scenes/*.json"),
        *ROOT.glob("scenes/lessons/*.scene.json"),
        *ROOT.glob("docs/*.json"),
    ]
)


def _text(doc: Document) -> str:
    """The document's scene dict as text: arrays and lists alike, key order kept."""
    return json.dumps(doc.to_scene_dict(), default=lambda a: np.asarray(a).tolist())


def _both_ways(path: Path) -> tuple[Document, Document]:
    taken_over = Document.from_scene(load_scene(path, runnable=False, run=False))  # as opened
    via_dict = Document.from_scene_dict(load_scene(path, runnable=False).to_dict())
    return taken_over, via_dict


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_scenes(path: Path) -> None:
    got, want = _both_ways(path)
    assert _text(got) == _text(want)


def test_saved_learned_state_and_optimizer_slots(tmp_path: Path) -> None:
    scene = bpviz.load_scene(ROOT / "scenes" / "moons.json")
    scene.train(7)
    scene.save(tmp_path / "trained.json")
    got, want = _both_ways(tmp_path / "trained.json")
    assert _text(got) == _text(want)
    assert json.loads(_text(got))["state"]["optimizer"]["step"] == 7


def test_nodes_without_positions_are_laid_out(tmp_path: Path) -> None:
    raw = json.loads((ROOT / "scenes" / "xor.json").read_text())
    for node in raw["nodes"]:
        node.pop("pos", None)
    (tmp_path / "xor.json").write_text(json.dumps(raw))
    got, want = _both_ways(tmp_path / "xor.json")
    assert _text(got) == _text(want)
    places = [tuple(n["pos"]) for n in json.loads(_text(got))["nodes"]]
    assert len(set(places)) == len(places) == len(raw["nodes"])  # none on top of another


def test_it_edits_as_any_document() -> None:
    """Unwiring a fanned-out node, removing it and building it again: the same as the
    dict-built one (the first disconnect of a loaded graph once failed)."""
    got, want = _both_ways(ROOT / "scenes" / "lessons" / "fan_out.scene.json")
    for doc in (got, want):
        source = next(n for n in doc.nodes if len(doc.consumers(n)) > 1)
        edges = [(e.src, e.dst, e.port) for e in doc.consumers(source)]
        node = doc.nodes[source]
        for _, dst, port in edges:
            doc.disconnect(dst, port)
        doc.remove_node(source)
        doc.add_node(source, node.op, dict(node.attrs), (0.0, 0.0))
        for src, dst, port in edges:
            doc.connect(src, dst, port)
    assert _text(got) == _text(want)
