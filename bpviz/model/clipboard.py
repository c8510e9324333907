"""Copy, paste and duplicate as scene fragments: plain JSON in the scene file's own node format,
so a selection can travel between windows, or through a text editor, and still be checked.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from bpviz.engine.errors import BpvizError, GraphError
from bpviz.engine.graph import Graph
from bpviz.model.commands import AddNode, Command, Compound, Connect, plural
from bpviz.model.document import SCENE_FORMAT, SCENE_VERSION, Document, Pos

DEFAULT_PASTE_OFFSET: Pos = (40.0, 40.0)


class ClipboardError(BpvizError):
    """Text offered for pasting is not a bpviz scene fragment; the message says what is wrong."""


class PasteNodes(Compound):
    """A paste as one undo step; `new_ids` lets the view select what arrived."""

    def __init__(self, text: str, children: Iterable[Command], new_ids: list[str]) -> None:
        super().__init__(text, children)
        self.new_ids = new_ids


def copy_nodes(doc: Document, node_ids: Iterable[str]) -> str:
    """The selected nodes, in document order, with only the edges between them."""
    selected = set(node_ids)
    for node_id in selected:
        doc.node(node_id)
    nodes = []
    for node_id in doc.nodes:
        if node_id in selected:
            entry = doc.node_dict(node_id)
            entry["inputs"] = {p: s for p, s in entry["inputs"].items() if s in selected}
            nodes.append(entry)
    fragment = {"format": SCENE_FORMAT, "version": SCENE_VERSION, "fragment": True, "nodes": nodes}
    return json.dumps(fragment, indent=2, ensure_ascii=False)


def paste_command(
    doc: Document, text: str, offset: Pos = DEFAULT_PASTE_OFFSET, verb: str = "Paste"
) -> PasteNodes:
    """A command adding the fragment's nodes (ids that collide renamed), their internal edges,
    positions shifted by `offset`. Raises ClipboardError before anything changes."""
    nodes = parse_fragment(text)
    if not nodes:
        raise ClipboardError("the clipboard holds no nodes to paste")
    dx, dy = offset
    rename = _fresh_ids(doc, [n["id"] for n in nodes])
    adds: list[Command] = []
    connects: list[Command] = []
    for n in nodes:
        x, y = n.get("pos", (0.0, 0.0))
        adds.append(AddNode(rename[n["id"]], n["op"], n["attrs"], (x + dx, y + dy)))
        for port, src in n["inputs"].items():
            connects.append(Connect(rename[src], rename[n["id"]], port))
    label = (
        f"{verb} {nodes[0]['op']}" if len(nodes) == 1 else f"{verb} {plural(len(nodes), 'node')}"
    )
    return PasteNodes(label, adds + connects, [rename[n["id"]] for n in nodes])


def duplicate_command(
    doc: Document, node_ids: Iterable[str], offset: Pos = DEFAULT_PASTE_OFFSET
) -> PasteNodes:
    """Copy then paste in one go, without touching the system clipboard."""
    return paste_command(doc, copy_nodes(doc, node_ids), offset, verb="Duplicate")


def _fresh_ids(doc: Document, ids: list[str]) -> dict[str, str]:
    """Keep each id unless the document has it; a renamed one avoids every id in play."""
    in_play = set(ids)
    rename: dict[str, str] = {}
    for node_id in ids:
        if node_id in doc:
            base = re.sub(r"\d+$", "", node_id) or node_id
            rename[node_id] = doc.unique_id(base, taken=in_play)
            in_play.add(rename[node_id])
        else:
            rename[node_id] = node_id
    return rename


def parse_fragment(text: str) -> list[dict[str, Any]]:
    """The fragment's nodes, normalised and checked as a graph of their own; edges to nodes
    outside the fragment are dropped because a paste cannot keep them."""
    try:
        raw = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise ClipboardError(f"the clipboard does not hold bpviz nodes (not JSON: {exc})") from None
    if not isinstance(raw, Mapping) or raw.get("format") != SCENE_FORMAT:
        raise ClipboardError(
            f'the clipboard does not hold bpviz nodes (no "format": "{SCENE_FORMAT}")'
        )
    if raw.get("version") != SCENE_VERSION:
        raise ClipboardError(
            f"clipboard: scene version {raw.get('version')!r} cannot be pasted "
            f"(this bpviz pastes version {SCENE_VERSION})"
        )
    entries = raw.get("nodes")
    if not isinstance(entries, list):
        raise ClipboardError("clipboard: nodes: expected a list of nodes")
    nodes = [_node_entry(i, entry) for i, entry in enumerate(entries)]
    _check_as_graph(nodes)
    return nodes


def _node_entry(i: int, entry: Any) -> dict[str, Any]:
    where = f"clipboard: nodes[{i}]"
    if not isinstance(entry, Mapping):
        raise ClipboardError(f"{where}: expected an object")
    node_id, op = entry.get("id"), entry.get("op")
    if not isinstance(node_id, str):
        raise ClipboardError(f"{where}.id: expected text, got {node_id!r}")
    if not isinstance(op, str):
        raise ClipboardError(f"{where}.op: expected text, got {op!r}")
    inputs = entry.get("inputs") or {}
    if not isinstance(inputs, Mapping) or not all(
        isinstance(p, str) and isinstance(s, str) for p, s in inputs.items()
    ):
        raise ClipboardError(f"{where}.inputs: expected an object of port: node id")
    attrs = entry.get("attrs") or {}
    if not isinstance(attrs, Mapping):
        raise ClipboardError(f"{where}.attrs: expected an object")
    pos = entry.get("pos", [0.0, 0.0])
    if not (
        isinstance(pos, list)
        and len(pos) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pos)
        and all(math.isfinite(v) for v in pos)
    ):
        raise ClipboardError(f"{where}.pos: expected [x, y] finite numbers, got {pos!r}")
    return {
        "id": node_id,
        "op": op,
        "inputs": dict(inputs),
        "attrs": {k: v for k, v in attrs.items() if v is not None},
        "pos": (float(pos[0]), float(pos[1])),
    }


def _check_as_graph(nodes: list[dict[str, Any]]) -> None:
    """Ids, ops, attrs, ports and cycles, via the engine's own checks, before any command."""
    scratch = Graph()
    for i, n in enumerate(nodes):
        try:
            scratch.add_node(n["id"], n["op"], n["attrs"])
        except GraphError as exc:
            raise ClipboardError(f"clipboard: nodes[{i}]: {exc}") from None
    for i, n in enumerate(nodes):
        n["inputs"] = {p: s for p, s in n["inputs"].items() if s in scratch}
        for port, src in n["inputs"].items():
            try:
                scratch.connect(src, n["id"], port)
            except GraphError as exc:
                raise ClipboardError(f"clipboard: nodes[{i}].inputs.{port}: {exc}") from None
