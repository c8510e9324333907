"""`bpviz train` honours data.transforms, training.l1/l2 and training.schedule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bpviz.cli import main

SCENES = Path(__file__).resolve().parents[2] / "scenes"


def train(capsys: pytest.CaptureFixture[str], scene: Path, *args: str) -> dict[str, Any]:
    assert main(["train", str(scene), "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def _variant(tmp_path: Path, name: str, edit: Any) -> Path:
    d = json.loads((SCENES / "circles_features.json").read_text())
    edit(d)
    path = tmp_path / name
    path.write_text(json.dumps(d))
    return path


def test_squared_features_let_one_linear_unit_separate_circles(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    scene = json.loads((SCENES / "circles_features.json").read_text())
    assert scene["data"]["transforms"] == ["x1^2", "x2^2"]
    assert scene["training"] == {"optimizer": "adam", "lr": 0.1}
    assert [n["op"] for n in scene["nodes"]] == ["input", "dense", "target", "bce"]
    assert scene["nodes"][1]["attrs"] == {"units": 1, "activation": "none"}
    result = train(capsys, SCENES / "circles_features.json", "--steps", "300")
    assert result["steps"] == 300 and result["accuracy"] >= 0.97
    raw = _variant(tmp_path, "raw.json", lambda d: d["data"].pop("transforms"))
    assert train(capsys, raw, "--steps", "300")["accuracy"] < 0.7


def test_reported_loss_carries_the_l2_penalty(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = _variant(tmp_path, "l2.json", lambda d: d["training"].update(l2=0.5))
    out = tmp_path / "trained.json"
    result = train(capsys, path, "--steps", "20", "--save", str(out))
    saved = json.loads(out.read_text())
    w = np.array(saved["state"]["params"]["score"]["W"])
    assert main(["eval", str(out), "--json"]) == 0
    data_loss = json.loads(capsys.readouterr().out)["output"]
    assert result["loss"] == pytest.approx(data_loss + 0.5 * 0.5 * float((w * w).sum()), abs=1e-12)


def test_cosine_schedule_stops_moving_the_weights(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def cosine(d: dict[str, Any]) -> None:
        d["training"] = {"optimizer": "sgd", "lr": 0.5, "schedule": {"kind": "cosine", "steps": 5}}

    path = _variant(tmp_path, "cos.json", cosine)
    weights = []
    for steps in ("5", "12"):
        out = tmp_path / f"after{steps}.json"
        train(capsys, path, "--steps", steps, "--save", str(out))
        weights.append(json.loads(out.read_text())["state"]["params"]["score"]["W"])
    assert weights[0] == weights[1]  # from the 6th step the rate is 0: nothing moves
