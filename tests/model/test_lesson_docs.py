"""docs/lessons.md names every control and every kind of request a lesson may use (its
worked example is checked against the engine in test_probes.py)."""

from __future__ import annotations

from pathlib import Path

from bpviz.model.lessons import CONTROLS, PANEL_CONTROLS, PANELS, WAIT_KINDS

DOC = Path(__file__).resolve().parents[2] / "docs" / "lessons.md"


def test_every_control_and_request_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for control in CONTROLS:
        assert f"`{control}`" in text, control
    for kind in WAIT_KINDS:
        assert f'`{{"{kind}"' in text, kind


def test_every_panel_control_is_documented() -> None:
    """Each name in the table, or its pattern for the dataset pictures and feature boxes."""
    text = DOC.read_text(encoding="utf-8")
    patterns = {"data.kind": "`data.kind.KIND`", "data.feature": "`data.feature.EXPR`"}
    for name in PANEL_CONTROLS:
        assert patterns.get(name.rsplit(".", 1)[0], f"`{name}`") in text, name


def test_every_panel_is_documented_in_its_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name, title in PANELS.items():
        assert f"| `{name}` | *{title.split(' (')[0]}*" in text, name
