"""Where resources/ is (icon, desktop entry, style sheets): the folder beside the package in
a checkout, the bpviz.resources package data once installed."""

from __future__ import annotations

from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parents[2] / "resources"
_INSTALLED = Path(__file__).resolve().parents[1] / "resources"  # bpviz/resources in a wheel
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)


def resources_dir() -> Path:
    # (importlib.resources.files() of a folder without __init__.py is a MultiplexedPath,
    # whose str() is not a path)
    return _CHECKOUT if (_CHECKOUT / "bpviz.svg").is_file() else _INSTALLED


def resource(name: str) -> Path:
    """A file in resources/, e.g. 'dark.qss' or 'icons/bpviz-32.png'."""
    return resources_dir() / name


def app_icon():  # noqa: ANN201 - QIcon, imported lazily with Qt
    """bpviz's icon: the PNG renderings for small sizes (crisp), the SVG for the rest."""
    from PySide6.QtGui import QIcon

    icon = QIcon()
    for size in ICON_SIZES:
        icon.addFile(str(resource(f"icons/bpviz-{size}.png")))
    icon.addFile(str(resource("bpviz.svg")))
    return icon
