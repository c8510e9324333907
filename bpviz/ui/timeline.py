"""The history timeline: a slider over the kept training snapshots, to scrub back in time.

Position i of the slider is the i-th kept step. At the right end the timeline follows
training (each `redraw()` moves it to the newest snapshot); once the person drags it back it
stays on the chosen step while training goes on, until "Latest" is pressed or it is dragged to
the right end again.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QWidget

from bpviz.model.snapshots import Snapshot, SnapshotStore


def _count(n: int) -> str:
    """1234567 -> '1 234 567' (as the status line shows it)."""
    return f"{n:,}".replace(",", " ")


def _size(nbytes: int) -> str:
    mb = nbytes / (1024 * 1024)
    if mb >= 10:
        return f"{mb:.0f} MB"
    if mb >= 0.1:
        return f"{mb:.1f} MB"
    return f"{nbytes / 1024:.0f} kB"


class TimelineWidget(QWidget):
    """Slider, status label and a Latest button over a SnapshotStore."""

    scrubbed = Signal(object)  # the Snapshot to show (full when it could be completed)
    returned_to_latest = Signal()

    def __init__(self, store: SnapshotStore | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._store: SnapshotStore | None = None
        self._steps: list[int] = []
        self._following = True  # at the newest snapshot, moving with training
        self._updating = False  # slider moved by code, not by the person

        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setObjectName("timelineSlider")
        self.slider.setRange(0, 0)
        self.slider.setToolTip("Scrub back through training: the canvas shows that step")
        self.label = QLabel(self)
        self.label.setObjectName("timelineLabel")
        self.latest_button = QPushButton("Latest", self)
        self.latest_button.setObjectName("timelineLatest")
        self.latest_button.setToolTip("Show the current state again (training resumes from it)")

        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.label)
        layout.addWidget(self.latest_button)

        self.slider.valueChanged.connect(self._on_slider)
        self.latest_button.clicked.connect(self.go_latest)
        self.set_store(store)

    # ---- public --------------------------------------------------------------------------
    @property
    def store(self) -> SnapshotStore | None:
        return self._store

    @property
    def following(self) -> bool:
        """True at the newest snapshot (showing the live state), False while scrubbed back."""
        return self._following

    def set_store(self, store: SnapshotStore | None) -> None:
        self._store = store
        self._following = True
        self.redraw()

    def current_step(self) -> int | None:
        i = self.slider.value()
        return self._steps[i] if 0 <= i < len(self._steps) else None

    def redraw(self) -> None:
        """Re-read the store (after a slice of training, a reset or a load). Following: go to
        the newest snapshot; scrubbed back: stay on the same step (or the nearest kept one
        before it, emitted as `scrubbed` only when thinning dropped the one shown)."""
        shown = None if self._following else self.current_step()
        self._steps = self._store.steps() if self._store is not None else []
        n = len(self._steps)
        moved: Snapshot | None = None
        if shown is not None and n and self._store is not None:
            snap = self._store.get(shown) or self._store.get(self._steps[0])
            index = self._steps.index(snap.step)
            if snap.step != shown:  # thinned away: show what is kept instead
                moved = snap
        else:
            self._following = True
            index = max(n - 1, 0)
        self._updating = True
        try:
            self.slider.setRange(0, max(n - 1, 0))
            self.slider.setValue(index)
        finally:
            self._updating = False
        self.slider.setEnabled(n > 1)
        self.latest_button.setEnabled(not self._following)
        self._update_label()
        if moved is not None and self._store is not None:
            self.scrubbed.emit(self._store.materialize(moved))

    def go_latest(self) -> None:
        """Back to the live state: the slider to the newest snapshot, `returned_to_latest`."""
        self._following = True
        self._updating = True
        try:
            self.slider.setValue(self.slider.maximum())
        finally:
            self._updating = False
        self.latest_button.setEnabled(False)
        self._update_label()
        self.returned_to_latest.emit()

    def scrub_to(self, step: int) -> Snapshot | None:
        """Show the kept step nearest at or before `step` (as dragging the slider there)."""
        if self._store is None or (snap := self._store.get(step)) is None:
            return None
        self.slider.setValue(self._steps.index(snap.step))
        return snap

    # ---- inside --------------------------------------------------------------------------
    def _on_slider(self, index: int) -> None:
        if self._updating or self._store is None or not self._steps:
            return
        if index >= len(self._steps) - 1:
            self.go_latest()
            return
        self._following = False
        self.latest_button.setEnabled(True)
        self._update_label()
        snap = self._store.get(self._steps[index])
        if snap is not None:
            self.scrubbed.emit(self._store.materialize(snap))

    def _update_label(self) -> None:
        store = self._store
        if store is None or not self._steps:
            self.label.setText("no history yet")
            return
        step = self.current_step() or 0
        text = (
            f"step {_count(step)} of {_count(self._steps[-1])} · "
            f"{_count(len(self._steps))} snapshot{'s' if len(self._steps) != 1 else ''} · "
            f"{_size(store.nbytes)} of {_size(store.budget)}"
        )
        self.label.setText(text)
