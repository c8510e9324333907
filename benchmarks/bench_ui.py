"""Canvas speed on a generated 500-node, 800-edge scene (offscreen; not a test).

Run: python benchmarks/bench_ui.py
Reports load-to-first-frame, full-viewport frame time, frame time while dragging a node with
10 edges, and memory, each beside a reference in the same process: the same numbers of plain
QGraphicsRectItems and line items in a bare QGraphicsView (what Qt itself costs).
Targets: load to first frame within 1 s; frames within 16 ms.

`--big` measures only the canvas at 5,000 nodes and 8,000 wires: first frame against plain Qt
(targets: 3x), repaints at three zoom levels (16 ms) and Forward / Backward until the frame
shows them (50 ms). Zoomed out, the sharp frame after a wheel step is rastered over several
event-loop ticks: there it reports the event loop's longest stall while resting (beside an idle
loop's, same process) and how long until the sharp picture is on screen.
`--big --first` measures only its first frame (7 rounds), and the first mouse move after it.
`--run` measures only moons in Run mode, `--neurons` only the neuron maps in Run mode.
"""

from __future__ import annotations

import gc
import json
import math
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import (  # noqa: E402
    QCoreApplication,
    QEvent,
    QEventLoop,
    QLineF,
    QPointF,
    QSettings,
    Qt,
    QTimer,
)
from PySide6.QtGui import QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication, QGraphicsScene, QGraphicsView  # noqa: E402

N_NODES, N_EDGES, HUB_EDGES = 500, 800, 10


def generate_scene(
    path: Path, seed: int = 0, n_nodes: int = N_NODES, n_edges: int = N_EDGES, rows: int = 40
) -> str:
    """Sources (consts, 100 to a column) and binary ops (2 inputs each, `rows` to a column);
    node 'hub' has 10 edges. 500 nodes: 100 sources and 400 ops with 800 edges."""
    rng = np.random.default_rng(seed)
    nodes = []
    n_sources = n_nodes - n_edges // 2
    for i in range(n_sources):
        nodes.append(
            {
                "id": f"c{i}",
                "op": "const",
                "attrs": {"value": float(i % 7 + 1)},
                "pos": [-(i // 100) * 220.0, (i % 100) * 90.0],
            }
        )
    ids = [n["id"] for n in nodes]
    nodes[0]["id"] = ids[0] = "hub"
    for i in range(n_edges // 2):
        a = "hub" if i < HUB_EDGES else ids[int(rng.integers(1, len(ids)))]
        b = ids[int(rng.integers(1, len(ids)))]
        col = 1 + i // rows
        nodes.append(
            {
                "id": f"n{i}",
                "op": "add" if i % 2 else "mul",
                "inputs": {"a": a, "b": b},
                "pos": [col * 220.0, (i % rows) * 110.0],
            }
        )
        ids.append(f"n{i}")
    scene = {"format": "bpviz-scene", "version": 1, "output": ids[-1], "nodes": nodes}
    path.write_text(json.dumps(scene))
    return "hub"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median_ms(fn, n: int) -> tuple[float, float]:  # noqa: ANN001
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), float(np.percentile(times, 95))


def reference(
    app: QApplication, size: tuple[int, int], n_nodes: int = N_NODES, n_edges: int = N_EDGES
) -> dict[str, float]:
    """Plain Qt: 500 rect items, 800 line items (or the numbers given), a bare view."""
    t0, cpu0 = time.perf_counter(), time.process_time()
    scene = QGraphicsScene()
    rects = [scene.addRect(0, 0, 160, 70) for _ in range(n_nodes)]
    for i, r in enumerate(rects):
        r.setPos((i // 40) * 220.0, (i % 40) * 110.0)
        r.setFlag(r.GraphicsItemFlag.ItemIsMovable)
    lines = [scene.addLine(QLineF(0, 0, 100, 100)) for _ in range(n_edges)]
    view = QGraphicsView(scene)
    view.resize(*size)
    view.show()
    view.fitInView(scene.itemsBoundingRect())
    app.processEvents()
    view.viewport().repaint()
    load, load_cpu = time.perf_counter() - t0, time.process_time() - cpu0
    frame, _ = median_ms(view.viewport().repaint, 20)

    def drag() -> None:
        rects[0].moveBy(3, 2)
        for ln in lines[:HUB_EDGES]:
            ln.setLine(QLineF(rects[0].pos(), QPointF(500, 500)))
        view.viewport().repaint()

    drag_ms, _ = median_ms(drag, 50)
    view.close()
    return {"load_s": load, "load_cpu_s": load_cpu, "frame_ms": frame, "drag_ms": drag_ms}


def node_drag(  # noqa: ANN201
    app: QApplication, view, item, steps: int, drop=lambda release: release()  # noqa: ANN001
) -> tuple[float, float]:
    """Press on `item`, move the mouse `steps` times (3, 2 pixels each), each move followed
    by the repaint it causes, and release (by way of `drop`, given the function that does):
    (median, p95) ms per move."""
    viewport = view.viewport()

    def send(kind: QEvent.Type, at: QPointF, button: Qt.MouseButton, held: Qt.MouseButton) -> None:
        global_at = QPointF(viewport.mapToGlobal(at.toPoint()))
        app.sendEvent(
            viewport, QMouseEvent(kind, at, global_at, button, held, Qt.KeyboardModifier.NoModifier)
        )

    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    pos = [QPointF(view.mapFromScene(item.sceneBoundingRect().center()))]
    send(QEvent.Type.MouseButtonPress, pos[0], left, left)

    def move() -> None:
        pos[0] = pos[0] + QPointF(3, 2)
        send(QEvent.Type.MouseMove, pos[0], none, left)
        viewport.repaint()

    took = median_ms(move, steps)
    drop(lambda: send(QEvent.Type.MouseButtonRelease, pos[0], left, none))
    return took


def fresh_window(app: QApplication, size: tuple[int, int]):  # noqa: ANN201
    """A shown main window of `size` with its own settings and recovery folder, idle."""
    from bpviz.ui.main_window import MainWindow
    from bpviz.ui.recovery import Recovery

    tmp = Path(tempfile.mkdtemp())
    window = MainWindow(QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat), Recovery(tmp))
    window.resize(*size)
    window.show()
    app.processEvents()
    return window


def bpviz_run(app: QApplication, size: tuple[int, int], path: Path, hub: str) -> dict[str, float]:
    window = fresh_window(app, size)
    before = rss_mb()
    t0 = time.perf_counter()
    window.files.open_file(path)
    app.processEvents()
    window.view.viewport().repaint()
    load = time.perf_counter() - t0
    mem = rss_mb() - before
    window.view.fit_all()
    app.processEvents()
    frame, frame95 = median_ms(window.view.viewport().repaint, 20)

    item = window.canvas.node_items[hub]
    assert len(item.edges) == HUB_EDGES, len(item.edges)
    drag_ms, drag95 = node_drag(app, window.view, item, 50)
    moved = window.undo.qstack.count()
    window.undo.qstack.setClean()
    window.close()
    return {
        "load_s": load,
        "frame_ms": frame,
        "frame95_ms": frame95,
        "drag_ms": drag_ms,
        "drag95_ms": drag95,
        "memory_mb": mem,
        "undo_steps": moved,
    }


BIG_NODES, BIG_EDGES, BIG_ROWS = 5000, 8000, 80


def _big_window(app: QApplication, size: tuple[int, int], path: Path):  # noqa: ANN202
    """A window that opened the 5,000-node scene, and the seconds to its first frame: on the
    clock, and of this process's CPU (what other programs on the machine cannot inflate)."""
    window = fresh_window(app, size)
    t0, cpu0 = time.perf_counter(), time.process_time()
    window.files.open_file(path)
    app.processEvents()
    window.view.viewport().repaint()
    return window, time.perf_counter() - t0, time.process_time() - cpu0


def _retire(app: QApplication, window) -> None:  # noqa: ANN001
    """Close `window` and free it, with what it left to the cycle collector, so the next
    measurement (plain Qt's or a new window's) pays for none of it."""
    window.undo.qstack.setClean()
    window.close()
    window.deleteLater()
    app.processEvents()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


def first_hover_ms(app: QApplication, view) -> float:  # noqa: ANN001
    """The first mouse move over the canvas after the first frame: Qt looks up the items
    under the mouse, building the scene's item index on the first lookup (ms); then the
    mouse leaves."""
    viewport = view.viewport()
    at = QPointF(viewport.width() / 2, viewport.height() / 2)
    event = QMouseEvent(
        QEvent.Type.MouseMove, at, QPointF(viewport.mapToGlobal(at.toPoint())),
        Qt.MouseButton.NoButton, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    t0 = time.perf_counter()
    app.sendEvent(viewport, event)
    took = (time.perf_counter() - t0) * 1000
    # the mouse leaves again: with it over the canvas, Qt would replay this move after each
    # zoom step the later figures time (a look-up under the mouse, ~9 ms far out)
    app.sendEvent(viewport, QEvent(QEvent.Type.Leave))
    return took


def big_first_frames(app: QApplication, size: tuple[int, int], path: Path, rounds: int):  # noqa: ANN201
    """Plain Qt's first frame and the window's, in turn, `rounds` times, each after the
    previous window is freed: (figures, the last window, still open)."""
    plain, first, first_cpu, hover = [], [], [], []
    window = None
    for _ in range(rounds):
        if window is not None:
            _retire(app, window)
        gc.collect()
        plain.append(reference(app, size, BIG_NODES, BIG_EDGES))
        window, seconds, cpu = _big_window(app, size, path)
        first.append(seconds)
        first_cpu.append(cpu)
        hover.append(first_hover_ms(app, window.view))
    ratios = [f / r["load_s"] for f, r in zip(first, plain, strict=True)]
    cpu_ratios = [f / r["load_cpu_s"] for f, r in zip(first_cpu, plain, strict=True)]
    return {
        "first_ms": min(first) * 1000,
        "plain_first_ms": min(r["load_s"] for r in plain) * 1000,
        "first_cpu_ms": min(first_cpu) * 1000,
        "plain_first_cpu_ms": min(r["load_cpu_s"] for r in plain) * 1000,
        "first_ratio_median": statistics.median(ratios),
        "first_cpu_ratio_median": statistics.median(cpu_ratios),
        "first_rounds": rounds,
        "first_hover_ms": statistics.median(hover),
        "plain_frame_ms": statistics.median(r["frame_ms"] for r in plain),
    }, window


def big_canvas(app: QApplication, size: tuple[int, int], rounds: int = 3) -> dict:
    """The canvas at 5,000 nodes and 8,000 wires: first frame against plain Qt (interleaved
    rounds, best of each and the median ratio); repaints at three zoom levels (median),
    unchanged and after a wheel step; Forward and Backward from the click to the repainted
    frame, zoomed out and at 100 %, every node's numbers changing (median over `rounds` of
    each)."""
    path = Path(tempfile.mkdtemp()) / "big5000.json"
    generate_scene(path, n_nodes=BIG_NODES, n_edges=BIG_EDGES, rows=BIG_ROWS)
    out, window = big_first_frames(app, size, path, max(rounds, 5))
    view = window.view
    repaint = view.viewport().repaint
    centre = window.canvas.node_items[f"n{BIG_EDGES // 4}"]  # a node mid-scene

    def zoom_to(level: str) -> None:
        if level == "fit":
            view.fit_all()
        else:
            view.resetTransform()
            view.scale(float(level), float(level))
            view.centerOn(centre)
        app.processEvents()

    def wheel_steps() -> None:  # in and out again: each step a new transform
        for factor in (1.1, 1 / 1.1):
            view.scale(factor, factor)
            repaint()

    factors = [1.1]

    def at_rest() -> float:  # a step (in, out, in...), then the frame drawn when it rests: its ms
        factors[0] = 1 / factors[0]
        view.scale(factors[0], factors[0])
        repaint()
        view.settle()
        t0 = time.perf_counter()
        repaint()
        return (time.perf_counter() - t0) * 1000

    def ticking(done) -> tuple[float, float]:  # noqa: ANN001
        """Run the event loop with a 1 ms timer until `done()`: its longest stall between
        two ticks (every frame and event falls between two) and when `done()` came true,
        both in ms from the start."""
        loop = QEventLoop()
        ticks = [time.perf_counter()]
        until: list[float] = []

        def tick() -> None:
            ticks.append(time.perf_counter())
            if done():
                until.append(ticks[-1])
                loop.quit()

        timer = QTimer(interval=1, timerType=Qt.TimerType.PreciseTimer)
        timer.timeout.connect(tick)
        timer.start()
        QTimer.singleShot(5000, loop.quit)  # never reached unless the raster is lost
        loop.exec()
        timer.stop()
        gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
        return max(gaps) * 1000, ((until or [math.inf])[0] - ticks[0]) * 1000

    def far_rest() -> tuple[float, float, float]:
        """A wheel step, then rest: the event loop's longest stall from the moment the view
        rests until the sharp raster is on screen, and that moment; then, as a reference,
        the longest stall of the same loop as long again with nothing to do."""
        factors[0] = 1 / factors[0]
        view.scale(factors[0], factors[0])
        repaint()
        shown = view.far_rasters
        QTimer.singleShot(0, view.settle)
        stall, sharp = ticking(lambda: view.far_rasters > shown)
        start = time.perf_counter()
        idle, _ = ticking(lambda: time.perf_counter() - start > sharp / 1000)
        return stall, sharp, idle

    def far_edited(edit) -> tuple[float, float]:  # noqa: ANN001
        """`edit` and the repaint after it, in the event loop: its longest stall from then
        until the new sharp raster is on screen, and that moment (ms)."""
        shown = view.far_rasters

        def act() -> None:
            edit()
            repaint()

        QTimer.singleShot(0, act)
        return ticking(lambda: view.far_rasters > shown)

    def far_edit() -> tuple[float, float]:  # every piece recorded again (as after a theme)
        return far_edited(view.canvas.overview.invalidate)

    def far_drop(release) -> None:  # noqa: ANN001
        out[f"drop_{level}"] = far_edited(release)

    def far_select() -> None:  # a click selects a node (or deselects it): its outline shows
        centre.setSelected(not centre.isSelected())
        repaint()

    registry = window.registry
    for level in ("fit", "0.3", "1"):
        zoom_to(level)
        out[f"zoom_{level}"] = view.zoom()
        out[f"repaint_{level}"] = median_ms(repaint, 15)[0]
        out[f"step_{level}"] = median_ms(wheel_steps, 5)[0] / 2
        if view.canvas.overview.wanted(view.zoom()):
            rests = [far_rest() for _ in range(7)]
            out[f"rest_{level}"] = statistics.median(r[0] for r in rests)
            out[f"rest_max_{level}"] = max(r[0] for r in rests)
            out[f"sharp_{level}"] = statistics.median(r[1] for r in rests)
            out[f"idle_{level}"] = statistics.median(r[2] for r in rests)
            edits = [far_edit() for _ in range(7)]
            out[f"edit_{level}"] = statistics.median(e[0] for e in edits)
            out[f"edit_max_{level}"] = max(e[0] for e in edits)
            out[f"edit_sharp_{level}"] = statistics.median(e[1] for e in edits)
            out[f"select_{level}"] = median_ms(far_select, 10)[0]
            out[f"drag_{level}"] = node_drag(app, view, centre, 20, far_drop)
            # the node back where the other figures expect it
            out[f"undo_{level}"] = far_edited(window.undo.qstack.undo)
        else:
            out[f"rest_{level}"] = statistics.median(at_rest() for _ in range(5))
    registry["backward"].trigger()  # the plan is built; from here on each pass shows anew
    executor = window.training_ui.controller.session.executor
    for level in ("fit", "1"):
        zoom_to(level)
        times: dict[str, list[float]] = {"forward": [], "backward": []}
        for _ in range(rounds):  # Forward clears the gradients, Backward shows them again
            for name in ("forward", "backward"):
                # as after an edit, Forward runs its engine pass (with nothing changed since
                # the last pass over the training set, it would show that one's values)
                executor.use_params(executor.params)
                repaint()
                t0 = time.perf_counter()
                registry[name].trigger()
                app.processEvents()
                repaint()
                times[name].append((time.perf_counter() - t0) * 1000)
        for name, ms in times.items():
            out[f"{name}_{level}"] = statistics.median(ms)
    window.undo.qstack.setClean()
    window.close()
    return out


def big_first_frame_only(app: QApplication, rounds: int = 7) -> dict:
    """`--big`'s first frame alone, in more rounds."""
    path = Path(tempfile.mkdtemp()) / "big5000.json"
    generate_scene(path, n_nodes=BIG_NODES, n_edges=BIG_EDGES, rows=BIG_ROWS)
    out, window = big_first_frames(app, (1400, 900), path, rounds)
    _retire(app, window)
    return out


def print_first(got: dict) -> None:
    ratio = got["first_ms"] / got["plain_first_ms"]
    cpu_ratio = got["first_cpu_ms"] / got["plain_first_cpu_ms"]
    print(
        f"  load to first frame: {got['first_ms']:8.0f} ms  (plain Qt {got['plain_first_ms']:.0f}"
        f" ms, {ratio:.2f}x; target <= 3x); CPU time {got['first_cpu_ms']:.0f} ms (plain Qt"
        f" {got['plain_first_cpu_ms']:.0f} ms, {cpu_ratio:.2f}x); best of "
        f"{got['first_rounds']} each; median of the rounds' ratios "
        f"{got['first_ratio_median']:.2f}x, CPU {got['first_cpu_ratio_median']:.2f}x"
    )
    print(f"  then the first mouse move over the canvas (the item index is built): "
          f"{got['first_hover_ms']:.0f} ms (median)")  # fmt: skip


def print_big(got: dict) -> None:
    print(f"generated scene: {BIG_NODES} nodes, {BIG_EDGES} wires; same window")
    print_first(got)
    print(f"  plain Qt full frame of its {BIG_NODES} rects and {BIG_EDGES} lines: "
          f"{got['plain_frame_ms']:.1f} ms")  # fmt: skip
    for level in ("fit", "0.3", "1"):
        print(
            f"  zoom {got[f'zoom_{level}']:.3f}: repaint {got[f'repaint_{level}']:6.2f} ms, "
            f"after a wheel step {got[f'step_{level}']:6.2f} ms, once at rest "
            f"{got[f'rest_{level}']:6.2f} ms (target <= 16 ms)"
        )
        if f"sharp_{level}" in got:  # the far view: rastered a few pieces per event-loop tick
            print(
                f"      resting: the GUI thread's longest stall {got[f'rest_{level}']:.1f} ms "
                f"(worst of 7: {got[f'rest_max_{level}']:.1f}; an idle loop in the same "
                f"process: {got[f'idle_{level}']:.1f}); sharp on screen after "
                f"{got[f'sharp_{level}']:.0f} ms (rastered a few pieces per event-loop tick)"
            )
            print(
                "      after an edit (what changed drawn over the last raster; every picture "
                "recorded again and rastered a few pieces per tick): the GUI thread's longest "
                f"stall {got[f'edit_{level}']:.1f} ms (worst of 7: "
                f"{got[f'edit_max_{level}']:.1f}), sharp on screen after "
                f"{got[f'edit_sharp_{level}']:.0f} ms; selecting a node (outlined over the "
                f"raster): {got[f'select_{level}']:.1f} ms"
            )
            print(
                "      dragging a node (drawn over the raster): "
                f"{got[f'drag_{level}'][0]:.1f} ms a step, p95 {got[f'drag_{level}'][1]:.1f} ms;"
                f" the drop: longest stall {got[f'drop_{level}'][0]:.1f} ms, sharp after "
                f"{got[f'drop_{level}'][1]:.0f} ms; its undo: longest stall "
                f"{got[f'undo_{level}'][0]:.1f} ms, sharp after {got[f'undo_{level}'][1]:.0f} ms"
            )
    for level in ("fit", "1"):
        print(
            f"  Forward / Backward to the repainted frame at zoom {got[f'zoom_{level}']:.3f}: "
            f"{got[f'forward_{level}']:.0f} / {got[f'backward_{level}']:.0f} ms (target <= 50 ms)"
        )


WARM_UP_S = 0.3  # Run mode's start (every view redrawn at once) is not counted


def _process_events_for(app: QApplication, seconds: float) -> float:
    """Let the event loop run (Run mode's ticks among them) for `seconds`; the time taken."""
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        app.processEvents()
    return time.perf_counter() - start


def headless_steps(headless, seconds: float) -> tuple[int, float]:  # noqa: ANN001
    """Steps a windowless Scene trains in about `seconds`: (steps, seconds taken)."""
    t0 = time.perf_counter()
    n = 0
    while time.perf_counter() - t0 < seconds:
        headless.train(50)
        n += 50
    return n, time.perf_counter() - t0


def count_forward_passes(executor) -> list[int]:  # noqa: ANN001
    """Count the forward passes `executor` begins from now on (whole or node by node)."""
    count = [0]
    for name in ("forward", "forward_nodes"):
        method = getattr(executor, name)

        def counted(*args, _method=method, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
            count[0] += 1
            return _method(*args, **kwargs)

        setattr(executor, name, counted)
    return count


def headless_steps_per_second(scene_path: Path, seconds: float = 2.0) -> float:
    """The reference for Run mode: the same scene trained without a window, in this process."""
    from bpviz import load_scene

    n, took = headless_steps(load_scene(scene_path), seconds)
    return n / took


def run_mode(
    app: QApplication, size: tuple[int, int], seconds: float = 6.0, rounds: int = 6
) -> dict[str, float]:
    """Moons in Run mode at full speed: training rate against the headless rate of the same
    scene, and how long the event loop is blocked between frames (a 1 ms probe timer).

    Headless and Run take turns (`rounds` of each, `seconds` in all for each), so the
    machine's load hits both alike; the ratio is of the totals. Each Run round counts after
    WARM_UP_S: starting Run redraws every view at once and the landscape catches up with the
    pause before it, a cost of starting, not of running. The CPU time of this thread per step
    is counted too: on a busy machine the share of a core each side gets varies from round to
    round, which moves the rate ratio by ±10 % but not the ratio of CPU time per step."""

    from bpviz import load_scene

    scene_path = Path(__file__).resolve().parents[1] / "scenes" / "moons.json"
    headless = load_scene(scene_path)

    window = fresh_window(app, size)
    window.files.open_file(scene_path)
    app.processEvents()
    ui = window.training_ui
    ui.steps(20)  # numbers and heatmaps on the nodes, as while running
    app.processEvents()
    repaint = window.view.viewport().repaint
    for _ in range(20):
        repaint()
    canvas_ms = min(median_ms(repaint, 100)[0] for _ in range(5))
    ui.speed_slider.setValue(ui.speed_slider.maximum())
    stamps: list[list[float]] = []
    probe = QTimer()
    probe.setInterval(1)
    probe.timeout.connect(lambda: stamps and stamps[-1].append(time.perf_counter()))
    painter = QTimer()  # ask for a repaint at display rate, as a visible window would
    painter.setInterval(16)
    painter.timeout.connect(window.view.viewport().update)
    headless_n = headless_s = run_n = run_s = headless_cpu = run_cpu = 0.0
    passes = {"headless": count_forward_passes(headless.session.executor), "run": [0]}
    run_passes = count_forward_passes(ui.controller.session.executor)
    for _ in range(rounds):
        cpu = time.thread_time()
        n, took = headless_steps(headless, seconds / rounds)
        headless_n, headless_s = headless_n + n, headless_s + took
        headless_cpu += time.thread_time() - cpu
        probe.start()
        painter.start()
        ui.run()
        _process_events_for(app, WARM_UP_S)
        stamps.append([])
        before, counted = len(ui.controller.history), run_passes[0]
        cpu = time.thread_time()
        run_s += _process_events_for(app, seconds / rounds)
        ui.pause()  # its refresh counts: Run ends with one
        run_cpu += time.thread_time() - cpu
        probe.stop()
        painter.stop()
        run_n += len(ui.controller.history) - before
        passes["run"][0] += run_passes[0] - counted
    gaps = np.concatenate([np.diff(s) for s in stamps]) * 1000
    window.close()
    return {
        "headless_rate": headless_n / headless_s,
        "run_rate": run_n / run_s,
        "headless_cpu_us": headless_cpu / headless_n * 1e6,
        "run_cpu_us": run_cpu / run_n * 1e6,
        "frame_median_ms": float(np.median(gaps)),
        "frame_p95_ms": float(np.percentile(gaps, 95)),
        "canvas_repaint_ms": canvas_ms,
        "headless_passes": passes["headless"][0] / headless_n,
        "run_passes": passes["run"][0] / run_n,
    }


def neuron_scene(path: Path) -> Path:
    """An 8-8-8 tanh network on the moons data (2-D: every tile is a map over the plane)."""
    moons = json.loads((Path(__file__).resolve().parents[1] / "scenes" / "moons.json").read_text())

    def node(
        nid: str, op: str, inputs: dict | None = None, x: float = 0, y: float = 0, **attrs: object
    ) -> dict:
        return {"id": nid, "op": op, "inputs": inputs or {}, "attrs": attrs, "pos": [x, y]}

    nodes = [node("x", "input")]
    prev = "x"
    for k in (1, 2, 3):
        nodes.append(node(f"h{k}", "dense", {"x": prev}, 260.0 * k, units=8, activation="tanh"))
        prev = f"h{k}"
    nodes += [
        node("score", "dense", {"x": prev}, 1040.0, units=1),
        node("t", "target", {}, 1040.0, 160.0, encoding="signs"),
        node("loss", "hinge", {"pred": "score", "target": "t"}, 1300.0),
    ]
    scene = {**moons, "name": "8-8-8", "output": "loss", "nodes": nodes}
    path.write_text(json.dumps(scene))
    return path


def _run_for(app: QApplication, ui, view, seconds: float, count=lambda: 0) -> tuple:  # noqa: ANN001
    """Run mode for `seconds` after WARM_UP_S, with a repaint at display rate: (steps,
    seconds taken, how much `count()` grew meanwhile)."""
    painter = QTimer()  # a repaint at display rate, as a visible window would
    painter.setInterval(16)
    painter.timeout.connect(view.viewport().update)
    painter.start()
    ui.run()
    _process_events_for(app, WARM_UP_S)
    before, counted = len(ui.controller.history), count()
    elapsed = _process_events_for(app, seconds)
    steps, counted = len(ui.controller.history) - before, count() - counted
    ui.pause()
    painter.stop()
    return steps, elapsed, counted


def neuron_run_mode(
    app: QApplication, size: tuple[int, int], seconds: float = 6.0, rounds: int = 6
) -> dict:
    """Run mode with the three hidden layers of an 8-8-8 network opened (24 tiles of 48×48):
    how often the maps refresh, and the training rate against the headless one and against
    the same window with the layers closed. Headless, closed and opened take turns (`rounds`
    of each, `seconds` in all for each), so the machine's load hits all three alike."""
    from bpviz import load_scene

    scene_path = neuron_scene(Path(tempfile.mkdtemp()) / "net888.json")
    headless = load_scene(scene_path)

    window = fresh_window(app, size)
    window.files.open_file(scene_path)
    app.processEvents()
    ui = window.training_ui
    ui.speed_slider.setValue(ui.speed_slider.maximum())
    neurons = window.canvas.neurons
    ui.controller.forward()
    layers = ("h1", "h2", "h3")
    steps = {"headless": 0.0, False: 0.0, True: 0.0}
    took = {"headless": 0.0, False: 0.0, True: 0.0}
    refreshes = 0
    for _ in range(rounds):
        n, t = headless_steps(headless, seconds / rounds)
        steps["headless"] += n
        took["headless"] += t
        for opened in (False, True):
            for layer in layers:
                neurons.expand(layer) if opened else neurons.collapse(layer)
            window.view.fit_all()
            app.processEvents()
            n, elapsed, refreshed = _run_for(
                app, ui, window.view, seconds / rounds, lambda: neurons.refreshes
            )
            steps[opened] += n
            took[opened] += elapsed
            if opened:
                refreshes += refreshed
    for layer in layers:
        neurons.expand(layer)
    app.processEvents()
    tiles = sum(p.units for p in neurons.panels.values())
    side = min((im.width() for p in neurons.panels.values() for im in p.data.images), default=0)
    one = median_ms(neurons._refresh_maps, 30)[0]  # compute + colour the maps, no painting
    window.close()
    return {
        "tiles": tiles,
        "side": side,
        "refresh_ms": one,
        "refresh_rate": refreshes / took[True],
        "run_rate": steps[True] / took[True],
        "closed_rate": steps[False] / took[False],
        "headless_rate": steps["headless"] / took["headless"],
    }


def main() -> None:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    size = (1400, 900)
    path = Path(tempfile.mkdtemp()) / "big.json"
    hub = generate_scene(path)
    ref = reference(app, size)
    got = bpviz_run(app, size, path, hub)
    print(
        f"generated scene: {N_NODES} nodes, {N_EDGES} edges; window {size[0]}x{size[1]} offscreen"
    )
    rows = [
        ("load to first frame", got["load_s"] * 1000, None, ref["load_s"] * 1000, 1000),
        ("full viewport frame", got["frame_ms"], got["frame95_ms"], ref["frame_ms"], 16),
        ("drag node, 10 edges", got["drag_ms"], got["drag95_ms"], ref["drag_ms"], 16),
    ]
    for name, ms, p95, plain, target in rows:
        spread = f", p95 {p95:.2f} ms" if p95 is not None else ""
        print(
            f"  {name}: {ms:8.2f} ms{spread}  (plain Qt {plain:.2f} ms, {ms / plain:.1f}x; "
            f"target < {target} ms)"
        )
    print(f"  memory for the scene: {got['memory_mb']:7.1f} MB (peak RSS growth)")
    print(f"  the drag is one undo step: {got['undo_steps'] == 1}")
    print_run(run_mode(app, size))
    print_neurons(neuron_run_mode(app, size))


def print_run(run: dict) -> None:
    ratio = run["run_rate"] / run["headless_rate"]
    print(
        "moons in Run mode, window shown offscreen: 6 rounds of 1 s headless then 1 s Run "
        f"(counted after {WARM_UP_S} s)"
    )
    print(
        f"  training rate: {run['run_rate']:8.0f} steps/s  (headless {run['headless_rate']:.0f} "
        f"steps/s; {ratio:.2f}x; target >= 0.8x)"
    )
    print(
        f"  CPU time per step: {run['run_cpu_us']:.1f} us (headless {run['headless_cpu_us']:.1f}"
        f" us; {run['headless_cpu_us'] / run['run_cpu_us']:.2f}x)"
    )
    print(
        f"  forward passes per step: {run['run_passes']:.3f} (headless "
        f"{run['headless_passes']:.3f})"
    )
    print(
        f"  event-loop gaps: median {run['frame_median_ms']:.2f} ms, "
        f"p95 {run['frame_p95_ms']:.2f} ms (target p95 <= 16 ms)"
    )
    print(f"  one repaint of its canvas, nothing changed: {run['canvas_repaint_ms']:.2f} ms "
          "(best of 5 medians of 100)")  # fmt: skip


def print_neurons(got: dict) -> None:
    ratio = got["run_rate"] / got["headless_rate"]
    print(
        f"8-8-8 tanh network in Run mode: 6 rounds of 1 s headless, 1 s Run with h1-h3 closed "
        f"and 1 s with them opened ({got['tiles']} tiles)"
    )
    print(
        f"  neuron maps ({got['side']}x{got['side']}): {got['refresh_rate']:.1f} refreshes/s "
        f"(target >= 10), one refresh {got['refresh_ms']:.2f} ms"
    )
    print(
        f"  training rate: {got['run_rate']:8.0f} steps/s  (headless {got['headless_rate']:.0f} "
        f"steps/s; {ratio:.2f}x; target >= 0.5x)"
    )
    print(
        f"  same window, layers closed: {got['closed_rate']:.0f} steps/s "
        f"(opened / closed {got['run_rate'] / got['closed_rate']:.2f}x)"
    )


if __name__ == "__main__":
    if sys.argv[1:] == ["--big"]:  # just the 5,000-node canvas
        print_big(big_canvas(QApplication.instance() or QApplication(sys.argv[:1]), (1400, 900)))
    elif sys.argv[1:] == ["--big", "--first"]:  # just its first frame, in more rounds
        print_first(big_first_frame_only(QApplication.instance() or QApplication(sys.argv[:1])))
    elif sys.argv[1:] == ["--run"]:  # just moons in Run mode
        print_run(run_mode(QApplication.instance() or QApplication(sys.argv[:1]), (1400, 900)))
    elif sys.argv[1:] == ["--neurons"]:  # just the neuron-map measurement
        print_neurons(
            neuron_run_mode(QApplication.instance() or QApplication(sys.argv[:1]), (1400, 900))
        )
    else:
        main()
