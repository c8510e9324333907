"""Starting the window: the application with its name, icon and theme, after checking that
Qt can open a window here at all."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from bpviz.engine.errors import BpvizError

HEADLESS_PLATFORMS = {"offscreen", "minimal", "vnc"}  # Qt platforms that need no display
NO_DISPLAY = (
    "no usable display for the window ({why}); set QT_QPA_PLATFORM=offscreen to run "
    "without one, or draw the window into a PNG with `bpviz render SCENE.json --out FILE.png`"
)


def display_problem() -> str | None:
    """Why Qt could not open a window here, or None. Qt aborts the whole process when its
    platform plugin fails, so on X11/Wayland systems a throwaway process tries first."""
    platform = os.environ.get("QT_QPA_PLATFORM", "").split(":")[0]
    if platform in HEADLESS_PLATFORMS or not sys.platform.startswith(("linux", "freebsd")):
        return None
    probe = "from PySide6.QtWidgets import QApplication; QApplication([])"
    try:
        result = subprocess.run(
            [sys.executable, "-c", probe],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "QT_DEBUG_PLUGINS": "1"},  # says which library is missing
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"starting Qt failed: {e}"
    return None if result.returncode == 0 else qt_failure(result.stderr, result.returncode)


def qt_failure(stderr: str, code: int) -> str:
    """The cause in Qt's output: a missing system library (Qt's own hint names
    libxcb-cursor0 whatever is missing), no display server, or Qt's first complaint."""
    missing = re.search(r"(lib[\w.+-]+\.so[\d.]*): cannot open shared object file", stderr)
    if missing:
        return f"Qt's window plugin needs {missing.group(1)}, which is not installed"
    cannot = re.search(r"could not connect to display ?(\S*)", stderr)
    if cannot:
        return f"cannot connect to display {cannot.group(1) or os.environ.get('DISPLAY', '')}"
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    complaint = [line for line in lines if not line.startswith("qt.core.")]
    return complaint[0] if complaint else f"Qt exited with {code}"


def _application(theme: str = "system"):  # noqa: ANN202
    """The QApplication with bpviz's name, icon and `theme` ("system", "light", "dark")."""
    from PySide6.QtWidgets import QApplication

    from bpviz.ui.assets import app_icon
    from bpviz.ui.theme import apply_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("bpviz")
    app.setOrganizationName("bpviz")
    app.setDesktopFileName("bpviz")  # matches resources/bpviz.desktop
    app.setWindowIcon(app_icon())
    apply_theme(theme)
    return app


def new_window(settings: Any = None, recovery: Any = None) -> Any:
    """A main window (with its own QSettings and Recovery, e.g. fresh ones for `bpviz
    render`); the entry points here are the only code that knows the main window."""
    from bpviz.ui.main_window import MainWindow

    return MainWindow(settings=settings, recovery=recovery)


def saved_theme() -> str:
    """The theme chosen in View › Theme last time ("system" if none or unknown)."""
    from PySide6.QtCore import QSettings

    from bpviz.ui.theme import THEME_CHOICES
    from bpviz.ui.theme_menu import SETTINGS_KEY

    value = QSettings("bpviz", "bpviz").value(SETTINGS_KEY, "system")
    return value if value in THEME_CHOICES else "system"


def run(scene: str | None = None) -> int:
    """Open the window (with SCENE, the crash-recovery copy, or the default example)."""
    if scene is not None:
        from bpviz.scene import load_scene

        load_scene(scene, runnable=False)  # a bad path fails on the command line, as elsewhere
    problem = display_problem()
    if problem is not None:
        raise BpvizError(NO_DISPLAY.format(why=problem))
    from bpviz.ui.theme import follow_system_scheme

    app = _application(saved_theme())
    follow_system_scheme()
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
