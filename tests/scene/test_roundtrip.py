"""Load -> save -> load keeps everything: structure, values, weights, optimizer state, and the
exact continuation of training."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from bpviz.engine.errors import GraphError
from bpviz.scene import (
    CURRENT_VERSION,
    SceneError,
    load_scene,
    parse_scene,
    validate_scene_dict,
)
from tests.scene.helpers import SCENES, mlp_scene, node, scalar_scene, write


@pytest.mark.parametrize("name", sorted(p.stem for p in SCENES.glob("*.json")))
def test_every_example_round_trips(name: str, tmp_path: Path) -> None:
    shutil.copy(SCENES / f"{name}.json", tmp_path)
    for csv in SCENES.glob("*.csv"):
        shutil.copy(csv, tmp_path)
    first = load_scene(tmp_path / f"{name}.json")
    out = first.save(tmp_path / "again.json")
    second = load_scene(out)
    assert second.to_dict() == first.to_dict()
    np.testing.assert_array_equal(second.forward(), first.forward())
    normal = validate_scene_dict(json.loads((SCENES / f"{name}.json").read_text()), SCENES)
    assert normal.pop("state") is None  # no example ships trained weights
    assert first.to_dict() == normal


def test_loaded_scene_exposes_graph_positions_and_blocks(tmp_path: Path) -> None:
    scene = load_scene(write(tmp_path / "s.json", scalar_scene()))
    assert scene.path == tmp_path / "s.json" and scene.base_dir == tmp_path
    assert scene.name == "scalar" and scene.description == "a scalar expression"
    assert scene.positions["L"] == (600.0, 100.0)
    assert scene.graph.output == "L" and len(scene.graph) == 6
    assert scene.data is None and scene.training == {"optimizer": "sgd", "lr": 0.1}
    assert float(scene.forward()) == pytest.approx((-0.5 * 1.5 + 0.25) ** 2)
    scene.backward()
    assert float(scene.grad("w")) == pytest.approx(2 * (-0.5) * 1.5)
    assert float(scene.value("m")) == pytest.approx(-0.75)
    assert scene.gradcheck() and all(r.ok for r in scene.gradcheck())


def test_defaults_are_filled_and_order_is_canonical() -> None:
    raw = {
        "format": "bpviz-scene",
        "version": 1,
        "output": "s",
        "nodes": [
            {"id": "s", "op": "add", "inputs": {"b": "a", "a": "a"}},
            {"id": "a", "op": "const", "attrs": {"value": 2}},
            {"id": "d", "op": "leaky_relu", "inputs": {"x": "a"}, "attrs": {"alpha": None}},
        ],
    }
    normal = validate_scene_dict(raw)
    assert normal["nodes"][0] == {
        "id": "s",
        "op": "add",
        "inputs": {"a": "a", "b": "a"},
        "attrs": {},
    }  # no `pos`: the file has none, so the editor lays the graph out
    assert list(normal["nodes"][0]["inputs"]) == ["a", "b"]
    assert normal["nodes"][2]["attrs"] == {}  # null means the default
    assert normal["data"] is None and normal["training"] is None and normal["state"] is None
    assert normal["version"] == CURRENT_VERSION and "name" not in normal
    assert raw["nodes"][0]["inputs"] == {"b": "a", "a": "a"}  # the caller's dict is untouched
    assert float(parse_scene(raw).forward()) == 4.0


def test_fresh_scene_saves_no_state_but_a_trained_one_does(tmp_path: Path) -> None:
    scene = parse_scene(scalar_scene())
    assert "state" not in scene.to_dict()
    scene.train(3)
    d = scene.to_dict()
    assert d["state"]["optimizer"]["step"] == 3
    assert set(d["state"]["params"]) == {"w", "b"}
    assert "state" not in scene.to_dict(include_state=False)
    scene.save(tmp_path / "t.json", include_state=False)
    assert "state" not in json.loads((tmp_path / "t.json").read_text())


def test_saved_weights_and_optimizer_state_come_back(tmp_path: Path) -> None:
    scene = parse_scene(mlp_scene("adam"))
    scene.train(7)
    trained_loss = float(scene.forward())
    path = scene.save(tmp_path / "trained.json")
    again = load_scene(path)
    assert float(again.forward()) == trained_loss
    for nid in ("h", "logit"):
        for name in ("W", "b"):
            np.testing.assert_array_equal(again.param(nid, name), scene.param(nid, name))
    opt, opt2 = scene.session.trainer.optimizer, again.session.trainer.optimizer
    assert opt2.t == opt.t == 7
    for nid, slots in opt.slots.items():
        for name, slot in slots.items():
            for key, arr in slot.items():
                np.testing.assert_array_equal(opt2.slots[nid][name][key], arr)
    assert again.to_dict() == scene.to_dict()


@pytest.mark.parametrize(
    ("optimizer", "batch_size"),
    [("sgd", None), ("momentum", None), ("adam", None), ("momentum", 8), ("adam", 7)],
)
def test_training_continues_exactly_after_save_and_load(
    tmp_path: Path, optimizer: str, batch_size: int | None
) -> None:
    straight = parse_scene(mlp_scene(optimizer, batch_size))
    straight.train(20)
    halves = parse_scene(mlp_scene(optimizer, batch_size))
    halves.train(10)
    resumed = load_scene(halves.save(tmp_path / "half.json"))
    history = resumed.train(10)
    assert history.step == list(range(11, 21))
    assert history.loss == straight.history.loss[10:]
    for nid in ("h", "logit"):
        for name in ("W", "b"):
            np.testing.assert_array_equal(resumed.param(nid, name), straight.param(nid, name))


def test_partial_state_keeps_fresh_weights_for_other_nodes() -> None:
    scene = scalar_scene()
    scene["state"] = {"params": {"w": {"value": 2.0}}}
    loaded = parse_scene(scene)
    assert float(loaded.param("w")) == 2.0 and float(loaded.param("b")) == 0.25
    assert float(loaded.value("L")) == pytest.approx((2.0 * 1.5 + 0.25) ** 2)
    assert loaded.to_dict()["state"]["params"] == {"w": {"value": 2.0}, "b": {"value": 0.25}}


def test_save_as_elsewhere_keeps_finding_the_csv(tmp_path: Path) -> None:
    shutil.copy(SCENES / "exam.json", tmp_path)
    shutil.copy(SCENES / "exam.csv", tmp_path)
    scene = load_scene(tmp_path / "exam.json")
    (tmp_path / "sub").mkdir()
    scene.save(tmp_path / "sub" / "moved.json")
    assert scene.data["path"] == "../exam.csv" and scene.path == tmp_path / "sub" / "moved.json"
    moved = load_scene(tmp_path / "sub" / "moved.json")
    assert float(moved.forward()) == float(scene.forward())
    scene.save()  # to where it now lives
    assert load_scene(tmp_path / "sub" / "moved.json").data["path"] == "../exam.csv"


def test_draft_loads_with_runnable_false() -> None:
    draft = {
        "format": "bpviz-scene",
        "version": 1,
        "output": None,
        "nodes": [
            node("a", "const", attrs={"value": [1.0, 2.0]}),
            node("s", "add", {"a": "a"}),
            node("h", "dense", {"x": "a"}, {"units": 2}),
        ],
    }
    scene = parse_scene(draft, runnable=False)
    assert scene.to_dict()["nodes"][1]["inputs"] == {"a": "a"}
    assert validate_scene_dict(draft, runnable=False)["output"] is None
    assert scene.value("h").shape == (2,)  # the wired part already ran


def test_a_draft_loaded_without_running_has_no_values_until_a_pass(tmp_path: Path) -> None:
    draft = {
        "format": "bpviz-scene",
        "version": 1,
        "output": "h",
        "nodes": [
            node("a", "const", attrs={"value": [1.0, 2.0]}),
            node("s", "add", {"a": "a"}),
            node("h", "dense", {"x": "a"}, {"units": 2}),
        ],
    }
    (tmp_path / "draft.json").write_text(json.dumps(draft))
    ran = load_scene(tmp_path / "draft.json", runnable=False)
    assert ran.value("h").shape == (2,)
    unrun = load_scene(tmp_path / "draft.json", runnable=False, run=False)
    with pytest.raises(GraphError, match="'h' has no value yet"):
        unrun.value("h")
    assert unrun.to_dict() == ran.to_dict()
    assert unrun.forward().shape == (2,)  # its values come with the first pass


def test_saved_state_is_restored_and_checked_whether_a_draft_is_run_or_not(
    tmp_path: Path,
) -> None:
    scene = load_scene(SCENES / "moons.json")
    scene.train(3)
    scene.save(tmp_path / "trained.json")
    unrun = load_scene(tmp_path / "trained.json", runnable=False, run=False)
    assert unrun.has_state
    want = scene.session.executor.params
    got = unrun.session.executor.params
    assert sorted(got) == sorted(want)
    for node_id, params in want.items():
        for name, value in params.items():
            np.testing.assert_array_equal(got[node_id][name], value)
    raw = json.loads((tmp_path / "trained.json").read_text())
    first = next(iter(raw["state"]["params"]))
    weights = raw["state"]["params"][first]
    key = next(iter(weights))
    weights[key] = [[0.0]]  # the wrong shape for the layer: found with or without a run
    (tmp_path / "bad.json").write_text(json.dumps(raw))
    with pytest.raises(SceneError, match=first):
        load_scene(tmp_path / "bad.json", runnable=False, run=False)
