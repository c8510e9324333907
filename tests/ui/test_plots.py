"""The loss plot: curves hold exactly the recorded points, accuracy only for classifiers, the
log toggle, and the append/refresh live path at 100 000 points."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

import bpviz
from bpviz.engine.training import History, StepResult
from bpviz.ui.plots import LossPlot, Series

SCENES = Path(__file__).resolve().parents[2] / "scenes"


@pytest.fixture
def plot(qtbot) -> LossPlot:  # noqa: ANN001
    widget = LossPlot()
    qtbot.addWidget(widget)
    widget.resize(600, 200)
    return widget


def results(n: int, classify: bool = True, every: int = 5) -> list[StepResult]:
    """Step results 1..n; test figures every `every` steps, as a Trainer reports them."""
    out = []
    for t in range(1, n + 1):
        tested = t % every == 0
        out.append(
            StepResult(
                t,
                1.0 / t,
                t / (n + 1) if classify else None,
                2.0 / t if tested else None,
                0.5 if tested and classify else None,
            )
        )
    return out


def as_history(rs: list[StepResult]) -> History:
    h = History()
    for r in rs:
        h.record(r)
    return h


def shown(curve) -> tuple[list[float], list[float]]:  # noqa: ANN001
    x, y = curve.getOriginalDataset()
    return ([], []) if x is None else (x.tolist(), y.tolist())


def test_set_history_puts_every_point_on_its_curve(plot: LossPlot) -> None:
    h = as_history(results(50))
    plot.set_history(h)
    assert shown(plot.train) == (h.step, h.loss)
    assert shown(plot.test) == (h.test_step, h.test_loss)
    assert shown(plot.accuracy) == (h.step, h.accuracy)
    assert shown(plot.test_accuracy) == (h.test_step, h.test_accuracy)
    assert not plot.hint.isVisible()


def test_append_draws_nothing_until_refresh_then_exactly_the_points(plot: LossPlot) -> None:
    rs = results(37, every=4)
    for r in rs:
        plot.append(r)
    assert shown(plot.train) == ([], [])  # appends only mark the plot dirty
    assert plot.hint.isVisible()
    plot.redraw()
    h = as_history(rs)
    assert shown(plot.train) == (h.step, h.loss)
    assert shown(plot.accuracy) == (h.step, h.accuracy)
    assert not plot.hint.isVisible()
    xs, ys = plot.train_data()
    assert xs.tolist() == h.step and ys.tolist() == h.loss


def test_test_curve_has_points_only_at_its_steps(plot: LossPlot) -> None:
    for r in results(30, every=10):
        plot.append(r)
    plot.redraw()
    assert shown(plot.test) == ([10.0, 20.0, 30.0], [0.2, 0.1, 2.0 / 30])
    assert shown(plot.test_accuracy)[0] == [10.0, 20.0, 30.0]


def test_appending_continues_a_set_history(plot: LossPlot) -> None:
    rs = results(20)
    plot.set_history(as_history(rs[:12]))
    for r in rs[12:]:
        plot.append(r)
    plot.redraw()
    assert shown(plot.train) == (list(range(1, 21)), [r.loss for r in rs])


def test_clear_shows_the_empty_hint_again(plot: LossPlot) -> None:
    plot.set_history(as_history(results(10)))
    plot.clear()
    assert shown(plot.train) == ([], []) and shown(plot.test) == ([], [])
    assert plot.hint.isVisible() and not plot.legend.isVisible()
    assert not plot.accuracy_shown()


def test_accuracy_axis_only_for_classification(plot: LossPlot) -> None:
    right = plot.plot.getAxis("right")
    regression = bpviz.load_scene(SCENES / "sine.json")
    plot.set_history(regression.train(3))
    assert not right.isVisible() and not plot.accuracy_shown()
    assert shown(plot.accuracy) == ([], [])
    classifier = bpviz.load_scene(SCENES / "xor.json")
    plot.set_history(classifier.train(3))
    assert right.isVisible() and plot.accuracy_shown()
    assert shown(plot.accuracy)[1] == classifier.session.history.accuracy
    plot.set_history(regression.session.history)
    assert not right.isVisible()


def test_log_toggle_switches_the_loss_axis_only(plot: LossPlot, qtbot) -> None:  # noqa: ANN001
    item = plot.plot.getPlotItem()
    plot.set_history(as_history(results(10)))
    with qtbot.waitSignal(plot.log_scale_changed) as changed:
        qtbot.mouseClick(plot.log_button, Qt.MouseButton.LeftButton)
    assert changed.args == [True]
    assert plot.log_scale() and item.ctrl.logYCheck.isChecked()
    assert plot.train.opts["logMode"] == [False, True]
    assert item.getAxis("left").logMode and not item.getAxis("right").logMode
    plot.set_log_scale(False)
    assert not plot.log_button.isChecked() and plot.train.opts["logMode"] == [False, False]
    item.setLogMode(y=True)  # the plot's own context menu: the button follows
    assert plot.log_button.isChecked()


def test_a_hundred_thousand_points(plot: LossPlot, qtbot) -> None:  # noqa: ANN001
    plot.show()
    qtbot.waitExposed(plot)
    n = 100_000
    for t in range(1, n + 1):
        plot.append(StepResult(t, 1.0 / t, 0.5, 1.0 if t % 100 == 0 else None, None))
        if t % 25_000 == 0:
            plot.redraw()
    plot.redraw()
    plot.repaint()
    x, y = plot.train.getOriginalDataset()
    assert len(x) == n and x[-1] == n and y[-1] == 1.0 / n
    assert len(plot.test.getOriginalDataset()[0]) == n // 100
    plot.set_log_scale(True)
    plot.repaint()
    assert len(plot.train.getOriginalDataset()[0]) == n


def test_series_grows_without_changing_an_earlier_view() -> None:
    s = Series()
    for i in range(1024):
        s.append(i, -i)
    before_x, _ = s.data()
    s.append(1024, -1024)  # past the capacity: new buffers
    assert len(s) == 1025 and len(s.x) == 2048
    assert before_x.tolist() == list(range(1024))
    x, y = s.data()
    assert x.tolist() == list(range(1025)) and y[-1] == -1024
    assert np.shares_memory(x, s.x)  # a view, not a copy


@pytest.mark.parametrize("height", [150, 200, 300])
def test_the_accuracy_axis_labels_0_half_and_1(qtbot, height: int) -> None:  # noqa: ANN001
    from PySide6.QtGui import QImage, QPainter

    widget = LossPlot()
    qtbot.addWidget(widget)
    widget.resize(800, height)
    widget.show()
    qtbot.waitExposed(widget)
    for r in results(50):
        widget.append(r)
    widget.redraw()
    qtbot.wait(20)  # the layout places the axes
    axis = widget.plot.getPlotItem().getAxis("right")
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        _, _, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    assert [text for _, _, text in texts] == ["0", "0.5", "1"]


def test_a_long_run_keeps_the_plot_bounded_and_its_extremes() -> None:
    from bpviz.ui.plots import MAX_POINTS

    s = Series()
    n = MAX_POINTS + 10
    for i in range(n):
        s.append(i, 100.0 if i == 4321 else 1.0 / (i + 1))
    x, y = s.data()
    assert MAX_POINTS // 2 <= len(s) < MAX_POINTS
    assert x[-1] == n - 1 and y.max() == 100.0 and x[y.argmax()] == 4321


def test_catching_up_with_a_history_takes_exactly_the_new_steps(plot: LossPlot) -> None:
    rs = results(45, every=4)
    h = History()
    for r in rs[:10]:
        h.record(r)
    plot.set_history(h)
    for chunk in (rs[10:11], rs[11:30], [], rs[30:]):  # slices of Run, one of them empty
        for r in chunk:
            h.record(r)
        plot.catch_up(h)
    plot.redraw()
    want = as_history(rs)
    assert shown(plot.train) == (want.step, want.loss)
    assert shown(plot.accuracy) == (want.step, want.accuracy)
    assert shown(plot.test) == (want.test_step, want.test_loss)
    assert shown(plot.test_accuracy) == (want.test_step, want.test_accuracy)


@pytest.mark.parametrize(
    ("scene", "listed"),
    [
        ("chain_rule.json", ["train loss"]),  # no data: a loss, no test split, no classes
        ("lessons/xor_one_layer.scene.json", ["train loss", "accuracy"]),  # no test split
        ("sine.json", ["train loss", "test loss"]),  # a regression with a test split
        ("moons.json", ["train loss", "test loss", "accuracy", "test accuracy"]),
    ],
)
def test_the_legend_names_only_curves_that_exist(
    plot: LossPlot, scene: str, listed: list[str]
) -> None:
    loaded = bpviz.load_scene(SCENES / scene)
    plot.set_history(loaded.train(10))
    assert plot.legend_names() == listed
    plot.clear()
    assert plot.legend_names() == []


def test_a_test_loss_joins_the_legend_when_its_first_point_arrives(plot: LossPlot) -> None:
    rs = results(5, classify=False, every=5)  # the test loss comes at step 5
    for r in rs[:4]:
        plot.append(r)
    plot.redraw()
    assert plot.legend_names() == ["train loss"]
    plot.append(rs[4])
    plot.redraw()
    assert plot.legend_names() == ["train loss", "test loss"]


def test_accuracy_is_drawn_as_solid_thin_steps(plot: LossPlot) -> None:
    """On four points accuracy jumps between 0.25, 0.5 and 0.75 at every step; a dashed pen
    over those jumps flickered as a band. Each value is held until the next step."""
    loaded = bpviz.load_scene(SCENES / "lessons" / "xor_one_layer.scene.json")
    plot.set_history(loaded.train(20))
    for curve in (plot.accuracy, plot.test_accuracy):
        pen = curve.opts["pen"]
        assert (pen.style(), pen.widthF()) == (Qt.PenStyle.SolidLine, 1.0)
        assert curve.opts["stepMode"] == "left"
    assert shown(plot.accuracy)[1] == loaded.session.history.accuracy
