"""The numpy export reproduces bpviz's forward value and gradients (partial: elementwise ops)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bpviz.export import ExportError, export_scene
from bpviz.scene import load_scene

SCENES = Path(__file__).resolve().parents[2] / "scenes"


def _import(path: Path):  # noqa: ANN202
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_chain_rule_matches_bpviz(tmp_path: Path) -> None:
    scene = load_scene(SCENES / "chain_rule.json")
    (script,) = export_scene(scene, "numpy", tmp_path / "chain_rule_np.py")
    session = scene.session
    session.forward()
    session.backward()
    module = _import(script)
    values = module.forward()
    grads = module.backward(values)
    out = scene.graph.output
    assert np.allclose(values[out], session.value(out), rtol=0, atol=1e-12)
    for node_id in scene.graph.nodes:
        assert np.allclose(grads[node_id], session.grad(node_id), rtol=0, atol=1e-12)
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    assert float(run.stdout.strip()) == pytest.approx(float(session.value(out)), abs=1e-12)


def test_unsupported_op_names_node_and_op(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bpviz.export import numpy_target

    scene = load_scene(SCENES / "xor.json")
    monkeypatch.delitem(numpy_target.NUMPY_OPS, "bce")
    with pytest.raises(ExportError, match="node 'loss': op 'bce'"):
        export_scene(scene, "numpy", tmp_path / "xor_np.py")


@pytest.mark.parametrize("name", ["chain_rule", "neuron", "xor", "moons", "spiral", "sine", "exam"])
def test_example_scenes_match_bpviz(tmp_path: Path, name: str) -> None:
    scene = load_scene(SCENES / f"{name}.json")
    (script,) = export_scene(scene, "numpy", tmp_path / f"{name}_np.py")
    session = scene.session
    session.forward()
    session.backward()
    module = _import(script)
    values = module.forward()
    grads = module.backward(values)
    out = scene.graph.output
    np.testing.assert_allclose(values[out], session.value(out), rtol=1e-12, atol=1e-12)
    for node_id in scene.graph.nodes:
        np.testing.assert_allclose(grads[node_id], session.grad(node_id), rtol=0, atol=1e-12)
    for node_id, named in session.executor.param_grads.items():
        if scene.graph.node(node_id).op == "param":
            continue  # a param node's gradient is its node gradient, checked above
        for pname, grad in named.items():
            np.testing.assert_allclose(
                module.pgrads[f"{node_id}.{pname}"], grad, rtol=0, atol=1e-12
            )
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    assert run.stdout.strip()


def _random_scene(seed: int) -> dict:
    """A seeded chain of elementwise and matmul ops over 3x3 constants."""
    rng = np.random.default_rng(seed)
    nodes = [
        {
            "id": f"c{i}",
            "op": "const",
            "inputs": {},
            "attrs": {"value": rng.uniform(0.5, 1.5, (3, 3)).tolist()},
        }
        for i in range(3)
    ]
    prev = "c0"
    for i in range(6):
        op = str(rng.choice(["add", "sub", "mul", "div", "tanh", "sigmoid", "exp", "matmul"]))
        other = f"c{rng.integers(3)}"
        inputs = {"x": prev} if op in ("tanh", "sigmoid", "exp") else {"a": prev, "b": other}
        nodes.append({"id": f"n{i}", "op": op, "inputs": inputs, "attrs": {}})
        prev = f"n{i}"
    return {"format": "bpviz-scene", "version": 1, "name": "random", "output": prev, "nodes": nodes}


@pytest.mark.parametrize("seed", range(8))
def test_random_graphs_match_bpviz(tmp_path: Path, seed: int) -> None:
    from bpviz.scene import parse_scene

    raw = _random_scene(seed)
    scene = parse_scene(raw)
    (script,) = export_scene(scene, "numpy", tmp_path / f"rand{seed}.py")
    scene.session.forward()
    scene.session.backward()
    module = _import(script)
    values = module.forward()
    grads = module.backward(values)
    out = scene.graph.output
    np.testing.assert_allclose(values[out], scene.session.value(out), rtol=1e-12, atol=1e-12)
    for node_id in scene.graph.nodes:
        np.testing.assert_allclose(
            grads[node_id], scene.session.grad(node_id), rtol=1e-12, atol=1e-12
        )
