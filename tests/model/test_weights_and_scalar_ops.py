"""Setting a layer's weights (one undo step, the session follows) and Expand to Scalar Ops
(same values and gradients, undone exactly, weights back)."""

from __future__ import annotations

import copy
import re
from typing import Any

import numpy as np
import pytest

from bpviz.engine.errors import GraphError
from bpviz.model import Document, SetParams, set_weight_command
from bpviz.model.scalar_ops import ExpandToScalarOps, expand_command, expand_problem
from bpviz.model.training import TrainingController
from tests.model.helpers import SignalLog, assert_exact_undo, mlp_scene, saved

W = [[0.5, -0.25, 0.75, 1.0], [0.125, 0.5, -1.5, 0.25]]
B = [0.1, -0.2, 0.3, 0.0]


def trained_mlp(activation: str = "tanh") -> dict[str, Any]:
    """The model tests' MLP on 2-D data with a learned-state block holding h's weights."""
    scene = mlp_scene()
    for n in scene["nodes"]:
        if n["id"] == "h":
            n["attrs"]["activation"] = activation
    scene["data"] = {"kind": "xor", "n": 24, "seed": 3}
    scene["training"] = {"optimizer": "sgd", "lr": 0.1}
    scene["state"] = {
        "params": {
            "h": {"W": copy.deepcopy(W), "b": list(B)},
            "out": {"W": [[0.3], [-0.6], [0.9], [0.2]], "b": [0.05]},
        },
        "optimizer": {"step": 0},
    }
    return scene


# ---- one weight ---------------------------------------------------------------------------
def test_set_weight_is_one_exact_step_and_updates_the_saved_state() -> None:
    doc = Document.from_scene_dict(trained_mlp())
    command = set_weight_command("h", "W", (1, 2), 0.875, np.array(W))
    assert command.text == "Set h.W[1,2]"
    after = assert_exact_undo(doc, command)
    assert after["state"]["params"]["h"]["W"][1][2] == 0.875
    assert after["state"]["params"]["h"]["W"][0] == W[0]


def test_set_params_signals_the_arrays() -> None:
    doc = Document.from_scene_dict(trained_mlp())
    log = SignalLog(doc)
    got: list[tuple] = []
    doc.params_set.connect(lambda nid, arrays: got.append((nid, arrays)))
    doc.set_params("h", {"b": [1.0, 2.0, 3.0, 4.0]})
    assert got[0][0] == "h" and got[0][1]["b"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert log.named("changed") == [("changed",)]


@pytest.mark.parametrize(
    ("node_id", "arrays", "message"),
    [
        ("x", {"W": [1.0]}, "node 'x': a input has no learned arrays to set"),
        ("h", {"V": [1.0]}, "node 'h': a dense has no array 'V' (it has W, b)"),
        ("h", {"b": [float("nan")]}, "node 'h': b must be finite"),
        ("nope", {"b": [1.0]}, "no node 'nope'"),
    ],
)
def test_bad_params_are_refused_and_change_nothing(node_id, arrays, message) -> None:  # noqa: ANN001
    doc = Document.from_scene_dict(trained_mlp())
    before = saved(doc)
    with pytest.raises(GraphError, match=re.escape(message)):
        doc.set_params(node_id, arrays)
    assert saved(doc) == before


def test_an_entry_outside_the_array_is_refused() -> None:
    with pytest.raises(GraphError, match=r"node 'h': W has no entry \[5, 0\]"):
        set_weight_command("h", "W", (5, 0), 1.0, np.array(W))


def test_the_session_uses_a_set_weight_and_saving_keeps_it() -> None:
    doc = Document.from_scene_dict(trained_mlp())
    ctl = TrainingController(doc)
    ctl.forward()
    before = ctl.session.executor.params["h"]["W"]
    SetParams("h", {"W": np.full((2, 4), 0.5)}, {"W": np.array(W)}).redo(doc)
    assert ctl.session.executor.params["h"]["W"] is before  # in place: optimizer slots stay paired
    np.testing.assert_array_equal(before, np.full((2, 4), 0.5))
    ctl.forward()
    x = ctl.session.dataset.x_train
    np.testing.assert_allclose(ctl.value("h"), np.tanh(x @ np.full((2, 4), 0.5) + B), atol=1e-15)
    assert ctl.state_dict()["params"]["h"]["W"] == np.full((2, 4), 0.5).tolist()
    ctl.close()


# ---- expand to scalar ops -----------------------------------------------------------------
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "none"])
def test_expanded_layer_has_the_same_values_and_gradients(activation: str) -> None:
    doc = Document.from_scene_dict(trained_mlp(activation))
    ctl = TrainingController(doc)  # one session throughout, as in the window
    assert ctl.backward()
    loss = float(ctl.value("loss"))
    command = expand_command(doc, "h", ctl.session.executor.params["h"])
    h_value, x_grad = ctl.value("h"), ctl.grad("x")
    dW, db = (ctl.session.executor.param_grads["h"][k] for k in ("W", "b"))
    out_grads = dict(ctl.session.executor.param_grads["out"])
    command.redo(doc)
    assert doc.node("h").op == "concat"
    assert ctl.backward(), ctl.error_node
    assert float(ctl.value("loss")) == pytest.approx(loss, abs=1e-12)
    np.testing.assert_allclose(ctl.value("h"), h_value, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ctl.grad("x"), x_grad, rtol=0, atol=1e-12)
    pg = ctl.session.executor.param_grads
    for i in range(2):
        for j in range(4):
            assert doc.node(f"h.w{i}{j}").attrs["value"] == W[i][j]
            assert float(pg[f"h.w{i}{j}"]["value"]) == pytest.approx(dW[i, j], abs=1e-12)
    for j in range(4):
        assert float(pg[f"h.b{j}"]["value"]) == pytest.approx(db[j], abs=1e-12)
    for k, g in out_grads.items():
        np.testing.assert_allclose(pg["out"][k], g, rtol=0, atol=1e-12)
    ctl.close()


def test_expand_undoes_exactly_and_brings_the_weights_back() -> None:
    doc = Document.from_scene_dict(trained_mlp())
    ctl = TrainingController(doc)
    ctl.forward()
    weights = {k: np.array(v) for k, v in ctl.session.executor.params["h"].items()}
    command = ExpandToScalarOps("h", weights)
    after = assert_exact_undo(doc, command)
    ops = sorted(n["op"] for n in after["nodes"] if n["id"].startswith("h"))
    assert ops == sorted(
        ["column"] * 2 + ["param"] * 12 + ["mul"] * 8 + ["add"] * 8 + ["tanh"] * 4 + ["concat"] * 3
    )
    assert after["state"] is None
    command.undo(doc)
    assert doc.node("h").op == "dense"
    ctl.forward()
    for k, v in weights.items():
        np.testing.assert_array_equal(ctl.session.executor.params["h"][k], v)
    ctl.close()


def test_an_output_layer_stays_the_output() -> None:
    scene = trained_mlp()
    scene["output"] = "h"
    scene["nodes"] = [n for n in scene["nodes"] if n["id"] not in ("loss", "out", "t")]
    doc = Document.from_scene_dict(scene)
    command = ExpandToScalarOps("h", {"W": np.array(W), "b": np.array(B)})
    assert_exact_undo(doc, command)
    assert doc.output == "h" and doc.node("h").op == "concat"


def test_a_single_linear_unit_ends_in_its_bias_add() -> None:
    doc = Document.from_scene_dict(trained_mlp())
    ctl = TrainingController(doc)
    assert ctl.backward()
    loss, dW = float(ctl.value("loss")), ctl.session.executor.param_grads["out"]["W"]
    assert_exact_undo(doc, expand_command(doc, "out", ctl.session.executor.params["out"]))
    assert doc.node("out").op == "add" and doc.node("loss").inputs["pred"] == "out"
    assert ctl.backward()
    assert float(ctl.value("loss")) == pytest.approx(loss, abs=1e-12)
    got = [float(ctl.session.executor.param_grads[f"out.w{i}0"]["value"]) for i in range(4)]
    np.testing.assert_allclose(got, dW[:, 0], rtol=0, atol=1e-12)
    ctl.close()


@pytest.mark.parametrize(
    ("node_id", "params", "problem"),
    [
        ("out", {"W": np.zeros((5, 1)), "b": np.zeros(1)}, "'out' has 5 inputs × 1 units"),
        ("h", None, "'h' has no weights yet (run Forward first)"),
        ("x", {}, "'x' is a input, not a dense layer"),
    ],
)
def test_what_cannot_be_expanded_says_why(node_id, params, problem) -> None:  # noqa: ANN001
    doc = Document.from_scene_dict(trained_mlp())
    assert expand_problem(doc, node_id, params).startswith(problem)
    with pytest.raises(GraphError, match=re.escape("cannot expand: " + problem)):
        expand_command(doc, node_id, params)


# ---- optimizer state carried over -----------------------------------------------------------
def trained_ctl(optimizer: str, steps: int = 5) -> TrainingController:
    """The MLP after `steps` optimizer steps of `optimizer`: its slots are no longer zero."""
    scene = trained_mlp()
    scene["training"] = {"optimizer": optimizer, "lr": 0.05, "momentum": 0.9, "seed": 4}
    ctl = TrainingController(Document.from_scene_dict(scene))
    assert len(ctl.run_for(float("inf"), max_steps=steps)) == steps
    return ctl


def layer_of(ctl: TrainingController) -> tuple[np.ndarray, np.ndarray]:
    """h's W and b, read from the dense layer or gathered from its scalar params."""
    params = ctl.session.executor.params
    if ctl.document.node("h").op == "dense":
        return params["h"]["W"], params["h"]["b"]
    W = [[float(params[f"h.w{i}{j}"]["value"]) for j in range(4)] for i in range(2)]
    return np.array(W), np.array([float(params[f"h.b{j}"]["value"]) for j in range(4)])


def expand_with_state(ctl: TrainingController) -> ExpandToScalarOps:
    held = ctl.session
    command = expand_command(
        ctl.document, "h", held.executor.params["h"], held.trainer.optimizer.slots.get("h")
    )
    command.redo(ctl.document)
    return command


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_training_after_expanding_goes_on_exactly_as_the_layer_would(optimizer: str) -> None:
    plain, expanded = trained_ctl(optimizer), trained_ctl(optimizer)
    assert float(np.abs(plain.session.trainer.optimizer.slots["h"]["W"]["m"]).max()) > 1e-3
    expand_with_state(expanded)
    a = plain.run_for(float("inf"), max_steps=8)
    b = expanded.run_for(float("inf"), max_steps=8)
    np.testing.assert_allclose([r.loss for r in b], [r.loss for r in a], rtol=0, atol=1e-12)
    for got, want in zip(layer_of(expanded), layer_of(plain), strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    for k in ("W", "b"):
        np.testing.assert_allclose(
            expanded.session.executor.params["out"][k],
            plain.session.executor.params["out"][k],
            rtol=0,
            atol=1e-12,
        )
    plain.close()
    expanded.close()


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_undo_gives_the_layer_its_optimizer_state_back(optimizer: str) -> None:
    plain, expanded = trained_ctl(optimizer), trained_ctl(optimizer)
    before = {k: dict(s) for k, s in plain.session.trainer.optimizer.slots["h"].items()}
    command = expand_with_state(expanded)
    slots = expanded.session.trainer.optimizer.slots
    assert "h" not in slots
    for k in before["W"]:  # each weight's slot holds its own entry of the layer's
        assert float(slots["h.w12"]["value"][k]) == before["W"][k][1, 2]
        assert float(slots["h.b3"]["value"][k]) == before["b"][k][3]
    command.undo(expanded.document)
    assert not any(n.startswith("h.") for n in slots)
    a = plain.run_for(float("inf"), max_steps=8)
    b = expanded.run_for(float("inf"), max_steps=8)
    np.testing.assert_allclose([r.loss for r in b], [r.loss for r in a], rtol=0, atol=1e-12)
    for got, want in zip(layer_of(expanded), layer_of(plain), strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    plain.close()
    expanded.close()
