"""The loss plot: training and test loss per step (and accuracy for classifiers)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
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

    def set_history(self, history: History) -> None:
        self.hint.setVisible(len(history) == 0)
        self.train.setData(
            np.asarray(history.step, dtype=float), np.asarray(history.loss, dtype=float)
        )
        self.test.setData(
            np.asarray(history.test_step, dtype=float), np.asarray(history.test_loss, dtype=float)
        )

    def clear(self) -> None:
        self.set_history(History())
