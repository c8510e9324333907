"""The numpy export reproduces bpviz's values and gradients, for every op in the registry."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bpviz.engine.ops import REGISTRY
from bpviz.export import ExportError, export_scene
from bpviz.scene import load_scene, parse_scene
from tests.export.graphs import EXAMPLES, SCENE, SEEDS, Graph, import_script, ops_used, random_scene

SCENES = Path(__file__).resolve().parents[2] / "scenes"


def _assert_export_matches(scene: Any, script: Path, grad_rtol: float = 1e-12) -> None:
    """Every node's value and gradient, and every layer parameter gradient, equal bpviz's."""
    session = scene.session
    session.forward()
    session.backward()
    module = import_script(script)
    values = module.forward()
    grads = module.backward(values)
    for node_id in scene.graph.nodes:
        np.testing.assert_allclose(
            values[node_id], session.value(node_id), rtol=1e-12, atol=1e-12, err_msg=node_id
        )
        np.testing.assert_allclose(
            grads[node_id], session.grad(node_id), rtol=grad_rtol, atol=1e-12, err_msg=node_id
        )
    for node_id, named in session.executor.param_grads.items():
        if scene.graph.node(node_id).op == "param":
            continue  # a param node's gradient is its node gradient, checked above
        for pname, grad in named.items():
            np.testing.assert_allclose(
                module.pgrads[f"{node_id}.{pname}"], grad, rtol=grad_rtol, atol=1e-12
            )


def test_chain_rule_script_prints_the_output(tmp_path: Path) -> None:
    scene = load_scene(SCENES / "chain_rule.json")
    (script,) = export_scene(scene, "numpy", tmp_path / "chain_rule_np.py")
    _assert_export_matches(scene, script, grad_rtol=0)
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    out = float(scene.session.value(scene.graph.output))
    assert float(run.stdout.strip()) == pytest.approx(out, abs=1e-12)


def test_unsupported_op_names_node_and_op(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bpviz.export import numpy_target

    scene = load_scene(SCENES / "xor.json")
    monkeypatch.delitem(numpy_target.NUMPY_OPS, "bce")
    with pytest.raises(ExportError, match="node 'loss': op 'bce'"):
        export_scene(scene, "numpy", tmp_path / "xor_np.py")


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_scenes_match_bpviz(tmp_path: Path, name: str) -> None:
    scene = load_scene(SCENES / f"{name}.json")
    (script,) = export_scene(scene, "numpy", tmp_path / f"{name}_np.py")
    _assert_export_matches(scene, script, grad_rtol=0)
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    assert run.stdout.strip()



@pytest.mark.parametrize("seed", SEEDS)
def test_random_graphs_match_bpviz(tmp_path: Path, seed: int) -> None:
    scene = parse_scene(random_scene(seed))
    (script,) = export_scene(scene, "numpy", tmp_path / f"rand{seed}.py")
    _assert_export_matches(scene, script)
    assert not re.search(r"^\s*(import|from) bpviz", script.read_text(), re.M)  # standalone


def test_random_graphs_cover_every_registry_op() -> None:
    """A newly registered op fails here (and so in every target) until a step covers it."""
    missing = sorted(set(REGISTRY) - ops_used([random_scene(seed) for seed in SEEDS]))
    assert not missing, f"no generated graph uses {missing}: add a step to tests/export/graphs.py"


@pytest.mark.parametrize(
    ("a", "b"),
    [((3,), (3, 2)), ((2, 3), (3,)), ((3,), (3,)), ((4, 2, 3), (3,)), ((3,), (4, 3, 2))],
)
def test_matmul_with_vectors_matches_bpviz(
    tmp_path: Path, a: tuple[int, ...], b: tuple[int, ...]
) -> None:
    """Vectors are promoted like numpy's @ (row on the left, column on the right), batched too."""
    g = Graph(0)
    m = g.add("matmul", a=g.source(a), b=g.source(b))
    scene = parse_scene({**SCENE, "output": g.add("tanh", x=m), "nodes": g.nodes})
    (script,) = export_scene(scene, "numpy", tmp_path / "matmul.py")
    _assert_export_matches(scene, script)


def test_attributes_are_written_as_literals(tmp_path: Path) -> None:
    g = Graph(0)
    x = g.source((3, 3), 0.5, 1.5)
    parts = [
        g.add("sum", {"axis": []}, x=x),
        g.add("mean", {"axis": [0, -1]}, x=x),
        g.add("pow", {"exponent": 0.5}, x=x),
        g.add("leaky_relu", {"alpha": 0.25}, x=x),
    ]
    out = g.add(
        "add", a=g.add("add", a=parts[0], b=parts[1]), b=g.add("mul", a=parts[2], b=parts[3])
    )
    scene = parse_scene({**SCENE, "output": out, "nodes": g.nodes})
    (script,) = export_scene(scene, "numpy", tmp_path / "attrs.py")
    text = script.read_text()
    literals = ("axis=(), keepdims=False)", "axis=(0, -1), keepdims=False)")
    for code in (*literals, f"np.power(v['{x}'], 0.5)", f"0.25 * v['{x}']"):
        assert code in text
    _assert_export_matches(scene, script)
