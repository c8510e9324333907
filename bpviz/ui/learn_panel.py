"""The Learn panel: guided lessons over the real window. It opens a lesson's scene, points at
nodes and controls, and moves on when the learner has done what a page asks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from bpviz.examples import examples_dir
from bpviz.model.lessons import (
    CONTROLS,  # the controls a page can wait for or point at: names in the action registry
    Lesson,
    LessonError,
    LessonProgress,
    lesson_paths,
    load_lesson,
)
from bpviz.ui.actions import ActionRegistry
from bpviz.ui.canvas.scene import CanvasScene
from bpviz.ui.files import DocumentFiles
from bpviz.ui.training_ui import TrainingUI

ADVANCE_MS = 700  # a moment to see the result before the next page
HIGHLIGHT_STYLE = (
    "QToolButton { background: #fde293; border: 2px solid #f9ab00; border-radius: 4px; }"
)


class LearnPanel(QWidget):
    """Opens lessons through `files`, listens to `training` and the registry's CONTROLS, and
    points at nodes on `canvas` (centred in `view`) and at buttons on `toolbar`."""

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
    ) -> None:
        super().__init__(parent)
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
        self._highlighted: QToolButton | None = None
        self._hooked: Any = None
        self._advance = QTimer(self)
        self._advance.setSingleShot(True)
        self._advance.setInterval(ADVANCE_MS)
        self._advance.timeout.connect(self.next_page)

        self.chooser = QComboBox()
        self.chooser.addItems([lesson.title for lesson in self.lessons])
        self.chooser.setToolTip("Choose a lesson")
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
        layout.addWidget(self.request)
        layout.addLayout(nav)
        self._show()

    # ---- lessons -------------------------------------------------------------------------
    def start(self, index: int) -> None:
        lesson = self.lessons[index]
        self.chooser.setCurrentIndex(index)
        if not self.files.open_file(lesson.scene, as_example=True):
            return
        self.progress = LessonProgress(lesson)
        self._hook()
        self._show()

    def next_page(self) -> None:
        self._advance.stop()
        if self.progress is not None:
            if self.progress.index == len(self.progress.lesson.pages) - 1:
                self.progress.done = True
            else:
                self.progress.next()
            self._show()

    def back_page(self) -> None:
        self._advance.stop()
        if self.progress is not None:
            self.progress.back()
            self._show()

    def notify(self, kind: str, detail: Any = None) -> None:
        """Something the learner did; a met request moves the lesson on after a moment."""
        if self.progress is not None and self.progress.notify(kind, detail):
            self._show()
            self._advance.start()

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
        ask = page.instruction()
        if ask and p.done:
            self.request.setText("<span style='color:#188038'>✓ Well done</span>")
        elif ask:
            self.request.setText(f"<b>Your turn:</b> {ask}")
        else:
            self.request.setText("Lesson complete." if last and p.done else "")
        self.next_button.setText("Finish" if last else ("Skip" if p.waiting else "Next"))
        self._highlight(page.highlight)

    def _highlight(self, target: dict[str, Any]) -> None:
        if self._highlighted is not None:
            self._highlighted.setStyleSheet("")
            self._highlighted = None
        node = target.get("node")
        if node in self.canvas.node_items:
            self.canvas.select([node])
            self.view.centerOn(self.canvas.node_items[node])
        control = target.get("control")
        if control in self.registry:
            button = self.toolbar.widgetForAction(self.registry[control])
            if isinstance(button, QToolButton):
                button.setStyleSheet(HIGHLIGHT_STYLE)
                self._highlighted = button
