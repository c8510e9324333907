"""One meaning for "the loss": the whole training set, with the parameters after the step's
update. The CLI's text and --json, the CSV's loss column, the History API, the loss node after
a refresh and a reloaded saved scene all give the same number; the CSV's batch_loss column is
the loss the step's gradients came from."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from bpviz.cli import LOSS_MEANING, build_parser, main
from bpviz.model import Document
from bpviz.model.training import TrainingController
from bpviz.scene import load_scene, validate_scene_dict

SCENES = Path(__file__).resolve().parents[2] / "scenes"


def _train(tmp_path: Path, name: str, steps: int, capsys: pytest.CaptureFixture[str], **training):
    raw = json.loads((SCENES / f"{name}.json").read_text())
    raw["training"] = {**(raw.get("training") or {}), **training}
    src = tmp_path / f"{name}.json"
    src.write_text(json.dumps(raw))
    for extra in SCENES.glob("*.csv"):
        shutil.copy(extra, tmp_path)
    argv = ["train", str(src), "--steps", str(steps), "--json"]
    argv += ["--csv", str(tmp_path / "h.csv"), "--save", str(tmp_path / "out.json")]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    rows = list(csv.DictReader((tmp_path / "h.csv").open()))
    return src, report, rows


@pytest.mark.parametrize(("name", "training"), [("neuron", {}), ("xor", {}), ("exam", {})])
def test_full_batch_every_report_is_the_loss_after_the_update(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, training: dict
) -> None:
    src, report, rows = _train(tmp_path, name, 25, capsys, **training)
    saved = load_scene(tmp_path / "out.json")
    assert report["loss"] == float(saved.forward())
    assert report["accuracy"] == saved.session.accuracy()
    assert float(rows[-1]["loss"]) == report["loss"]
    fresh = load_scene(src)
    assert float(rows[0]["batch_loss"]) == float(fresh.forward())  # before the first update
    for before, row in zip(rows, rows[1:], strict=False):  # full batch: one step's loss after
        assert float(row["batch_loss"]) == float(before["loss"])  # is the next one's before
    history = fresh.train(25)
    assert [float(r["loss"]) for r in rows] == history.loss
    assert history.loss[-1] == report["loss"]


def test_minibatch_csv_has_both_columns_and_the_loss_is_the_full_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src, report, rows = _train(tmp_path, "moons", 12, capsys, batch_size=16)
    saved = load_scene(tmp_path / "out.json")
    assert float(rows[-1]["loss"]) == report["loss"] == float(saved.forward())
    batch = [float(r["batch_loss"]) for r in rows]
    full = [float(r["loss"]) for r in rows]
    assert all(b != f for b, f in zip(batch, full, strict=True))
    scene = load_scene(src)
    history = scene.train(12)
    assert history.batch_loss == batch and history.loss == full


def test_the_loss_node_shows_the_recorded_loss_after_training() -> None:
    raw = validate_scene_dict(json.loads((SCENES / "moons.json").read_text()), SCENES)
    ctl = TrainingController(Document.from_scene_dict(raw), SCENES)
    results = ctl.run_for(30.0, max_steps=7)
    assert ctl.refresh()
    assert float(ctl.values["loss"]) == results[-1].loss == ctl.history.loss[-1]


def test_help_says_what_the_loss_is(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert LOSS_MEANING in text
