"""The loss plot: training and test loss per step (and accuracy for classifiers)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QVBoxLayout, QWidget

from bpviz.engine.training import History

TRAIN_COLOUR = "#1a73e8"
TEST_COLOUR = "#e8710a"
ACCURACY_COLOUR = "#188038"


class LossPlot(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        pg.setConfigOptions(antialias=True, background="w", foreground="#3c4043")
        self.plot = pg.PlotWidget()
        self.plot.setLabel("bottom", "step")
        self.plot.setLabel("left", "loss")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.addLegend(offset=(-10, 10))
        self.plot.setClipToView(True)
        self.plot.setDownsampling(auto=True, mode="peak")
        self.train = self.plot.plot(name="train loss", pen=pg.mkPen(TRAIN_COLOUR, width=2))
        self.test = self.plot.plot(name="test loss", pen=pg.mkPen(TEST_COLOUR, width=2))
        self.hint = pg.TextItem(
            "Train the graph to see its loss here", color="#80868b", anchor=(0.5, 0.5)
        )
        self.plot.addItem(self.hint)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self.setMinimumHeight(140)
        self.clear()

    def sizeHint(self) -> QSize:
        return QSize(600, 190)

    def set_history(self, history: History) -> None:
        empty = len(history) == 0
        self.hint.setVisible(empty)
        if empty:  # a tidy empty frame instead of pyqtgraph's default ±0.5 range
            self.plot.setRange(xRange=(0, 100), yRange=(0, 1), padding=0)
            self.hint.setPos(50, 0.5)
        self.train.setData(
            np.asarray(history.step, dtype=float), np.asarray(history.loss, dtype=float)
        )
        self.test.setData(
            np.asarray(history.test_step, dtype=float), np.asarray(history.test_loss, dtype=float)
        )

    def clear(self) -> None:
        self.set_history(History())
