"""Every lesson walked from first page to last, doing what each page asks through the UI."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox, QPushButton, QToolButton

from bpviz import load_scene
from bpviz.engine.session import load_data
from bpviz.examples import examples_dir
from bpviz.model.lessons import PANEL_CONTROLS, LessonError, lesson_paths, load_lesson
from bpviz.ui.main_window import MainWindow
from tests.ui.conftest import attr_editor, retype

LESSONS = lesson_paths(examples_dir())


def test_there_are_at_least_six_lessons_and_all_load() -> None:
    assert len(LESSONS) >= 6
    for path in LESSONS:
        lesson = load_lesson(path)
        assert lesson.pages and lesson.scene.is_file()


# what each page points at, written out by hand: ("node", id) selects a node (on screen),
# ("control", name) lights up that toolbar button, ("panel", name) frames that dock's title
HIGHLIGHTS = {
    "01_fitting_a_line.lesson": [("node", "loss"), ("control", "forward"), ("node", "w"),
                                 ("control", "backward"), ("control", "step"), ("control", "run"),
                                 ("control", "data.kind.sine"), ("panel", "output")],
    "02_chain_rule.lesson": [("node", "L"), ("node", "L"), ("node", "b"), ("control", "next_node"),
                             ("control", "next_node"), ("node", "a")],
    "03_fan_out.lesson": [("node", "x"), ("node", "x"), ("node", "s"), ("control", "next_node"),
                          ("node", "x")],
    "04_neuron.lesson": [("node", "o"), ("node", "w2"), ("node", "n"), ("control", "backward"),
                         ("node", "o")],
    "05_xor.lesson": [("node", "logit"), ("node", "loss"), ("control", "step"),
                      ("control", "data.feature.x1*x2"), ("node", "logit"), ("node", "loss"),
                      ("node", "logit")],
    "06_vanishing.lesson": [("node", "w"), ("node", "w"), ("control", "backward"), ("node", "s1"),
                            ("node", "s1")],
    "07_fitting_a_curve.lesson": [("node", "y"), ("node", "loss"), ("node", "k1"), ("node", "k3"),
                                  ("node", "k5"), ("control", "step"), ("control", "training.lr"),
                                  ("control", "run"), ("node", "k5")],
    "08_landscape.lesson": [("panel", "landscape"), ("node", "w2"), ("node", "w2"),
                            ("control", "step"),
                            ("control", "training.optimizer"), ("control", "reset"),
                            ("node", "L"), ("control", "training.optimizer"),
                            ("control", "reset"), ("node", "w2"), ("control", "run")],
    "09_reverse_mode.lesson": [("node", "L"), ("node", "x5"), ("node", "x3"), ("node", "L"),
                               ("node", "x1")],
    "10_network_1986.lesson": [("node", "hidden"), ("node", "loss"), ("control", "step"),
                               ("node", "hidden"), ("node", "hidden")],
}  # fmt: skip


def momentum_valley(steps: int, lr: float = 0.09, mu: float = 0.9) -> float:
    """L = w1² + 10·w2² after `steps` of SGD with momentum (PyTorch's rule) from (3, 1),
    worked out here independently of the engine."""
    w, v = [3.0, 1.0], [0.0, 0.0]
    for k in range(steps):
        g = [2 * w[0], 20 * w[1]]
        v = [g[j] if k == 0 else mu * v[j] + g[j] for j in range(2)]
        w = [w[j] - lr * v[j] for j in range(2)]
    return w[0] ** 2 + 10 * w[1] ** 2


def logistic_adam(x: np.ndarray, y: np.ndarray, steps: int, lr: float = 0.1) -> float:
    """Binary cross-entropy of one neuron sigmoid(x·w + b) after `steps` of Adam (PyTorch's
    rule) from zero weights, worked out here independently of the engine."""
    w = np.zeros(x.shape[1] + 1)
    xb = np.column_stack([x, np.ones(len(x))])
    m, v = np.zeros_like(w), np.zeros_like(w)

    def loss_grad(w: np.ndarray) -> tuple[float, np.ndarray]:
        p = 1 / (1 + np.exp(-xb @ w))
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))), xb.T @ (p - y) / len(y)

    for k in range(1, steps + 1):
        g = loss_grad(w)[1]
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        w -= lr * (m / (1 - 0.9**k)) / (np.sqrt(v / (1 - 0.999**k)) + 1e-8)
    return loss_grad(w)[0]


XOR = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]), np.array([0.0, 1.0, 1.0, 0.0])
XOR_WITH_PRODUCT = np.column_stack([XOR[0], XOR[0][:, 0] * XOR[0][:, 1]])


# every probe's right answer, worked out by hand from the scene (page index -> answer), and a
# wrong one; numbers are estimates within the probe's tolerance of the worked-out truth
def line_targets_mean_square() -> float:
    """The flat line's loss in lesson 1: the mean of t² over the scene's twelve targets."""
    data = load_scene(examples_dir() / "lessons" / "line.scene.json").session.dataset
    return float(np.mean(np.square(data.y_train)))


def best_line_on_the_wave() -> float:
    """Lesson 1 after switching to sine: the least-squares line's mean squared error on the
    twelve points (n and seed kept, sine's noise), which 200 more SGD steps reach."""
    data = load_data({"kind": "sine", "n": 12, "seed": 4, "test_fraction": 0.0}, None)[2]
    x, y = data.x_train[:, 0], data.y_train.ravel()
    fit = np.polyval(np.polyfit(x, y, 1), x)
    return float(np.mean((fit - y) ** 2))


PROBES = {
    # the line's points rise with slope ≈ 1.65 (fitted by hand from the data), so at w = 1
    # ∇w < 0; chain rule: L = −8, ∂L/∂b = f·a = −4; fan-out: ∂y/∂x = 0.18·(1 + w) = −0.18,
    # as large as ∂y/∂s; neuron: x2 = 0, 1 − tanh² = 0.5; xor: ∂loss/∂loss = 1, loss < 0.01
    # after 500 steps (scenes/README.md); chains: both slopes > 0, ∇s1 ≤ 0.25⁴·… ≪ ∇r1 = 1
    # ... and on the wave no line gets near the noise: the best one's loss, not 0.01
    "01_fitting_a_line.lesson": {1: (line_targets_mean_square(), 2.5), 3: ("negative", "positive"),
                                 7: (best_line_on_the_wave(), 0.01)},
    "02_chain_rule.lesson": {1: (-8.0, 8.0), 2: ("negative", "positive")},
    "03_fan_out.lesson": {1: ("negative", "positive"), 2: ("equal", "node")},
    "04_neuron.lesson": {1: ("zero", "positive"), 2: (0.5, 0.9)},
    # xor with one neuron: no line separates the classes, the loss stays at ln 2; with the
    # feature x1·x2 its weight must be negative (w1 + b > 0, w2 + b > 0, b < 0 and
    # w1 + w2 + w3 + b < 0 give w3 < b), and 300 Adam steps bring the loss near 0
    "05_xor.lesson": {1: ("positive", "negative"), 2: (np.log(2), 0.2),
                      4: ("negative", "positive"),
                      5: (logistic_adam(XOR_WITH_PRODUCT, XOR[1], 300), 0.5)},
    "06_vanishing.lesson": {1: ("positive", "zero"), 3: ("other", "node")},
    # L = w1² + 10·w2² ... see each lesson's "why"; the curve's flat-line loss is the mean of
    # sin² (½) less a little for these 20 points: 0.45 is within 0.1 of it
    "07_fitting_a_curve.lesson": {1: (0.45, 1.5), 3: ("positive", "negative"),
                                  4: ("other", "node")},
    "08_landscape.lesson": {1: ("other", "node"), 2: ("negative", "positive"),
                            6: (momentum_valley(20), momentum_valley(20) + 5),
                            9: ("positive", "negative")},
    "09_reverse_mode.lesson": {1: ("zero", "positive"), 2: ("node", "equal")},
    # every output starts near 0.45 (small uniform weights): 56/64 · −ln 0.55 + 8/64 · −ln 0.45
    # ≈ 0.62; trained, the README's 0.0149
    # trained, the paper's pattern: bit 6's weight mirrors bit 1's (−2.7 on the first unit)
    "10_network_1986.lesson": {1: (0.62, 1.5), 2: (0.02, 0.5), 3: ("positive", "negative")},
}  # fmt: skip


def lit_controls(window: MainWindow) -> list[str]:
    """The actions whose toolbar button is lit up, and the lit panel controls; a lit panel
    control is on screen (its panel in front)."""
    lit = []
    for name in window.registry.names():
        button = window.training_toolbar.widgetForAction(window.registry[name])
        if isinstance(button, QToolButton) and button.property("role") == "highlight":
            lit.append(name)
    for name in PANEL_CONTROLS:
        widget = window.learn.controls.widget(name)
        if widget is not None and widget.property("role") == "highlight":
            on_screen = widget.isVisible() and not widget.visibleRegion().isEmpty()
            assert on_screen, f"{name} is lit but not on screen"  # e.g. its panel tabbed away
            lit.append(name)
    for name, dock in window.learn.controls.panels.items():
        if dock.property("role") == "highlight":
            assert not dock.visibleRegion().isEmpty(), f"panel {name} is lit but tabbed away"
            lit.append(name)
    return lit


def choose(qtbot, combo: QComboBox, text: str) -> None:  # noqa: ANN001
    """Open a combo box's list with the mouse and click the item `text`."""
    click(qtbot, combo)
    view = combo.view()
    qtbot.waitUntil(view.isVisible)
    qtbot.wait(QApplication.doubleClickInterval() + 50)  # the list ignores a too-early release
    rect = view.visualRect(view.model().index(combo.findText(text), 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: not view.isVisible())


def do_request(window: MainWindow, wait: dict, qtbot) -> None:  # noqa: ANN001
    ui, registry = window.training_ui, window.registry
    if "action" in wait:
        registry[wait["action"]].trigger()
        if wait["action"] == "run":
            registry["run"].trigger()  # pause again
    elif "phase" in wait:
        for _ in range(100):  # at least once: a probe's pass may have left that phase on show
            registry["next_node"].trigger()
            if ui.controller.phase == wait["phase"]:
                break
    elif "attr" in wait:
        node, name = wait["attr"]
        window.canvas.select([node])
        retype(qtbot, attr_editor(window.inspector, name), "1.0")
        assert window.document.node(node).attrs[name] == 1.0
    elif "steps" in wait:
        for _ in range(wait["steps"]):
            registry["step"].trigger()
    elif "setting" in wait and len(wait["setting"]) == 3:  # a value, set with the mouse
        section, key, value = wait["setting"]
        if section == "training":
            control = window.learn.controls.widget(f"training.{key}")
            assert control.isVisible()
            if isinstance(control, QComboBox):
                choose(qtbot, control, value)
            else:  # a number field: typed
                retype(qtbot, control, str(value))
            assert window.document.training[key] == value
        elif key == "kind":  # a dataset: its picture clicked
            click(qtbot, window.data_panel.strip.buttons[value])
            assert window.document.data[key] == value
        else:  # the input features: tick the boxes asked for
            assert key == "transforms"
            for expr in value if isinstance(value, list) else [value]:
                box = window.data_panel.checks[expr]
                assert box.isVisible()
                if not box.isChecked():
                    click(qtbot, box)
            assert window.document.data[key] == value
    elif "setting" in wait:
        section, key = wait["setting"]
        assert section == "training"  # typed into the Training panel as a learner would
        window.show_dock(window.training_dock)
        retype(qtbot, window.training_panel.entries[key], "0.01")
        assert window.document.training[key] == 0.01


def answer_probe(qtbot, box, answer: str | float) -> None:  # noqa: ANN001
    """Click the answer's button, or drag the slider to it and press Answer."""
    if isinstance(answer, str):
        click(qtbot, box.buttons[answer])
    else:
        slide_to(qtbot, box, answer)
        click(qtbot, box.answer_button)


@pytest.mark.parametrize("right", [True, False], ids=["right", "wrong"])
@pytest.mark.parametrize("index", range(len(LESSONS)), ids=[p.stem for p in LESSONS])
def test_walk_every_lesson(window: MainWindow, qtbot, index: int, right: bool, tmp_path) -> None:  # noqa: ANN001
    panel = window.learn
    window.registry["lessons"].trigger()
    assert window.learn_dock.isVisible()
    panel.start(index)
    progress = panel.progress
    scene = json.loads(progress.lesson.scene.read_text())
    assert sorted(window.document.nodes) == sorted(n["id"] for n in scene["nodes"])
    pages = progress.lesson.pages
    expected = HIGHLIGHTS[LESSONS[index].stem]
    probes = PROBES.get(LESSONS[index].stem, {})
    assert len(pages) == len(expected)
    assert sorted(probes) == [i for i, page in enumerate(pages) if page.probe is not None]
    for i, page in enumerate(pages):
        assert progress.index == i
        assert panel.text.text() == page.text
        kind, name = expected[i]
        # a node page selects exactly that node; a page lights up its control and no other
        if kind == "node":
            assert window.canvas.selected_ids() == [name], f"page {i}"
            item = window.canvas.node_items[name]
            seen = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
            assert seen.contains(item.sceneBoundingRect()), f"page {i}: {name} is off screen"
        assert lit_controls(window) == ([] if kind == "node" else [name]), f"page {i}"
        if page.probe is not None:
            assert "Your turn" in panel.request.text() and panel.probe_box.isVisible()
            answer_probe(qtbot, panel.probe_box, probes[i][0 if right else 1])
            assert progress.done and i in progress.answers, f"page {i}: no answer recorded"
            verdict = "✓ Right." if right else "✗ Not quite."
            assert verdict in panel.probe_box.result.text(), f"page {i}"
            assert page.why in panel.probe_box.result.text()
        elif page.wait_for:
            assert "Your turn" in panel.request.text()
            do_request(window, page.wait_for, qtbot)
            assert progress.done, f"page {i}: {page.wait_for} was not recognised"
            if i < len(pages) - 1:
                qtbot.waitUntil(lambda i=i: progress.index == i + 1, timeout=3000)
                continue
        qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    assert progress.index == len(pages) - 1 and progress.done
    if LESSONS[index].stem == "09_reverse_mode.lesson":  # the count the lesson promises
        assert "took 16 forward passes" in window.statusBar().currentMessage()
    m = len(probes)
    assert m >= 2  # every lesson asks at least two questions
    assert panel.summary.text().startswith(f"<b>Your answers: {m if right else 0} of {m} right")
    rows = list(csv.DictReader((tmp_path / "recovery" / "lesson-answers.csv").open()))
    assert [(r["lesson"], int(r["page"]) - 1, r["right"]) for r in rows] == [
        (LESSONS[index].name, i, "yes" if right else "no") for i in sorted(probes)
    ]
    for r, i in zip(rows, sorted(probes), strict=True):
        given = probes[i][0 if right else 1]
        assert r["answer"] == (given if isinstance(given, str) else r["answer"])


def test_back_and_next_always_work(window: MainWindow, qtbot) -> None:  # noqa: ANN001
    panel = window.learn
    panel.start(0)
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)  # skips a waiting page
    assert panel.progress.index == 2
    qtbot.mouseClick(panel.back_button, Qt.MouseButton.LeftButton)
    assert panel.progress.index == 1


def test_a_broken_lesson_file_names_the_place(tmp_path: Path) -> None:
    bad = tmp_path / "x.lesson.json"
    bad.write_text('{"format": "bpviz-lesson", "scene": "nope.json", "pages": []}')
    with pytest.raises(LessonError, match="scene"):
        load_lesson(bad)


def docs_lesson(tmp_path: Path) -> Path:
    """The worked example of docs/lessons.md, saved where its scene path resolves."""
    text = (examples_dir().parent / "docs" / "lessons.md").read_text()
    block = re.search(r"```json\n(.*?)```", text, re.S).group(1)
    (tmp_path / "lessons").mkdir()
    shutil.copy(examples_dir() / "chain_rule.json", tmp_path / "chain_rule.json")
    (tmp_path / "lessons" / "my.lesson.json").write_text(block)
    return tmp_path / "lessons" / "my.lesson.json"


def click(qtbot, widget) -> None:  # noqa: ANN001
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def slide_to(qtbot, box, x: float) -> None:  # noqa: ANN001
    """Drag the estimate slider's handle with the mouse until it shows about `x`."""
    slider = box.slider
    slider.setFocus()
    qtbot.mouseClick(slider, Qt.MouseButton.LeftButton, pos=slider.rect().center())
    target = round((x - box.probe.low) / (box.probe.high - box.probe.low) * slider.maximum())
    key = Qt.Key.Key_Right if target > slider.value() else Qt.Key.Key_Left
    for _ in range(abs(target - slider.value())):
        qtbot.keyClick(slider, key)
    assert slider.value() == target


def test_probes_ask_first_then_reveal_score_and_keep_answers(
    window: MainWindow, qtbot, tmp_path: Path  # noqa: ANN001
) -> None:
    panel = window.learn
    panel.lessons.append(load_lesson(docs_lesson(tmp_path)))
    panel.start(len(panel.lessons) - 1)
    box, controller = panel.probe_box, window.training_ui.controller
    assert box.isVisible() and box.question.text() == "After Forward, roughly what will L be?"
    assert controller.value("L") is None  # nothing computed before the answer
    assert panel.next_button.text() == "Skip"
    slide_to(qtbot, box, 8.0)
    assert box.estimate_label.text() == "8"
    click(qtbot, box.answer_button)
    assert float(controller.value("L")) == -8.0  # the pass ran after the answer
    assert "Not quite." in box.result.text()
    assert "You said 8; it is -8." in box.result.text()
    assert "times f = −2 gives −8." in box.result.text()
    assert not box.answer_button.isEnabled()
    click(qtbot, panel.next_button)
    assert [b.text() for b in box.buttons.values()] == ["Negative", "Zero", "Positive"]
    click(qtbot, panel.next_button)  # a second set of buttons replaces the first
    qtbot.waitUntil(lambda: [b.text() for b in box.findChildren(QPushButton) if b.isVisible()]
                    == ["|∇a| larger", "Equal", "|∇b| larger"])  # fmt: skip
    click(qtbot, panel.back_button)
    assert controller.grad("a") is None
    click(qtbot, box.buttons["positive"])
    assert float(controller.grad("a")) == 6.0
    assert "✓ Right." in box.result.text() and "You said positive; it is positive." in (
        box.result.text()
    )
    click(qtbot, box.buttons["negative"])  # locked: the first answer counts
    assert panel.progress.answers[1].answer == "positive"
    click(qtbot, panel.back_button)  # an answered page stays answered
    assert "You said 8; it is -8." in box.result.text() and not box.slider.isEnabled()
    click(qtbot, panel.next_button)
    click(qtbot, panel.next_button)
    assert panel.summary.text() == ""  # the score comes when the lesson is done
    click(qtbot, box.buttons["other"])
    assert "You said |∇b| larger; it is |∇a| larger." in box.result.text()
    click(qtbot, panel.next_button)  # Finish
    assert panel.summary.text() == (
        "<b>Your answers: 1 of 3 right</b><ul>"
        "<li>Page 1 (L): wrong: you said 8, it was -8</li>"
        "<li>Page 2 (∇a): right: you said positive, it was positive</li>"
        "<li>Page 3 (∇a): wrong: you said |∇b| larger, it was |∇a| larger</li></ul>"
    )
    rows = list(csv.reader((tmp_path / "recovery" / "lesson-answers.csv").open()))
    assert [r[1:] for r in rows] == [
        ["lesson", "page", "node", "quantity", "ask", "answer", "truth", "right"],
        ["my.lesson.json", "1", "L", "value", "estimate", "8.0", "-8.0", "no"],
        ["my.lesson.json", "2", "a", "grad", "sign", "positive", "positive", "yes"],
        ["my.lesson.json", "3", "a/b", "grad", "compare", "other", "node", "no"],
    ]


def test_the_curve_lessons_high_learning_rate_diverges_with_a_message(
    window: MainWindow, qtbot  # noqa: ANN001
) -> None:
    panel = window.learn
    panel.start([p.stem for p in LESSONS].index("07_fitting_a_curve.lesson"))
    for _ in range(6):
        click(qtbot, panel.next_button)
    assert panel.progress.page.title == "Plain SGD"
    # arriving on the page applied its settings as one undoable edit
    assert window.document.training == {"optimizer": "sgd", "lr": 0.00001, "seed": 0}
    assert window.undo.qstack.undoText() == "Lesson: change training"
    click(qtbot, panel.back_button)
    click(qtbot, panel.next_button)  # shown again: not applied twice
    assert window.undo.qstack.count() == 1
    assert panel.request.text() == "<b>Your turn:</b> set lr to 0.01 in the Training panel"
    assert window.training_panel.entries["lr"].isVisible()  # the page brought its panel forward
    retype(qtbot, window.training_panel.entries["lr"], "0.01")
    assert window.document.training == {"optimizer": "sgd", "lr": 0.01, "seed": 0}
    qtbot.waitUntil(lambda: panel.progress.page.title == "A learning rate too high", timeout=3000)
    controller = window.training_ui.controller
    for _ in range(200):
        window.registry["step"].trigger()
        if controller.phase == "error":
            break
    assert controller.phase == "error"
    message = window.statusBar().currentMessage()
    assert message.startswith("Stopped: non-finite value (NaN or Inf) produced by node ")
    assert controller.error_node in window.document.nodes
    window.registry["undo"].trigger()
    window.registry["undo"].trigger()
    assert window.document.training == {"optimizer": "adam", "lr": 0.05, "seed": 0}
