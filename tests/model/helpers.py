"""Scenes, a signal recorder and the exact-undo check shared by the model tests."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from bpviz.model import Command, Document

SIGNALS = (
    "node_added",
    "node_removed",
    "node_moved",
    "edge_added",
    "edge_removed",
    "attr_changed",
    "output_changed",
    "state_changed",
    "changed",
)

STATE = {"params": {"w": [[-1.3]]}, "optimizer": {"step": 7}}


def chain_scene() -> dict[str, Any]:
    """y = tanh(w*x + x): x fans out, so deleting it takes two edges with it."""
    return {
        "format": "bpviz-scene",
        "version": 1,
        "name": "chain",
        "description": "a scalar chain",
        "output": "y",
        "nodes": [
            {"id": "x", "op": "const", "inputs": {}, "attrs": {"value": 0.7}, "pos": [0.0, 0.0]},
            {"id": "w", "op": "param", "inputs": {}, "attrs": {"value": -1.3}, "pos": [0.0, 100.0]},
            {
                "id": "m",
                "op": "mul",
                "inputs": {"a": "w", "b": "x"},
                "attrs": {},
                "pos": [200.0, 50.0],
            },
            {
                "id": "s",
                "op": "add",
                "inputs": {"a": "m", "b": "x"},
                "attrs": {},
                "pos": [400.0, 0.0],
            },
            {"id": "y", "op": "tanh", "inputs": {"x": "s"}, "attrs": {}, "pos": [600.0, 0.0]},
        ],
        "data": {"kind": "none"},
        "training": {"optimizer": "sgd", "lr": 0.1},
        "state": STATE,
    }


def mlp_scene() -> dict[str, Any]:
    """input -> dense -> dense -> mse <- target, with nodes listed out of flow order."""
    return {
        "format": "bpviz-scene",
        "version": 1,
        "output": "loss",
        "nodes": [
            {
                "id": "loss",
                "op": "mse",
                "inputs": {"pred": "out", "target": "t"},
                "attrs": {},
                "pos": [0.0, 0.0],
            },
            {"id": "x", "op": "input", "inputs": {}, "attrs": {}, "pos": [10.0, 0.0]},
            {
                "id": "h",
                "op": "dense",
                "inputs": {"x": "x"},
                "attrs": {"units": 4, "activation": "tanh"},
                "pos": [20.0, 0.0],
            },
            {
                "id": "out",
                "op": "dense",
                "inputs": {"x": "h"},
                "attrs": {"units": 1},
                "pos": [30.0, 0.0],
            },
            {"id": "t", "op": "target", "inputs": {}, "attrs": {}, "pos": [40.0, 0.0]},
        ],
        "data": None,
        "training": None,
        "state": None,
    }


class SignalLog(list):
    """Every signal the document emits, as (name, *args), in emission order."""

    def __init__(self, doc: Document) -> None:
        super().__init__()
        for name in SIGNALS:
            getattr(doc, name).connect(self._recorder(name))

    def _recorder(self, name: str):  # noqa: ANN202
        def record(*args: Any) -> None:
            self.append((name, *args))

        return record

    def named(self, *names: str) -> list[tuple]:
        return [entry for entry in self if entry[0] in names]


def saved(doc: Document) -> tuple[dict[str, Any], str]:
    """The scene dict and its JSON text, so key order (ports, attrs, nodes) is compared too."""
    scene = doc.to_scene_dict()
    return scene, json.dumps(scene)


def assert_exact_undo(doc: Document, command: Command) -> dict[str, Any]:
    """redo; undo gives exactly the dict before; redo gives exactly the first redo's dict."""
    before = saved(doc)
    command.redo(doc)
    after = saved(doc)
    assert after != before, "the command should change the document"
    command.undo(doc)
    assert saved(doc) == before
    command.redo(doc)
    assert saved(doc) == after
    command.undo(doc)
    assert saved(doc) == before
    command.redo(doc)
    return after[0]


def params_of(holder: Any) -> dict[str, dict[str, np.ndarray]]:
    """Copies of the parameters a controller or scene holds (its session's executor)."""
    return {
        nid: {k: np.array(a) for k, a in arrays.items()}
        for nid, arrays in holder.session.executor.params.items()
    }


def count_forward_passes(executor: Any) -> list[int]:
    """Count every forward pass the executor begins, whole or one node at a time."""
    count = [0]
    for name in ("forward", "forward_nodes"):
        method = getattr(executor, name)

        def counted(*args: Any, _method: Any = method, **kwargs: Any) -> Any:
            count[0] += 1
            return _method(*args, **kwargs)

        setattr(executor, name, counted)
    return count
