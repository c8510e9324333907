"""The panel controls a lesson page can point at, found by name.

A lesson names a control in the Training or Data panel as `training.KEY`, `data.KEY`,
`data.kind.KIND` or `data.feature.EXPR` (the list is `PANEL_CONTROLS` in model/lessons.py, so
a lesson file is checked without a window). Pointing at one brings its panel to the front and
scrolls the control into view, so the learner sees what the page talks about. A page can also
point at a whole panel by its name in `PANELS` ("landscape", "loss", ...): its dock comes to
the front, its tab selected.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PySide6.QtWidgets import QDockWidget, QScrollArea, QWidget

from bpviz.ui.data_panel import DataPanel
from bpviz.ui.training_panel import TrainingPanel


class PanelControls:
    """Names to widgets of `training` and `data`; `show(section)` brings that panel's dock to
    the front ("training" or "data"). `panels` maps the names of PANELS to the window's
    docks (the window fills it once they exist)."""

    def __init__(
        self,
        training: TrainingPanel,
        data: DataPanel,
        show: Callable[[str], None],
        panels: Mapping[str, QDockWidget] | None = None,
    ) -> None:
        self.training = training
        self.data = data
        self.show = show
        self.panels: dict[str, QDockWidget] = dict(panels or {})

    def reveal_panel(self, name: str) -> QDockWidget | None:
        """Bring the panel's dock to the front (shown again if closed, its tab selected)."""
        dock = self.panels.get(name)
        if dock is not None:
            dock.show()
            dock.raise_()
        return dock

    def widget(self, name: str) -> QWidget | None:
        """The control called `name`, or None when no such control exists (now)."""
        section, _, key = name.partition(".")
        if section == "training":
            t = self.training
            fixed: dict[str, QWidget] = {"optimizer": t.optimizer, "batch_size": t.batch,
                                         "seed": t.seed, "eval_every": t.eval_every,
                                         "schedule": t.schedule}  # fmt: skip
            return fixed[key] if key in fixed else t.entries.get(key)
        if section == "data":
            d = self.data
            if key.startswith("kind."):
                return d.strip.buttons.get(key.removeprefix("kind."))
            if key.startswith("feature."):
                return d.checks.get(key.removeprefix("feature."))
            if key == "transforms":
                return d.transforms_edit
            return d.spins.get(key)  # the data kind's numbers: n, noise, seed, ...
        return None

    def reveal(self, name: str) -> QWidget | None:
        """Bring the control's panel forward and scroll the control into view."""
        widget = self.widget(name)
        if widget is None:
            return None
        self.show(name.partition(".")[0])
        parent = widget.parentWidget()
        while parent is not None and not isinstance(parent, QScrollArea):
            parent = parent.parentWidget()
        if parent is not None:
            parent.ensureWidgetVisible(widget)
        return widget
