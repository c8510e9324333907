"""The Learn panel: guided lessons over the real window. It opens a lesson's scene, points at
nodes and controls, and moves on when the learner has done what a page asks. A page with a
probe asks a question first, then runs the pass and reveals the answer from the engine."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from bpviz.engine.files import FileProblem
from bpviz.examples import examples_dir
from bpviz.model.commands import Command
from bpviz.model.lessons import (
    CONTROLS,  # the controls a page can wait for: names in the action registry
    TOOLBAR_CONTROLS,  # those a page can point at, on `toolbar`
    Lesson,
    LessonError,
    LessonProgress,
    lesson_paths,
    load_lesson,
    wanted,
)
from bpviz.model.probes import AnswerLog, ProbeError, one_number
from bpviz.model.settings import SetTraining
from bpviz.ui.actions import ActionRegistry
from bpviz.ui.canvas.scene import CanvasScene
from bpviz.ui.files import DocumentFiles
from bpviz.ui.lesson_controls import PanelControls
from bpviz.ui.probe_box import ProbeBox, verdict_colours
from bpviz.ui.theme import set_role
from bpviz.ui.training_ui import TrainingUI

ADVANCE_MS = 700  # a moment to see the result before the next page
ANSWERS_FILE = "lesson-answers.csv"
NODE_MARGIN = 40  # px kept around a node the page points at


class LearnPanel(QWidget):
    """Opens lessons through `files`, listens to `training` and the registry's CONTROLS, and
    points at nodes on `canvas` (scrolled into `view`), at buttons on `toolbar` and at the
    Training and Data panels' `controls`. Probe answers are appended to `answers` (a CSV);
    `push` applies a page's training settings as an undoable edit."""

    def __init__(
        self,
        files: DocumentFiles,
        training: TrainingUI,
        canvas: CanvasScene,
        view: QGraphicsView,
        registry: ActionRegistry,
        toolbar: QToolBar,
        show_status: Callable[[str], None],
        parent: QWidget | None = None,
        answers: Path | None = None,
        push: Callable[[Command], None] | None = None,
        controls: PanelControls | None = None,
    ) -> None:
        super().__init__(parent)
        self.controls = controls
        self._miss = ""  # why the learner's last setting did not meet the page's request
        self.show_status = show_status
        self.log = AnswerLog(answers) if answers is not None else None
        self.push = push
        self._trained_pages: set[int] = set()  # pages whose training settings were applied
        self._applying = False  # a page's training settings are being applied
        self._asked: tuple[int, int] | None = None  # (progress, page) the probe box shows
        self.files = files
        self.training = training
        self.canvas = canvas
        self.view = view
        self.registry = registry
        self.toolbar = toolbar
        self.lessons: list[Lesson] = []
        for path in lesson_paths(examples_dir()):
            try:
                self.lessons.append(load_lesson(path))
            except LessonError as e:
                show_status(str(e))
        self.progress: LessonProgress | None = None
        self._highlighted: QWidget | None = None
        self._hooked: Any = None
        self._advance = QTimer(self)
        self._advance.setSingleShot(True)
        self._advance.setInterval(ADVANCE_MS)
        self._advance.timeout.connect(self.next_page)

        self.chooser = QComboBox()
        self.chooser.addItems([lesson.title for lesson in self.lessons])
        self.chooser.setToolTip("Choose a lesson")
        # a long lesson title is elided, not allowed to widen the dock (and its neighbours)
        self.chooser.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.chooser.setMinimumContentsLength(16)
        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(lambda: self.start(self.chooser.currentIndex()))
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: bold; font-size: 12pt;")
        self.title.setWordWrap(True)
        self.text = QLabel("Choose a lesson and press Start.")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.request = QLabel()
        self.request.setWordWrap(True)
        self.probe_box = ProbeBox()
        self.probe_box.answered.connect(self.answer)
        self.probe_box.hide()
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.page_label = QLabel()
        self.back_button = QPushButton("Back")
        self.back_button.clicked.connect(self.back_page)
        self.next_button = QPushButton("Next")
        self.next_button.clicked.connect(self.next_page)

        top = QHBoxLayout()
        top.addWidget(self.chooser, 1)
        top.addWidget(self.start_button)
        nav = QHBoxLayout()
        nav.addWidget(self.back_button)
        nav.addStretch(1)
        nav.addWidget(self.page_label)
        nav.addStretch(1)
        nav.addWidget(self.next_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.title)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.probe_box)
        layout.addWidget(self.request)
        layout.addWidget(self.summary)
        layout.addLayout(nav)
        self._show()

    # ---- lessons -------------------------------------------------------------------------
    def start(self, index: int) -> None:
        lesson = self.lessons[index]
        self.chooser.setCurrentIndex(index)
        if not self.files.open_file(lesson.scene, as_example=True):
            return
        self.progress = LessonProgress(lesson)
        self._trained_pages = set()
        self._hook()
        self._arrive()

    def next_page(self) -> None:
        self._advance.stop()
        if self.progress is not None:
            if self.progress.index == len(self.progress.lesson.pages) - 1:
                self.progress.done = True
                self._show()
            else:
                self.progress.next()
                self._arrive()

    def back_page(self) -> None:
        self._advance.stop()
        if self.progress is not None:
            self.progress.back()
            self._arrive()

    def _arrive(self) -> None:
        """Show the page; a setting it asks for that is already in place counts as met (the
        learner came back, or set it early), without moving on by itself."""
        p = self.progress
        assert p is not None
        self._miss = ""
        self._apply_training()
        setting = p.page.wait_for.get("setting", [])
        if len(setting) == 3 and not p.done:
            section, key = setting[0], setting[1]
            current = (self._settings(section) or {}).get(key)
            if key == "transforms" and current is None:  # the raw features, listed
                current = self.controls.data.raw(self._settings("data")) if self.controls else []
            p.done = wanted(setting, current)
        self._show()

    def _settings(self, section: str) -> dict[str, Any] | None:
        document = self.files.document
        return document.training if section == "training" else document.data

    def notify(self, kind: str, detail: Any = None) -> None:
        """Something the learner did; a met request moves the lesson on after a moment. A
        setting changed to another value than the one asked for says so."""
        p = self.progress
        if p is None:
            return
        if p.notify(kind, detail):
            self._miss = ""
            self._show()
            self._advance.start()
            return
        setting = p.page.wait_for.get("setting", [])
        if kind == "setting" and not p.done and list(detail[:2]) == setting[:2]:
            shown = ", ".join(detail[2]) if isinstance(detail[2], list) else detail[2]
            self._miss = f"Not yet: {detail[1]} is now {shown}."
            self._show()

    def answer(self, answer: str | float) -> None:
        """The learner committed to an answer: run the probe's pass, then reveal the truth
        read from the engine's numbers, and keep the answer in the CSV."""
        p = self.progress
        probe = p.page.probe if p is not None else None
        if p is None or probe is None or p.done:
            return
        self._advance.stop()
        if probe.times > 1:  # many steps at once: views redrawn at the end, not per step
            self.training.steps(probe.times)
        else:
            self.registry[probe.run].trigger()
        try:
            numbers = [one_number(probe, node, self._read(probe, node)) for node in probe.nodes()]
        except ProbeError as e:
            p.done = True  # nothing to check the answer against: not counted
            self.probe_box.reveal(f"<b>No answer to compare with:</b> {html.escape(str(e))}.", None)
            self._show()
            return
        record = p.answer(answer, numbers)
        if self.log is not None:
            try:
                self.log.append(record)
            except FileProblem as e:
                self.show_status(f"Your answer was not saved: {e}")
        self._show()

    def _read(self, probe: Any, node: str) -> Any:
        """The array a probe reads: the node's value or gradient, or one of its parameters
        (its gradient: as the last backward pass left it)."""
        controller = self.training.controller
        if probe.param and node == probe.node:
            executor = controller.session.executor
            arrays = executor.param_grads if probe.quantity == "grad" else executor.params
            return arrays.get(node, {}).get(probe.param)
        return controller.grad(node) if probe.quantity == "grad" else controller.value(node)

    def _reveal_html(self) -> str:
        p = self.progress
        assert p is not None and p.page.probe is not None
        probe, record = p.page.probe, p.answers[p.index]
        right, wrong = verdict_colours()
        colour, verdict = (right, "✓ Right.") if record.right else (wrong, "✗ Not quite.")
        return (
            f"<span style='color:{colour}'><b>{verdict}</b></span> "
            f"You said {html.escape(probe.describe(record.answer))}; "
            f"it is {html.escape(probe.describe(record.truth))}."
            + (f"<br>{p.page.why}" if p.page.why else "")
        )

    # ---- events from the window ------------------------------------------------------------
    def _hook(self) -> None:
        """Listen to the controls once, and to the (new) document and controller."""
        if self._hooked is None:
            for name in CONTROLS:
                self.registry[name].triggered.connect(
                    lambda _=False, n=name: self.notify("action", n)
                )
        controller, document = self.training.controller, self.files.document
        self._hooked = controller
        controller.phase_changed.connect(lambda: self.notify("phase", controller.phase))
        controller.trained.connect(lambda r: self.notify("steps", r.step))
        document.attr_changed.connect(lambda node, name, value: self.notify("attr", [node, name]))
        seen = {"training": dict(document.training or {}), "data": dict(document.data or {})}

        def changed(section: str, new: dict[str, Any] | None) -> None:
            old, seen[section] = seen[section], dict(new or {})
            if self._applying:
                return  # the lesson's own edit is not the learner's
            for key in sorted(set(old) | set(seen[section])):
                if old.get(key) != seen[section].get(key):
                    value = seen[section].get(key)
                    if key == "transforms" and value is None and self.controls is not None:
                        value = self.controls.data.raw(seen[section])  # back to the raw ones
                    self.notify("setting", [section, key, value])

        document.training_changed.connect(lambda t: changed("training", t))
        document.data_changed.connect(lambda d: changed("data", d))

    # ---- display -------------------------------------------------------------------------
    def _show(self) -> None:
        p = self.progress
        has = p is not None
        self.back_button.setEnabled(has and p.index > 0)
        self.next_button.setEnabled(has)
        if not has:
            self.page_label.setText("")
            return
        page = p.page
        last = p.index == len(p.lesson.pages) - 1
        self.title.setText(page.title or p.lesson.title)
        self.text.setText(page.text)
        self.page_label.setText(f"{p.index + 1} / {len(p.lesson.pages)}")
        self._show_probe()
        ask = page.instruction()
        right, wrong = verdict_colours()
        if page.probe is not None:
            self.request.setText("" if p.done else f"<b>Your turn:</b> {ask}")
        elif ask and p.done:
            self.request.setText(f"<span style='color:{right}'>✓ Well done</span>")
        elif ask:
            miss = f"<br><span style='color:{wrong}'>{html.escape(self._miss)}</span>"
            self.request.setText(f"<b>Your turn:</b> {ask}" + (miss if self._miss else ""))
        else:
            self.request.setText("Lesson complete." if last and p.done else "")
        self.next_button.setText("Finish" if last else ("Skip" if p.waiting else "Next"))
        self._show_summary(last and p.done)
        self._highlight(page.highlight)

    def _show_probe(self) -> None:
        p = self.progress
        probe = p.page.probe if p is not None else None
        self.probe_box.setVisible(probe is not None)
        if probe is None or p is None:
            return
        if self._asked != (id(p), p.index):
            self._asked = (id(p), p.index)
            self.probe_box.ask(probe)
        if p.index in p.answers:
            self.probe_box.reveal(self._reveal_html(), p.answers[p.index].answer)

    def _show_summary(self, on: bool) -> None:
        p = self.progress
        lines = p.summary() if p is not None and on else []
        if len(lines) < 2:  # no probes in this lesson
            self.summary.setText("")
            return
        rows = "".join(f"<li>{html.escape(line)}</li>" for line in lines[1:])
        self.summary.setText(f"<b>Your answers: {lines[0]}</b><ul>{rows}</ul>")

    def _apply_training(self) -> None:
        """A page's training settings (e.g. a learning rate too high), once, as an edit the
        learner can undo."""
        p = self.progress
        if p is None or not p.page.training or p.index in self._trained_pages:
            return
        self._trained_pages.add(p.index)
        if self.push is not None:
            new = {**(self.files.document.training or {}), **p.page.training}
            self._applying = True
            try:
                self.push(SetTraining(new, "Lesson: change training"))
            finally:
                self._applying = False

    def _highlight(self, target: dict[str, Any]) -> None:
        if self._highlighted is not None:
            _mark(self._highlighted, None)
            self._highlighted = None
        node = target.get("node")
        if node in self.canvas.node_items:
            self.canvas.select([node])
            # scrolled into view only if it is not on screen: the fitted graph stays put
            self.view.ensureVisible(self.canvas.node_items[node], NODE_MARGIN, NODE_MARGIN)
        control, panel = target.get("control"), target.get("panel")
        widget: QWidget | None = None
        if control in TOOLBAR_CONTROLS:
            widget = self.toolbar.widgetForAction(self.registry[control])
        elif control is not None and self.controls is not None:
            widget = self.controls.reveal(control)
        elif panel is not None and self.controls is not None:
            widget = self.controls.reveal_panel(panel)  # its title bar framed
        if isinstance(widget, QWidget):
            _mark(widget, "highlight")  # coloured by the theme's style sheet
            self._highlighted = widget


def _mark(widget: QWidget, role: str | None) -> None:
    """Set a style-sheet role; a dock's framed title bar is taller, so its layout is redone
    (else a dock already in front clips its title until something else relays it out)."""
    set_role(widget, role)
    if isinstance(widget, QDockWidget) and widget.layout() is not None:
        widget.layout().invalidate()
