"""Run mode's clock: how long each tick may train, and when each live view is redrawn.

Run trains on the GUI thread in ticks of a zero-interval timer (training_ui says why not a
thread). A tick and the event loop's work since the previous tick (painting, input) together
take about FRAME_S, so the loop never waits much longer than a frame. That is wall time: on a
busy machine a pass of the loop that waited for a core leaves less of the frame to train in
(a gap the person sees is wall time), though never less than MIN_SLICE_S, so Run keeps going.

Views (the loss plot, the canvas overlays, the decision boundary) are redrawn one per tick, at
most every `every` seconds each, and less often when one redraw with the paint that follows it
would take more than VIEW_SHARE of the CPU time the program gets: on a busy machine, or for a
view that is slow to draw, the pictures change less often and training keeps its pace. Costs
are CPU time (time spent waiting for a core is nobody's cost); the share is of the CPU time
per second of wall time, measured as Run goes.

No Qt here: the clocks are passed in, so the rule is tested with made-up times.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

FRAME_S = 0.008  # a tick plus the loop's work around it: half a frame, so a paint or a
# busy machine stretching the pass still leaves it within one
MIN_SLICE_S = 0.001  # a tick trains at least this long, however long the loop before it took
VIEW_SHARE = 0.03  # at most this share of the CPU time for each live view
_RATE_WEIGHT = 0.1  # weight of the newest tick in the CPU-per-wall-second average


@dataclass
class _View:
    name: str
    every: float  # seconds between redraws at the most
    due: float = 0.0  # wall time from which it may be redrawn
    cost: float = 0.0  # CPU seconds of its last redraw and the paint after it


class RunClock:
    """Call `begin_tick` first in every tick, then either redraw `due_view()` and report it
    with `redrawn`, or train for `train_seconds()`; `end_tick` last."""

    def __init__(
        self,
        every: dict[str, float],
        wall: Callable[[], float] = time.perf_counter,
        cpu: Callable[[], float] = time.thread_time,
    ) -> None:
        self._views = [_View(name, seconds) for name, seconds in every.items()]
        self._wall, self._cpu = wall, cpu
        self.cpu_rate = 1.0  # CPU seconds the program gets per wall second
        self.loop_work = 0.0  # CPU time the event loop spent between the last two ticks
        self.loop_wall = 0.0  # and the wall time it took (more when it waited for a core)
        self._redrawn: _View | None = None  # redrawn last tick: its paint came since
        self._last_wall, self._last_cpu = wall(), cpu()
        self._tick_cpu = self._tick_end = self._last_cpu
        self._tick_end_wall = self._last_wall

    def begin_tick(self) -> None:
        wall, cpu = self._wall(), self._cpu()
        self.loop_work = max(0.0, cpu - self._tick_end)
        self.loop_wall = max(0.0, wall - self._tick_end_wall)
        if wall > self._last_wall:
            rate = min(1.0, max(0.0, (cpu - self._last_cpu) / (wall - self._last_wall)))
            self.cpu_rate += _RATE_WEIGHT * (rate - self.cpu_rate)
        self._last_wall, self._last_cpu, self._tick_cpu = wall, cpu, cpu
        view, self._redrawn = self._redrawn, None
        if view is not None:
            view.cost += self.loop_work
            share = VIEW_SHARE * max(self.cpu_rate, 0.05)
            view.due = wall + max(view.every, view.cost / share)

    def due_view(self) -> str | None:
        """The view to redraw in this tick, if one is due (the first listed wins)."""
        wall = self._wall()
        return next((v.name for v in self._views if v.due <= wall), None)

    def redrawn(self, name: str, cpu_seconds: float) -> None:
        """`name` was redrawn in this tick at that CPU cost; its paint is counted next tick."""
        view = next(v for v in self._views if v.name == name)
        view.cost, view.due = cpu_seconds, math.inf
        self._redrawn = view

    def skipped(self, name: str) -> None:
        """`name` is not on screen: ask again in its `every` seconds, at no cost."""
        view = next(v for v in self._views if v.name == name)
        view.due = self._wall() + view.every

    def train_seconds(self) -> float:
        """What is left of this tick's frame for training, at least MIN_SLICE_S."""
        loop = max(self.loop_work, self.loop_wall)
        return max(MIN_SLICE_S, FRAME_S - loop - (self._cpu() - self._tick_cpu))

    def end_tick(self) -> None:
        self._tick_end, self._tick_end_wall = self._cpu(), self._wall()
