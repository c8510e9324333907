"""Every export target takes the raw features and applies data.transforms itself, as bpviz does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bpviz.export import export_scene
from bpviz.scene import parse_scene

TRANSFORMS = ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "cos(x2)"]


def scene_dict(transforms: list[str] = TRANSFORMS, **training: Any) -> dict[str, Any]:
    nodes = [
        {"id": "x", "op": "input"},
        {
            "id": "h",
            "op": "dense",
            "inputs": {"x": "x"},
            "attrs": {"units": 4, "activation": "tanh"},
        },
        {"id": "out", "op": "dense", "inputs": {"x": "h"}, "attrs": {"units": 1}},
        {"id": "t", "op": "target"},
        {"id": "loss", "op": "bce", "inputs": {"pred": "out", "target": "t"}},
    ]
    return {
        "format": "bpviz-scene",
        "version": 1,
        "name": "features",
        "output": "loss",
        "nodes": nodes,
        "data": {"kind": "moons", "n": 60, "seed": 2, "transforms": transforms},
        "training": {"optimizer": "adam", "lr": 0.05, **training},
    }


def test_numpy_script_matches(tmp_path: Path) -> None:
    from tests.export.test_numpy_export import _assert_export_matches

    scene = parse_scene(scene_dict())
    (script,) = export_scene(scene, "numpy", tmp_path / "f.py")
    text = script.read_text()
    assert "def features(x):" in text and "np.sin(x[:, 0]),  # sin(x1)" in text
    _assert_export_matches(parse_scene(scene_dict()), script, grad_rtol=1e-12)


def test_torch_model_takes_raw_features_and_trains_alike(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from tests.export.test_torch_export import _check_forward_and_grads, _export, _tracks

    scene = parse_scene(scene_dict())
    module = _export(scene, tmp_path / "f.py")
    raw = module.scene_data()[0].numpy()
    np.testing.assert_array_equal(raw, scene.session.dataset.x_train)  # raw, not transformed
    _check_forward_and_grads(parse_scene(scene_dict()), module)
    _tracks(parse_scene(scene_dict()), module, steps=40)


def test_onnx_model_takes_raw_features(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    from tests.export.test_onnx_export import _export, _run

    scene = parse_scene(scene_dict())
    scene.train(10)
    session, node = _export(scene, tmp_path / "f.onnx")
    (inp,) = session.get_inputs()
    assert inp.shape == ["N", 2]
    ds = scene.session.dataset
    np.testing.assert_allclose(
        _run(session, ds.x_test, None), scene.session.predict(ds.x_test, node), rtol=0, atol=1e-9
    )
