"""How closely exported models follow bpviz, over every example scene.

Run: python benchmarks/export_agreement.py   (needs torch, onnx and onnxruntime)
Prints the largest absolute difference seen for: the PyTorch module's output, its parameter
gradients, its loss over 100 training steps, and onnxruntime's output. The tests hold these to
1e-9, 1e-9, 1e-6 and 1e-6; this shows how far inside those bounds they are.
"""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path
from types import ModuleType

import numpy as np
import onnxruntime as ort
import torch

from bpviz.export import export_scene
from bpviz.export.common import snapshot
from bpviz.scene import load_scene

SCENES = Path(__file__).resolve().parents[1] / "scenes"
EXAMPLES = ("chain_rule", "neuron", "xor", "moons", "spiral", "sine", "exam")
STEPS = 100


def _import(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _gap(a: object, b: object) -> float:
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b)), initial=0.0))


def measure(name: str, folder: Path) -> dict[str, float]:
    scene = load_scene(SCENES / f"{name}.json")
    module = _import(export_scene(scene, "torch", folder / f"{name}.py")[0])
    expected = scene.session.forward()
    scene.session.backward()
    model = module.Model()
    out = module.scene_loss(model)
    gaps = {"output": _gap(out.detach().numpy(), expected), "gradients": 0.0}
    if out.requires_grad:
        out.backward(torch.ones_like(out))
        bpviz_grads = scene.session.executor.param_grads
        for key, grad in module.bpviz_layout(model, grads=True).items():
            nid, _, pname = key.rpartition(".")
            gaps["gradients"] = max(gaps["gradients"], _gap(grad, bpviz_grads[nid][pname]))
    losses = module.train(module.Model(), STEPS)
    scene.session.train(STEPS)
    gaps["training"] = _gap(losses, scene.session.history.loss[-STEPS:])

    fresh = load_scene(SCENES / f"{name}.json")
    (onnx_path,) = export_scene(fresh, "onnx", folder / f"{name}.onnx")
    snap = snapshot(fresh)
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    feeds = {i.name: snap.x if i.name == "inputs" else snap.y for i in session.get_inputs()}
    (result,) = session.run(None, {k: np.asarray(v, np.float64) for k, v in feeds.items()})
    gaps["onnx"] = _gap(result, snap.values[snap.prediction() or snap.output])
    return gaps


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rows = {name: measure(name, Path(tmp)) for name in EXAMPLES}
    print(f"{'scene':<11} {'output':>9} {'gradients':>9} {'training':>9} {'onnx':>9}")
    for name, gaps in rows.items():
        print(f"{name:<11}" + "".join(f" {gaps[k]:9.1e}" for k in gaps))
    worst = {k: max(r[k] for r in rows.values()) for k in next(iter(rows.values()))}
    print(f"{'largest':<11}" + "".join(f" {v:9.1e}" for v in worst.values()))


if __name__ == "__main__":
    main()
