"""data.transforms in scene files: good values load and save, bad ones name the entry."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from bpviz.scene import SceneError, parse_scene
from tests.scene.helpers import mlp_scene


def _with(transforms: Any) -> dict[str, Any]:
    d = mlp_scene()
    d["data"]["transforms"] = transforms
    return d


def test_transforms_load_train_and_round_trip() -> None:
    scene = parse_scene(_with(["x1", "x1*x2", "cos(x2)"]))
    assert scene.session.network_data.n_features == 3
    assert scene.param("h", "W").shape == (3, 4)
    scene.train(2)
    again = parse_scene(scene.to_dict())
    assert again.data["transforms"] == ["x1", "x1*x2", "cos(x2)"]
    np.testing.assert_array_equal(again.forward(), scene.forward())


@pytest.mark.parametrize(
    ("transforms", "message"),
    [
        (
            ["x1", "x2", "x3^2"],
            "data.transforms[2]: unknown expression 'x3^2' (the data has 2 features)",
        ),
        (["x1^2", "sin x1"], "data.transforms[1]: unknown expression 'sin x1' (expected xi, xi^2,"),
        ([], "data.transforms: expected at least one expression"),
        ("x1", "data.transforms: expected a list of expressions, got 'x1'"),
        ([None], "data.transforms[0]: expected an expression such as 'x1^2', got None"),
    ],
)
def test_bad_transforms_name_the_place(transforms: Any, message: str) -> None:
    with pytest.raises(SceneError) as e:
        parse_scene(_with(transforms), source="s.json")
    assert str(e.value).startswith(f"s.json: {message}")
