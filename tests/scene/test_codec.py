"""One codec: the loader, the editable document and the clipboard write the same node dicts
and the same scene layout, and the clipboard's complaints are the scene validator's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bpviz.model import ClipboardError, Document, copy_nodes, paste_command
from bpviz.scene import codec, load_scene, validate_scene_dict

SCENES = Path(__file__).resolve().parents[2] / "scenes"
EXAMPLES = sorted(p.stem for p in SCENES.glob("*.json"))


@pytest.mark.parametrize("name", EXAMPLES)
def test_loader_document_and_clipboard_write_the_same_nodes(name: str) -> None:
    scene = load_scene(SCENES / f"{name}.json")
    from_loader = scene.to_dict(include_state=False)
    doc = Document.from_scene_dict(validate_scene_dict(from_loader, SCENES))
    from_document = doc.to_scene_dict()
    fragment = json.loads(copy_nodes(doc, list(doc.nodes)))
    raw = json.loads((SCENES / f"{name}.json").read_text())
    assert list(from_loader) == [k for k in from_document if k != "state"]
    assert from_document["nodes"] == from_loader["nodes"] == fragment["nodes"]
    assert [n["id"] for n in from_loader["nodes"]] == [n["id"] for n in raw["nodes"]]
    assert {k: fragment[k] for k in ("format", "version")} == codec.header()


def test_node_entry_orders_ports_and_attrs_by_the_op_and_drops_nulls() -> None:
    entry = codec.node_entry(
        "h", "dense", {"x": "a"}, {"activation": "tanh", "init": None, "units": 3}, (1, 2)
    )
    assert entry == {
        "id": "h",
        "op": "dense",
        "inputs": {"x": "a"},
        "attrs": {"units": 3, "activation": "tanh"},
        "pos": [1.0, 2.0],
    }
    assert list(entry["attrs"]) == ["units", "activation"]


@pytest.mark.parametrize(
    ("nodes", "message"),
    [
        (
            [{"id": "a", "op": "dense", "attrs": {"units": "many"}}],
            r"^clipboard: nodes\[0\]\.attrs\.units: ",
        ),
        ([{"id": "9a", "op": "tanh"}], r"^clipboard: nodes\[0\]\.id: invalid id '9a'"),
        ([{"id": "a", "op": "tanh", "extra": 1}], r"^clipboard: nodes\[0\]\.extra: unknown key"),
        (
            [{"id": "a", "op": "tanh", "inputs": {"y": "a"}}],
            r"^clipboard: nodes\[0\]\.inputs\.y: op 'tanh' has no input 'y'",
        ),
    ],
)
def test_clipboard_problems_are_the_scene_validators(nodes: list, message: str) -> None:
    text = json.dumps({**codec.header(), "fragment": True, "nodes": nodes})
    with pytest.raises(ClipboardError, match=message):
        paste_command(Document(), text)
    with pytest.raises(Exception, match=message.replace("clipboard", "<scene>")):
        validate_scene_dict({**codec.header(), "output": None, "nodes": nodes}, runnable=False)


def test_scene_errors_are_one_line_whatever_the_names_hold() -> None:
    raw = {**codec.header(), "output": "a\nb", "nodes": [{"id": "a", "op": "tanh"}]}
    with pytest.raises(Exception) as info:
        validate_scene_dict(raw, runnable=False)
    assert str(info.value) == "<scene>: output: no node 'a\\nb'"
