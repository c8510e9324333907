"""The question of a lesson page's probe: buttons (sign, compare) or a slider (estimate).
It only collects the answer; the Learn panel runs the pass and hands back the reveal."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from bpviz.model.probes import Probe
from bpviz.ui.theme import current_theme, set_role

SLIDER_STEPS = 1000


def verdict_colours() -> tuple[str, str]:
    """Green for right, red for wrong, each readable on the current theme's panel."""
    return ("#81c995", "#f28b82") if current_theme().dark else ("#188038", "#c5221f")


class ProbeBox(QFrame):
    """Shows one probe; emits `answered` with 'negative'/'zero'/'positive', 'node'/'other'/
    'equal' or the slider's number."""

    answered = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("probe")  # boxed and coloured by the theme's style sheet
        self.probe: Probe | None = None
        self.question = QLabel()
        self.question.setWordWrap(True)
        self.question.setStyleSheet("font-weight: bold;")
        self.buttons: dict[str, QPushButton] = {}
        self.button_row = QHBoxLayout()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, SLIDER_STEPS)
        self.slider.valueChanged.connect(self._show_estimate)
        self.estimate_label = QLabel()
        self.answer_button = QPushButton("Answer")
        self.answer_button.clicked.connect(lambda: self._answer(self.estimate()))
        self.slider_row = QHBoxLayout()
        self.slider_row.addWidget(self.slider, 1)
        self.slider_row.addWidget(self.estimate_label)
        self.slider_row.addWidget(self.answer_button)
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.setTextFormat(Qt.TextFormat.RichText)
        layout = QVBoxLayout(self)
        layout.addWidget(self.question)
        layout.addLayout(self.button_row)
        layout.addLayout(self.slider_row)
        layout.addWidget(self.result)

    def ask(self, probe: Probe) -> None:
        """Show a new question, nothing answered yet."""
        self.probe = probe
        self.question.setText(probe.text())
        for button in self.buttons.values():  # gone at once, not at the next event loop turn
            self.button_row.removeWidget(button)
            button.hide()
            button.deleteLater()
        self.buttons = {}
        for answer, text in probe.choices():
            button = QPushButton(text)
            button.clicked.connect(lambda _=False, a=answer: self._answer(a))
            self.button_row.addWidget(button)
            self.buttons[answer] = button
        estimate = probe.ask == "estimate"
        for w in (self.slider, self.estimate_label, self.answer_button):
            w.setVisible(estimate)
        self.slider.setValue(SLIDER_STEPS // 2)
        self._show_estimate()
        self.result.setText("")
        self._enable(True)

    def estimate(self) -> float:
        p = self.probe
        if p is None:
            return 0.0
        return p.low + (p.high - p.low) * self.slider.value() / SLIDER_STEPS

    def set_estimate(self, x: float) -> None:
        """Move the slider to the position nearest `x` (for a learner, the mouse does this)."""
        p = self.probe
        if p is not None:
            self.slider.setValue(round((x - p.low) / (p.high - p.low) * SLIDER_STEPS))

    def reveal(self, html: str, answer: str | float | None) -> None:
        """The answer is in: lock the question and show `html` (verdict, number, reason)."""
        self._enable(False)
        if isinstance(answer, str) and answer in self.buttons:
            set_role(self.buttons[answer], "chosen")
        elif answer is not None and self.probe is not None and self.probe.ask == "estimate":
            self.set_estimate(float(answer))
        self.result.setText(html)

    def _enable(self, on: bool) -> None:
        for button in self.buttons.values():
            button.setEnabled(on)
            if on:
                set_role(button, None)
        self.slider.setEnabled(on)
        self.answer_button.setEnabled(on)

    def _show_estimate(self) -> None:
        self.estimate_label.setText(f"{self.estimate():.3g}")

    def _answer(self, answer: str | float) -> None:
        self._enable(False)
        self.answered.emit(answer)
