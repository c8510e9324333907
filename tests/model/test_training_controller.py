"""TrainingController: whole passes, one node at a time, optimizer steps and the numbers the
overlays show, checked against the engine doing the same work on its own."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import bpviz
from bpviz.engine.executor import NodeGrad, NodeValue
from bpviz.engine.training import StepResult
from bpviz.model import Document
from bpviz.model.training import TrainingController
from bpviz.scene import save_scene_dict
from tests.model.helpers import count_forward_passes, params_of

SCENES = Path(__file__).resolve().parents[2] / "scenes"


# ---- building documents and controllers -------------------------------------------------
def engine(name: str) -> Any:
    """A fresh scene loaded by the scene package: the reference numbers."""
    return bpviz.load_scene(SCENES / f"{name}.json")


def scene_dict(name: str) -> dict[str, Any]:
    return engine(name).to_dict()


def node(node_id: str, op: str, inputs: dict | None = None, **attrs: Any) -> dict[str, Any]:
    return {"id": node_id, "op": op, "inputs": inputs or {}, "attrs": attrs, "pos": [0.0, 0.0]}


def make_scene(output: str, nodes: list[dict], training: dict | None = None) -> dict[str, Any]:
    return {
        "format": "bpviz-scene",
        "version": 1,
        "output": output,
        "nodes": nodes,
        "data": None,
        "training": training or {"optimizer": "sgd", "lr": 0.1},
        "state": None,
    }


def fanout_scene() -> dict[str, Any]:
    """y = tanh(w*x + x) with x fanning out; q = x*x (both ports from x); z dangles (does not
    reach y) and u has an unconnected port, so neither is part of the backward pass."""
    return make_scene(
        "y",
        [
            node("x", "const", value=0.7),
            node("w", "param", value=-1.3),
            node("m", "mul", {"a": "w", "b": "x"}),
            node("s", "add", {"a": "m", "b": "x"}),
            node("q", "mul", {"a": "x", "b": "x"}),
            node("t", "add", {"a": "s", "b": "q"}),
            node("y", "tanh", {"x": "t"}),
            node("z", "exp", {"x": "x"}),
            node("u", "add", {"a": "x"}),
        ],
    )


def log_scene(value: float = -1.0) -> dict[str, Any]:
    return make_scene("lg", [node("p", "param", value=value), node("lg", "log", {"x": "p"})])


def sigmoid_chain_scene(depth: int = 12) -> dict[str, Any]:
    nodes = [node("p", "param", value=0.0)]
    prev = "p"
    for i in range(depth):
        nodes.append(node(f"s{i}", "sigmoid", {"x": prev}))
        prev = f"s{i}"
    return make_scene(prev, nodes)


def scale_chain_scene(depth: int = 4, factor: float = 10.0) -> dict[str, Any]:
    """p multiplied by `factor` `depth` times: dL/dp = factor**depth."""
    nodes = [node("p", "param", value=1.0), node("k", "const", value=factor)]
    prev = "p"
    for i in range(depth):
        nodes.append(node(f"m{i}", "mul", {"a": prev, "b": "k"}))
        prev = f"m{i}"
    return make_scene(prev, nodes)


@pytest.fixture
def make_ctl():
    made: list[TrainingController] = []

    def make(source: str | dict[str, Any]) -> TrainingController:
        scene = scene_dict(source) if isinstance(source, str) else source
        ctl = TrainingController(Document.from_scene_dict(scene), SCENES)
        made.append(ctl)
        return ctl

    yield make
    for ctl in made:
        ctl.close()


class Recorder:
    """Everything a controller emits, in order."""

    def __init__(self, ctl: TrainingController) -> None:
        self.ctl = ctl
        self.phases: list[tuple[str, str | None]] = []
        self.steps: list[NodeValue | NodeGrad] = []
        self.trained: list[StepResult] = []
        self.failed: list[tuple[str, str]] = []
        self.values_changed = 0
        self.history_reset = 0
        ctl.phase_changed.connect(lambda: self.phases.append((ctl.phase, ctl.next_node)))
        ctl.node_stepped.connect(self.steps.append)
        ctl.trained.connect(self.trained.append)
        ctl.failed.connect(lambda n, m: self.failed.append((n, m)))
        ctl.values_changed.connect(self._values)
        ctl.history_reset.connect(self._reset)

    def _values(self) -> None:
        self.values_changed += 1

    def _reset(self) -> None:
        self.history_reset += 1

    def phase_names(self) -> list[str]:
        return [p for p, _ in self.phases]


def needed(ctl: TrainingController) -> set[str]:
    g = ctl.document.graph
    return g.ancestors(g.output) | {g.output}


def forward_order(ctl: TrainingController) -> list[str]:
    return [s.node_id for s in ctl.session.executor.plan.nodes]


def backward_order(ctl: TrainingController) -> list[str]:
    keep = needed(ctl)
    return [n for n in reversed(forward_order(ctl)) if n in keep]


def assert_params_equal(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for nid in a:
        assert a[nid].keys() == b[nid].keys()
        for name in a[nid]:
            np.testing.assert_array_equal(a[nid][name], b[nid][name], err_msg=f"{nid}.{name}")


# ---- whole passes --------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["chain_rule", "neuron", "xor", "moons", "sine", "exam"])
def test_forward_and_backward_show_exactly_the_engine_numbers(make_ctl, name: str) -> None:
    ctl = make_ctl(name)
    rec = Recorder(ctl)
    assert ctl.phase == "idle" and not ctl.grads_fresh
    ref = engine(name)
    ref.forward()
    ref.backward()

    assert ctl.forward() is True
    assert ctl.phase == "forward_done" and not ctl.grads_fresh
    assert ctl.grads == {} and ctl.contributions == {}
    assert set(ctl.values) == set(forward_order(ctl))
    for nid, v in ctl.values.items():
        np.testing.assert_array_equal(v, ref.value(nid), err_msg=nid)

    assert ctl.backward() is True
    assert ctl.phase == "backward_done" and ctl.grads_fresh
    assert rec.phase_names() == ["forward_done", "backward_done"]
    assert set(ctl.grads) == needed(ctl)
    for nid, g in ctl.grads.items():
        np.testing.assert_array_equal(g, ref.grad(nid), err_msg=nid)
        assert ctl.grad(nid) is g
    # the values do not change when gradients are added
    for nid, v in ctl.values.items():
        np.testing.assert_array_equal(v, ref.value(nid), err_msg=nid)
    assert rec.values_changed == 2


@pytest.mark.parametrize("name", ["chain_rule", "neuron", "xor", "moons"])
def test_contributions_are_one_per_edge_reaching_the_output(make_ctl, name: str) -> None:
    ctl = make_ctl(name)
    assert ctl.backward() is True  # runs the forward pass first
    keep = needed(ctl)
    edges = {(e.src, e.dst, e.port) for e in ctl.document.edges() if e.dst in keep}
    assert set(ctl.contributions) == edges

    ref = engine(name)
    ref.forward()
    expected = {
        (c.src, c.dst, c.port): c.grad
        for step in ref.session.executor.backward_nodes()
        for c in step.contributions
    }
    assert set(expected) == edges
    for edge, g in expected.items():
        np.testing.assert_array_equal(ctl.contributions[edge], g, err_msg=str(edge))
        assert ctl.edge_grad(edge) is ctl.contributions[edge]


def test_fan_out_contributions_add_up_to_the_node_gradient(make_ctl) -> None:
    ctl = make_ctl(fanout_scene())
    assert ctl.backward()
    into_x = {e: g for e, g in ctl.contributions.items() if e[0] == "x"}
    # x feeds m.b, s.b, q.a and q.b (and z, which does not reach y: no contribution)
    assert set(into_x) == {("x", "m", "b"), ("x", "s", "b"), ("x", "q", "a"), ("x", "q", "b")}
    np.testing.assert_allclose(sum(into_x.values()), ctl.grads["x"], rtol=1e-12)
    # and the number is the chain rule's: y = tanh(w x + x + x^2)
    x, w = 0.7, -1.3
    y = np.tanh(w * x + x + x * x)
    np.testing.assert_allclose(ctl.grads["x"], (1 - y**2) * (w + 1 + 2 * x), rtol=1e-12)
    np.testing.assert_allclose(ctl.grads["w"], (1 - y**2) * x, rtol=1e-12)
    # the dangling node has a value but no gradient; the half-wired one has neither
    assert "z" in ctl.values and "z" not in ctl.grads
    assert ("x", "z", "x") not in ctl.contributions
    assert "u" not in ctl.values and "u" not in ctl.grads
    assert ctl.value("u") is None and ctl.grad("z") is None
    assert ctl.edge_grad(("x", "z", "x")) is None


def test_backward_of_a_broadcast_param_sums_each_contribution(make_ctl) -> None:
    scene = make_scene(
        "s",
        [
            node("a", "const", value=[1.0, 2.0, 3.0]),
            node("w", "param", value=2.0),
            node("m", "mul", {"a": "a", "b": "w"}),
            node("m2", "mul", {"a": "m", "b": "w"}),
            node("s", "sum", {"x": "m2"}),
        ],
    )
    ctl = make_ctl(scene)
    assert ctl.backward()
    # s = sum(a w^2): ds/dw = 2 w sum(a) = 24, as two contributions of 12 each
    assert ctl.grads["w"].shape == ()
    np.testing.assert_allclose(ctl.grads["w"], 24.0)
    np.testing.assert_allclose(ctl.contributions[("w", "m", "b")], 12.0)
    np.testing.assert_allclose(ctl.contributions[("w", "m2", "b")], 12.0)
    np.testing.assert_array_equal(ctl.grads["a"], [4.0, 4.0, 4.0])


# ---- one node at a time ----------------------------------------------------------------------
@pytest.mark.parametrize("source", ["neuron", "chain_rule", "xor", "fanout"])
def test_next_step_walks_forward_then_backward_in_engine_order(make_ctl, source: str) -> None:
    ctl = make_ctl(fanout_scene() if source == "fanout" else source)
    rec = Recorder(ctl)
    fwd, bwd = forward_order(ctl), backward_order(ctl)
    out = ctl.document.output
    visited: list[str] = []
    returned: list[NodeValue | NodeGrad] = []

    for i, expected in enumerate(fwd):
        if i:
            assert ctl.phase == "forward" and ctl.next_node == expected
        step = ctl.next_step()
        assert isinstance(step, NodeValue) and step.node_id == expected
        visited.append(step.node_id)
        returned.append(step)
        np.testing.assert_array_equal(ctl.values[expected], step.value)
        assert set(ctl.values) == set(fwd[: i + 1])
    assert ctl.phase == "forward_done" and ctl.next_node == out
    assert ctl.grads == {}

    for expected in bwd:
        assert ctl.next_node == expected
        step = ctl.next_step()
        assert isinstance(step, NodeGrad) and step.node_id == expected
        visited.append(step.node_id)
        returned.append(step)
        assert ctl.phase in ("backward", "backward_done")
    assert ctl.phase == "backward_done" and ctl.next_node is None and ctl.grads_fresh
    assert visited == fwd + bwd
    assert rec.steps == returned  # node_stepped emitted each step, in order
    assert rec.values_changed == len(returned)

    names = rec.phase_names()
    assert names == (
        ["forward"] * len(fwd) + ["forward_done"] + ["backward"] * len(bwd) + ["backward_done"]
    )

    # the stepped numbers are the whole-pass numbers
    whole = make_ctl(fanout_scene() if source == "fanout" else source)
    assert whole.backward()
    assert ctl.values.keys() == whole.values.keys()
    for nid in whole.values:
        np.testing.assert_array_equal(ctl.values[nid], whole.values[nid], err_msg=nid)
    assert ctl.grads.keys() == whole.grads.keys()
    for nid in whole.grads:
        np.testing.assert_array_equal(ctl.grads[nid], whole.grads[nid], err_msg=nid)
    assert ctl.contributions.keys() == whole.contributions.keys()
    for edge in whole.contributions:
        np.testing.assert_array_equal(ctl.contributions[edge], whole.contributions[edge])

    # one more call begins a new forward pass from scratch
    step = ctl.next_step()
    assert isinstance(step, NodeValue) and step.node_id == fwd[0]
    assert ctl.phase == "forward"
    assert ctl.grads == {} and ctl.contributions == {} and set(ctl.values) == {fwd[0]}
    assert ctl.next_node == (fwd[1] if len(fwd) > 1 else out)


def test_next_step_after_a_whole_forward_pass_goes_backward(make_ctl) -> None:
    ctl = make_ctl("neuron")
    assert ctl.forward()
    assert ctl.phase == "forward_done"
    step = ctl.next_step()
    assert isinstance(step, NodeGrad) and step.node_id == "o"
    assert ctl.phase == "backward" and ctl.next_node == backward_order(ctl)[1]


def test_stepped_forward_then_update_records_the_stepped_loss(make_ctl) -> None:
    ctl = make_ctl(fanout_scene())
    while ctl.phase != "backward_done":
        ctl.next_step()
    loss = float(ctl.values["y"])
    w, g = float(ctl.values["w"]), float(ctl.grads["w"])
    result = ctl.update()
    # the step's batch loss is the stepped pass's; its loss is measured after the update
    after = math.tanh((w - 0.1 * g) * 0.7 + 0.7 + 0.49)
    assert result is not None and result.batch_loss == loss and result.step == 1
    assert result.loss == pytest.approx(after, rel=1e-12)
    assert ctl.history.loss == [result.loss] and ctl.history.batch_loss == [loss]
    np.testing.assert_array_equal(ctl.session.executor.params["w"]["value"], w - 0.1 * g)


# ---- optimizer steps ---------------------------------------------------------------------------
def test_update_applies_one_sgd_step_by_hand(make_ctl) -> None:
    ctl = make_ctl(fanout_scene())
    rec = Recorder(ctl)
    assert ctl.backward()
    loss = float(ctl.values["y"])
    w_old = float(ctl.values["w"])
    g = float(ctl.grads["w"])
    assert g != 0.0

    result = ctl.update()
    assert isinstance(result, StepResult)
    after = math.tanh((w_old - 0.1 * g) * 0.7 + 0.7 + 0.49)
    assert result.step == 1 and result.batch_loss == loss and result.accuracy is None
    assert result.loss == pytest.approx(after, rel=1e-12)
    assert ctl.phase == "updated" and not ctl.grads_fresh
    assert rec.trained == [result]
    assert len(ctl.history) == 1 and ctl.history.step == [1] and ctl.history.loss == [result.loss]
    np.testing.assert_array_equal(ctl.session.executor.params["w"]["value"], w_old - 0.1 * g)
    # the overlay snapshot is of the pass before the update
    assert float(ctl.values["w"]) == w_old

    # the next forward pass uses the updated parameter
    assert ctl.forward()
    np.testing.assert_array_equal(ctl.values["w"], w_old - 0.1 * g)
    np.testing.assert_allclose(ctl.values["y"], np.tanh((w_old - 0.1 * g) * 0.7 + 0.7 + 0.49))


def test_update_from_idle_runs_forward_and_backward_first(make_ctl) -> None:
    ctl = make_ctl(fanout_scene())
    rec = Recorder(ctl)
    result = ctl.update()
    assert result is not None and result.step == 1
    assert rec.phase_names() == ["forward_done", "backward_done", "updated"]


@pytest.mark.parametrize("name", ["xor", "moons", "exam"])
def test_step_matches_the_trainer_exactly(make_ctl, name: str) -> None:
    ctl = make_ctl(name)
    rec = Recorder(ctl)
    result = ctl.step()
    assert rec.phase_names() == ["forward_done", "backward_done", "updated"]
    assert rec.trained == [result]

    ref = engine(name)
    ref.train(1)
    assert result.loss == ref.history.loss[0]
    assert_params_equal(params_of(ctl), params_of(ref))

    for _ in range(4):
        ctl.step()
    ref.train(4)
    assert ctl.history.to_dict() == ref.history.to_dict()
    assert len(ctl.history) == 5 and ctl.history.step == [1, 2, 3, 4, 5]
    assert_params_equal(params_of(ctl), params_of(ref))
    assert ctl.session.trainer.optimizer.t == 5


def test_step_records_its_batch_loss_and_the_loss_after_its_update(make_ctl) -> None:
    ctl = make_ctl("xor")
    assert ctl.forward()
    loss = float(ctl.values["loss"])
    result = ctl.step()
    assert result.batch_loss == loss
    assert result.accuracy == ctl.history.accuracy[-1]
    assert ctl.forward()  # the next pass sees the updated parameters: the recorded loss
    assert float(ctl.values["loss"]) == result.loss
    assert ctl.session.accuracy() == result.accuracy


def test_step_with_grads_already_fresh_only_updates(make_ctl) -> None:
    ctl = make_ctl("neuron")
    assert ctl.backward()
    rec = Recorder(ctl)
    assert ctl.step() is not None
    assert rec.phase_names() == ["updated"]
    assert len(ctl.history) == 1


# ---- run mode ----------------------------------------------------------------------------------
def test_run_for_takes_max_steps_and_the_loss_falls_on_moons(make_ctl) -> None:
    ctl = make_ctl("moons")
    rec = Recorder(ctl)
    results = ctl.run_for(30.0, max_steps=300)
    assert len(results) == 300
    assert len(ctl.history) == 300
    assert [r.step for r in results] == list(range(1, 301))
    assert rec.trained == [results[-1]]  # a slice says only its last step; history has all
    assert ctl.phase == "updated"
    losses = ctl.history.loss
    assert np.mean(losses[-20:]) < 0.3 * losses[0]
    assert ctl.history.accuracy[-1] > 0.9

    more = ctl.run_for(30.0, max_steps=25)
    assert len(more) == 25 and len(ctl.history) == 325
    assert more[0].step == 301


def test_run_for_follows_the_trainer(make_ctl) -> None:
    ctl = make_ctl("spiral")  # minibatches: the same seeded order as the trainer's
    results = ctl.run_for(30.0, max_steps=15)
    ref = engine("spiral")
    ref.train(15)
    assert [r.loss for r in results] == ref.history.loss
    assert_params_equal(params_of(ctl), params_of(ref))


def test_run_for_with_no_time_still_takes_one_step(make_ctl) -> None:
    ctl = make_ctl("xor")
    results = ctl.run_for(0.0, max_steps=50)
    assert len(results) >= 1 and len(ctl.history) == len(results)


def test_refresh_after_run_shows_the_trained_parameters(make_ctl) -> None:
    ctl = make_ctl("xor")
    ctl.run_for(30.0, max_steps=10)
    assert ctl.refresh() is True
    assert ctl.phase == "backward_done"
    assert_grads_match_engine(ctl, "xor", steps=10)


# (scene, forward passes for n steps): one per step measures the new parameters on the
# training set (and one on the test set where there is one); full batch reuses that as the
# next step's forward pass, so only the first step runs its own; minibatches run one a step
@pytest.mark.parametrize(
    ("name", "passes"),
    [
        ("neuron", lambda n: 1 + n),  # plain numbers (the float route), no data
        ("moons", lambda n: 1 + 2 * n),  # full batch, test set every step
        ("spiral", lambda n: 3 * n),  # minibatches, test set every step
    ],
)
def test_run_slices_with_refreshes_between_take_headless_passes_and_numbers(
    make_ctl, name: str, passes: Any
) -> None:
    ctl = make_ctl(name)
    run_count = count_forward_passes(ctl.session.executor)
    slices = [1, 3, 5, 2, 7]
    for i, k in enumerate(slices):
        assert len(ctl.run_for(30.0, max_steps=k)) == k
        if i % 2 == 0:  # the overlays refresh between some slices, not between others
            assert ctl.refresh() is True
    n = sum(slices)
    ref = engine(name)
    ref_count = count_forward_passes(ref.session.executor)
    ref.train(n)
    assert run_count[0] == ref_count[0] == passes(n)
    assert_params_equal(params_of(ctl), params_of(ref))
    assert ctl.session.state_dict()["optimizer"] == ref.session.state_dict()["optimizer"]
    for column in ("loss", "accuracy", "test_loss", "test_accuracy", "batch_loss"):
        assert getattr(ctl.history, column).tolist() == getattr(ref.history, column).tolist()
    # refreshing again needs no pass either: the last step's measuring pass is still held
    assert ctl.refresh() is True
    assert run_count[0] == passes(n)
    assert float(np.sum(ctl.value(ctl.document.graph.output))) == float(np.sum(ref.forward()))
    assert_grads_match_engine(ctl, name, steps=n)


def test_a_weight_set_between_slices_is_computed_afresh(make_ctl) -> None:
    ctl = make_ctl("moons")
    ctl.run_for(30.0, max_steps=4)
    assert ctl.refresh() is True
    count = count_forward_passes(ctl.session.executor)
    b = ctl.session.executor.params["score"]["b"] + 0.25
    ctl.document.set_params("score", {"b": b})  # nothing ran: only the parameters changed
    assert ctl.refresh() is True
    assert count[0] == 1  # the held pass is of the old weights: refreshing computes anew
    shown = float(ctl.value("loss"))
    ref = engine("moons")
    ref.train(4)
    ref.session.executor.params["score"]["b"][...] = b
    assert shown == float(ref.forward())
    # the next slice's first step runs its own forward pass (then 2 passes a step) and
    # records the loss of the edited weights as its batch's
    results = ctl.run_for(30.0, max_steps=3)
    assert count[0] == 1 + 1 + 2 * 3
    assert results[0].batch_loss == shown


def assert_grads_match_engine(ctl, name: str, steps: int = 0) -> None:  # noqa: ANN001
    """The controller's gradients equal a headless engine's after `steps` training steps."""
    ref = engine(name)
    ref.train(steps)
    ref.forward()
    ref.backward()
    for nid in ctl.grads:
        np.testing.assert_array_equal(ctl.grads[nid], ref.grad(nid), err_msg=nid)


# ---- reset -------------------------------------------------------------------------------------
def test_reset_clears_everything_and_redraws_the_seeded_parameters(make_ctl) -> None:
    ctl = make_ctl("xor")
    assert ctl.forward()
    initial = params_of(ctl)
    ctl.run_for(30.0, max_steps=20)
    assert len(ctl.history) == 20
    trained = params_of(ctl)
    with pytest.raises(AssertionError):
        assert_params_equal(trained, initial)

    rec = Recorder(ctl)
    ctl.reset()
    assert len(ctl.history) == 0 and ctl.history.loss == []
    assert ctl.values == {} and ctl.grads == {} and ctl.contributions == {}
    assert ctl.phase == "idle" and ctl.next_node is None
    assert rec.history_reset == 1 and rec.values_changed == 1
    assert ctl.state_dict() is None
    assert ctl.session.trainer.optimizer.t == 0

    assert ctl.forward()
    assert_params_equal(params_of(ctl), initial)
    fresh = make_ctl("xor")
    assert fresh.forward()
    for nid in fresh.values:
        np.testing.assert_array_equal(ctl.values[nid], fresh.values[nid], err_msg=nid)

    # training again retraces the same path
    ctl.run_for(30.0, max_steps=20)
    assert_params_equal(params_of(ctl), trained)


def test_reset_with_another_seed_draws_other_parameters(make_ctl) -> None:
    ctl = make_ctl("xor")
    assert ctl.forward()
    before = params_of(ctl)
    ctl.reset(seed=12345)
    assert ctl.forward()
    after = params_of(ctl)
    assert not np.array_equal(after["hidden"]["W"], before["hidden"]["W"])


def test_reset_mid_step_starts_over(make_ctl) -> None:
    ctl = make_ctl("neuron")
    ctl.next_step()
    ctl.next_step()
    ctl.reset()
    step = ctl.next_step()
    assert step.node_id == forward_order(ctl)[0] and ctl.phase == "forward"


# ---- non-finite numbers -------------------------------------------------------------------------
def test_nan_in_forward_fails_naming_the_node(make_ctl) -> None:
    ctl = make_ctl(log_scene(-1.0))
    rec = Recorder(ctl)
    assert ctl.forward() is False
    assert ctl.phase == "error" and ctl.error_node == "lg"
    assert len(rec.failed) == 1
    node_id, message = rec.failed[0]
    assert node_id == "lg" and "lg" in message and "forward" in message
    assert "p" in ctl.values and "lg" not in ctl.values  # what was computed is still shown
    assert not ctl.grads_fresh and ctl.gradient_flag("p") is None

    assert ctl.backward() is False
    assert ctl.step() is None and ctl.update() is None
    assert len(ctl.history) == 0
    assert all(f[0] == "lg" for f in rec.failed) and len(rec.failed) == 4

    # fixed: the error goes away with the next good pass
    ctl.document.set_attr("p", "value", 2.0)
    assert ctl.forward() is True
    assert ctl.phase == "forward_done" and ctl.error_node is None
    np.testing.assert_allclose(ctl.values["lg"], np.log(2.0))


def test_nan_while_stepping_fails_at_that_node(make_ctl) -> None:
    ctl = make_ctl(log_scene(-1.0))
    rec = Recorder(ctl)
    first = ctl.next_step()
    assert first.node_id == "p" and ctl.next_node == "lg"
    assert ctl.next_step() is None
    assert ctl.phase == "error" and ctl.error_node == "lg"
    assert [f[0] for f in rec.failed] == ["lg"]
    assert [s.node_id for s in rec.steps] == ["p"]
    # the next call tries a new forward pass rather than raising
    assert ctl.next_step().node_id == "p"
    assert ctl.phase == "forward"


def test_run_slices_say_the_phase_once_not_every_slice(make_ctl) -> None:
    ctl = make_ctl("moons")
    rec = Recorder(ctl)
    for _ in range(3):
        ctl.run_for(10.0, max_steps=5)
    assert rec.phases == [("updated", None)]  # the status bar is not redrawn per slice
    assert len(ctl.history) == 15
    ctl.refresh()
    rec.phases.clear()
    ctl.run_for(10.0, max_steps=5)  # after a refresh the numbers are stale again: said once
    assert rec.phases == [("updated", None)]


def test_nan_in_run_mode_stops_with_the_node_and_keeps_earlier_steps(make_ctl) -> None:
    scene = scene_dict("sine")
    scene["training"] = {**scene["training"], "optimizer": "sgd", "lr": 1e5}
    ctl = make_ctl(scene)
    rec = Recorder(ctl)
    results = ctl.run_for(30.0, max_steps=500)
    assert 0 < len(results) < 500
    assert ctl.phase == "error" and ctl.error_node == "loss"
    assert [f[0] for f in rec.failed] == ["loss"]
    assert "non-finite" in rec.failed[0][1]
    assert rec.trained == [results[-1]] and len(ctl.history) == len(results)


def test_a_graph_with_no_output_fails_without_raising(make_ctl) -> None:
    scene = make_scene("x", [node("x", "const", value=1.0)])
    ctl = make_ctl(scene)
    ctl.document.set_output(None)
    rec = Recorder(ctl)
    assert ctl.forward() is False and ctl.phase == "error"
    assert rec.failed and rec.failed[0][0] == ""
    assert ctl.step() is None


# ---- editing the document -----------------------------------------------------------------------
def test_edits_after_a_pass_make_it_stale(make_ctl) -> None:
    ctl = make_ctl(fanout_scene())
    ctl.document.set_attr("x", "value", 0.5)
    assert ctl.phase == "idle"  # nothing shown yet: nothing goes stale
    assert ctl.forward()
    ctl.document.set_attr("x", "value", 0.6)
    assert ctl.phase == "stale" and not ctl.grads_fresh
    assert ctl.backward()
    assert ctl.phase == "backward_done"
    ctl.document.disconnect("u", "a")
    assert ctl.phase == "stale"
    assert ctl.backward()
    ctl.document.connect("x", "u", "a")
    assert ctl.phase == "stale"
    assert ctl.backward()
    ctl.document.connect("w", "u", "b")
    assert ctl.phase == "stale"
    assert ctl.forward()
    np.testing.assert_allclose(ctl.values["x"], 0.6)
    assert "u" in ctl.values  # now fully wired
    np.testing.assert_allclose(ctl.values["u"], 0.6 - 1.3)


def test_moving_a_node_keeps_the_numbers_fresh(make_ctl) -> None:
    ctl = make_ctl("neuron")
    assert ctl.backward()
    ctl.document.move_node("o", (123.0, 45.0))
    assert ctl.phase == "backward_done" and ctl.grads_fresh
    # nor does it abort a pass being stepped
    ctl.next_step()
    ctl.next_step()
    nxt = ctl.next_node
    ctl.document.move_node("x1", (1.0, 2.0))
    assert ctl.phase == "forward" and ctl.next_step().node_id == nxt


def test_an_edit_mid_step_restarts_the_pass(make_ctl) -> None:
    ctl = make_ctl("neuron")
    ctl.next_step()
    ctl.next_step()
    ctl.document.set_attr("x1", "value", 1.0)
    assert ctl.phase == "stale"
    step = ctl.next_step()
    assert step.node_id == forward_order(ctl)[0] and ctl.phase == "forward"


def test_a_param_value_edit_is_used_by_the_next_forward(make_ctl) -> None:
    ctl = make_ctl(fanout_scene())
    ctl.run_for(30.0, max_steps=3)  # trained: w has moved away from its attr
    assert float(ctl.session.executor.params["w"]["value"]) != -1.3
    ctl.document.set_attr("w", "value", 0.25)
    assert ctl.forward()
    np.testing.assert_array_equal(ctl.values["w"], 0.25)
    np.testing.assert_allclose(ctl.values["y"], np.tanh(0.25 * 0.7 + 0.7 + 0.49), rtol=1e-12)


def test_a_param_value_edit_replaces_saved_state(make_ctl) -> None:
    scene = scene_dict("neuron")
    scene["state"] = {
        "params": {"w1": {"value": -2.0}, "w2": {"value": 1.0}, "b": {"value": 6.0}},
        "optimizer": {"step": 1, "slots": {}},
    }
    ctl = make_ctl(scene)
    ctl.document.set_attr("w1", "value", 5.0)  # before any pass has used the saved arrays
    assert ctl.forward() is True, ctl.error_node
    np.testing.assert_array_equal(ctl.values["w1"], 5.0)
    np.testing.assert_array_equal(ctl.values["b"], 6.0)  # the others still come from the state


def test_saved_state_is_what_the_first_pass_uses(make_ctl) -> None:
    scene = scene_dict("neuron")
    scene["state"] = {
        "params": {"w1": {"value": -2.0}, "w2": {"value": 1.0}, "b": {"value": 6.0}},
        "optimizer": {"step": 1, "slots": {}},
    }
    ctl = make_ctl(scene)
    assert ctl.forward()
    np.testing.assert_array_equal(ctl.values["w1"], -2.0)
    np.testing.assert_allclose(ctl.values["o"], np.tanh(2.0 * -2.0 + 6.0))


# ---- what the wires and overlays say ------------------------------------------------------------
def test_gradient_flag_finds_a_vanishing_gradient(make_ctl) -> None:
    ctl = make_ctl(sigmoid_chain_scene(12))
    assert ctl.forward()
    assert ctl.gradient_flag("p") is None  # no fresh gradients yet
    assert ctl.backward()
    assert float(np.abs(ctl.grads["p"])) < 1e-6
    assert ctl.gradient_flag("p") == "vanishing"
    assert ctl.gradient_flag("s11") is None  # the output's own gradient is 1
    assert ctl.gradient_flag("nope") is None
    ctl.document.set_attr("p", "value", 1.0)  # stale: no longer flagged
    assert ctl.gradient_flag("p") is None


def test_gradient_flag_finds_an_exploding_gradient(make_ctl) -> None:
    ctl = make_ctl(scale_chain_scene(4, 10.0))
    assert ctl.backward()
    np.testing.assert_allclose(ctl.grads["p"], 1e4)
    assert ctl.gradient_flag("p") == "exploding"
    assert ctl.gradient_flag("m3") is None


@pytest.mark.parametrize("name", ["neuron", "chain_rule", "xor"])
def test_gradient_flag_is_quiet_on_a_healthy_graph(make_ctl, name: str) -> None:
    ctl = make_ctl(name)
    assert ctl.backward()
    flagged = {n: ctl.gradient_flag(n) for n in ctl.grads if ctl.gradient_flag(n)}
    # neuron's w2 multiplies x2 = 0, so its gradient is exactly 0: the only "vanishing" one
    assert flagged == ({"w2": "vanishing"} if name == "neuron" else {})


def test_chain_term_for_a_scalar_edge_shows_the_numbers(make_ctl) -> None:
    ctl = make_ctl(fanout_scene())
    assert ctl.chain_term(("w", "m", "a")) is None  # no gradients yet
    assert ctl.backward()
    text = ctl.chain_term(("w", "m", "a"))
    assert text is not None
    up = float(ctl.grads["m"])
    carried = float(ctl.contributions[("w", "m", "a")])
    head, numbers = text.split("\n")
    assert head == "∂L/∂w via m.a = ∂L/∂m × ∂m/∂w"
    # upstream ∂L/∂m, local ∂m/∂w = x = 0.7, product ∂L/∂m · x
    assert numbers == f"= {up:.4g} × 0.7 = {carried:.4g}"
    np.testing.assert_allclose(carried, up * 0.7, rtol=1e-12)

    # chain_rule.json: L = d*f, the edge d -> L carries 1 × f = -2
    ctl2 = make_ctl("chain_rule")
    assert ctl2.backward()
    assert ctl2.chain_term(("d", "L", "a")).endswith("= 1 × -2 = -2")
    assert ctl2.chain_term(("f", "L", "b")).endswith("= 1 × 4 = 4")
    assert ctl2.chain_term(("c", "d", "b")).endswith("= -2 × 1 = -2")
    assert ctl2.chain_term(("a", "e", "a")).endswith("= -2 × -3 = 6")
    assert ctl2.chain_term(("x", "L", "a")) is None


def test_chain_term_for_an_array_edge_describes_the_arrays(make_ctl) -> None:
    ctl = make_ctl("moons")
    assert ctl.backward()
    text = ctl.chain_term(("h1", "h2", "x"))
    n = len(ctl.values["x"])
    assert f"upstream shape ({n}, 16)" in text and f"carried shape ({n}, 16)" in text
    norm = float(np.linalg.norm(ctl.contributions[("h1", "h2", "x")]))
    assert f"norm {norm:.3g}" in text


# ---- gradient check and saved state -------------------------------------------------------------
def test_check_gradients_agree_on_xor_and_leave_fresh_numbers(make_ctl) -> None:
    ctl = make_ctl("xor")
    agree = ctl.check_gradients()
    assert agree and all(agree.values()), agree
    assert {"hidden", "logit"} <= set(agree)
    assert ctl.phase == "backward_done"
    assert_grads_match_engine(ctl, "xor")


def test_state_dict_is_none_before_training_and_has_params_after(make_ctl) -> None:
    ctl = make_ctl("xor")
    assert ctl.state_dict() is None
    ctl.step()
    state = ctl.state_dict()
    assert state is not None
    assert set(state["params"]) == {"hidden", "logit"}
    np.testing.assert_array_equal(
        state["params"]["hidden"]["W"], ctl.session.executor.params["hidden"]["W"]
    )
    assert state["optimizer"]["step"] == 1
    assert set(state["optimizer"]["slots"]) == {"hidden", "logit"}  # adam keeps m and v


def test_state_dict_leaves_out_deleted_nodes_so_the_file_loads(make_ctl, tmp_path: Path) -> None:
    ctl = make_ctl("neuron")
    ctl.step()
    doc = ctl.document
    doc.disconnect("n", "b")
    doc.remove_node("b")
    doc.add_node("b", "const", {"value": 1.0})  # same id, an op without parameters
    doc.connect("b", "n", "b")
    state = ctl.state_dict()
    assert set(state["params"]) == {"w1", "w2"}
    scene = doc.to_scene_dict()
    scene["state"] = state
    path = tmp_path / "edited.json"
    save_scene_dict(scene, path)
    loaded = bpviz.load_scene(path)
    np.testing.assert_array_equal(loaded.param("w1"), ctl.session.executor.params["w1"]["value"])


def test_check_gradients_reports_the_node_that_disagrees(make_ctl) -> None:
    # relu has a kink at 0: finite differences see 0.5, the rule says 0
    scene = make_scene(
        "L",
        [
            node("p", "param", value=0.0),
            node("q", "param", value=0.3),
            node("r", "relu", {"x": "p"}),
            node("th", "tanh", {"x": "q"}),
            node("L", "add", {"a": "r", "b": "th"}),
        ],
    )
    ctl = make_ctl(scene)
    assert ctl.check_gradients() == {"p": False, "q": True}
    assert ctl.phase == "backward_done"


def test_removed_node_forgets_its_parameters_and_saved_shapes_fit() -> None:
    from bpviz.engine.graph import Graph  # noqa: F401 - keeps this test self-contained
    from bpviz.model.commands import AddNode, RemoveNodes, SetAttr
    from bpviz.scene import load_scene, parse_scene

    doc = Document.from_scene_dict(load_scene(SCENES / "xor.json").to_dict())
    c = TrainingController(doc, SCENES)
    for _ in range(3):
        c.step()
    SetAttr("hidden", "units", 3).redo(doc)
    state = c.state_dict()
    scene = doc.to_scene_dict() | {"state": state}
    assert np.shape(state["params"]["hidden"]["W"]) == (2, 3)
    parse_scene(scene, base_dir=SCENES)  # loads: every saved shape fits
    learned = c.session.executor.params["logit"]["W"].copy()
    RemoveNodes(["logit"]).redo(doc)
    AddNode("logit", "param", {"value": [[1.0], [2.0], [3.0]]}).redo(doc)
    assert "logit" not in c.session.executor.params or not np.array_equal(
        c.session.executor.params["logit"].get("value"), learned
    )
