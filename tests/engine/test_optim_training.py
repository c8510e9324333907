from __future__ import annotations

import numpy as np
import pytest

from bpviz.engine.datasets import make_dataset
from bpviz.engine.errors import BpvizError
from bpviz.engine.executor import Executor
from bpviz.engine.gradcheck import gradcheck
from bpviz.engine.optim import ConfigError, Optimizer, TrainingConfig
from bpviz.engine.session import Session
from bpviz.engine.training import Trainer, accuracy
from tests.engine.helpers import chain_graph, mlp_graph


def run(config: TrainingConfig, grads: list[float], p0: float = 1.0) -> list[float]:
    params = {"w": {"value": np.array(p0)}}
    opt = Optimizer(config)
    out = []
    for g in grads:
        opt.step(params, {"w": {"value": np.array(g)}})
        out.append(float(params["w"]["value"]))
    return out


def test_sgd_by_hand() -> None:
    assert run(TrainingConfig(lr=0.1), [2.0, -1.0]) == pytest.approx([0.8, 0.9])


def test_sgd_weight_decay_by_hand() -> None:
    # g' = g + wd*p: 2 + 0.5*1 = 2.5 -> 1 - 0.25 = 0.75
    assert run(TrainingConfig(lr=0.1, weight_decay=0.5), [2.0]) == pytest.approx([0.75])


def test_momentum_by_hand() -> None:
    # buf1 = 2 -> p = 1 - 0.2 = 0.8; buf2 = 0.9*2 + 1 = 2.8 -> p = 0.8 - 0.28 = 0.52
    cfg = TrainingConfig(optimizer="momentum", lr=0.1, momentum=0.9)
    assert run(cfg, [2.0, 1.0]) == pytest.approx([0.8, 0.52])


def test_adam_by_hand() -> None:
    cfg = TrainingConfig(optimizer="adam", lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8)
    # step 1: m_hat = g, v_hat = g^2 -> p -= lr * sign(g) (almost exactly)
    p1 = 1.0 - 0.01 * 2.0 / (2.0 + 1e-8)
    m2, v2 = 0.9 * 0.2 + 0.1 * -1.0, 0.999 * 0.004 + 0.001 * 1.0
    p2 = p1 - 0.01 * (m2 / (1 - 0.81)) / (np.sqrt(v2 / (1 - 0.999**2)) + 1e-8)
    assert run(cfg, [2.0, -1.0]) == pytest.approx([p1, p2], rel=1e-12)


def test_optimizer_state_round_trip_continues_identically() -> None:
    cfg = TrainingConfig(optimizer="adam", lr=0.05)
    a = Optimizer(cfg)
    params = {"w": {"value": np.array([1.0, 2.0])}}
    grads = {"w": {"value": np.array([0.3, -0.1])}}
    a.step(params, grads)
    b = Optimizer(cfg)
    b.load_state_dict(a.state_dict())
    pa, pb = (
        {"w": {"value": params["w"]["value"].copy()}},
        {"w": {"value": params["w"]["value"].copy()}},
    )
    a.step(pa, grads)
    b.step(pb, grads)
    np.testing.assert_array_equal(pa["w"]["value"], pb["w"]["value"])


@pytest.mark.parametrize(
    ("d", "key"),
    [
        ({"optimizer": "rmsprop"}, "training.optimizer"),
        ({"lr": -1}, "training.lr"),
        ({"lr": "fast"}, "training.lr"),
        ({"batch_size": 0}, "training.batch_size"),
        ({"speed": 3}, "training.speed"),
        ({"momentum": 1.5}, "training.momentum"),
    ],
)
def test_bad_training_config_names_the_key(d: dict, key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        TrainingConfig.from_dict(d)


def test_training_on_xor_learns_and_records_history() -> None:
    ds = make_dataset({"kind": "xor", "n": 4, "noise": 0.0})
    g = mlp_graph(hidden=4, loss="bce", encoding="column")
    trainer = Trainer(Executor(g, seed=1), ds, TrainingConfig(optimizer="adam", lr=0.05))
    history = trainer.train(400)
    assert len(history) == 400 and history.step[-1] == 400
    assert history.loss[-1] < 0.1 * history.loss[0]
    assert history.accuracy[-1] == 1.0


def test_minibatches_are_seeded_and_cover_each_epoch() -> None:
    ds = make_dataset({"kind": "moons", "n": 40, "seed": 2, "test_fraction": 0.25})
    cfg = TrainingConfig(batch_size=10, seed=4, eval_every=5)
    seen = []
    t = Trainer(Executor(mlp_graph()), ds, cfg)
    for _ in range(3):
        x, _y = t.next_batch()
        seen.append(x)
    all_rows = np.concatenate(seen)
    assert len({tuple(r) for r in all_rows}) == 30  # one epoch covers every example once
    t2 = Trainer(Executor(mlp_graph()), ds, cfg)
    np.testing.assert_array_equal(t2.next_batch()[0], seen[0])
    history = t2.train(10)
    assert history.test_step == [5, 10] and len(history.test_loss) == 2


def test_accuracy_reads_each_loss_its_own_way() -> None:
    assert accuracy("bce", np.array([[2.0], [-1.0]]), np.array([[1.0], [1.0]])) == 0.5
    assert accuracy("hinge", np.array([[2.0], [-1.0]]), np.array([[1.0], [-1.0]])) == 1.0
    assert accuracy("cross_entropy", np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 1])) == 0.5
    assert accuracy("mse", np.array([1.0]), np.array([1.0])) is None


def test_step_accuracy_follows_new_data_and_graph_edits() -> None:
    """Steps read accuracy through what they worked out for the plan and the target array;
    new data or an edited loss node must be read afresh."""
    ds = make_dataset({"kind": "moons", "n": 60, "noise": 0.3, "seed": 5, "test_fraction": 0.0})
    trainer = Trainer(Executor(mlp_graph(loss="hinge", encoding="signs")), ds, TrainingConfig())
    ex = trainer.executor

    def by_hand(y: np.ndarray, threshold: float) -> float:
        pred = ex.value("out")[:, 0]
        return float(np.mean((pred > 0) == (y > threshold)))

    result = trainer.train(3)
    assert result.accuracy[-1] == by_hand(ds.y_train, 0.5)
    flipped = 1.0 - ds.y_train  # the same points, every label the other way
    ex.set_data(ds.x_train, flipped)
    ex.forward()
    assert trainer.current_accuracy() == by_hand(flipped, 0.5)
    assert trainer.current_accuracy() == pytest.approx(1.0 - result.accuracy[-1])
    ex.graph.set_attr("t", "encoding", "column")  # hinge on 0/1: a 0 counts as negative
    ex.forward()
    assert trainer.current_accuracy() == by_hand(flipped, 0.0)
    ex.graph.set_attr("t", "encoding", "signs")
    ex.graph.remove_node("loss")
    ex.graph.add_node("loss", "mse", inputs={"pred": "out", "target": "t"})
    ex.graph.set_output("loss")
    ex.forward()
    assert trainer.current_accuracy() is None


def test_gradcheck_agrees_on_a_network_and_flags_a_wrong_gradient(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s = Session(mlp_graph(loss="bce", encoding="column"), {"kind": "gauss", "n": 20, "seed": 1})
    assert all(c.ok for c in s.gradcheck())
    from bpviz.engine.ops import REGISTRY

    spec = REGISTRY["tanh"]
    broken = type(spec)(
        **{**spec.__dict__, "backward": lambda g, xs, out, a, p: ((g * 2.0,), None)}
    )
    monkeypatch.setitem(REGISTRY, "tanh", broken)
    g = chain_graph()
    bad = [c for c in gradcheck(Executor(g)) if not c.ok]
    assert {c.node_id for c in bad} >= {"w", "x"}


def test_training_stops_with_the_node_that_went_nonfinite() -> None:
    g = chain_graph()
    g.add_node("l", "log", inputs={"x": "w"})
    g.set_output("l")  # log(w) with w < 0
    s = Session(g)
    with pytest.raises(BpvizError, match="'l'"):
        s.train(1)
