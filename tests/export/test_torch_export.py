"""The PyTorch export computes, differentiates and trains exactly as bpviz does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from bpviz.export import ExportError, export_scene
from bpviz.scene import load_scene, parse_scene
from tests.export.graphs import EXAMPLES, SEEDS, import_script, random_scene

torch = pytest.importorskip(
    "torch", reason="needs torch: pip install 'bpviz[torch]' (the CPU build is enough, see README)"
)

SCENES = Path(__file__).resolve().parents[2] / "scenes"


def _export(scene, path: Path) -> ModuleType:  # noqa: ANN001
    written = export_scene(scene, "torch", path)
    assert written == [path, path.with_suffix(".npz")]
    return import_script(path)


def _check_forward_and_grads(scene, module: ModuleType) -> None:  # noqa: ANN001
    """Output and every parameter gradient equal bpviz's within 1e-9 (float64)."""
    session = scene.session
    expected = session.forward()
    session.backward()
    model = module.Model()
    out = module.scene_loss(model)
    assert out.dtype == torch.float64
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=0, atol=1e-9)
    if out.requires_grad:  # a graph without parameters has no gradient to compare
        out.backward(torch.ones_like(out))
    grads = module.bpviz_layout(model, grads=True)
    bpviz_grads = session.executor.param_grads
    assert set(grads) >= {f"{nid}.{k}" for nid, named in bpviz_grads.items() for k in named}
    for key, grad in grads.items():
        nid, _, name = key.rpartition(".")
        expected = bpviz_grads.get(nid, {}).get(name, 0.0)  # params the output does not use: 0
        got = 0.0 if grad is None else grad.numpy()
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9, err_msg=key)


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_output_and_gradients_match(tmp_path: Path, name: str) -> None:
    scene = load_scene(SCENES / f"{name}.json")
    module = _export(scene, tmp_path / f"{name}.py")
    _check_forward_and_grads(load_scene(SCENES / f"{name}.json"), module)


@pytest.mark.parametrize("seed", SEEDS)
def test_random_graph_output_and_gradients_match(tmp_path: Path, seed: int) -> None:
    raw = random_scene(seed)
    module = _export(parse_scene(raw), tmp_path / f"random{seed}.py")
    _check_forward_and_grads(parse_scene(raw), module)


def _tracks(scene, module: ModuleType, steps: int = 100) -> None:  # noqa: ANN001
    """The exported model, trained from the exported state, follows bpviz's loss history."""
    losses = module.train(module.Model(), steps)
    start = len(scene.session.history)
    scene.session.train(steps)
    np.testing.assert_allclose(losses, scene.session.history.loss[start:], rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", EXAMPLES)
def test_training_tracks_bpviz_history(tmp_path: Path, name: str) -> None:
    scene = load_scene(SCENES / f"{name}.json")
    _tracks(scene, _export(scene, tmp_path / f"{name}.py"))


@pytest.mark.parametrize(
    "training",
    [
        {"optimizer": "momentum", "lr": 0.05, "momentum": 0.8, "weight_decay": 0.01},
        {"optimizer": "adam", "lr": 0.02, "batch_size": 24, "seed": 7, "weight_decay": 0.001},
        {"optimizer": "sgd", "lr": 0.1, "batch_size": 50, "seed": 3},
        {"optimizer": "adam", "lr": 0.02, "l1": 0.01, "l2": 0.05},
        {
            "optimizer": "adam",
            "lr": 0.05,
            "l2": 0.01,
            "schedule": {"kind": "step", "every": 10, "factor": 0.5},
        },
        {
            "optimizer": "momentum",
            "lr": 0.1,
            "l1": 0.002,
            "batch_size": 20,
            "schedule": {"kind": "cosine", "steps": 80},
        },
    ],
)
def test_training_resumes_where_bpviz_stands(tmp_path: Path, training: dict) -> None:
    """Exported after 37 steps: moments, step count and minibatch position carry over."""
    raw = load_scene(SCENES / "moons.json").to_dict() | {"training": training}
    scene = parse_scene(raw, base_dir=SCENES)
    scene.session.train(37)
    _tracks(scene, _export(scene, tmp_path / "moons.py"))


def test_training_resumes_after_a_change_of_optimizer(tmp_path: Path) -> None:
    """Adam taking over from SGD at step 20 corrects its moments from there, exported too."""
    raw = load_scene(SCENES / "moons.json").to_dict()
    scene = parse_scene(raw | {"training": {"optimizer": "sgd", "lr": 0.1}}, base_dir=SCENES)
    scene.session.train(20)
    scene.session.set_training({"optimizer": "adam", "lr": 0.01, "l2": 0.01})
    scene.session.train(17)
    assert scene.session.state_dict()["optimizer"]["start"] == 20
    _tracks(scene, _export(scene, tmp_path / "moons.py"))


def test_running_the_script_prints_the_output(tmp_path: Path) -> None:
    scene = load_scene(SCENES / "xor.json")
    export_scene(scene, "torch", tmp_path / "xor.py")
    run = subprocess.run(
        [sys.executable, str(tmp_path / "xor.py")], capture_output=True, text=True, check=True
    )
    assert float(run.stdout) == pytest.approx(float(scene.session.forward()), abs=1e-12)
    run = subprocess.run(
        [sys.executable, str(tmp_path / "xor.py"), "--train", "3"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout.splitlines()[0].startswith("step 1: loss 0.69")


def test_node_ids_that_are_not_python_names(tmp_path: Path) -> None:
    """Ids that clash with keywords, nn.Module attributes or each other still export."""
    nodes = [
        {"id": "forward", "op": "param", "inputs": {}, "attrs": {"value": [1.0, 2.0]}},
        {"id": "a.b", "op": "const", "inputs": {}, "attrs": {"value": 2.0}},
        {"id": "self", "op": "mul", "inputs": {"a": "forward", "b": "a.b"}, "attrs": {}},
        {"id": "a-b", "op": "tanh", "inputs": {"x": "self"}, "attrs": {}},
        {"id": "a_b", "op": "dense", "inputs": {"x": "a-b"}, "attrs": {"units": 2}},
        {"id": "class", "op": "sum", "inputs": {"x": "a_b"}, "attrs": {}},
    ]
    raw = {"format": "bpviz-scene", "version": 1, "output": "class", "nodes": nodes}
    module = _export(parse_scene(raw), tmp_path / "odd.py")
    _check_forward_and_grads(parse_scene(raw), module)


def test_unsupported_op_names_node_and_op(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bpviz.export import torch_target

    monkeypatch.delitem(torch_target.TORCH_OPS, "hinge")
    with pytest.raises(ExportError, match="node 'loss': op 'hinge' cannot be exported to torch"):
        export_scene(load_scene(SCENES / "moons.json"), "torch", tmp_path / "moons.py")
    assert list(tmp_path.iterdir()) == []


def test_module_names_cover_torch() -> None:
    """Node ids that equal an nn.Module attribute are renamed; the list must stay complete."""
    from bpviz.export.torch_target import MODULE_NAMES

    public = {n for n in dir(torch.nn.Module()) if not n.startswith("_")}
    assert public <= MODULE_NAMES
