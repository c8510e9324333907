"""Where the example scenes are, whether bpviz runs from a checkout or an installed wheel."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

_CHECKOUT_SCENES = Path(__file__).resolve().parents[1] / "scenes"


def examples_dir() -> Path:
    """scenes/ beside the package in a checkout; the bpviz.scenes package data when installed."""
    if _CHECKOUT_SCENES.is_dir():
        return _CHECKOUT_SCENES
    return Path(str(files("bpviz.scenes")))


def example_paths() -> list[Path]:
    """Example scene files, sorted by name."""
    return sorted(examples_dir().glob("*.json"))
