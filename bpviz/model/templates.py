"""File › New from Template: ready scenes with data bound, so Run works at once.

Each template is a plain version-1 scene dict (no Qt); the window opens it as an unsaved
document. `tests/model/test_templates.py` trains every template headlessly to the result its
description promises.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from bpviz.scene.codec import CURRENT_VERSION, FORMAT


@dataclass(frozen=True)
class Template:
    name: str  # the menu entry
    description: str  # its tooltip / status tip
    scene: dict[str, Any]  # a version-1 scene dict; copy it before editing (`scene_dict()`)

    def scene_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self.scene)


def _node(node_id: str, op: str, x: float, y: float, inputs: Any = None, **attrs: Any) -> dict:
    return {"id": node_id, "op": op, "inputs": inputs or {}, "attrs": attrs, "pos": [x, y]}


def _scene(name: str, description: str, output: str | None, nodes: list, data: Any, training: Any):  # noqa: ANN202
    return {
        "format": FORMAT,
        "version": CURRENT_VERSION,
        "name": name,
        "description": description,
        "output": output,
        "nodes": nodes,
        "data": data,
        "training": training,
        "state": None,
    }


def _network(loss: str, units: int, out_units: int = 1) -> list[dict[str, Any]]:
    """input → dense(units, tanh) → dense(units, tanh) → dense(out_units) → loss ← target."""
    return [
        _node("x", "input", 0, 100),
        _node("h1", "dense", 200, 100, {"x": "x"}, units=units, activation="tanh"),
        _node("h2", "dense", 400, 100, {"x": "h1"}, units=units, activation="tanh"),
        _node("out", "dense", 600, 100, {"x": "h2"}, units=out_units),
        _node("y", "target", 600, 250),
        _node("loss", loss, 800, 150, {"pred": "out", "target": "y"}),
    ]


CLASSIFIER = "Classifier for 2-D data"
REGRESSOR = "Regressor for 1-D data"
SCALAR = "Scalar expression"
EMPTY = "Empty"

_ADAM = {"optimizer": "adam", "lr": 0.03}

TEMPLATES: tuple[Template, ...] = (
    Template(
        CLASSIFIER,
        "Two tanh layers of 8 units and a binary cross-entropy loss, on circles; pick another "
        "2-D dataset in the Data panel (moons, xor, gauss…). Run reaches 95 % within a few "
        "hundred steps.",
        _scene(
            CLASSIFIER,
            "A 2-8-8-1 tanh network separating two classes in the plane.",
            "loss",
            _network("bce", 8),
            {"kind": "circles", "n": 200, "noise": 0.05},
            _ADAM,
        ),
    ),
    Template(
        REGRESSOR,
        "Two tanh layers of 16 units and a mean-squared-error loss, fitting sin(x) from noisy "
        "samples; the Data panel offers the linear kind too.",
        _scene(
            REGRESSOR,
            "A 1-16-16-1 tanh network fitting a curve.",
            "loss",
            _network("mse", 16),
            {"kind": "sine", "n": 200, "noise": 0.1},
            {"optimizer": "adam", "lr": 0.01},
        ),
    ),
    Template(
        SCALAR,
        "L = (w·x + b − y)² with numbers you can drag: step it to watch the chain rule, "
        "Run it to watch w and b move until L is 0.",
        _scene(
            SCALAR,
            "One weight and one bias fitted to a single point: the chain rule by hand.",
            "L",
            [
                _node("x", "const", 0, 0, value=2.0),
                _node("w", "param", 0, 100, value=0.5),
                _node("b", "param", 0, 200, value=0.0),
                _node("y", "const", 200, 250, value=3.0),
                _node("wx", "mul", 200, 50, {"a": "w", "b": "x"}),
                _node("z", "add", 400, 100, {"a": "wx", "b": "b"}),
                _node("d", "sub", 600, 150, {"a": "z", "b": "y"}),
                _node("L", "pow", 800, 150, {"x": "d"}, exponent=2.0),
            ],
            None,
            {"optimizer": "sgd", "lr": 0.05},
        ),
    ),
    Template(
        EMPTY,
        "No nodes yet, circles data bound: drag an input, layers, a target and a loss from "
        "the palette and wire them.",
        _scene(
            EMPTY,
            "A blank canvas with data ready.",
            None,
            [],
            {"kind": "circles", "n": 200, "noise": 0.05},
            _ADAM,
        ),
    ),
)


def templates() -> list[Template]:
    """Every template in menu order."""
    return list(TEMPLATES)


def template(name: str) -> dict[str, Any]:
    """A fresh copy of the named template's scene dict; KeyError names the known ones."""
    for t in TEMPLATES:
        if t.name == name:
            return t.scene_dict()
    raise KeyError(f"no template {name!r} (known: {', '.join(t.name for t in TEMPLATES)})")
