"""Starting the window, and rendering it offscreen to a PNG (`bpviz render`)."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bpviz.engine.errors import BpvizError


def _application():  # noqa: ANN202
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("bpviz")
    app.setOrganizationName("bpviz")
    return app


def run(scene: str | None = None) -> int:
    """Open the window (with SCENE, the crash-recovery copy, or the default example)."""
    if scene is not None:
        from bpviz.scene import load_scene

        load_scene(scene, runnable=False)  # a bad path fails on the command line, as elsewhere
    app = _application()
    from bpviz.ui.main_window import MainWindow

    window = MainWindow()
    window.show()
    restored = window.files.recovery.exists() and window.files.offer_recovery()
    if scene is not None:
        if not window.files.open_file(Path(scene)):
            return 2
    elif not restored:
        window.open_default()
    return app.exec()


def render(
    scene: str,
    out: str,
    size: tuple[int, int] = (1400, 900),
    steps: int = 0,
    expand: Sequence[str] = (),
) -> None:
    """Draw the window showing `scene` into a PNG without a display, after `steps` training
    steps, with every node's value and gradient, the loss plot and the model's output; the
    layers in `expand` are shown opened into their neurons."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"  # never a display, whatever the shell says
    from bpviz.scene import load_scene

    load_scene(scene)  # a bad file fails here with its SceneError, before any window exists
    from PySide6.QtCore import qInstallMessageHandler

    from bpviz.engine.files import write_atomic

    # Qt's own chatter ("This plugin does not support propagateSizeHints()") is not bpviz's
    # to print: the command line's stderr carries bpviz's line only
    previous = qInstallMessageHandler(lambda mode, context, message: None)
    try:
        image = _render_png(scene, size, steps, expand)
    finally:
        qInstallMessageHandler(previous)
    write_atomic(out, image)


def _render_png(
    scene: str, size: tuple[int, int], steps: int, expand: Sequence[str] = ()
) -> bytes:
    """The window showing `scene` as PNG bytes; the window is closed whatever happens."""
    app = _application()
    from PySide6.QtCore import QSettings

    from bpviz.ui.exports import png_bytes
    from bpviz.ui.main_window import MainWindow
    from bpviz.ui.recovery import Recovery

    with tempfile.TemporaryDirectory() as tmp:  # fresh settings: the picture is reproducible
        settings = QSettings(str(Path(tmp) / "render.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings=settings, recovery=Recovery(Path(tmp)))
        try:
            window.resize(*size)
            window.show()
            if not window.files.open_file(Path(scene)):
                raise BpvizError(f"cannot render {scene}")
            controller = window.training_ui.controller
            if steps:
                controller.session.train(steps)
                window.loss_plot.set_history(controller.history)
            controller.refresh()
            window.training_ui.refresh_views()
            for node_id in expand:
                if not window.canvas.neurons.expand(node_id):
                    raise BpvizError(f"--expand {node_id}: not a dense layer or input node")
            app.processEvents()
            window.view.fit_all()
            app.processEvents()
            return png_bytes(window.grab())
        finally:
            window.undo.qstack.setClean()
            window.close()
            del settings
