"""Which layers are opened into neurons, and keeping their tiles and weights up to date.

The canvas scene owns one `NeuronViews`. It listens to the document (a layer removed or
resized, wires changed, weights set) and to the training controller (new values, a backward
step, a training step), and repaints at display rate: a timer refreshes the maps of every
opened layer at most every REFRESH_MS while training marks them stale, in one batched forward
pass over the plane (`NeuronMaps`), so Run keeps its pace.

A pass's numbers (Σδ, badges, gradient dots, weights coloured by ∂L/∂w) from before an edit
of the graph or of a weight are veiled, as a node's are, until the next pass; the maps, the
biases and the weights' own colours are read from the current parameters and stay live.
While the timeline shows an earlier step (`show_moment`), everything comes from that step's
snapshot instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QGraphicsSimpleTextItem

from bpviz.engine.errors import BpvizError
from bpviz.engine.executor import NodeGrad
from bpviz.model.commands import Command
from bpviz.model.neurons import LayerNumbers, NeuronMaps, unit_health, value_bars
from bpviz.model.scalar_ops import expand_command, expand_problem
from bpviz.model.snapshots import Snapshot
from bpviz.model.training import Phase
from bpviz.ui.boundary import class_colour
from bpviz.ui.canvas.neurons import NeuronLayerItem, TileData, map_images, unit_scale
from bpviz.ui.canvas.weights import WeightsItem
from bpviz.ui.theme import current_theme

if TYPE_CHECKING:
    from bpviz.model.document import Document
    from bpviz.model.training import TrainingController


class Canvas(Protocol):
    """What the neuron views need of the canvas scene that owns them (which imports this
    module, so it is described here rather than imported)."""

    node_items: dict[str, Any]  # node id -> NodeItem
    status: Any  # Signal(str): a message for the status bar
    value_dragged: Any  # Signal(str): numbers on show must be recomputed
    pulses: Any  # Pulses: `enabled`, `duration_ms`

    def addItem(self, item: Any) -> None: ...  # noqa: N802 - Qt's name

    def push(self, command: Command) -> bool: ...

    def select(self, node_ids: list[str]) -> None: ...


REFRESH_MS = 80  # maps of opened layers: up to 12 refreshes a second (≥ 10 with timer slack)
OPENABLE = ("dense", "input")
COUNT_FONT = QFont()
COUNT_FONT.setPointSizeF(8.0)
COUNT_FONT.setBold(True)


class NeuronViews(QObject):
    def __init__(self, scene: Canvas) -> None:
        super().__init__(scene)
        self.scene = scene
        self.document: Document | None = None
        self.controller: TrainingController | None = None
        self.panels: dict[str, NeuronLayerItem] = {}
        self.weights: dict[str, WeightsItem] = {}
        self.counts: dict[str, QGraphicsSimpleTextItem] = {}  # "3 of 16 dead" under a node
        self.numbers: dict[str, LayerNumbers] = {}
        self.refreshes = 0  # map refreshes so far (the benchmark reads it)
        self._maps: NeuronMaps | None = None
        self._dirty = False
        self._pending = False
        self._points: tuple = (None, [])  # training points in the box, and their colours
        self.moment: Snapshot | None = None  # the timeline's scrubbed step; None: live
        self._edited = False  # weights or wires changed since the controller's last pass
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._tick)

    # ---- binding -------------------------------------------------------------------------
    _DOC_SIGNALS = ("node_removed", "edge_added", "edge_removed", "attr_changed", "params_set")

    def set_document(self, document: Document) -> None:
        """A new document: the scene has cleared its items (ours with them)."""
        if self.document is not None:
            for name in self._DOC_SIGNALS:
                getattr(self.document, name).disconnect(getattr(self, f"_on_{name}"))
        for item in self.weights.values():
            item.stop()
        self.panels, self.weights, self.counts, self.numbers = {}, {}, {}, {}
        self._maps, self._points = None, (None, [])
        self.moment, self._edited = None, False
        self._timer.stop()
        self.document = document
        for name in self._DOC_SIGNALS:
            getattr(document, name).connect(getattr(self, f"_on_{name}"))

    def set_controller(self, controller: TrainingController | None) -> None:
        if self.controller is not None:
            for signal, slot in self._controller_signals(self.controller):
                signal.disconnect(slot)
        self.controller = controller
        self._maps, self._points = None, (None, [])
        self.moment, self._edited = None, False
        if controller is None:
            self._timer.stop()  # closing: nothing left to refresh
        if controller is not None:
            for signal, slot in self._controller_signals(controller):
                signal.connect(slot)
        self.refresh_now()

    def _controller_signals(self, c: TrainingController) -> list[tuple[Any, Callable]]:
        return [
            (c.values_changed, self._values_changed),
            (c.phase_changed, self._mark_stale),
            (c.trained, self._mark_dirty),
            (c.node_stepped, self._stepped),
        ]

    def push(self, command: Command) -> bool:
        return self.scene.push(command)

    def show_moment(self, snapshot: Snapshot | None) -> None:
        """The timeline scrubbed to `snapshot`'s step: opened layers show its numbers (its
        weights, and its pass's values and gradients when full); None: the live state."""
        self.moment = snapshot
        self.refresh_now()

    # ---- opening and closing -------------------------------------------------------------
    def is_expanded(self, node_id: str) -> bool:
        return node_id in self.panels

    def toggle(self, node_id: str) -> None:
        if self.is_expanded(node_id):
            self.collapse(node_id)
        else:
            self.expand(node_id)

    def expand(self, node_id: str) -> bool:
        """Open `node_id` into its neurons (a dense layer) or features (the input node)."""
        if node_id in self.panels or self.document is None or node_id not in self.document:
            return node_id in self.panels
        node = self.document.node(node_id)
        units = self._units(node_id)
        if node.op not in OPENABLE or not units:
            self.scene.status.emit(f"'{node_id}' has no neurons to show (run Forward first?)")
            return False
        names = self._output_names(node_id, units) if node.op == "input" else []
        panel = NeuronLayerItem(self.scene.node_items[node_id], self, units, names)
        panel.set_points(*self._points)
        self.panels[node_id] = panel
        if node.op == "dense":
            weights = WeightsItem(self, node_id)
            self.scene.addItem(weights)
            self.weights[node_id] = weights
        self._relayout_around(node_id)
        self._timer.start()
        self.refresh_now()
        return True

    def collapse(self, node_id: str) -> None:
        panel = self.panels.pop(node_id, None)
        if panel is None:
            return
        if panel.scene() is not None:
            panel.scene().removeItem(panel)
        weights = self.weights.pop(node_id, None)
        if weights is not None:
            weights.stop()
            if weights.scene() is not None:
                weights.scene().removeItem(weights)
        self.numbers.pop(node_id, None)
        self._relayout_around(node_id)
        if not self.panels:
            self._timer.stop()
        self.refresh_now()

    def set_gradient_view(self, node_id: str, on: bool) -> None:
        if node_id in self.panels:
            self.panels[node_id].set_gradient_view(on)

    # ---- what a node has -----------------------------------------------------------------
    def _units(self, node_id: str) -> int | None:
        node = self.document.node(node_id)
        if node.op == "dense":
            return int(node.attrs.get("units", 1))
        c = self.controller
        value = c.value(node_id) if c is not None else None
        if value is not None and np.ndim(value) == 2:
            return int(np.shape(value)[1])
        ds = c.session.dataset if c is not None else None
        return ds.n_features if ds is not None else None

    def _output_names(self, node_id: str, n: int) -> list[str]:
        """Names of a node's output columns: the data's features for the input node."""
        node = self.document.node(node_id)
        c = self.controller
        if node.op == "input" and c is not None:
            names = feature_names(c.session)
            if len(names) == n:
                return names
        if node.op == "input":
            return [f"x{i + 1}" for i in range(n)]
        return [f"{node_id}[{i}]" for i in range(n)]

    def _source(self, node_id: str) -> str | None:
        return self.document.node(node_id).inputs.get("x")

    def _n_inputs(self, node_id: str) -> int:
        n = self.numbers.get(node_id)
        if n is not None:
            return n.n_in
        src = self._source(node_id)
        if src in self.panels:
            return self.panels[src].units
        c = self.controller
        params = c.session.executor.params.get(node_id) if c is not None else None
        if params and "W" in params:
            return int(params["W"].shape[0])
        value = c.value(src) if c is not None and src is not None else None
        return int(np.shape(value)[-1]) if value is not None and np.ndim(value) == 2 else 0

    # ---- geometry ------------------------------------------------------------------------
    def moved(self, node_id: str) -> None:
        """A panel moved with its node: its weights and those reading from it follow."""
        self._relayout_around(node_id)

    def _relayout_around(self, node_id: str) -> None:
        if node_id in self.weights:
            self._layout(node_id)
        if self.document is not None and node_id in self.document:
            for edge in self.document.consumers(node_id):
                if edge.dst in self.weights:
                    self._layout(edge.dst)

    def _layout(self, node_id: str) -> None:
        panel, weights = self.panels[node_id], self.weights[node_id]
        src = self._source(node_id)
        n_in = self._n_inputs(node_id)
        src_panel = self.panels.get(src) if src is not None else None
        if src_panel is not None and src_panel.units != n_in:
            src_panel = None
        panel.input_names = self._output_names(src, n_in) if src is not None else []
        panel.set_stubs_shown(src_panel is None)
        lines = {}
        for i in range(n_in):
            start = src_panel.tile_out(i) if src_panel is not None else panel.stub(i, n_in)
            for j in range(panel.units):
                lines[(i, j)] = (start, panel.tile_in(j))
        weights.set_lines(lines)

    # ---- numbers -------------------------------------------------------------------------
    def redraw(self) -> None:
        """Numbers from the controller's last pass, soon: a forward and a backward pass in a
        row (Backward, a refresh during Run) announce themselves twice but are shown once."""
        if not self._pending:
            self._pending = True
            QTimer.singleShot(0, self.refresh_now)

    def refresh_now(self) -> None:
        """Weights, biases, δ, health, counts and maps, from the controller's last pass."""
        self._pending = False
        c = self.controller
        if c is None or self.document is None:
            return
        snap = self.moment
        values = c.values if snap is None else snap.values
        show_grads = self._grads_shown() and not self._edited_since()
        stale = self._is_stale()
        for node_id, node in self.document.nodes.items():
            if node.op != "dense":
                continue
            numbers = self._read(node_id) if node_id in self.panels else None
            value = values.get(node_id)
            health = numbers.health if numbers is not None else None
            if health is None and value is not None and np.ndim(value) >= 1:
                health = unit_health(node.attrs.get("activation", "none"), value)
            if node_id in self.panels:
                self.numbers.pop(node_id, None)
                if numbers is not None:
                    self.numbers[node_id] = numbers
                self.panels[node_id].set_numbers(numbers, health)
                self.panels[node_id].set_stale(stale)
                weights = self.weights[node_id]
                if numbers is not None and len(weights.lines) != numbers.n_in * numbers.units:
                    self._layout(node_id)  # the layer's inputs are known only now
                weights.set_numbers(numbers, show_grads)
            self._set_count(
                node_id, "" if node_id in self.panels or health is None else health.summary()
            )
        self._refresh_maps()

    def _read(self, node_id: str) -> LayerNumbers | None:
        """The layer's numbers, live or at the scrubbed step; None when there are none for
        it as it is now (no weights yet, or weights of another number of units)."""
        c, snap = self.controller, self.moment
        ex = c.session.executor
        params = ex.params if snap is None else snap.params
        src = self._source(node_id)
        graph = self.document.graph
        try:
            W = params.get(node_id, {}).get("W")
            names = self._output_names(src, W.shape[0]) if W is not None and src else ()
            if snap is not None:
                numbers = LayerNumbers.from_snapshot(graph, node_id, snap, names)
            else:
                numbers = LayerNumbers.read(
                    graph, node_id, params, c.values, c.grads, ex.param_grads, names
                )
        except BpvizError:
            return None
        return numbers if numbers.units == self.panels[node_id].units else None

    def _is_stale(self) -> bool:
        """Whether a pass's numbers on show are from before an edit or an update, as a node's
        are veiled then (or, scrubbed back, the step kept only its weights)."""
        if self.moment is not None:
            return not self.moment.full
        return self._edited_since() or self.controller.phase == Phase.UPDATED

    def _edited_since(self) -> bool:
        """The graph or a weight changed since the last pass: its gradients belong to
        another graph, so the weights are coloured by their values instead. (After an
        optimizer update they keep the gradient it used: Run does not flicker.)"""
        if self.moment is not None:
            return False
        return self._edited or self.controller.phase == Phase.STALE

    def _values_changed(self) -> None:
        """A new pass: its numbers are current again."""
        self._edited = False
        self.redraw()

    def _mark_stale(self) -> None:
        """The phase moved (the graph changed under the numbers, an update moved the weights):
        veil what is from the last pass, without recomputing anything."""
        if self.controller is None or not self.panels:
            return
        stale, grads = self._is_stale(), self._grads_shown() and not self._edited_since()
        for node_id, panel in self.panels.items():
            panel.set_stale(stale)
            weights = self.weights[node_id]
            if weights.show_grads != grads:
                weights.set_numbers(self.numbers.get(node_id), grads)

    def _grads_shown(self) -> bool:
        """Whether the weights are coloured by ∂L/∂w: after a backward pass, and after the
        update that used it."""
        c, snap = self.controller, self.moment
        if snap is not None:
            return bool(snap.grads)
        return c.grads_fresh or (c.phase == Phase.UPDATED and bool(c.grads))

    def _set_count(self, node_id: str, text: str) -> None:
        label = self.counts.get(node_id)
        if not text:
            if label is not None:
                label.setVisible(False)
            return
        item = self.scene.node_items.get(node_id)
        if item is None:
            return
        if label is None:
            label = QGraphicsSimpleTextItem(item)
            label.setFont(COUNT_FONT)
            label.setBrush(QColor(current_theme().muted))
            self.counts[node_id] = label
        label.setText(text)
        label.setPos(4, -label.boundingRect().height() - 8)  # above: panels hang below
        label.setToolTip(
            "dead: relu is 0 on every training point; saturated: tanh/sigmoid beyond 0.99 of "
            "its range on ≥ 95 % of them. Double-click the header to see which."
        )
        label.setVisible(True)

    def count_text(self, node_id: str) -> str:
        label = self.counts.get(node_id)
        return label.text() if label is not None and label.isVisible() else ""

    # ---- maps ----------------------------------------------------------------------------
    def _mark_dirty(self, *args: object) -> None:
        self._dirty = True

    def _tick(self) -> None:
        if self._dirty:
            self._dirty = False
            self._refresh_maps()

    def _refresh_maps(self) -> None:
        c = self.controller
        if c is None or not self.panels:
            return
        if self._maps is None or self._maps.session is not c.session:
            self._maps = NeuronMaps(c.session)
            self._set_points()
        maps = self._maps
        snap = self.moment
        try:
            grids = maps.compute(list(self.panels), None if snap is None else snap.params)
        except BpvizError:
            grids = {}
        for node_id, panel in self.panels.items():
            node = self.document.node(node_id)
            act = node.attrs.get("activation", "none") if node.op == "dense" else "none"
            grid = grids.get(node_id)
            if grid is not None and grid.shape[-1] != panel.units:
                grid = None
            if grid is not None and maps.kind == "map":
                panel.set_tiles(TileData("map", map_images(act, grid)))
            elif grid is not None and maps.kind == "curve":
                panel.set_tiles(TileData("curve", [], curves=unit_scale(act, grid)))
            else:
                value = c.value(node_id) if snap is None else snap.values.get(node_id)
                if value is None or np.ndim(value) < 1 or np.shape(value)[-1] != panel.units:
                    panel.set_tiles(TileData("none", []))
                    continue
                mean, lo, hi = value_bars(value)
                top = float(np.max(np.abs([lo, hi]))) or 1.0
                panel.set_tiles(TileData("bars", [], bars=(mean / top, lo / top, hi / top)))
        self.refreshes += 1

    def _set_points(self) -> None:
        """The training points in the plane's box, for every opened panel."""
        maps = self._maps
        ds = self.controller.session.dataset
        pts, colours = None, []
        if maps is not None and maps.kind in ("map", "curve") and ds is not None:
            lo, hi = maps.plane.lo, maps.plane.hi
            pts = (np.asarray(ds.x_train, dtype=float) - lo) / (hi - lo)
            if maps.kind == "curve":  # along the curve's x axis, on its middle line
                pts = np.column_stack([pts[:, 0], np.full(len(pts), 0.5)])
            if ds.task in ("binary", "multiclass"):
                colours = [QColor(class_colour(int(k))) for k in np.asarray(ds.y_train).tolist()]
        self._points = (pts, colours)
        for panel in self.panels.values():
            panel.set_points(pts, colours)

    # ---- live edits and stepping ---------------------------------------------------------
    def weight_dragged(self, node_id: str) -> None:
        """A weight changed under the mouse: passes on show are replayed (the window listens
        to `value_dragged`), and the maps follow at once."""
        self.scene.value_dragged.emit(node_id)
        self._refresh_maps()

    def _stepped(self, step: object) -> None:
        backward = isinstance(step, NodeGrad) and step.node_id in self.weights
        if backward and self.scene.pulses.enabled:
            self.weights[step.node_id].pulse(self.scene.pulses.duration_ms)

    # ---- document changes ----------------------------------------------------------------
    def _on_node_removed(self, node_id: str) -> None:
        self.panels.pop(node_id, None)  # went with its node item
        self.counts.pop(node_id, None)
        self.numbers.pop(node_id, None)
        weights = self.weights.pop(node_id, None)
        if weights is not None:
            weights.stop()
            if weights.scene() is not None:
                weights.scene().removeItem(weights)
        if not self.panels:
            self._timer.stop()

    def _edit(self) -> None:
        """The graph or a weight changed: the weights and biases on show are read again as
        they are now (none when the edit drops them until the next pass), the last pass's
        numbers are veiled until the next one, and the maps follow at the next tick."""
        self._edited = True
        self._dirty = True
        self._mark_stale()
        if self.panels:
            self.redraw()

    def _on_edge_added(self, src: str, dst: str, port: str) -> None:
        if dst in self.weights:
            self.numbers.pop(dst, None)
            self._layout(dst)
        self._edit()

    _on_edge_removed = _on_edge_added

    def _on_attr_changed(self, node_id: str, name: str, value: object) -> None:
        self._edit()
        if node_id in self.panels and name in ("units", "activation"):
            self.collapse(node_id)  # rebuilt with the new number of tiles
            self.expand(node_id)

    def _on_params_set(self, node_id: str, arrays: object) -> None:
        self._edit()

    # ---- menu ----------------------------------------------------------------------------
    def menu_entries(self, node_id: str) -> list[tuple[str, Callable[[], None], str | None]]:
        """(text, action, reason it is disabled or None) for a node's context menu."""
        node = self.document.node(node_id)
        if node.op not in OPENABLE:
            return []
        shown = self.is_expanded(node_id)
        noun = "Features" if node.op == "input" else "Neurons"
        entries = [(f"{'Hide' if shown else 'Show'} {noun}", lambda: self.toggle(node_id), None)]
        if node.op == "dense":
            c = self.controller
            params = c.session.executor.params.get(node_id) if c is not None else None
            problem = expand_problem(self.document, node_id, params)
            if problem and params is None and c is not None:
                problem = None  # a forward pass will draw the weights first
            entries.append(
                ("Expand to Scalar Ops", lambda: self.expand_to_scalar_ops(node_id), problem)
            )
        return entries

    def expand_to_scalar_ops(self, node_id: str) -> bool:
        c = self.controller
        if c is None:
            return False
        params = c.session.executor.params.get(node_id)
        if params is None and c.forward():
            params = c.session.executor.params.get(node_id)
        slots = c.session.trainer.optimizer.slots.get(node_id)
        try:
            command = expand_command(self.document, node_id, params, slots)
        except BpvizError as e:
            self.scene.status.emit(str(e))
            return False
        self.collapse(node_id)
        if not self.push(command):
            return False
        self.scene.select(command.new_ids)
        return True


def feature_names(session: Any) -> list[str]:
    """What the input node feeds, by name: the data's transforms when set, else its raw
    features (x1, x2 … when the data does not name them)."""
    features = getattr(session, "features", None)
    if features:
        return [getattr(f, "text", None) or str(f) for f in features]  # "x1^2"
    ds = session.dataset
    if ds is None:
        return []
    names = list(ds.feature_names)
    return names if len(names) == ds.n_features else [f"x{i + 1}" for i in range(ds.n_features)]
