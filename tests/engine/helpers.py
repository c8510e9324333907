"""Small graphs the engine tests share."""

from __future__ import annotations

from bpviz.engine.graph import Graph


def chain_graph() -> Graph:
    """y = tanh(w*x + x): x fans out to two consumers."""
    g = Graph()
    g.add_node("x", "const", {"value": 0.7})
    g.add_node("w", "param", {"value": -1.3})
    g.add_node("m", "mul", inputs={"a": "w", "b": "x"})
    g.add_node("s", "add", inputs={"a": "m", "b": "x"})
    g.add_node("y", "tanh", inputs={"x": "s"})
    g.set_output("y")
    return g


def mlp_graph(hidden: int = 8, loss: str = "hinge", encoding: str = "signs") -> Graph:
    g = Graph()
    g.add_node("x", "input")
    g.add_node("h", "dense", {"units": hidden, "activation": "tanh"}, inputs={"x": "x"})
    g.add_node("out", "dense", {"units": 1}, inputs={"x": "h"})
    g.add_node("t", "target", {"encoding": encoding})
    g.add_node("loss", loss, inputs={"pred": "out", "target": "t"})
    g.set_output("loss")
    return g
