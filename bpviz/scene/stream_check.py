"""The first problem of a big scene file, found node by node as the full route words it.

When the quick route (`stream`) gives up on a file, the full route reads it whole: a
million-node file with one mistake would need gigabytes and end as "out of memory". Here the
same checks, in the same order and with the same messages, run on one node at a time
(memory: the ids and wiring, not the parsed file), so the person learns the real mistake.

Order of the full route, kept here: JSON (left to it), header, structure (the fields before
`nodes`, then each node, then the rest), ids, each node's op, attrs and inputs, cycles,
output. Anything this module does not decide (bad JSON, a repeated key, an older version, a
problem found only by running) returns None: the full route then runs as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError

from bpviz.scene.codec import CURRENT_VERSION
from bpviz.scene.errors import SceneError
from bpviz.scene.migrate import check_header
from bpviz.scene.schema import NodeModel, SceneModel, structure_error
from bpviz.scene.stream import _SCAN, _SPACE, _GiveUp, _plain, _top_level
from bpviz.scene.validate import check_acyclic, check_id, check_node, check_output

MIN_CHARS = 1 << 20
"""Files this long or longer are checked here (about 12,000 nodes); smaller ones go to the
full route, which is quick for them."""

_BEFORE_NODES = frozenset(("format", "version", "name", "description", "output"))


def first_problem(text: str, runnable: bool) -> SceneError | None:
    """The error the full route would give for `text`, or None to leave it to that route."""
    try:
        return _first_problem(text, runnable)
    except (_GiveUp, StopIteration, ValueError, IndexError, RecursionError):
        return None


def _first_problem(text: str, runnable: bool) -> SceneError | None:
    top, span = _top_level(text, _skip_nodes)
    try:
        version = check_header(top)
    except SceneError as e:
        return e
    if version != CURRENT_VERSION:
        return None  # upgraded first, by the full route
    try:
        model = SceneModel.model_validate(top if span is None else {**top, "nodes": []})
        top_error = None
    except ValidationError as e:
        top_error = e
    if top_error is not None and (span is None or top_error.errors()[0]["loc"][0] in _BEFORE_NODES):
        return structure_error(top_error)  # first in the full route's order too
    if span is None:
        return None
    ids: dict[str, int] = {}
    id_error = None
    for i, node in enumerate(_nodes(text, span)):  # every node read: the JSON is all valid
        if type(node) is ValidationError:
            return structure_error(node, ("nodes", i))
        if id_error is None:
            try:
                check_id(node.id, i, ids)
            except SceneError as e:
                id_error = e
    if top_error is not None:
        return structure_error(top_error)
    if id_error is not None:
        return id_error
    wiring: dict[str, dict[str, str]] = {}
    try:
        for i, node in enumerate(_nodes(text, span)):
            check_node(node, i, ids, runnable)
            wiring[node.id] = node.inputs
        check_acyclic(wiring, ids)
        check_output(model.output, ids, runnable)
    except SceneError as e:
        return e
    return None  # the file means something: what remains is found by running it


def _skip_nodes(text: str, i: int) -> tuple[int, tuple[int, int]]:
    """The node list at text[i] == "[" read through (its JSON all valid), not kept: the
    index after it, and its span."""
    ends: list[int] = []
    for _ in _node_values(text, i, ends):
        pass
    return ends[0], (i, ends[0])


def _node_values(text: str, i: int, ends: list[int] | None = None) -> Iterator[Any]:
    """Each value of the JSON list at text[i] == "[" (objects as dicts; a repeated key gives
    up); the index after the list is appended to `ends`."""
    space = _SPACE.match
    i = space(text, i + 1).end()
    if text[i] != "]":
        while True:
            value, i = _SCAN(text, i)
            yield _plain(value)
            i = space(text, i).end()
            if text[i] == "]":
                break
            if text[i] != ",":
                raise _GiveUp
            i = space(text, i + 1).end()
    if ends is not None:
        ends.append(i + 1)


def _nodes(text: str, span: tuple[int, int]) -> Iterator[NodeModel | ValidationError]:
    """Each node as its model, or the ValidationError that refuses it."""
    for value in _node_values(text, span[0]):
        try:
            yield NodeModel.model_validate(value)
        except ValidationError as e:
            yield e
