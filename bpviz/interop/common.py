"""What every importer shares: readable unique node ids, and a builder that collects nodes and
returns a laid-out, validated scene dict.

Importers translate another representation (a traced `Value`, an ONNX graph, a torch.fx
graph) into scene nodes; they import only `engine` and `scene`, never `model` or Qt.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from bpviz.engine.errors import BpvizError
from bpviz.interop.layout import positions
from bpviz.scene import validate_scene_dict
from bpviz.scene.migrate import CURRENT_VERSION, FORMAT

MAX_ID = 64


class InteropError(BpvizError):
    """Something another tool wrote that bpviz cannot take in; names what and where."""


def unsupported(kind: str, items: Iterable[tuple[str, str]]) -> InteropError:
    """One error for every node that cannot be imported: `(name, op)` pairs."""
    listed = ", ".join(f"'{name}' ({op})" for name, op in items)
    return InteropError(f"cannot import {kind}: unsupported {listed}")


def safe_id(text: str, fallback: str = "n") -> str:
    """`text` as a node id: other characters become `_`, a leading digit gets a prefix."""
    s = re.sub(r"[^A-Za-z0-9_.\-]", "_", text.strip().strip("/")) or fallback
    if not (s[0].isalpha() or s[0] == "_"):
        s = f"{fallback}_{s}"
    return s[: MAX_ID - 6]


class Ids:
    """Hands out unique node ids: `take("w")` gives w, w_2, w_3...; `numbered("add")` gives
    add1, add2... skipping ids already taken."""

    def __init__(self) -> None:
        self.taken: set[str] = set()
        self.counters: dict[str, int] = {}

    def take(self, text: str, fallback: str = "n") -> str:
        base = safe_id(text, fallback)
        name, k = base, 2
        while name in self.taken:
            name, k = f"{base}_{k}", k + 1
        self.taken.add(name)
        return name

    def numbered(self, prefix: str) -> str:
        k = self.counters.get(prefix, 0)
        while True:
            k += 1
            name = f"{prefix}{k}"
            if name not in self.taken:
                self.counters[prefix] = k
                self.taken.add(name)
                return name


def tensor(value: Any) -> Any:
    """An array as JSON numbers in float64 (a 0-d array becomes a plain float)."""
    a = np.asarray(value, dtype=np.float64)
    return float(a) if a.ndim == 0 else a.tolist()


class SceneBuilder:
    """Nodes in the order they are added (each after its inputs), then `scene()`."""

    def __init__(self) -> None:
        self.ids = Ids()
        self.nodes: list[dict[str, Any]] = []
        self.params: dict[str, dict[str, Any]] = {}

    def add(
        self,
        node_id: str,
        op: str,
        inputs: Mapping[str, str] | None = None,
        attrs: Mapping[str, Any] | None = None,
    ) -> str:
        """Add a node under an id taken from `self.ids`; returns the id."""
        self.nodes.append(
            {"id": node_id, "op": op, "inputs": dict(inputs or {}), "attrs": dict(attrs or {})}
        )
        return node_id

    def set_params(self, node_id: str, **arrays: Any) -> None:
        """Weights of a layer node (dense W and b), saved in the scene's state."""
        self.params[node_id] = {k: tensor(v) for k, v in arrays.items()}

    def laid_out(
        self, output: str, name: str | None = None, description: str | None = None
    ) -> dict[str, Any]:
        """The scene dict with positions left to right, not yet checked."""
        order = [n["id"] for n in self.nodes]
        pos = positions(order, {n["id"]: list(n["inputs"].values()) for n in self.nodes})
        for n in self.nodes:
            n["pos"] = list(pos[n["id"]])
        d: dict[str, Any] = {"format": FORMAT, "version": CURRENT_VERSION}
        if name:
            d["name"] = name
        if description:
            d["description"] = description
        d.update(output=output, nodes=self.nodes, data=None, training=None)
        if self.params:
            d["state"] = {"params": self.params}
        return d

    def scene(
        self, output: str, name: str | None = None, description: str | None = None
    ) -> dict[str, Any]:
        """The scene dict, laid out and checked like a file being opened."""
        d = self.laid_out(output, name, description)
        return validate_scene_dict(d, source=name or "<imported scene>")
