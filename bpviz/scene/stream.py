"""The quick route from a current, valid scene file's text to its engine `Graph`.

The full route (JSON -> pydantic models -> meaning checks -> node dicts -> Graph) holds the
whole file three times over as Python objects: a million-node file needs gigabytes. Here the
node list is read one node at a time straight from the text with the json module's own
scanner, checked by hand and turned into its `Node` at once, so each node exists once, as the
object the graph keeps. The small top-level parts still go through the pydantic schema.

The route is optimistic: it accepts only what the full route accepts, builds the same graph,
and gives up (returns None) on anything else — a mistake, a duplicate key, an older version,
a cycle. The full route then runs and words the problem, so this module changes speed and
memory, never a result or a message.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from json.scanner import make_scanner
from typing import Any, TypeVar

from pydantic import ValidationError

from bpviz.engine.graph import ID_PATTERN, Graph, Node
from bpviz.engine.ops import REGISTRY
from bpviz.scene.codec import CURRENT_VERSION, FORMAT
from bpviz.scene.schema import SceneModel
from bpviz.scene.validate import attr_value_problem

Pos = tuple[float, float]


class _Pairs(list):
    """A JSON object as its (key, value) pairs, so a repeated key can be seen."""

    __slots__ = ()


class _GiveUp(Exception):
    """Not for the quick route: the full route decides (and words any problem)."""


_SCAN = make_scanner(json.JSONDecoder(object_pairs_hook=_Pairs))
_SCAN_FAST = make_scanner(json.JSONDecoder())  # objects as dicts: repeated keys are not seen
_SPACE = re.compile(r"[ \t\n\r]*")
_BLANK = frozenset(" \t\n\r")
_NODE_KEYS = frozenset(("id", "op", "inputs", "attrs", "pos"))
_NESTED = frozenset((_Pairs, list))
_EXACT_INT = 2**53  # larger integers do not become floats exactly: left to the full route
_FINITE = math.isfinite


@dataclass
class QuickScene:
    """A checked file: the top level as the schema's model (without nodes), the graph, the
    positions given, and node id -> position in the file."""

    model: SceneModel
    graph: Graph
    positions: dict[str, Pos]
    index: Mapping[str, int]


class FileIndex(Mapping[str, int]):
    """Node id -> position in the file, made only when asked (errors name file places; a
    valid file never needs it)."""

    def __init__(self, ids: Mapping[str, Any]) -> None:
        self._ids = ids
        self._index: dict[str, int] | None = None

    def _table(self) -> dict[str, int]:
        if self._index is None:
            self._index = {nid: i for i, nid in enumerate(self._ids)}
        return self._index

    def __getitem__(self, node_id: str) -> int:
        return self._table()[node_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._ids)


def read_scene(text: str, runnable: bool) -> QuickScene | None:
    """The checked scene, or None to leave `text` to the full route."""
    try:
        return _read(text, runnable)
    except (_GiveUp, StopIteration, ValueError, IndexError, RecursionError):
        return None


def _dict(pairs: Any) -> dict[str, Any]:
    if type(pairs) is not _Pairs:
        raise _GiveUp
    d = dict(pairs)
    if len(d) != len(pairs):
        raise _GiveUp  # a repeated key
    return d


def _plain(value: Any) -> Any:
    """A scanned value with its objects as dicts (iterative: nesting is the file's). Lists of
    plain numbers (saved weights) are passed over in C."""
    kind = type(value)
    if kind is not _Pairs and kind is not list:
        return value
    root = [value]
    todo: list[Any] = [root]
    while todo:
        box = todo.pop()
        if type(box) is dict:
            items: Any = box.items()  # values replaced in place: the dict keeps its size
        elif _NESTED.isdisjoint(map(type, box)):
            continue
        else:
            items = enumerate(box)
        for k, v in items:
            kind = type(v)
            if kind is _Pairs:
                box[k] = v = _dict(v)
                todo.append(v)
            elif kind is list:
                todo.append(v)
    return root[0]


def _number(v: Any) -> float:
    kind = type(v)
    if (kind is float and math.isfinite(v)) or (kind is int and -_EXACT_INT < v < _EXACT_INT):
        return float(v)
    raise _GiveUp


_Read = TypeVar("_Read")


def _top_level(
    text: str, read_nodes: Callable[[str, int], tuple[int, _Read]]
) -> tuple[dict[str, Any], _Read | None]:
    """The one top-level object of `text`, its keys distinct, without its node list, and
    what `read_nodes(text, i)` made of that list (called at its "[", it returns the index
    after the list too); None if there is no list under "nodes"."""
    space = _SPACE.match
    i = space(text, 0).end()
    if text[i] != "{":
        raise _GiveUp
    top: dict[str, Any] = {}
    read: _Read | None = None
    has_list = False
    i = space(text, i + 1).end()
    while True:
        if text[i] != '"':
            raise _GiveUp
        key, i = _SCAN(text, i)
        i = space(text, i).end()
        if text[i] != ":" or key in top or (key == "nodes" and has_list):
            raise _GiveUp
        i = space(text, i + 1).end()
        if key == "nodes" and text[i] == "[":
            i, read = read_nodes(text, i)
            has_list = True
        else:
            value, i = _SCAN(text, i)
            top[key] = _plain(value)
        i = space(text, i).end()
        if text[i] == "}":
            break
        if text[i] != ",":
            raise _GiveUp
        i = space(text, i + 1).end()
    if space(text, i + 1).end() != len(text):
        raise _GiveUp
    return top, read


def _read(text: str, runnable: bool) -> QuickScene:
    top, read = _top_level(text, lambda t, i: _read_nodes(t, i, runnable))
    if read is None:
        raise _GiveUp
    version = top.get("version")
    if top.get("format") != FORMAT or type(version) is not int or version != CURRENT_VERSION:
        raise _GiveUp  # not a scene, or one to upgrade first
    try:
        model = SceneModel.model_validate({**top, "nodes": []})
    except ValidationError:
        raise _GiveUp from None
    nodes, positions, in_order = read
    if model.output is None:
        if runnable and nodes:
            raise _GiveUp
        output = None
    else:
        if model.output not in nodes:
            raise _GiveUp
        output = nodes[model.output].id
    if not in_order:
        _resolve(nodes)
    graph = Graph.adopt(nodes, output, in_order)
    if not in_order and len(graph.topological_order()) != len(nodes):
        raise _GiveUp  # a cycle (the order leaves out every node on or after one)
    return QuickScene(model, graph, positions, FileIndex(nodes))


def _resolve(nodes: dict[str, Node]) -> None:
    """A file that names sources before listing them: every source must exist; sources
    become the ids' own strings (one copy of each)."""
    for node in nodes.values():
        inputs = node.inputs
        for port, src in inputs.items():
            source = nodes.get(src)
            if source is None:
                raise _GiveUp
            inputs[port] = source.id


def _read_nodes(
    text: str, i: int, runnable: bool
) -> tuple[int, tuple[dict[str, Node], dict[str, Pos], bool]]:
    """The node list at text[i] == "[": each node checked as the schema and the meaning
    checks would, and made into its engine Node. Returns the index after the list."""
    space, scan, scan_fast, valid_id = _SPACE.match, _SCAN, _SCAN_FAST, ID_PATTERN.fullmatch
    registry, node_keys = REGISTRY, _NODE_KEYS
    nodes: dict[str, Node] = {}
    positions: dict[str, Pos] = {}
    in_order = True
    i = space(text, i + 1).end()
    if text[i] == "]":
        return i + 1, (nodes, positions, in_order)
    while True:
        start = i
        d, i = scan_fast(text, i)
        if type(d) is not dict or not node_keys.issuperset(d):
            raise _GiveUp
        if "attrs" in d:  # any JSON at all: read again keeping pairs, to see a repeated key
            d = _plain(scan(text, start)[0])
        else:
            # Every string kept is checked free of ':' below (an id, an op, a port), so the
            # ':'s in the text are the key-value pairs read: more means a repeated key.
            wired = d.get("inputs")
            pairs = len(d) + (len(wired) if type(wired) is dict else 0)
            if text.count(":", start, i) != pairs:
                raise _GiveUp
        nid, op = d.get("id"), d.get("op")
        if type(nid) is not str or type(op) is not str or nid in nodes:
            raise _GiveUp
        if not (len(nid) <= 64 and nid.isascii() and nid.isidentifier()) and not valid_id(nid):
            raise _GiveUp  # the first test is a quicker sufficient one: letters, digits, _
        spec = registry.get(op)
        if spec is None:
            raise _GiveUp
        inputs: dict[str, str] = {}
        wired = d.get("inputs", inputs)
        if type(wired) is not dict:
            raise _GiveUp  # null or not an object
        if wired:
            wanted = 0  # read in the op's port order, keyed by the op's own port names
            for port in spec.inputs:
                src = wired.get(port)
                if src is None:
                    continue
                if type(src) is not str:
                    raise _GiveUp
                wanted += 1
                source = nodes.get(src)
                if source is None:
                    in_order = False  # a source listed later, or none: see _resolve
                    inputs[port] = src
                else:
                    inputs[port] = source.id
            if wanted != len(wired):
                raise _GiveUp  # a port the op does not have, or a null source
        if runnable and len(inputs) != len(spec.inputs):
            raise _GiveUp
        attrs: dict[str, Any] = {}
        if "attrs" in d:
            given = d["attrs"]
            if type(given) is not dict:
                raise _GiveUp
            if given:
                specs = spec.attrs
                if not specs.keys() >= given.keys():
                    raise _GiveUp
                for name, attr in specs.items():
                    value = given.get(name, attr.default)
                    if attr_value_problem(attr, value):
                        raise _GiveUp
                    if given.get(name) is not None:
                        attrs[name] = value
        pos = d.get("pos")
        if pos is not None:
            if type(pos) is not list or len(pos) != 2:
                raise _GiveUp
            x, y = pos
            if type(x) is not float or type(y) is not float:
                x, y = _number(x), _number(y)
            elif not (_FINITE(x) and _FINITE(y)):
                raise _GiveUp
            positions[nid] = (x, y)
        nodes[nid] = Node(nid, spec.name, inputs, attrs)
        c = text[i]
        if c in _BLANK:
            i = space(text, i).end()
            c = text[i]
        if c == ",":
            i += 1
            if text[i] in _BLANK:
                i = space(text, i).end()
        elif c == "]":
            return i + 1, (nodes, positions, in_order)
        else:
            raise _GiveUp
