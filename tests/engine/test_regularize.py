"""training.l1 / l2 penalties and training.schedule, against numbers worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bpviz.engine.executor import Executor
from bpviz.engine.graph import Graph
from bpviz.engine.optim import ConfigError, Optimizer, TrainingConfig
from bpviz.engine.training import Trainer
from tests.engine.test_optim_training import run


def _graph() -> Graph:
    """loss = sum(dense(x)) + sum(w * c) with x = [[1, 2]], c = [1, 1, 1]."""
    g = Graph()
    g.add_node("x", "const", {"value": [[1.0, 2.0]]})
    g.add_node("d", "dense", {"units": 1}, inputs={"x": "x"})
    g.add_node("w", "param", {"value": [1.5, -2.0, 0.0]})
    g.add_node("c", "const", {"value": [1.0, 1.0, 1.0]})
    g.add_node("m", "mul", inputs={"a": "w", "b": "c"})
    g.add_node("s1", "sum", inputs={"x": "d"})
    g.add_node("s2", "sum", inputs={"x": "m"})
    g.add_node("loss", "add", inputs={"a": "s1", "b": "s2"})
    g.set_output("loss")
    return g


def _trainer(**settings: object) -> Trainer:
    ex = Executor(_graph())
    ex.load_params({"d": {"W": np.array([[0.5], [-1.0]]), "b": np.array([3.0])}})
    return Trainer(ex, None, TrainingConfig.from_dict(settings))


def test_penalties_by_hand() -> None:
    # data loss: (1·0.5 + 2·(−1) + 3) + (1.5 − 2 + 0) = 1.0
    # weights (not the bias b = 3): 1.5, −2, 0, 0.5, −1
    # l1 = 0.1: 0.1 · (1.5 + 2 + 0 + 0.5 + 1) = 0.5
    # l2 = 0.2: 0.2 · ½ (2.25 + 4 + 0 + 0.25 + 1) = 0.75
    t = _trainer(lr=1.0, l1=0.1, l2=0.2)
    r = t.step()
    assert r.batch_loss == pytest.approx(2.25, abs=1e-15)
    # gradients: data w: 1, 1, 1; W: 1, 2; b: 1
    # penalty w: 0.1·sign + 0.2·w = 0.4, −0.5, 0 (sign 0 = 0); W: 0.1·(1, −1) + 0.2·(0.5, −1)
    p = t.executor.params
    np.testing.assert_allclose(p["w"]["value"], [0.1, -2.5, -1.0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(p["d"]["W"], [[-0.7], [-2.7]], rtol=0, atol=1e-15)
    np.testing.assert_allclose(p["d"]["b"], [2.0], rtol=0, atol=1e-15)  # no penalty on b
    # the recorded loss is measured after the update: (−0.7 − 5.4 + 2) + (0.1 − 2.5 − 1) = −7.5
    # + 0.1 · (0.1 + 2.5 + 1 + 0.7 + 2.7) + 0.2 · ½ (0.01 + 6.25 + 1 + 0.49 + 7.29) = −5.296
    assert r.loss == pytest.approx(-5.296, abs=1e-14)


def test_no_penalty_by_default() -> None:
    t = _trainer(lr=1.0)
    assert t.step().batch_loss == pytest.approx(1.0, abs=1e-15)
    np.testing.assert_allclose(t.executor.params["w"]["value"], [0.5, -3.0, -1.0])


def test_window_update_adds_the_penalty_like_a_step() -> None:
    a, b = _trainer(lr=0.3, l1=0.05, l2=0.5), _trainer(lr=0.3, l1=0.05, l2=0.5)
    for _ in range(3):
        a.step()
        loss = float(b.executor.forward())
        b.executor.backward()
        b.apply_update(loss, None)
    assert a.history.loss == b.history.loss
    for nid, named in a.executor.params.items():
        for name, v in named.items():
            np.testing.assert_array_equal(v, b.executor.params[nid][name])


def test_step_schedule_by_hand() -> None:
    # lr 0.8 halved every 2 steps: 0.8, 0.8, 0.4, 0.4, 0.2 against a constant gradient 1
    cfg = TrainingConfig(lr=0.8, schedule={"kind": "step", "every": 2, "factor": 0.5})
    got = run(cfg, [1.0] * 5, p0=0.0)
    np.testing.assert_allclose(got, [-0.8, -1.6, -2.0, -2.4, -2.6], rtol=0, atol=1e-15)


def test_cosine_schedule_by_hand() -> None:
    # factors ½(1 + cos(πk/4)) for k = 0..3: 1, (2 + √2)/4, ½, (2 − √2)/4; then 0
    cfg = TrainingConfig(lr=1.0, schedule={"kind": "cosine", "steps": 4})
    got = run(cfg, [1.0] * 6, p0=0.0)
    r2 = math.sqrt(2.0)
    steps = [1.0, (2 + r2) / 4, 0.5, (2 - r2) / 4, 0.0, 0.0]
    np.testing.assert_allclose(got, -np.cumsum(steps), rtol=0, atol=1e-15)


def test_changing_the_optimizer_restarts_its_moments() -> None:
    # three sgd steps (lr 0.1, gradient 1): w = −0.3. Adam from there: fresh moments, bias
    # corrected from its own first step: m̂ = v̂ = 1, so it moves by lr/(1 + eps).
    params = {"w": {"value": np.array(0.0)}}
    opt = Optimizer(TrainingConfig(lr=0.1))
    for _ in range(3):
        opt.step(params, {"w": {"value": np.array(1.0)}})
    opt.configure(TrainingConfig(optimizer="adam", lr=0.5))
    assert (opt.start, opt.slots) == (3, {})
    opt.step(params, {"w": {"value": np.array(1.0)}})
    assert float(params["w"]["value"]) == pytest.approx(-0.3 - 0.5 / (1 + 1e-8), abs=1e-15)
    state = opt.state_dict()
    assert (state["step"], state["start"]) == (4, 3)
    slot = state["slots"]["w"]["value"]
    assert (slot["m"], slot["v"]) == (pytest.approx(0.1, abs=1e-15), pytest.approx(1e-3, abs=1e-15))


GOOD = [
    {"l1": 0.001, "l2": 0},
    {"l2": 3},
    {"schedule": None},
    {"schedule": {"kind": "step", "every": 100, "factor": 0.5}},
    {"schedule": {"kind": "step", "every": 1, "factor": 1}},
    {"schedule": {"kind": "cosine", "steps": 1000}},
]


@pytest.mark.parametrize("settings", GOOD)
def test_good_settings(settings: dict) -> None:
    assert TrainingConfig.from_dict(settings).to_dict() | settings == (
        TrainingConfig.from_dict(settings).to_dict()
    )


BAD = [
    ({"l1": -0.1}, "training.l1: -0.1 is out of range"),
    ({"l2": "1"}, "training.l2: expected a number, got '1'"),
    ({"l1": True}, "training.l1: expected a number, got True"),
    (
        {"schedule": "cosine"},
        'training.schedule: expected null, {"kind": "step", "every": N, "factor": F} or '
        '{"kind": "cosine", "steps": N}, got \'cosine\'',
    ),
    ({"schedule": {}}, "training.schedule.kind: expected 'step' or 'cosine', missing"),
    (
        {"schedule": {"kind": "exp"}},
        "training.schedule.kind: expected 'step' or 'cosine', got 'exp'",
    ),
    (
        {"schedule": {"kind": "step", "every": 10}},
        "training.schedule.factor: expected a number in (0, 1], got None",
    ),
    (
        {"schedule": {"kind": "step", "every": 0, "factor": 0.5}},
        "training.schedule.every: expected an integer >= 1, got 0",
    ),
    (
        {"schedule": {"kind": "step", "every": 2.5, "factor": 0.5}},
        "training.schedule.every: expected an integer >= 1, got 2.5",
    ),
    (
        {"schedule": {"kind": "step", "every": 2, "factor": 1.5}},
        "training.schedule.factor: expected a number in (0, 1], got 1.5",
    ),
    (
        {"schedule": {"kind": "step", "every": 2, "factor": 0}},
        "training.schedule.factor: expected a number in (0, 1], got 0",
    ),
    (
        {"schedule": {"kind": "step", "every": 2, "factor": 10**400}},
        "training.schedule.factor: expected a number in (0, 1], got 1" + "0" * 36 + "...",
    ),
    (
        {"schedule": {"kind": "step", "every": 2, "factor": float("nan")}},
        "training.schedule.factor: expected a number in (0, 1], got nan",
    ),
    (
        {"schedule": {"kind": "cosine", "steps": 10**30}},
        "training.schedule.steps: expected an integer >= 1, got 1000000000000000000000000000000",
    ),
    (
        {"schedule": {"kind": "cosine", "steps": True}},
        "training.schedule.steps: expected an integer >= 1, got True",
    ),
    (
        {"schedule": {"kind": "cosine", "steps": 10, "every": 2}},
        "training.schedule.every: unknown key for kind 'cosine' (allowed: kind, steps)",
    ),
]


@pytest.mark.parametrize(("settings", "message"), BAD)
def test_bad_settings_name_the_key(settings: dict, message: str) -> None:
    with pytest.raises(ConfigError) as e:
        TrainingConfig.from_dict(settings)
    assert str(e.value) == message
