"""Data and training settings as commands: exact undo, signals, and what each edit does to
learned state (the policy in model/settings.py), also with a live TrainingController."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from bpviz.engine.errors import BpvizError
from bpviz.model import (
    Document,
    Effect,
    SetData,
    SetDataValue,
    SetTraining,
    SetTrainingValue,
    training_effect,
    training_key_effect,
)
from bpviz.model.training import TrainingController
from tests.model.helpers import (
    STATE,
    SignalLog,
    assert_exact_undo,
    mlp_scene,
    params_of,
    saved,
)

MOONS = {"kind": "moons", "n": 40, "seed": 2, "test_fraction": 0.25}


def moons_doc(**training: Any) -> Document:
    scene = mlp_scene()
    scene["data"] = copy.deepcopy(MOONS)
    scene["training"] = {"optimizer": "sgd", "lr": 0.1, **training}
    return Document.from_scene_dict(scene)


# ---- commands on a bare document ----------------------------------------------------------
def test_set_data_on_a_document_without_data(mlp_doc: Document) -> None:
    log = SignalLog(mlp_doc)
    events: list[Any] = []
    mlp_doc.data_changed.connect(events.append)
    cmd = SetData(MOONS)
    after = assert_exact_undo(mlp_doc, cmd)
    assert after["data"] == MOONS
    assert cmd.effect is Effect.RESET
    assert events[0] == MOONS and events[1] is None  # redo, undo, ...
    assert ("changed",) in log


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("noise", 0.3),
        ("n", 100),
        ("test_fraction", 0.5),
        ("seed", 9),
        ("transforms", ["x1^2", "x2^2", "x1*x2"]),
        ("test_fraction", None),  # removed: the default applies
    ],
)
def test_each_data_key_undoes_exactly(key: str, value: Any) -> None:
    doc = moons_doc()
    cmd = SetDataValue(key, value)
    after = assert_exact_undo(doc, cmd)
    expected = (
        dict(MOONS, **{key: value})
        if value is not None
        else {k: v for k, v in MOONS.items() if k != key}
    )
    assert after["data"] == expected
    assert cmd.effect is Effect.RESET


def test_a_data_edit_drops_the_state_block_and_undo_puts_it_back() -> None:
    scene = mlp_scene() | {"data": MOONS}
    doc = Document.from_scene_dict(scene)
    doc.set_state(copy.deepcopy(STATE))
    SetDataValue("noise", 0.2).redo(doc)
    assert doc.state is None


@pytest.mark.parametrize(
    ("cmd", "message"),
    [
        (SetDataValue("transforms", ["x3^2"]), "data.transforms[0]: unknown expression 'x3^2'"),
        (SetDataValue("noise", -1), "data.noise: expected a number >= 0, got -1"),
        (SetData({"kind": "mnist"}), "data.kind: unknown kind 'mnist'"),
        (SetTrainingValue("lr", 0), "training.lr: 0 is out of range"),
        (SetTrainingValue("schedule", {"kind": "step"}), "training.schedule.every: expected"),
    ],
)
def test_a_refused_setting_changes_nothing(cmd: Any, message: str) -> None:
    doc = moons_doc()
    before = saved(doc)
    log = SignalLog(doc)
    with pytest.raises(BpvizError) as e:
        cmd.redo(doc)
    assert str(e.value).startswith(message)
    assert saved(doc) == before and log == []


@pytest.mark.parametrize(
    ("key", "value", "effect"),
    [
        ("lr", 0.01, Effect.KEEP),
        ("optimizer", "adam", Effect.KEEP),
        ("momentum", 0.5, Effect.KEEP),
        ("batch_size", 8, Effect.KEEP),
        ("l1", 0.001, Effect.KEEP),
        ("l2", 0.01, Effect.KEEP),
        ("schedule", {"kind": "cosine", "steps": 100}, Effect.KEEP),
        ("weight_decay", 0.1, Effect.KEEP),
        ("eval_every", 5, Effect.KEEP),
        ("seed", 4, Effect.RESET),
    ],
)
def test_each_training_key_undoes_exactly_with_its_effect(
    key: str, value: Any, effect: Effect
) -> None:
    doc = moons_doc()
    doc.set_state(copy.deepcopy(STATE))
    cmd = SetTrainingValue(key, value)
    after = assert_exact_undo(doc, cmd)
    assert after["training"][key] == value
    assert cmd.effect is effect
    assert training_key_effect(key) is effect
    assert (after["state"] is None) == (effect is Effect.RESET)  # the block goes with a reset


def test_whole_training_dict_and_defaults() -> None:
    doc = moons_doc()
    after = assert_exact_undo(doc, SetTraining({"optimizer": "adam", "lr": 0.02}))
    assert after["training"] == {"optimizer": "adam", "lr": 0.02}
    assert doc.training_config().beta1 == 0.9  # defaults filled in for reading
    assert_exact_undo(doc, SetTraining(None))


def test_training_effect_compares_with_defaults() -> None:
    assert training_effect(None, {"lr": 0.1}) is Effect.NONE  # 0.1 is the default
    assert training_effect({"lr": 0.1}, {"lr": 0.2}) is Effect.KEEP
    assert training_effect({"seed": 0}, None) is Effect.NONE
    assert training_effect({"seed": 0}, {"seed": 1, "lr": 3}) is Effect.RESET


# ---- with a live trainer ------------------------------------------------------------------
def window_dict(doc: Document, ctl: TrainingController) -> dict[str, Any]:
    """What the window saves: the document, with the trainer's learned state once trained."""
    scene = doc.to_scene_dict()
    state = ctl.state_dict()
    if state is not None:
        scene["state"] = state
    return scene


def test_learning_rate_edit_keeps_weights_and_applies_from_the_next_step() -> None:
    doc = moons_doc()
    ctl = TrainingController(doc)
    ctl.run_for(60.0, max_steps=5)
    before = params_of(ctl)
    SetTrainingValue("lr", 0.5).redo(doc)
    assert len(ctl.history) == 5 and ctl.session.trainer.step_count == 5
    for nid, named in before.items():
        for k, a in named.items():
            np.testing.assert_array_equal(ctl.session.executor.params[nid][k], a)
    ctl.step()  # sgd: p -= 0.5 * g, with the gradients of this step
    grads = ctl.session.executor.param_grads
    for nid, named in before.items():
        for k, a in named.items():
            np.testing.assert_allclose(
                ctl.session.executor.params[nid][k], a - 0.5 * grads[nid][k], rtol=0, atol=1e-15
            )


def test_data_edit_restarts_training_and_undo_brings_the_weights_back() -> None:
    doc = moons_doc()
    ctl = TrainingController(doc)
    restarted: list[str] = []
    ctl.restarted.connect(restarted.append)
    ctl.run_for(60.0, max_steps=5)
    trained = window_dict(doc, ctl)
    cmd = SetDataValue("transforms", ["x1", "x2", "x1*x2"])
    cmd.redo(doc)
    assert restarted == ["Data changed: training starts afresh"]
    assert len(ctl.history) == 0 and ctl.session.trainer.step_count == 0
    assert ctl.forward()
    assert ctl.value("x").shape == (30, 3)
    assert ctl.session.param("h", "W").shape == (3, 4)
    fresh = window_dict(doc, ctl)
    assert fresh["state"] is None and fresh["data"]["transforms"] == ["x1", "x2", "x1*x2"]
    cmd.undo(doc)
    assert window_dict(doc, ctl) == trained  # same data, same learned weights and step
    cmd.redo(doc)
    assert window_dict(doc, ctl) == fresh


def test_seed_edit_draws_the_new_seeds_weights() -> None:
    doc = moons_doc()
    ctl = TrainingController(doc)
    ctl.run_for(60.0, max_steps=3)
    SetTrainingValue("seed", 7).redo(doc)
    assert ctl.session.trainer.step_count == 0
    ctl.forward()
    other = TrainingController(moons_doc(seed=7))
    other.forward()
    np.testing.assert_array_equal(ctl.session.param("h", "W"), other.session.param("h", "W"))
