"""File › New from Template: every template is a valid scene that Run trains at once."""

from __future__ import annotations

import pytest

from bpviz.model import AddNode, Connect, Document, SetData
from bpviz.model.shapes import ShapeOracle
from bpviz.model.templates import CLASSIFIER, EMPTY, REGRESSOR, SCALAR, template, templates
from bpviz.model.training import TrainingController
from bpviz.scene import validate_scene_dict


def test_the_four_templates_in_menu_order() -> None:
    assert [t.name for t in templates()] == [CLASSIFIER, REGRESSOR, SCALAR, EMPTY]
    assert [t.name for t in templates()] == [
        "Classifier for 2-D data",
        "Regressor for 1-D data",
        "Scalar expression",
        "Empty",
    ]
    for t in templates():
        assert t.description
        runnable = bool(t.scene["nodes"])
        assert validate_scene_dict(t.scene_dict(), runnable=runnable) == t.scene
        doc = Document.from_scene_dict(t.scene_dict())
        assert doc.to_scene_dict() == t.scene


def test_template_copies_are_independent() -> None:
    a = template(CLASSIFIER)
    a["nodes"].clear()
    assert template(CLASSIFIER)["nodes"]
    with pytest.raises(KeyError, match="no template 'GAN' \\(known: Classifier for 2-D data"):
        template("GAN")


def _run(doc: Document, steps: int) -> TrainingController:
    ctl = TrainingController(doc)
    results = ctl.run_for(600.0, max_steps=steps)
    assert len(results) == steps
    assert ctl.forward()
    return ctl


@pytest.mark.parametrize("kind", ["circles", "moons"])
def test_classifier_reaches_95_percent(kind: str) -> None:
    doc = Document.from_scene_dict(template(CLASSIFIER))
    SetData({**doc.data, "kind": kind}).redo(doc)
    ctl = _run(doc, 300)
    assert ctl.session.accuracy() >= 0.95


def test_regressor_fits_the_sine() -> None:
    ctl = _run(Document.from_scene_dict(template(REGRESSOR)), 500)
    assert ctl.session.objective() < 0.02  # the noise (0.1²) alone gives 0.01


def test_scalar_expression_by_hand() -> None:
    # L = (w·2 + b − 3)² = (1 − 3)² = 4; dL/dw = 2·(−2)·2 = −8, dL/db = −4
    # sgd 0.05: w = 0.5 + 0.4 = 0.9, b = 0 + 0.2 = 0.2, and d halves every step
    doc = Document.from_scene_dict(template(SCALAR))
    ctl = TrainingController(doc)
    first = ctl.step()
    assert (first.batch_loss, first.loss) == (4.0, pytest.approx(1.0, abs=1e-15))
    assert float(ctl.session.param("w")) == pytest.approx(0.9, abs=1e-15)
    assert float(ctl.session.param("b")) == pytest.approx(0.2, abs=1e-15)
    ctl.run_for(600.0, max_steps=39)
    assert ctl.session.objective() == pytest.approx(4 * 0.25**40, rel=1e-9)


def test_empty_has_data_ready_for_the_first_layer() -> None:
    doc = Document.from_scene_dict(template(EMPTY))
    for cmd in (AddNode("x", "input"), AddNode("h", "dense", {"units": 3})):
        cmd.redo(doc)
    assert ShapeOracle(doc).connection_problem("x", "h", "x") is None
    Connect("x", "h", "x").redo(doc)
    assert ShapeOracle(doc).shapes()["h"] == (2, 3)
