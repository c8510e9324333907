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


def _training(**settings: Any) -> dict[str, Any]:
    d = mlp_scene()
    d["training"].update(settings)
    return d


def test_penalties_and_schedule_load_train_and_resume_exactly() -> None:
    settings = {"l1": 0.001, "l2": 0.01, "schedule": {"kind": "cosine", "steps": 12}}
    scene = parse_scene(_training(**settings))
    scene.train(5)
    saved = scene.to_dict()
    assert {k: saved["training"][k] for k in settings} == settings
    scene.train(10)
    resumed = parse_scene(saved)
    resumed.train(10)
    assert resumed.history.loss == scene.history.loss[5:]
    assert resumed.history.step == list(range(6, 16))


def test_saved_optimizer_start_round_trips() -> None:
    scene = parse_scene(_training(optimizer="sgd"))
    scene.train(3)
    scene.session.set_training(dict(mlp_scene()["training"], optimizer="adam"))
    scene.train(2)
    saved = scene.to_dict()
    assert saved["state"]["optimizer"]["start"] == 3
    assert parse_scene(saved).session.trainer.optimizer.start == 3


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"l1": -1}, "training.l1: -1 is out of range"),
        ({"l2": "0.1"}, "training.l2: expected a number, got '0.1'"),
        ({"schedule": "step"}, "training.schedule: expected null, "),
        ({"schedule": {"kind": "linear"}}, "training.schedule.kind: expected 'step' or 'cosine'"),
        (
            {"schedule": {"kind": "step", "every": 5}},
            "training.schedule.factor: expected a number in (0, 1], got None",
        ),
        (
            {"schedule": {"kind": "cosine", "steps": -3}},
            "training.schedule.steps: expected an integer >= 1, got -3",
        ),
    ],
)
def test_bad_training_values_name_the_place(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(SceneError) as e:
        parse_scene(_training(**settings), source="s.json")
    assert str(e.value).startswith(f"s.json: {message}")


def test_start_after_step_is_refused() -> None:
    d = mlp_scene()
    d["state"] = {"optimizer": {"step": 2, "start": 5}}
    with pytest.raises(SceneError, match=r"state.optimizer.start: expected at most step \(2\)"):
        parse_scene(d, source="s.json")
