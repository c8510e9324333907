"""`bpviz render`: the window showing a scene, drawn offscreen into a PNG of an exact size."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bpviz.engine.errors import BpvizError
from bpviz.ui.app import _application, new_window


def render(
    scene: str,
    out: str,
    size: tuple[int, int] = (1400, 900),
    steps: int = 0,
    theme: str = "light",
    expand: Sequence[str] = (),
) -> None:
    """Draw the window showing `scene` into a PNG without a display, after `steps` training
    steps, with every node's value and gradient, the loss plot and the model's output; the
    layers in `expand` are shown opened into their neurons."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"  # never a display, whatever the shell says
    from bpviz.scene import load_scene

    load_scene(scene)  # a bad file fails here with its SceneError, before any window exists
    from PySide6.QtCore import qInstallMessageHandler

    # Qt's own chatter ("This plugin does not support propagateSizeHints()") is not bpviz's
    # to print: the command line's stderr carries bpviz's line only
    previous = qInstallMessageHandler(lambda mode, context, message: None)
    from bpviz.engine.files import write_atomic
    from bpviz.ui.exports import png_bytes

    try:
        _application(theme)
        with rendered_window(scene, size, steps, expand) as window:
            image = png_bytes(_exactly(window.grab(), size))
    finally:
        qInstallMessageHandler(previous)
    write_atomic(out, image)


@contextmanager
def rendered_window(
    scene: str, size: tuple[int, int], steps: int = 0, expand: Sequence[str] = ()
) -> Iterator[Any]:
    """A main window of `size` showing `scene` after `steps` training steps taken as Run
    takes them, with the layers in `expand` opened into their neurons, fitted to view; with
    fresh settings, so the picture is reproducible. Needs the QApplication."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from bpviz.ui.recovery import Recovery
    from bpviz.ui.training_ui import SLICE_S

    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "render.ini"), QSettings.Format.IniFormat)
        window = new_window(settings, Recovery(Path(tmp)))
        try:
            window.show()
            _lay_out(window, size)
            if not window.files.open_file(Path(scene)):
                raise BpvizError(f"cannot render {scene}")
            controller = window.training_ui.controller
            failures: list[str] = []
            controller.failed.connect(lambda node, message: failures.append(message))
            done = 0
            while done < steps:  # in slices as Run does, so the loss plot, the timeline's
                # snapshots and the landscape's path record them as in the window
                results = controller.run_for(SLICE_S, max_steps=steps - done)
                if failures:  # e.g. a value that became infinite: no picture, the reason
                    raise BpvizError(failures[0])
                if not results:
                    break
                done += len(results)
            controller.refresh()
            window.training_ui.refresh_views()
            for node_id in expand:
                if not window.canvas.neurons.expand(node_id):
                    raise BpvizError(f"--expand {node_id}: not a dense layer or input node")
            QApplication.processEvents()
            window.view.fit_all()
            QApplication.processEvents()
            yield window
        finally:
            window.training_ui.pause()
            window.undo.qstack.setClean()
            window.close()
            window.deleteLater()  # with its widgets, once the event loop next runs
            del settings


def _lay_out(window, size: tuple[int, int]) -> None:  # noqa: ANN001 - a MainWindow
    """Give the window `size` with its docks arranged for it. A picture needs the canvas
    most, then the loss plot and the model's output; the op palette and the inspector least.
    Smaller sizes put those away first, then whatever still keeps the window from shrinking
    to `size`."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication, QDockWidget, QTabBar

    w, h = size
    views = (window.boundary_dock, window.landscape_dock)
    docks = window.findChildren(QDockWidget)

    def area(where: Qt.DockWidgetArea) -> tuple:
        return tuple(d for d in docks if window.dockWidgetArea(d) == where and d not in views)

    ladder = [
        (w < 1100, area(Qt.DockWidgetArea.LeftDockWidgetArea)),  # the op palette
        (w < 900 or h < 560, area(Qt.DockWidgetArea.RightDockWidgetArea)),  # inspector & co
        (w < 640 or h < 420, views),  # model output, loss landscape
        (h < 330, area(Qt.DockWidgetArea.BottomDockWidgetArea)),  # the loss plot
    ]
    removed: list = []

    def remove(docks: tuple) -> None:
        for dock in docks:
            window.removeDockWidget(dock)
            removed.append(dock.windowTitle())

    for wanted, docks in ladder:
        if wanted:
            remove(docks)
    if w < 560:  # its messages would be cut off mid-number
        window.statusBar().hide()
    right = [d for d in (window.inspector_dock, window.boundary_dock) if d.isVisible()]
    if right:
        window.resizeDocks(right, [max(200, w * 3 // 10)] * len(right), Qt.Orientation.Horizontal)
    if window.plot_dock.isVisible():
        window.resizeDocks([window.plot_dock], [max(150, h // 4)], Qt.Orientation.Vertical)

    def fits() -> bool:
        window.resize(*size)
        QApplication.processEvents()
        return (window.width(), window.height()) == size

    for _, docks in ladder:  # still too big: put away more
        if fits():
            break
        remove(docks)
    if not fits():
        window.statusBar().hide()
        fits()
    # Qt leaves the tab bar of removed tabbed docks on show, over whatever is there now
    for bar in window.findChildren(QTabBar):
        tabs = {bar.tabText(i) for i in range(bar.count())}
        if bar.parent() is window and tabs and tabs <= set(removed):
            bar.hide()


def _exactly(image, size: tuple[int, int]):  # noqa: ANN001, ANN202 - QImage or QPixmap
    """`image` at exactly `size`: as it is when the window had that size, else scaled down
    smoothly (a window that cannot shrink further, below about 400x300)."""
    from PySide6.QtCore import Qt

    if (image.width(), image.height()) == size:
        return image
    return image.scaled(
        *size, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation
    )
