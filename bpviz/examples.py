"""Where the example scenes are, whether bpviz runs from a checkout or an installed wheel."""

from __future__ import annotations

from pathlib import Path

_CHECKOUT_SCENES = Path(__file__).resolve().parents[1] / "scenes"
_INSTALLED_SCENES = Path(__file__).resolve().parent / "scenes"  # bpviz/scenes in a wheel


def examples_dir() -> Path:
    """scenes/ beside the package in a checkout; the bpviz.scenes package data when installed."""
    # (importlib.resources.files() of a folder without __init__.py is a MultiplexedPath,
    # whose str() is not a path)
    return _CHECKOUT_SCENES if _CHECKOUT_SCENES.is_dir() else _INSTALLED_SCENES


def example_paths() -> list[Path]:
    """Example scene files, sorted by name."""
    return sorted(examples_dir().glob("*.json"))
