"""pyqtgraph plot widgets whose context menus belong to them.

pyqtgraph makes each plot's menus ("Plot Options" with six sub-menus, "ViewBox options" with
its own) as windows without a parent, so they outlive the plot: every closed window leaves
about twenty hidden menus behind, and an application-wide style sheet (a theme switch)
re-styles each of them. Parented to the widget, they go when it goes.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QWidget


def plot_widget() -> pg.PlotWidget:
    """A new PlotWidget that owns its plot's and its view box's menus."""
    plot = pg.PlotWidget()
    item = plot.getPlotItem()
    adopt_menu(plot, item.ctrlMenu)
    adopt_menu(plot, item.getViewBox().menu)
    return plot


def adopt_menu(owner: QWidget, menu: QWidget | None) -> None:
    """Make `owner` the parent of `menu`, which stays a pop-up window."""
    if menu is not None and menu.parent() is None:
        menu.setParent(owner, menu.windowFlags())
