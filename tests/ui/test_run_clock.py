"""RunClock's rule, with made-up clocks: a tick fills what the event loop left of the frame,
and a view is redrawn at most every `every` seconds and within its share of the CPU time."""

from __future__ import annotations

import pytest

from bpviz.ui import run_clock
from bpviz.ui.run_clock import RunClock


class Clocks:
    """Wall and CPU time that move only when told to."""

    def __init__(self) -> None:
        self.wall = self.cpu = 100.0

    def spend(self, cpu: float, wall: float | None = None) -> None:
        """`cpu` seconds of work, taking `wall` seconds (more when waiting for a core)."""
        self.cpu += cpu
        self.wall += cpu if wall is None else wall


def clock_with(clocks: Clocks, **every: float) -> RunClock:
    return RunClock(every, wall=lambda: clocks.wall, cpu=lambda: clocks.cpu)


@pytest.fixture(autouse=True)
def known_constants(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(run_clock, "FRAME_S", 0.012)
    monkeypatch.setattr(run_clock, "VIEW_SHARE", 0.03)
    monkeypatch.setattr(run_clock, "MIN_SLICE_S", 0.001)


def test_a_tick_trains_for_what_the_loop_left_of_the_frame() -> None:
    t = Clocks()
    clock = clock_with(t)
    clock.begin_tick()
    assert clock.train_seconds() == pytest.approx(0.012)
    t.spend(0.012)
    clock.end_tick()
    t.spend(0.004)  # a paint between two ticks
    clock.begin_tick()
    assert clock.loop_work == pytest.approx(0.004)
    assert clock.train_seconds() == pytest.approx(0.008)
    t.spend(0.008)
    clock.end_tick()
    t.spend(0.002, wall=0.005)  # a pass that waited 3 ms for a core: the frame is wall time
    clock.begin_tick()
    assert (clock.loop_work, clock.loop_wall) == pytest.approx((0.002, 0.005))
    assert clock.train_seconds() == pytest.approx(0.007)
    t.spend(0.007)
    clock.end_tick()
    t.spend(0.002, wall=0.050)  # longer than the frame: the shortest slice, Run goes on
    clock.begin_tick()
    assert clock.train_seconds() == pytest.approx(run_clock.MIN_SLICE_S)


def test_views_are_due_one_per_tick_and_then_every_so_often() -> None:
    t = Clocks()
    clock = clock_with(t, plot=0.5, boundary=1.0)
    redrawn = []
    for _ in range(4):  # at the start every view is due: the first listed first
        clock.begin_tick()
        view = clock.due_view()
        if view is not None:
            redrawn.append(view)
            t.spend(0.001)  # cheap: `every` decides, not the share
            clock.redrawn(view, 0.001)
        clock.end_tick()
        t.spend(0.0001)
    assert redrawn == ["plot", "boundary"]
    t.spend(0.0, wall=0.5)
    clock.begin_tick()
    assert clock.due_view() == "plot"
    t.spend(0.0, wall=0.5)
    clock.begin_tick()
    assert clock.due_view() == "plot"  # both due: one per tick, the first listed wins


def test_a_costly_view_waits_until_its_cost_is_its_share_of_the_cpu() -> None:
    t = Clocks()
    clock = clock_with(t, plot=0.5)
    clock.begin_tick()
    assert clock.due_view() == "plot"
    t.spend(0.010)  # the redraw
    clock.redrawn("plot", 0.010)
    clock.end_tick()
    assert clock.due_view() is None  # not before its paint is counted
    t.spend(0.020)  # its paint, in the loop after the tick
    clock.begin_tick()
    start = t.wall
    # 30 ms of CPU at 3 % of a whole core: next after 1 s, not after `every` (0.5 s)
    t.spend(0.0, wall=0.999)
    assert clock.due_view() is None
    t.spend(0.0, wall=0.002)
    assert clock.due_view() == "plot" and t.wall - start == pytest.approx(1.001)


def test_on_a_busy_machine_views_wait_longer() -> None:
    t = Clocks()
    clock = clock_with(t, plot=0.5)
    for _ in range(200):  # the program gets a quarter of a core: 3 ms of CPU per 12 ms
        clock.begin_tick()
        t.spend(0.003, wall=0.012)
        clock.end_tick()
    assert clock.cpu_rate == pytest.approx(0.25, abs=0.01)
    clock.begin_tick()
    assert clock.due_view() == "plot"
    clock.redrawn("plot", 0.010)
    clock.end_tick()
    t.spend(0.020, wall=0.080)
    clock.begin_tick()
    start = t.wall
    # 30 ms of CPU may be 3 % of the CPU time it gets: 0.75 % of the wall time, 4 s
    t.spend(0.0, wall=3.9)
    assert clock.due_view() is None
    t.spend(0.0, wall=0.2)
    assert clock.due_view() == "plot"
    assert t.wall - start == pytest.approx(4.1)


def test_a_view_off_screen_is_asked_again_after_its_every_at_no_cost() -> None:
    t = Clocks()
    clock = clock_with(t, plot=0.5, boundary=1.0)
    clock.begin_tick()
    assert clock.due_view() == "plot"
    clock.skipped("plot")  # not drawn: the next due view is the boundary, in the same tick
    assert clock.due_view() == "boundary"
    clock.skipped("boundary")
    assert clock.due_view() is None
    assert clock.train_seconds() == pytest.approx(0.012)  # a skipped view costs the frame nothing
    t.spend(0.012)
    clock.end_tick()
    t.spend(0.476)  # 0.488 s after the skip
    clock.begin_tick()
    assert clock.due_view() is None
    t.spend(0.013)
    assert clock.due_view() == "plot"
