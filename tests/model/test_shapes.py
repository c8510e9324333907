"""The shape oracle: connections that cannot fit are refused with a reason a person can act on."""

from __future__ import annotations

from bpviz.model import Document, SetData, SetDataValue
from bpviz.model.shapes import NO_DATA, ShapeOracle


def _doc(data: dict | None) -> Document:
    doc = Document()
    doc.add_node("x", "input")
    doc.add_node("h", "dense", {"units": 3})
    if data is not None:
        SetData(data).redo(doc)
    return doc


def test_input_without_data_asks_for_a_dataset() -> None:
    doc = _doc(None)
    assert ShapeOracle(doc).connection_problem("x", "h", "x") == NO_DATA
    assert NO_DATA == "this scene has no data: choose a dataset in the Data panel"


def test_input_with_data_connects() -> None:
    doc = _doc({"kind": "moons", "n": 20})
    oracle = ShapeOracle(doc)
    assert oracle.connection_problem("x", "h", "x") is None
    doc.connect("x", "h", "x")
    assert oracle.shapes()["h"] == (2, 3)  # the two probe rows, 3 units


def test_transforms_set_the_probe_width() -> None:
    doc = _doc({"kind": "moons", "n": 20, "transforms": ["x1^2", "x2^2", "x1*x2"]})
    doc.connect("x", "h", "x")
    oracle = ShapeOracle(doc)
    assert oracle.shapes()["x"] == (2, 3)
    SetDataValue("transforms", ["x1"]).redo(doc)  # same graph, other data: shapes follow
    assert oracle.shapes()["x"] == (2, 1)


def test_a_shape_clash_elsewhere_still_says_shapes() -> None:
    doc = _doc(None)
    doc.add_node("a", "const", {"value": [1.0, 2.0, 3.0]})
    doc.add_node("b", "const", {"value": [1.0, 2.0]})
    doc.add_node("s", "add")
    doc.connect("a", "s", "a")
    problem = ShapeOracle(doc).connection_problem("b", "s", "b")
    assert problem.startswith("incompatible shapes: ")


def test_data_shapes_have_the_training_sets_rows_not_the_probes() -> None:
    """moons with n = 20 and a quarter kept for testing trains on 15 rows: the Inspector
    shows (15, 3), as a pass computes it, not the probe's (2, 3)."""
    doc = _doc({"kind": "moons", "n": 20, "test_fraction": 0.25})
    doc.connect("x", "h", "x")
    doc.add_node("m", "mean")  # all rows into one number: no row dimension left
    doc.connect("h", "m", "x")
    oracle = ShapeOracle(doc)
    assert oracle.data_shapes() == {"x": (15, 2), "h": (15, 3), "m": ()}
    assert oracle.shapes() == {"x": (2, 2), "h": (2, 3), "m": ()}  # the probe's own
    SetDataValue("n", 40).redo(doc)
    assert oracle.data_shapes() == {"x": (30, 2), "h": (30, 3), "m": ()}


def test_data_shapes_without_data_are_the_probes() -> None:
    doc = Document()
    doc.add_node("a", "param", {"value": [1.0, 2.0, 3.0]})
    assert ShapeOracle(doc).data_shapes() == {"a": (3,)}
