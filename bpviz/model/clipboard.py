"""Copy, paste and duplicate as scene fragments: plain JSON in the scene file's own node format,
so a selection can travel between windows, or through a text editor, and still be checked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from bpviz.engine.errors import BpvizError
from bpviz.model.commands import AddNode, Command, Compound, Connect, plural
from bpviz.model.document import Document, Pos
from bpviz.scene import SceneError, codec, validate_scene_dict
from bpviz.scene.files import decode
from bpviz.scene.migrate import check_header

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
    fragment = {**codec.header(), "fragment": True, "nodes": nodes}
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
    """The fragment's nodes, normalised and checked by the scene validator as a draft scene of
    their own; edges to nodes outside the fragment are dropped because a paste cannot keep
    them."""
    try:
        raw = decode(text)
    except SceneError as exc:
        raise ClipboardError(f"the clipboard does not hold bpviz nodes ({exc})") from None
    if not isinstance(raw, Mapping) or raw.get("format") != codec.FORMAT:
        raise ClipboardError(
            f'the clipboard does not hold bpviz nodes (no "format": "{codec.FORMAT}")'
        )
    try:
        check_header(raw)
    except SceneError as exc:
        raise ClipboardError(f"clipboard: {exc}") from None
    entries = raw.get("nodes")
    if not isinstance(entries, list):
        raise ClipboardError("clipboard: nodes: expected a list of nodes")
    draft = {**codec.header(), "output": None, "nodes": _inner_edges_only(entries)}
    try:
        checked = validate_scene_dict(draft, source="clipboard", runnable=False)
    except SceneError as exc:
        raise ClipboardError(str(exc)) from None
    return checked["nodes"]


def _inner_edges_only(entries: list[Any]) -> list[Any]:
    """The entries with inputs from nodes outside the fragment left out (anything malformed
    is kept as it is, for the validator to name)."""
    ids = {e.get("id") for e in entries if isinstance(e, Mapping)}
    out: list[Any] = []
    for entry in entries:
        inputs = entry.get("inputs") if isinstance(entry, Mapping) else None
        if isinstance(inputs, Mapping):
            kept = {p: s for p, s in inputs.items() if not isinstance(s, str) or s in ids}
            entry = {**entry, "inputs": kept}
        out.append(entry)
    return out
