"""A big file with a mistake says what the mistake is, in the words a small file gets, and
without reading the whole file into objects (the full route is not used for it)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from bpviz.scene import SceneError, document, parse_scene, stream_check
from tests.scene.helpers import node, scalar_scene
from tests.scene.test_errors import CASES

Scene = dict[str, Any]


def _message(scene: Scene) -> str:
    with pytest.raises(SceneError) as info:
        parse_scene(json.dumps(scene))
    return str(info.value)


@pytest.fixture
def checked_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file goes through the node-by-node check, and the full route may not word it."""
    monkeypatch.setattr(stream_check, "MIN_CHARS", 0)

    def whole_file(text: str) -> Any:
        raise AssertionError("the full route read the file")

    monkeypatch.setattr(document, "parse_json", whole_file)


# the table's mistakes that this check decides (the rest are words of the full route:
# versions to upgrade, and problems found only by running the scene)
DECIDED = [
    c
    for c in CASES
    if not any(
        word in c[3] for word in ("version", "incompatible", "cannot", "target", "training")
    )
    and not c[3].startswith(("data", "state", "training"))
]


@pytest.mark.parametrize(
    ("factory", "mutate", "expected"), [c[1:] for c in DECIDED], ids=[c[0] for c in DECIDED]
)
def test_the_table_of_mistakes_reads_the_same(
    checked_here: None,
    factory: Callable[[], Scene],
    mutate: Callable[[Scene], None],
    expected: str,
) -> None:
    scene = factory()
    mutate(scene)
    assert _message(scene).removeprefix("<scene>: ").startswith(expected)


def _padded(scene: Scene, extra: int = 15_000) -> Scene:
    """The scene with `extra` valid nodes more after its own: over MIN_CHARS of text."""
    scene["nodes"] += [node(f"pad{i}", "const", attrs={"value": 0.5}) for i in range(extra)]
    return scene


def _sets(path: str, value: Any) -> Callable[[Scene], None]:
    *parents, last = [int(k) if k.isdigit() else k for k in path.split("/")]

    def mutate(d: Scene) -> None:
        for key in parents:
            d = d[key]
        d[last] = value

    return mutate


@pytest.mark.parametrize(
    "mutate",
    [
        _sets("nodes/2/op", "foo"),  # unknown op
        _sets("nodes/3/inputs/a", "nowhere"),  # no such source
        _sets("nodes/2/id", "w"),  # duplicate id
        _sets("nodes/0/pos", [1]),  # structure
        _sets("nodes/1/attrs/value", "x"),  # attr
        _sets("output", "gone"),  # output
        _sets("colour", "red"),  # unknown top-level key
        _sets("nodes/3/inputs/a", "L"),  # cycle m -> ... -> L -> m
    ],
    ids=["op", "source", "duplicate", "pos", "attr", "output", "top key", "cycle"],
)
def test_a_big_file_gets_the_small_files_message(
    monkeypatch: pytest.MonkeyPatch, mutate: Callable[[Scene], None]
) -> None:
    small = scalar_scene()
    mutate(small)
    expected = _message(small)  # the full route's words: the file is small
    big = _padded(scalar_scene())
    mutate(big)
    assert len(json.dumps(big)) > stream_check.MIN_CHARS
    monkeypatch.setattr(document, "parse_json", lambda text: pytest.fail("read whole"))
    assert _message(big) == expected


def test_the_first_problem_in_the_full_routes_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """An id mistake early, a structure mistake at the very end: structure is checked first."""
    big = _padded(scalar_scene())
    big["nodes"][2]["id"] = "w"
    big["nodes"][-1]["pos"] = "here"
    assert _message(big) == "<scene>: nodes[15005].pos: expected a list, got 'here'"
    big["nodes"][-1]["pos"] = [0.0, 0.0]
    big["nodes"][-1]["op"] = "nope"  # meaning: after ids
    assert _message(big) == "<scene>: nodes[2].id: duplicate id 'w' (already used by nodes[1])"


def test_a_node_list_given_twice_is_left_to_the_full_route() -> None:
    """A repeated key is the JSON reader's to word (the full route's "repeated key"), not
    a mistake in one of the lists."""
    scene = scalar_scene()
    scene["nodes"][0]["op"] = "nope"
    text = json.dumps(scene).replace('"nodes": [', '"nodes": [], "nodes": [', 1)
    assert '"nodes": [], "nodes": [' in text
    assert stream_check.first_problem(text, runnable=True) is None
