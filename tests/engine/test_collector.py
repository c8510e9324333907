"""The cycle collector is paused while big graphs load and run, and always left as found;
what a long-lived load makes goes to the oldest generation unscanned, and still dies."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from bpviz.engine.collector import collector_paused, long_lived_load
from bpviz.engine.executor import Executor
from bpviz.engine.graph import Graph
from bpviz.scene import SceneError, parse_scene


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_paused_inside_and_enabled_again_after(collector_on: None) -> None:
    with collector_paused():
        assert gc.isenabled() is False
    assert gc.isenabled() is True


def test_enabled_again_after_an_error(collector_on: None) -> None:
    with pytest.raises(ZeroDivisionError), collector_paused():
        1 / 0  # noqa: B018
    assert gc.isenabled() is True


def test_left_off_when_it_was_off(collector_on: None) -> None:
    gc.disable()
    with collector_paused():
        pass
    assert gc.isenabled() is False


def test_a_failed_load_leaves_the_collector_on(collector_on: None) -> None:
    with pytest.raises(SceneError):
        parse_scene('{"format": "bpviz-scene", "version": 1, "output": "x", "nodes": [')
    assert gc.isenabled() is True


def _chain(n: int) -> Graph:
    g = Graph()
    g.add_node("x", "const", {"value": 0.5})
    for i in range(n):
        g.add_node(f"n{i}", "tanh", inputs={"x": f"n{i - 1}" if i else "x"})
    g.set_output(f"n{n - 1}")
    return g


def test_passes_over_big_plans_pause_it(collector_on: None, monkeypatch) -> None:
    seen: list[bool] = []
    ex = Executor(_chain(30))
    monkeypatch.setattr("bpviz.engine.executor.BIG", 31)  # the plan: x and 30 tanh
    real = ex._forward_pass

    def spy(plan):  # noqa: ANN001, ANN202
        seen.append(gc.isenabled())
        return real(plan)

    ex._forward_pass = spy
    ex.forward()
    monkeypatch.setattr("bpviz.engine.executor.BIG", 32)
    ex.forward()
    assert seen == [False, True]
    assert gc.isenabled() is True


def _in_generation(obj: object, generation: int) -> bool:
    return any(o is obj for o in gc.get_objects(generation=generation))


def test_what_a_long_lived_load_makes_joins_the_oldest_generation_unscanned(
    collector_on: None,
) -> None:
    with long_lived_load():
        assert gc.isenabled() is False
        made = [[i] for i in range(50_000)]  # far past the young generation's threshold
    assert gc.isenabled() is True
    assert gc.get_freeze_count() == 0  # moved on, not kept frozen
    more = [[i] for i in range(2_000)]  # young collections after the load scan only these
    assert _in_generation(made, 2) and _in_generation(made[-1], 2)
    assert not _in_generation(made, 0)
    del more


def test_garbage_made_by_a_long_lived_load_is_still_collected(collector_on: None) -> None:
    class Cycle:
        pass

    with long_lived_load():
        a, b = Cycle(), Cycle()
        a.other, b.other = b, a  # a reference cycle: only the collector frees it
        gone = weakref.ref(a)
    del a, b
    gc.collect()
    assert gone() is None


def test_a_long_lived_load_leaves_the_collector_as_found_and_others_frozen(
    collector_on: None,
) -> None:
    with pytest.raises(ZeroDivisionError), long_lived_load():
        1 / 0  # noqa: B018
    assert gc.isenabled() is True
    gc.disable()
    with long_lived_load():
        pass
    assert gc.isenabled() is False
    gc.enable()
    kept = [[1]]
    gc.freeze()  # someone else's choice: left alone
    try:
        frozen = gc.get_freeze_count()
        with long_lived_load():
            made = [[2]]
        assert gc.get_freeze_count() == frozen
        assert _in_generation(made, 0)
    finally:
        gc.unfreeze()
    del kept
