"""Copy, paste and duplicate: fragments carry only internal edges; collisions get new ids."""

from __future__ import annotations

import json

import pytest

from bpviz.model import ClipboardError, Document, copy_nodes, duplicate_command, paste_command
from tests.model.helpers import assert_exact_undo, saved


def node(scene: dict, node_id: str) -> dict:
    return next(n for n in scene["nodes"] if n["id"] == node_id)


def test_copy_keeps_only_edges_between_selected_nodes(doc):
    fragment = json.loads(copy_nodes(doc, ["s", "m", "w"]))
    assert fragment["format"] == "bpviz-scene" and fragment["version"] == 1
    assert [n["id"] for n in fragment["nodes"]] == ["w", "m", "s"]  # document order
    assert node(fragment, "m")["inputs"] == {"a": "w"}
    assert node(fragment, "s")["inputs"] == {"a": "m"}


def test_copy_paste_round_trip_into_an_empty_document(doc):
    text = copy_nodes(doc, list(doc.nodes))
    empty = Document()
    cmd = paste_command(empty, text, offset=(0, 0))
    after = assert_exact_undo(empty, cmd)
    assert after["nodes"] == doc.to_scene_dict()["nodes"]
    assert cmd.new_ids == ["x", "w", "m", "s", "y"]


def test_paste_renames_collisions_keeps_edges_and_offsets(doc):
    cmd = paste_command(doc, copy_nodes(doc, ["x", "w", "m"]), offset=(10, 5))
    assert cmd.text == "Paste 3 nodes"
    after = assert_exact_undo(doc, cmd)
    assert cmd.new_ids == ["x1", "w1", "m1"]
    assert [n["id"] for n in after["nodes"]][-3:] == ["x1", "w1", "m1"]
    assert node(after, "m1")["inputs"] == {"a": "w1", "b": "x1"}
    assert node(after, "m1")["pos"] == [210.0, 55.0]
    assert node(after, "x1")["attrs"] == {"value": 0.7}
    assert node(after, "m")["inputs"] == {"a": "w", "b": "x"}  # the originals are untouched


def test_renamed_ids_avoid_ids_in_the_fragment_too(doc):
    doc.add_node("t1", "tanh")
    fragment = {
        "format": "bpviz-scene",
        "version": 1,
        "nodes": [
            {"id": "t1", "op": "tanh", "inputs": {}, "attrs": {}, "pos": [0, 0]},
            {"id": "t2", "op": "tanh", "inputs": {"x": "t1"}, "attrs": {}, "pos": [0, 0]},
        ],
    }
    cmd = paste_command(doc, json.dumps(fragment))
    cmd.redo(doc)
    assert cmd.new_ids == ["t3", "t2"]
    assert doc.node("t2").inputs == {"x": "t3"}


def test_paste_twice_gives_fresh_ids_each_time(doc):
    text = copy_nodes(doc, ["y"])
    first = paste_command(doc, text)
    first.redo(doc)
    second = paste_command(doc, text)
    second.redo(doc)
    assert (first.new_ids, second.new_ids) == (["y1"], ["y2"])
    assert first.text == "Paste tanh"


def test_duplicate(doc):
    cmd = duplicate_command(doc, ["m", "s"])
    assert cmd.text == "Duplicate 2 nodes"
    after = assert_exact_undo(doc, cmd)
    assert node(after, "s1")["inputs"] == {"a": "m1"}
    assert node(after, "m1")["pos"] == [240.0, 90.0]


def test_edges_to_nodes_outside_a_pasted_scene_are_dropped(doc):
    scene = doc.to_scene_dict()
    scene["nodes"] = scene["nodes"][2:]  # m, s, y: m's and s's sources are missing
    cmd = paste_command(Document(), json.dumps(scene))
    target = Document()
    cmd.redo(target)
    assert [(e.src, e.dst, e.port) for e in target.edges()] == [("m", "s", "a"), ("s", "y", "x")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hello", "not valid JSON"),
        ("[1, 2]", "does not hold bpviz nodes"),
        ('{"format": "other", "nodes": []}', "does not hold bpviz nodes"),
        ('{"format": "bpviz-scene", "version": 9, "nodes": []}', "version 9"),
        ('{"format": "bpviz-scene", "version": 1, "nodes": {}}', "nodes: expected a list"),
        ('{"format": "bpviz-scene", "version": 1, "nodes": []}', "no nodes"),
        (
            '{"format": "bpviz-scene", "version": 1, "nodes": [3]}',
            r"nodes\[0\]: expected an object",
        ),
        ('{"format": "bpviz-scene", "version": 1, "nodes": [{"id": "a"}]}', r"nodes\[0\].op"),
        (
            '{"format": "bpviz-scene", "version": 1, "nodes": [{"id": "a", "op": "zzz"}]}',
            "unknown op 'zzz'",
        ),
        (
            '{"format": "bpviz-scene", "version": 1, "nodes": [{"id": "a", "op": "tanh", '
            '"pos": [0, "x"]}]}',
            r"nodes\[0\].pos",
        ),
        (
            '{"format": "bpviz-scene", "version": 1, "nodes": [{"id": "a", "op": "dense", '
            '"attrs": {"units": "many"}}]}',
            "attrs.units",
        ),
        (
            '{"format": "bpviz-scene", "version": 1, "nodes": ['
            '{"id": "a", "op": "tanh", "inputs": {"x": "b"}},'
            '{"id": "b", "op": "tanh", "inputs": {"x": "a"}}]}',
            "cycle",
        ),
    ],
)
def test_not_a_fragment_raises_clipboard_error_and_changes_nothing(doc, text, message):
    before = saved(doc)
    with pytest.raises(ClipboardError, match=message):
        paste_command(doc, text)
    assert saved(doc) == before
