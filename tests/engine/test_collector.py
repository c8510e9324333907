"""The cycle collector is paused while big graphs load and run, and always left as found."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from bpviz.engine.collector import collector_paused
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
