"""The command line: exit codes, output shapes, and one-line errors instead of tracebacks."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bpviz import load_scene
from bpviz.cli import main

SCENES = Path(__file__).resolve().parents[2] / "scenes"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_eval_json_has_every_node_value_and_gradient(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "eval", str(SCENES / "chain_rule.json"), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["output"] == pytest.approx(-8.0)
    assert set(data["nodes"]) == {"a", "b", "c", "e", "d", "f", "L"}
    assert data["nodes"]["a"] == {"value": 2.0, "grad": pytest.approx(6.0)}


def test_eval_json_is_one_line_written_as_json_dumps_would(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The object is written entry by entry (a million-node scene is never held whole); the
    text is still exactly one `json.dumps` of it, on one line, nodes in pass order."""
    code, out, _ = run(capsys, "eval", str(SCENES / "moons.json"), "--json")
    assert code == 0
    data = json.loads(out)
    assert out == json.dumps(data) + "\n"
    assert list(data) == ["output", "nodes", "params"]
    assert list(data["nodes"]) == ["x", "h1", "h2", "score", "t", "loss"]
    assert [list(data["params"][n]) for n in data["params"]] == [["W", "b"]] * 3


def test_eval_json_writes_arrays_as_nested_lists(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "eval", str(SCENES / "moons.json"), "--json")
    assert code == 0
    x = json.loads(out)["nodes"]["x"]
    assert len(x["value"]) == 80 and len(x["value"][0]) == 2
    assert len(x["grad"]) == 80


def test_eval_text_lists_nodes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "eval", str(SCENES / "neuron.json"))
    assert code == 0
    assert out.startswith("output o = 0.707107")
    assert any(line.split()[:2] == ["w1", "param"] for line in out.splitlines())


def test_train_json_csv_and_save(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    src = tmp_path / "xor.json"
    shutil.copy(SCENES / "xor.json", src)
    out_scene, loss_csv = tmp_path / "trained.json", tmp_path / "loss.csv"
    code, out, _ = run(
        capsys,
        "train",
        str(src),
        "--steps",
        "500",
        "--save",
        str(out_scene),
        "--csv",
        str(loss_csv),
        "--json",
    )
    assert code == 0
    result = json.loads(out)
    assert result["steps"] == 500 and result["accuracy"] == 1.0 and result["loss"] < 0.01
    rows = list(csv.DictReader(loss_csv.open()))
    assert len(rows) == 500 and rows[0]["step"] == "1"
    assert float(rows[-1]["loss"]) < float(rows[0]["loss"])
    trained = load_scene(out_scene)
    assert float(trained.forward()) == pytest.approx(result["loss"], rel=1e-9)


def test_train_text_reports_accuracy(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "train", str(SCENES / "exam.json"), "--steps", "50")
    assert code == 0
    assert out.startswith("trained 50 steps: loss ") and "accuracy" in out


def test_gradcheck_passes_on_examples(capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("neuron", "xor", "sine"):
        code, out, _ = run(capsys, "gradcheck", str(SCENES / f"{name}.json"))
        assert code == 0, out
        assert "agree" in out


def test_gradcheck_exits_1_and_names_the_node(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bpviz.engine.ops import REGISTRY

    spec = REGISTRY["tanh"]
    wrong = type(spec)(**{**spec.__dict__, "backward": lambda g, xs, out, a, p: ((g * 2.0,), None)})
    monkeypatch.setitem(REGISTRY, "tanh", wrong)
    code, out, _ = run(capsys, "gradcheck", str(SCENES / "neuron.json"))
    assert code == 1
    assert "FAIL" in out and "gradient check failed for:" in out and "w1" in out.splitlines()[-1]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"format": "something-else", "version": 1}', "format"),
        (None, "No such file"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "bad.json"
    if content is not None:
        path.write_text(content)
    for verb in (["eval"], ["train", "--steps", "3"], ["gradcheck"]):
        code, out, err = run(capsys, verb[0], str(path), *verb[1:])
        assert code == 2
        assert err.count("\n") == 1 and err.startswith("bpviz: error: ") and message in err
        assert "Traceback" not in err


def test_nonfinite_training_exits_2_naming_the_node(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    scene = json.loads((SCENES / "sine.json").read_text())
    scene["training"]["lr"] = 1e5
    scene["training"]["optimizer"] = "sgd"
    path = tmp_path / "explode.json"
    path.write_text(json.dumps(scene))
    code, _, err = run(capsys, "train", str(path), "--steps", "50")
    assert code == 2 and "non-finite" in err and "node '" in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "train", str(SCENES / "xor.json"))[0] == 2  # --steps missing
    assert run(capsys, "train", str(SCENES / "xor.json"), "--steps", "-1")[0] == 2


def test_module_entry_point_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bpviz", "eval", str(SCENES / "chain_rule.json"), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and json.loads(result.stdout)["output"] == -8.0


def test_render_writes_a_png_of_the_requested_size(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "xor.png"
    code, stdout, _ = run(
        capsys, "render", str(SCENES / "xor.json"), "--out", str(out), "--size", "900x640"
    )
    assert code == 0 and out.exists()
    from PySide6.QtGui import QImage

    image = QImage(str(out))
    assert (image.width(), image.height()) == (900, 640)
    assert len({image.pixel(x, 300) for x in range(0, 900, 7)}) > 5  # not a blank picture
    assert list(tmp_path.iterdir()) == [out]  # no settings or recovery files left behind


def test_render_of_a_bad_scene_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    code, _, err = run(capsys, "render", str(bad), "--out", str(tmp_path / "x.png"))
    assert code == 2 and err.startswith("bpviz: error: ")
    code, _, err = run(
        capsys, "render", str(SCENES / "xor.json"), "--out", "x.png", "--size", "big"
    )
    assert code == 2 and "WIDTHxHEIGHT" in err


def test_render_after_training_shows_the_trained_model(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "moons.png"
    code, _, _ = run(
        capsys, "render", str(SCENES / "moons.json"), "--steps", "20", "--out", str(out)
    )
    assert code == 0 and out.exists()
    assert (
        run(capsys, "render", str(SCENES / "moons.json"), "--steps", "-2", "--out", str(out))[0]
        == 2
    )


def test_render_can_show_layers_opened_into_neurons(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from PySide6.QtGui import QImage

    plain, opened = tmp_path / "plain.png", tmp_path / "opened.png"
    xor = str(SCENES / "xor.json")
    assert run(capsys, "render", xor, "--out", str(plain), "--size", "800x600")[0] == 0
    code, _, _ = run(
        capsys, "render", xor, "--out", str(opened), "--size", "800x600",
        "--expand", "hidden", "--expand", "x",
    )  # fmt: skip
    assert code == 0
    assert QImage(str(opened)) != QImage(str(plain))
    code, _, err = run(capsys, "render", xor, "--out", str(opened), "--expand", "loss")
    assert code == 2
    assert err.strip() == f"bpviz: error: {xor}: --expand loss: not a dense layer or input node"


def test_export_writes_each_target(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "xor_np.py"
    assert main(["export", str(SCENES / "xor.json"), "--to", "numpy", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    run = subprocess.run([sys.executable, str(out)], capture_output=True, text=True, check=True)
    assert float(run.stdout) == pytest.approx(float(load_scene(SCENES / "xor.json").forward()))
    monkeypatch.chdir(tmp_path)  # without --out: the scene's name in the working folder
    assert main(["export", str(SCENES / "xor.json"), "--to", "torch"]) == 0
    assert capsys.readouterr().out.strip() == "wrote xor.py, xor.npz"
    assert (tmp_path / "xor.npz").exists()


def test_export_errors_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["export", str(SCENES / "xor.json"), "--to", "keras"]) == 2
    assert "invalid choice: 'keras'" in capsys.readouterr().err
    missing = tmp_path / "no" / "such" / "dir" / "x.py"
    assert main(["export", str(SCENES / "xor.json"), "--to", "numpy", "--out", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bpviz: error: cannot write") and err.count("\n") == 1


def test_eval_shows_dense_weights_and_bias_gradients(capsys: pytest.CaptureFixture[str]) -> None:
    """A dense layer's W and b get rows of their own; the score layer has no activation, so
    its b gradient is the batch sum of the node's gradient and W's is h2ᵀ · grad(score)."""
    code, out, _ = run(capsys, "eval", str(SCENES / "moons.json"), "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data["params"]) == {"h1", "h2", "score"}
    assert set(data["params"]["score"]) == {"W", "b"}
    g_score = np.array(data["nodes"]["score"]["grad"])
    h2 = np.array(data["nodes"]["h2"]["value"])
    assert np.allclose(data["params"]["score"]["b"]["grad"], g_score.sum(axis=0), atol=1e-12)
    assert np.allclose(data["params"]["score"]["W"]["grad"], h2.T @ g_score, atol=1e-12)

    code, out, _ = run(capsys, "eval", str(SCENES / "moons.json"))
    lines = out.splitlines()
    names = [line.split()[0] for line in lines[2:]]
    assert names[:4] == ["x", "h1", "h1.W", "h1.b"]
    assert names[-4:] == ["score.W", "score.b", "t", "loss"]
    header = lines[1]
    for line in lines[2:]:  # every column starts where its heading does
        for heading in ("op", "value", "gradient"):
            col = header.index(heading)
            assert line[col - 2 : col] == "  " and line[col] != " ", (heading, line)


def test_counts_read_as_english(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "train", str(SCENES / "xor.json"), "--steps", "1")
    assert code == 0 and out.startswith("trained 1 step: loss ")
    one = tmp_path / "one.json"
    one.write_text(
        json.dumps(
            {
                "format": "bpviz-scene",
                "version": 1,
                "output": "t",
                "nodes": [
                    {"id": "w", "op": "param", "attrs": {"value": 0.5}},
                    {"id": "t", "op": "tanh", "inputs": {"x": "w"}},
                ],
            }
        )
    )
    code, out, _ = run(capsys, "gradcheck", str(one))
    assert code == 0 and out.splitlines()[-1] == "the 1 gradient agrees with finite differences"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland only")
@pytest.mark.parametrize("display", [None, ":97"], ids=["unset", "no-server"])
def test_no_usable_display_is_one_line_and_exit_2(display: str | None, tmp_path: Path) -> None:
    """Plain `bpviz` where Qt cannot open a window: not Qt's abort (134), but one line that
    says how to go on."""
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env.pop("DISPLAY", None)
    if display is not None:
        env["DISPLAY"] = display  # nothing listens there
    env["HOME"] = str(tmp_path)  # no recovery file or settings of the person running tests
    result = subprocess.run(
        [sys.executable, "-m", "bpviz"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("bpviz: error: no "), lines
    assert "QT_QPA_PLATFORM=offscreen" in lines[0] and "bpviz render" in lines[0]
    assert result.stdout == ""


def test_qt_failure_names_the_real_cause() -> None:
    """Qt's own hint names libxcb-cursor0 whatever library is missing; bpviz reads the loader's
    message instead (these are Qt 6.11's words)."""
    from bpviz.ui.app import qt_failure

    missing = (
        'qt.core.library: "/x/libqxcb.so" cannot load: Cannot load library /x/libqxcb.so: '
        "libxcb-icccm.so.4: cannot open shared object file: No such file or directory\n"
        "qt.qpa.plugin: From 6.5.0, xcb-cursor0 or libxcb-cursor0 is needed to load the Qt "
        "xcb platform plugin.\n"
    )
    assert qt_failure(missing, 134) == (
        "Qt's window plugin needs libxcb-icccm.so.4, which is not installed"
    )
    no_server = "qt.qpa.xcb: could not connect to display :97\nqt.qpa.plugin: Could not load\n"
    assert qt_failure(no_server, 134) == "cannot connect to display :97"
    assert qt_failure("qt.core.x: noise\nSomething else broke\n", 1) == "Something else broke"
    assert qt_failure("", 134) == "Qt exited with 134"
