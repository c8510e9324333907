"""The window's training controls: step buttons, Run/Pause, speed, and keeping the canvas
overlays and plots in step with the TrainingController.

Run mode trains on the GUI thread in frame-sized slices from a zero-interval QTimer; RunClock
decides how long each tick trains and when each view is redrawn (a few times a second, less
often when that would take more than a small share of the CPU).

Why not a worker thread: a step of a small network is Python bound (numpy releases the GIL
only for large arrays), so two threads stepping two sessions make fewer steps together than
one thread alone, and the window would wait for the GIL on every paint.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QWidget

from bpviz.engine.errors import plural
from bpviz.engine.executor import NodeGrad, NodeValue
from bpviz.model.snapshots import SnapshotStore
from bpviz.model.training import Phase, TrainingController
from bpviz.ui.actions import ActionRegistry, ActionSpec
from bpviz.ui.boundary import BoundaryView
from bpviz.ui.canvas.items import Mark
from bpviz.ui.canvas.numbers import (
    format_number,
    largest_magnitude,
    magnitude,
    scalar_of,
    sign_colour,
)
from bpviz.ui.canvas.overlays import NodeNumbers
from bpviz.ui.canvas.scene import CanvasScene
from bpviz.ui.landscape import LandscapeView
from bpviz.ui.on_screen import on_screen
from bpviz.ui.plots import LossPlot
from bpviz.ui.run_clock import RunClock
from bpviz.ui.theme import GRAD_POSITIVE
from bpviz.ui.timeline import TimelineWidget

# phases in which the next node of a pass is outlined
STEPPING = (Phase.FORWARD, Phase.BACKWARD, Phase.FORWARD_DONE)

TICK_MS = 8  # Run mode below full speed: a tick every 8 ms trains the steps that are due
SLICE_S = 0.006  # seconds of training per slice below full speed (and for `render`)
# Redrawing is what costs (a redraw and its paint take 5-15 ms): at most this often, one view
# per tick so that no two heavy redraws land in one pass of the event loop (see RunClock)
PLOT_EVERY_S = 0.5
OVERLAY_EVERY_S = 0.5
BOUNDARY_EVERY_S = 1.0
# speed 1..10: steps per second in Run mode (10 = as fast as possible) and animation length
RUN_RATES = (1, 2, 5, 10, 25, 50, 100, 250, 1000, None)
ANIMATION_MS = (1400, 1200, 1000, 850, 700, 550, 420, 300, 200, 120)

PHASE_TEXT = {
    "idle": "Ready — press Forward, Next Node or Run",
    "forward": "Forward pass: next node {next}",
    "forward_done": "Forward pass done: values fresh, gradients not computed",
    "backward": "Backward pass: next node {next}",
    "backward_done": "Backward pass done: gradients fresh",
    "updated": "Parameters updated: values and gradients are from before the update",
    "stale": "The graph changed: values and gradients are stale",
    "error": "Stopped: {error}",
}


@dataclass(frozen=True)
class TrainingViews:
    """The views that follow training: redrawn at display rate, moved by scrubbing."""

    loss_plot: LossPlot
    timeline: TimelineWidget
    landscape: LandscapeView
    boundary: BoundaryView


class TrainingUI(QObject):
    """Registers the training actions (forward, backward, update, step, next_node, run, reset,
    check, animate) and keeps the canvas overlays and `views` in step with the controller."""

    numbers_shown = Signal()  # the overlays show new numbers (the inspector follows)

    def __init__(
        self,
        canvas: CanvasScene,
        views: TrainingViews,
        registry: ActionRegistry,
        show_status: Callable[[str], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self.views = views
        self.show_status = show_status
        self.controller: TrainingController | None = None
        self.speed = 7
        self.last_error = ""
        self._check: dict[str, bool] = {}
        self._marked: dict[str, Mark] = {}  # the outlines shown (_mark_active)
        self._batch = False  # steps() is under way: the loss plot redraws once at its end
        self._settings_edit = False  # the next document change is a training-settings edit
        self._partial: dict[str, np.ndarray] = {}
        self._run_timer = QTimer(self)
        self._run_timer.setInterval(TICK_MS)
        self._run_timer.timeout.connect(self._tick)
        self._clock: RunClock | None = None  # Run mode's, from run() on
        self._run_started = 0.0  # perf_counter when Run (or its current rate) started
        self._run_steps = 0
        # full snapshots only from the refreshes Run makes anyway: computing one every 50
        # steps on a fresh executor cost Run several per cent of its rate; the timeline
        # computes a light one's numbers when it is shown
        self.snapshots = SnapshotStore(full_every=None)
        self._detach_snapshots = None
        self._scrubbed = None  # the Snapshot the timeline shows, or None for the live state
        views.timeline.set_store(self.snapshots)
        views.timeline.scrubbed.connect(self._show_snapshot)
        views.timeline.returned_to_latest.connect(lambda: self._show_snapshot(None))
        canvas.value_dragged.connect(self.replay_passes)
        registry.add_all(self._action_specs())
        self.act_run = registry["run"]
        self._build_speed_widget()
        # for the status bar's permanent side: the pass and next node stay readable while
        # other messages come and go
        self.status = QLabel()

    # ---- actions -------------------------------------------------------------------------
    def _action_specs(self) -> list[ActionSpec]:
        A = ActionSpec
        return [
            A("forward", "&Forward", self.forward, "Ctrl+1",
              "Run the forward pass: every node's value"),
            A("backward", "&Backward", self.backward, "Ctrl+2",
              "Run the backward pass: every gradient"),
            A("update", "&Update", self.update, "Ctrl+3",
              "One optimizer step with the current gradients"),
            A("step", "&Step", self.step, "Ctrl+Return", "Forward, backward and update"),
            A("next_node", "&Next Node", self.next_node, "N", "Advance the pass by one node"),
            A("run", "&Run", self.toggle_run, "F5", "Train continuously (F5 again pauses)",
              checkable=True),
            A("reset", "Rese&t", self.reset, "Ctrl+Shift+R",
              "New initial parameters; clear the history"),
            A("check", "&Check Gradients", self.check_gradients, "Ctrl+Shift+G",
              "Compare every gradient with finite differences"),
            A("animate", "&Animate Passes", self.set_animations, "Ctrl+Shift+A",
              "Animate values and gradients travelling along the wires",
              checkable=True, checked=True),
        ]  # fmt: skip

    def _build_speed_widget(self) -> None:
        self.speed_slider = QSlider(Qt.Orientation.Horizontal)
        self.speed_slider.setRange(1, len(RUN_RATES))
        self.speed_slider.setValue(self.speed)
        self.speed_slider.setFixedWidth(110)
        self.speed_slider.setToolTip("Speed of Run mode and of the animations")
        self.speed_slider.valueChanged.connect(self.set_speed)
        self.speed_widget = QWidget()
        layout = QHBoxLayout(self.speed_widget)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.addWidget(QLabel("Speed"))
        layout.addWidget(self.speed_slider)

    # ---- binding -------------------------------------------------------------------------
    def set_controller(self, controller: TrainingController) -> None:
        self.pause()
        if self.controller is not None:
            for signal, slot in self._connections():
                signal.disconnect(slot)
            self.controller.close()
        self.controller = controller
        self._check = {}
        if self._detach_snapshots is not None:
            self._detach_snapshots()
        self.snapshots.clear()
        self._detach_snapshots = self.snapshots.attach(controller)
        self.views.timeline.redraw()  # the previous document's steps are gone
        self.views.timeline.go_latest()
        for signal, slot in self._connections():
            signal.connect(slot)
        self.views.loss_plot.set_history(controller.history)
        self.views.landscape.set_controller(controller)
        self.canvas.neurons.set_controller(controller)
        self._bind_boundary()
        self._phase_changed()
        self.sync_overlays()
        if controller.data_error:
            self.show_status(f"Data not loaded: {controller.data_error}")

    def _connections(self) -> list:
        c = self.controller
        return [
            (c.values_changed, self._values_changed),
            (c.node_stepped, self._node_stepped),
            (c.trained, self._trained),
            (c.history_reset, self._history_reset),
            (c.failed, self._failed),
            (c.phase_changed, self._phase_changed),
            (c.restarted, self._restarted),
            (c.document.state_restored, self._state_restored),
            (c.document.training_changed, self._training_changed),
            (c.document.changed, self._document_changed),
        ]

    def _training_changed(self, _training: object) -> None:
        # a settings edit that keeps the weights applies from the next step: Run goes on
        # (one that restarts training says so through `restarted`)
        self._settings_edit = True

    def _document_changed(self) -> None:
        """An edit while running: pause before another step uses the changed graph."""
        settings_edit, self._settings_edit = self._settings_edit, False
        if settings_edit:
            self._phase_changed()
            return
        self._check = {}
        self._partial = {}
        self.canvas.pulses.stop_all()
        if self.running:
            self.pause("Training paused: the graph changed")
        self._values_changed()

    def _state_restored(self, _state: object) -> None:
        """Undo of a restarting edit put the learned weights back: show what they predict."""
        self.views.boundary.redraw()

    def _restarted(self, reason: str) -> None:
        """Data, transforms or the seed changed: the learned state is gone. Run stops, the
        person is told, and the views show the new data before any training."""
        self._check = {}
        self._partial = {}
        self.canvas.pulses.stop_all()
        if self._scrubbed is not None:
            self.views.timeline.go_latest()
        if self.running:
            self._stop_run()
            reason = f"Training paused. {reason}"
        self._bind_boundary()
        self.refresh_views()
        self._phase_changed()
        self.show_status(reason)

    def _bind_boundary(self) -> None:
        c = self.controller
        graph = c.document.graph
        out = graph.nodes.get(graph.output) if graph.output else None
        pred = out.inputs.get("pred") if out is not None else None
        self.views.boundary.set_session(c.session, pred)

    # ---- commands ------------------------------------------------------------------------
    def _before(self) -> TrainingController | None:
        self._check = {}
        self._partial = {}
        if self._scrubbed is not None:  # acting resumes from the latest state
            self.views.timeline.go_latest()
        return self.controller

    def replay_passes(self, node_id: str = "") -> None:
        """Redo the passes whose numbers are on show (after a value was dragged on the
        canvas), so the output and, if shown, the gradients follow the drag live."""
        c = self.controller
        if c is None:
            return
        if c.grads:
            self.backward()
        elif c.values:
            self.forward()

    def forward(self) -> None:
        if (c := self._before()) is not None:
            self.pause()
            c.forward()

    def backward(self) -> None:
        if (c := self._before()) is not None:
            self.pause()
            c.backward()

    def update(self) -> None:
        if (c := self._before()) is not None:
            self.pause()
            if c.update() is not None:
                self.refresh_views()

    def step(self) -> None:
        if (c := self._before()) is not None:
            self.pause()
            if c.step() is not None:
                c.refresh()
                self.refresh_views()

    def steps(self, n: int) -> None:
        """`n` optimizer steps at once (a lesson's probe), with the views redrawn once at the
        end rather than per step, as Run does."""
        if (c := self._before()) is None:
            return
        self.pause()
        self._batch = True
        try:
            c.run_for(float("inf"), max_steps=n)
        finally:
            self._batch = False
        if c.phase != Phase.ERROR and c.refresh():
            self.views.loss_plot.redraw()
            self.refresh_views()

    def next_node(self) -> None:
        if (c := self._before()) is not None:
            self.pause()
            c.next_step()

    def reset(self) -> None:
        if (c := self._before()) is not None:
            self.pause()
            c.reset()
            self.refresh_views()

    def check_gradients(self) -> None:
        if (c := self._before()) is None:
            return
        self.pause()
        try:
            self._check = c.check_gradients()
        except Exception as e:  # noqa: BLE001 - any engine failure is reported, never raised
            self.show_status(f"Gradient check failed to run: {e}")
            return
        bad = sorted(n for n, ok in self._check.items() if not ok)
        self.show_status(
            f"Gradients disagree at: {', '.join(bad)}"
            if bad
            else f"All {plural(len(self._check), 'checked gradient')} agree with finite "
            f"differences, which took {c.check_passes} forward passes "
            "(two per number); backpropagation needed one backward pass"
        )
        self.sync_overlays()

    def set_animations(self, on: bool) -> None:
        self.canvas.pulses.enabled = on
        if not on:
            self.canvas.pulses.stop_all()

    def set_speed(self, speed: int) -> None:
        self.speed = speed
        self.canvas.pulses.duration_ms = ANIMATION_MS[speed - 1]
        if self.running:  # from here on the new rate counts
            self._run_started, self._run_steps = time.perf_counter(), 0
            self._set_tick_interval()

    def _set_tick_interval(self) -> None:
        # full speed ticks whenever the loop is idle; a set rate needs no busy loop
        self._run_timer.setInterval(0 if RUN_RATES[self.speed - 1] is None else TICK_MS)

    # ---- Run mode ------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._run_timer.isActive()

    def toggle_run(self) -> None:
        if self.running:
            self.pause()
        else:
            self.run()

    def run(self) -> None:
        if self.controller is None or self.running:
            return
        if self._scrubbed is not None:
            self.views.timeline.go_latest()
        self._check = {}
        self.canvas.pulses.stop_all()
        self._run_started = time.perf_counter()
        self._clock = RunClock(
            {"plot": PLOT_EVERY_S, "overlays": OVERLAY_EVERY_S, "boundary": BOUNDARY_EVERY_S}
        )
        self._run_steps = 0
        self._set_tick_interval()
        self._run_timer.start()
        self.views.landscape.set_running(True)
        self.act_run.setChecked(True)
        self.act_run.setText("&Pause")
        self._phase_changed()

    def pause(self, reason: str = "") -> None:
        if not self.running:
            return
        self._stop_run()
        if self.controller is not None and self.controller.phase != Phase.ERROR:
            self.controller.refresh()
        self.refresh_views()
        self._phase_changed()
        if reason:
            self.show_status(reason)

    def _stop_run(self) -> None:
        self._run_timer.stop()
        self.act_run.setChecked(False)
        self.act_run.setText("&Run")
        self.views.landscape.set_running(False)  # it catches up with where training ended

    def _tick(self) -> None:
        """One pass of Run mode: redraw the view that is due (its paint follows in the same
        pass of the event loop) or train for what RunClock leaves of the frame."""
        clock, c = self._clock, self.controller
        clock.begin_tick()
        if c.phase == Phase.ERROR:
            return  # _failed has paused and said why
        view = clock.due_view()
        if view is not None and not self._view_on_screen(view):
            clock.skipped(view)  # a closed dock, or a tab behind another: it catches up later
        elif view is not None:
            started = time.thread_time()
            self._redraw_view(view)
            clock.redrawn(view, time.thread_time() - started)
        else:
            budget, seconds = 1_000_000, clock.train_seconds()
            rate = RUN_RATES[self.speed - 1]
            if rate is not None:  # throttle: only as many steps as the rate allows so far
                due = int((time.perf_counter() - self._run_started) * rate) + 1
                budget, seconds = max(0, due - self._run_steps), SLICE_S
            if budget > 0 and seconds > 0:
                self._run_steps += len(c.run_for(seconds, max_steps=budget))
        clock.end_tick()

    def _view_on_screen(self, view: str) -> bool:
        if view == "plot":
            return on_screen(self.views.loss_plot) or on_screen(self.views.timeline)
        return view != "boundary" or on_screen(self.views.boundary)

    def _redraw_view(self, view: str) -> None:
        if view == "plot":
            self.views.loss_plot.catch_up(self.controller.history)
            self.views.loss_plot.redraw()
            self.views.timeline.redraw()
            self._phase_changed()
        elif view == "overlays":
            self.controller.refresh()
        else:
            self.views.boundary.redraw()

    # ---- reacting to the controller ------------------------------------------------------
    def _values_changed(self) -> None:
        self.sync_overlays()

    def _trained(self, _result: object) -> None:
        if self.running:
            return  # the plot takes the new steps when it is redrawn (_redraw_view)
        self.views.loss_plot.catch_up(self.controller.history)
        if not self._batch:
            self.views.loss_plot.redraw()

    def _history_reset(self) -> None:
        self.views.loss_plot.set_history(self.controller.history)

    def _failed(self, node_id: str, message: str) -> None:
        self.last_error = message
        self.pause()
        self.canvas.pulses.stop_all()
        self.show_status(f"Stopped: {message}")
        self.sync_overlays()

    def _phase_changed(self) -> None:
        c = self.controller
        if c is None:
            return
        if self.running:
            h = c.history
            text = (
                f"Running — step {h.step[-1]}, training-set loss {format_number(h.loss[-1])}"
                if len(h)
                else "Running…"
            )
        else:
            text = PHASE_TEXT[c.phase].format(next=c.next_node or "—", error=self.last_error)
            if len(c.history):
                loss = format_number(c.history.loss[-1])
                text += f"  ·  step {c.history.step[-1]}, training-set loss after it {loss}"
        self.status.setText(text)
        self._mark_active()

    def _mark_active(self) -> None:
        """Outline the nodes that need it (error > gradient check > next node); only nodes
        whose outline changes are touched."""
        c = self.controller
        marks = {n: Mark.CHECK_OK if ok else Mark.CHECK_BAD for n, ok in self._check.items()}
        if c.phase in STEPPING and c.next_node is not None:
            marks.setdefault(c.next_node, Mark.ACTIVE)
        if c.phase == Phase.ERROR and c.error_node is not None:
            marks[c.error_node] = Mark.ERROR
        items = self.canvas.node_items
        for node_id in self._marked.keys() | marks.keys():
            item = items.get(node_id)
            if item is not None:
                item.set_mark(marks.get(node_id))
        self._marked = marks

    def _node_stepped(self, step: NodeValue | NodeGrad) -> None:
        canvas = self.canvas
        if isinstance(step, NodeValue):
            for port, src, value in step.inputs:
                edge = canvas.edge_items.get((src, step.node_id, port))
                if edge is not None:
                    label = format_number(scalar_of(value)) if value.size == 1 else f"{value.shape}"
                    canvas.pulses.send(edge, label, GRAD_POSITIVE.darker(150), backward=False)
            return
        for c in step.contributions:
            edge = canvas.edge_items.get((c.src, c.dst, c.port))
            partial = self._partial.get(c.src)
            self._partial[c.src] = c.grad if partial is None else partial + c.grad
            if edge is not None:
                label = (
                    format_number(scalar_of(c.grad))
                    if c.grad.size == 1
                    else f"‖{magnitude(c.grad):.3g}‖"
                )
                canvas.pulses.send(edge, label, sign_colour(c.grad), backward=True)

    def _show_snapshot(self, snapshot) -> None:  # noqa: ANN001 - a Snapshot or None
        """Scrubbing: overlays and the loss plot show that moment; None: the live state."""
        self._scrubbed = snapshot
        self.views.loss_plot.set_marker(None if snapshot is None else snapshot.step)
        params = None if snapshot is None else snapshot.params
        self.views.landscape.show_moment(params)
        self.views.boundary.show_moment(params)
        self.canvas.neurons.show_moment(snapshot)
        self.sync_overlays()

    def refresh_views(self) -> None:
        self.views.timeline.redraw()
        if self.controller is not None:
            self.views.loss_plot.catch_up(self.controller.history)
        self.views.loss_plot.redraw()
        self.views.boundary.redraw()
        self.sync_overlays()

    def sync_overlays(self) -> None:
        """Publish the controller's numbers for every node and wire; each takes its own when
        it is seen (overlays.py), so a pass costs what is on screen, not the whole graph."""
        c = self.controller
        if c is None:
            return
        if self._scrubbed is not None:
            self._show_scrubbed(self._scrubbed)
            return
        stale = c.phase in (Phase.STALE, Phase.UPDATED)
        partials = self._partial

        def node(node_id: str) -> NodeNumbers:
            grad = c.grad(node_id)
            partial = grad is None and node_id in partials
            shown = partials[node_id] if partial else grad
            return c.value(node_id), shown, stale or partial, c.gradient_flag(node_id)

        contributions = c.contributions
        self.canvas.publish(
            node,
            contributions.get,
            lambda: largest_magnitude(contributions.values()),
            c.chain_term,
        )
        self._mark_active()
        self.numbers_shown.emit()

    def _show_scrubbed(self, snap) -> None:  # noqa: ANN001 - a Snapshot
        """A moment from the timeline: its stored numbers, nothing live."""
        values, grads, edges = snap.values or {}, snap.grads or {}, snap.contributions or {}
        stale = not snap.full

        def node(node_id: str) -> NodeNumbers:
            return values.get(node_id), grads.get(node_id), stale, None

        self.canvas.publish(node, edges.get, lambda: largest_magnitude(edges.values()))

    def shutdown(self) -> None:
        """Closing: stop training and animations; nothing may fire into a dead window."""
        self._run_timer.stop()
        self.canvas.neurons.set_controller(None)
        self.canvas.pulses.stop_all()
        if self.controller is not None:
            for signal, slot in self._connections():
                signal.disconnect(slot)
            self.controller.close()
            self.controller = None
        if self._detach_snapshots is not None:
            self._detach_snapshots()
            self._detach_snapshots = None
        self.views.landscape.set_controller(None)
