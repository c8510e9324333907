"""Small scenes shared by the scene tests: fast to load, each exercising one feature."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCENES = Path(__file__).resolve().parents[2] / "scenes"


def node(
    node_id: str,
    op: str,
    inputs: dict[str, str] | None = None,
    attrs: dict[str, Any] | None = None,
    pos: tuple[float, float] = (0.0, 0.0),
) -> dict[str, Any]:
    return {"id": node_id, "op": op, "inputs": inputs or {}, "attrs": attrs or {}, "pos": list(pos)}


def scalar_scene() -> dict[str, Any]:
    """L = (w * x + b)^2 with one const and two params; no data, no training block."""
    return {
        "format": "bpviz-scene",
        "version": 1,
        "name": "scalar",
        "description": "a scalar expression",
        "output": "L",
        "nodes": [
            node("x", "const", attrs={"value": 1.5}, pos=(0, 0)),
            node("w", "param", attrs={"value": -0.5}, pos=(0, 100)),
            node("b", "param", attrs={"value": 0.25}, pos=(0, 200)),
            node("m", "mul", {"a": "w", "b": "x"}, pos=(200, 50)),
            node("s", "add", {"a": "m", "b": "b"}, pos=(400, 100)),
            node("L", "pow", {"x": "s"}, {"exponent": 2.0}, pos=(600, 100)),
        ],
        "data": None,
        "training": {"optimizer": "sgd", "lr": 0.1},
    }


def mlp_scene(
    optimizer: str = "momentum", batch_size: int | None = None, n: int = 40
) -> dict[str, Any]:
    """moons -> dense(4, tanh) -> dense(1) -> bce, listed out of flow order on purpose."""
    return {
        "format": "bpviz-scene",
        "version": 1,
        "name": "mlp",
        "output": "loss",
        "nodes": [
            node("loss", "bce", {"pred": "logit", "target": "t"}, pos=(600, 100)),
            node("x", "input", pos=(0, 100)),
            node("h", "dense", {"x": "x"}, {"units": 4, "activation": "tanh"}, pos=(200, 100)),
            node("logit", "dense", {"x": "h"}, {"units": 1}, pos=(400, 100)),
            node("t", "target", pos=(400, 250)),
        ],
        "data": {"kind": "moons", "n": n, "noise": 0.1, "seed": 3, "test_fraction": 0.25},
        "training": {"optimizer": optimizer, "lr": 0.05, "batch_size": batch_size, "seed": 1},
    }


def write(path: Path, scene: dict[str, Any]) -> Path:
    path.write_text(json.dumps(scene, indent=2))
    return path
