"""Every example scene reaches the result scenes/README.md promises."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bpviz import load_scene

SCENES = Path(__file__).resolve().parents[2] / "scenes"


def test_every_example_is_documented_and_tested() -> None:
    readme = (SCENES / "README.md").read_text()
    files = {p.name for p in SCENES.glob("*.json")}
    assert files == {f"{name}.json" for name in CHECKS}
    for name in files:
        assert f"`{name}`" in readme


def chain_rule(s) -> None:  # noqa: ANN001
    assert s.forward() == pytest.approx(-8.0)
    s.backward()
    expected = {"a": 6.0, "b": -4.0, "c": -2.0, "f": 4.0, "d": -2.0, "e": -2.0, "L": 1.0}
    for node, grad in expected.items():
        assert s.grad(node) == pytest.approx(grad), node


def neuron(s) -> None:  # noqa: ANN001
    assert s.forward() == pytest.approx(np.sqrt(0.5))
    s.backward()
    expected = {"n": 0.5, "w1": 1.0, "x1": -1.5, "w2": 0.0, "b": 0.5}
    for node, grad in expected.items():
        assert s.grad(node) == pytest.approx(grad), node


def trained(steps: int, min_accuracy: float | None = None, max_loss: float | None = None):  # noqa: ANN201
    def check(s) -> None:  # noqa: ANN001
        s.train(steps)
        loss = float(s.forward())
        if min_accuracy is not None:
            assert s.session.accuracy() >= min_accuracy
        if max_loss is not None:
            assert loss < max_loss

    return check


CHECKS = {
    "chain_rule": chain_rule,
    "neuron": neuron,
    "xor": trained(500, min_accuracy=1.0, max_loss=0.01),
    "moons": trained(1000, min_accuracy=1.0),
    "spiral": trained(1000, min_accuracy=0.93),
    "sine": trained(1000, max_loss=0.02),
    "exam": trained(300, min_accuracy=0.9),
    "circles_features": trained(300, min_accuracy=0.97),
    "symmetry_1986": trained(1500, min_accuracy=1.0, max_loss=0.02),
}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_example_reaches_documented_result(name: str) -> None:
    CHECKS[name](load_scene(SCENES / f"{name}.json"))


def test_the_readme_experiment_learns_moons_as_its_picture_shows() -> None:
    """docs/experiment.json is the scene the README's 'Build your own experiment' steps save;
    its picture shows it after 300 steps."""
    scene = load_scene(SCENES.parent / "docs" / "experiment.json")
    assert scene.to_dict()["data"] == {"kind": "moons", "n": 200, "noise": 0.1}
    trained(300, min_accuracy=0.97)(scene)
