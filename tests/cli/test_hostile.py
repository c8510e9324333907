"""Hostile input, one table: whatever is thrown at the command line, it ends with exit 2 and
exactly one `bpviz: error: ...` line (0 and at most warning lines for valid input), without a
traceback or a hang, and every file that was there before is still there, byte for byte.

Each case prepares files in a fresh folder and returns the argument list. Cases that need a
FIFO or root are skipped, with the reason, where the platform does not allow them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bpviz.cli import main
from bpviz.engine.files import MAX_SCENE_BYTES

SCENES = Path(__file__).resolve().parents[2] / "scenes"
ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
HANG_SECONDS = 10


# ---- scenes ----------------------------------------------------------------------------------
def node(nid: str, op: str, inputs: dict | None = None, **attrs: Any) -> dict[str, Any]:
    return {"id": nid, "op": op, "inputs": inputs or {}, "attrs": attrs}


def scene(output: str | None, nodes: list[dict], **extra: Any) -> dict[str, Any]:
    return {"format": "bpviz-scene", "version": 1, "output": output, "nodes": nodes, **extra}


def scalar() -> dict[str, Any]:
    """L = (w*x - 1)^2 with one param: trains, saves, exports."""
    return scene(
        "L",
        [
            node("x", "const", value=2.0),
            node("w", "param", value=0.3),
            node("m", "mul", {"a": "w", "b": "x"}),
            node("one", "const", value=1.0),
            node("L", "mse", {"pred": "m", "target": "one"}),
        ],
    )


def classifier(loss: str = "hinge", encoding: str = "signs", **training: Any) -> dict[str, Any]:
    return scene(
        "loss",
        [
            node("x", "input"),
            node("h", "dense", {"x": "x"}, units=4, activation="tanh"),
            node("out", "dense", {"x": "h"}, units=2 if loss == "cross_entropy" else 1),
            node("t", "target", encoding=encoding),
            node("loss", loss, {"pred": "out", "target": "t"}),
        ],
        data={"kind": "moons", "n": 40, "seed": 1},
        training={"optimizer": "sgd", "lr": 0.1, **training},
    )


def put(folder: Path, name: str, content: dict | str | bytes) -> Path:
    path = folder / name
    if isinstance(content, dict):
        content = json.dumps(content)
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)
    return path


def fifo(folder: Path, name: str) -> Path:
    if not hasattr(os, "mkfifo"):
        pytest.skip("this platform has no FIFOs")
    path = folder / name
    os.mkfifo(path)
    return path


def read_only(folder: Path, name: str, content: dict | str = "old\n") -> Path:
    path = put(folder, name, content)
    os.chmod(path, 0o444)
    return path


def link(folder: Path, name: str, to: Path | str) -> Path:
    path = folder / name
    path.symlink_to(to)
    return path


def needs_root() -> None:
    if not ROOT:
        pytest.skip("only root can replace a device; as another user the OS refuses anyway")


# ---- the table -------------------------------------------------------------------------------
Make = Callable[[Path], list[str]]


@dataclass(frozen=True)
class Case:
    id: str
    make: Make
    message: str  # a regex the one stderr line must match after "bpviz: error: "
    code: int = 2


def ok(f: Path) -> str:
    return str(put(f, "ok.json", scalar()))


CASES: list[Case] = [
    # -- what is read as SCENE: only regular files, with a size cap
    Case("scene-missing", lambda f: ["eval", str(f / "nope.json")], r"nope\.json: cannot read file \(No such file"),
    Case("scene-empty-name", lambda f: ["eval", ""], r"^'': cannot read file \(No such file or directory\)"),
    Case("scene-folder", lambda f: ["eval", str(f)], r"cannot read file \(a folder, not a regular file\)"),
    Case("scene-fifo", lambda f: ["eval", str(fifo(f, "s.json"))], r"s\.json: cannot read file \(a FIFO"),
    Case("scene-fifo-train", lambda f: ["train", str(fifo(f, "s.json")), "--steps", "1"], r"a FIFO"),
    Case("scene-dev-zero", lambda f: ["eval", "/dev/zero"], r"^/dev/zero: cannot read file \(a character device"),
    Case("scene-dev-null", lambda f: ["gradcheck", "/dev/null"], r"a character device"),
    Case("scene-link-to-fifo", lambda f: ["eval", str(link(f, "l.json", fifo(f, "p")))], r"l\.json: .*a FIFO"),
    Case("scene-link-to-zero", lambda f: ["export", str(link(f, "z.json", "/dev/zero")), "--to", "numpy", "--out", str(f / "o.py")], r"z\.json: .*character device"),
    Case("scene-too-large", lambda f: ["eval", str(_sparse(f / "big.json", MAX_SCENE_BYTES + 1))], r"big\.json: cannot read file \(256 MiB, over the 256 MiB limit"),
    Case("scene-too-many-items", lambda f: ["eval", str(put(f, "many.json", b"[" + b"0," * 10_000_000 + b"0]"))], r"many\.json: too large: 10,000,001 or more items in its lists and objects, over the 10,000,000 limit"),
    Case("scene-empty", lambda f: ["eval", str(put(f, "e.json", ""))], r"e\.json: empty"),
    Case("scene-not-utf8", lambda f: ["eval", str(put(f, "b.json", b"\xff\xfe{}"))], r"not UTF-8"),
    Case("scene-nested", lambda f: ["eval", str(put(f, "n.json", "[" * 200_000))], r"n\.json: .*nested too deeply"),
    Case("scene-list", lambda f: ["eval", str(put(f, "l.json", "[]"))], r"expected a JSON object"),
    Case("scene-nan-literal", lambda f: ["eval", str(put(f, "n.json", json.dumps(scalar()).replace("0.3", "NaN")))], r"nodes\[1\]\.attrs\.value"),
    Case("scene-huge-int", lambda f: ["eval", str(put(f, "h.json", json.dumps(scalar()).replace("0.3", "1" + "0" * 400)))], r"nodes\[1\]\.attrs\.value"),
    # -- names with line breaks and control characters come out escaped, on one line
    Case("newline-in-id", lambda f: ["eval", str(put(f, "i.json", _renamed("w", "w\nx")))], r"invalid id 'w\\nx'"),
    Case("newline-in-port", lambda f: ["eval", str(put(f, "p.json", _port("a\nb")))], r"inputs\[\"a\\nb\"\]"),
    Case("escape-in-attr", lambda f: ["eval", str(put(f, "a.json", _attr("v\x1b[31m")))], r"attrs\[\"v\\x1b\[31m\"\]"),
    Case("newline-in-key", lambda f: ["eval", str(put(f, "k.json", {**scalar(), "x\ny": 1}))], r"\[\"x\\ny\"\]: unknown key"),
    Case("newline-in-file-name", lambda f: ["eval", str(f / "a\nb.json")], r"a\\nb\.json: cannot read file"),
    Case("newline-in-output", lambda f: ["eval", str(put(f, "o.json", {**scalar(), "output": "L\n"}))], r"output: no node 'L\\n'"),
    # -- what a verb needs
    Case("train-matrix-output", lambda f: ["train", str(put(f, "m.json", _matrix_output())), "--steps", "3"], r"m\.json: output: output 'p' has shape \(2, 2\): training needs a scalar loss"),
    Case("train-input-output", lambda f: ["train", str(put(f, "i.json", {**classifier(), "output": "x"})), "--steps", "3"], r"output 'x' has shape \(32, 2\): training needs a scalar loss"),
    Case("render-steps-matrix-output", lambda f: ["render", str(put(f, "m.json", _matrix_output())), "--steps", "2", "--out", str(f / "m.png")], r"output 'p' has shape \(2, 2\)"),
    Case("hinge-column", lambda f: ["train", str(put(f, "h.json", classifier("hinge", "column"))), "--steps", "3"], r"h\.json: nodes\[3\]\.attrs\.encoding: encoding 'column' does not fit the hinge loss 'loss': use 'signs'"),
    Case("hinge-labels", lambda f: ["eval", str(put(f, "h.json", classifier("hinge", "labels")))], r"use 'signs'"),
    Case("bce-signs", lambda f: ["eval", str(put(f, "b.json", classifier("bce", "signs")))], r"encoding 'signs' does not fit the bce loss 'loss': use 'column' or 'labels'"),
    Case("cross-entropy-column", lambda f: ["eval", str(put(f, "c.json", classifier("cross_entropy", "column")))], r"use 'labels'"),
    Case("log-zero-names-file-and-node", lambda f: ["eval", str(put(f, "z.json", _log_zero()))], r"^\S*z\.json: non-finite value .* node 'lg' during forward"),
    Case("train-explodes-names-file-and-node", lambda f: ["train", str(put(f, "x.json", {**scalar(), "training": {"lr": 1e5}})), "--steps", "50"], r"^\S*x\.json: non-finite .* node '\w+'"),
    Case("render-steps-explodes-names-file-and-node", lambda f: ["render", str(put(f, "x.json", {**scalar(), "training": {"lr": 1e5}})), "--steps", "50", "--out", str(f / "x.png")], r"^\S*x\.json: non-finite .* node '\w+'"),
    Case("log-zero-train", lambda f: ["train", str(put(f, "z.json", _log_zero())), "--steps", "2"], r"z\.json: .*node 'lg'"),
    # -- what is written: never a non-regular file, never a read-only one, never half
    Case("save-dev-null", lambda f: (needs_root(), ["train", ok(f), "--steps", "1", "--save", "/dev/null"])[1], r"cannot write /dev/null: it is a character device"),
    Case("save-folder", lambda f: ["train", ok(f), "--steps", "1", "--save", str(f)], r"it is a folder, not a regular file"),
    Case("save-fifo", lambda f: ["train", ok(f), "--steps", "1", "--save", str(fifo(f, "out"))], r"out: it is a FIFO"),
    Case("save-read-only", lambda f: ["train", ok(f), "--steps", "1", "--save", str(read_only(f, "ro.json", scalar()))], r"ro\.json: the file is read-only"),
    Case("save-link-to-device", lambda f: ["train", ok(f), "--steps", "1", "--save", str(link(f, "dev.json", "/dev/null"))], r"dev\.json: it is a character device"),
    Case("save-missing-folder", lambda f: ["train", ok(f), "--steps", "1", "--save", str(f / "no" / "x.json")], r"x\.json: no folder"),
    Case("csv-dev-null", lambda f: (needs_root(), ["train", ok(f), "--steps", "1", "--csv", "/dev/null"])[1], r"cannot write /dev/null"),
    Case("csv-fifo", lambda f: ["train", ok(f), "--steps", "1", "--csv", str(fifo(f, "loss.csv"))], r"loss\.csv: it is a FIFO"),
    Case("csv-read-only", lambda f: ["train", ok(f), "--steps", "1", "--csv", str(read_only(f, "loss.csv"))], r"read-only"),
    Case("csv-folder", lambda f: ["train", ok(f), "--steps", "1", "--csv", str(f)], r"a folder"),
    Case("export-dev-null", lambda f: (needs_root(), ["export", ok(f), "--to", "onnx", "--out", "/dev/null"])[1], r"cannot write /dev/null"),
    Case("export-folder", lambda f: ["export", ok(f), "--to", "numpy", "--out", str(f)], r"a folder"),
    Case("export-root", lambda f: ["export", ok(f), "--to", "torch", "--out", "/"], r"cannot write /: that names a folder"),
    Case("export-fifo", lambda f: ["export", ok(f), "--to", "numpy", "--out", str(fifo(f, "x.py"))], r"FIFO"),
    Case("export-read-only", lambda f: ["export", ok(f), "--to", "numpy", "--out", str(read_only(f, "x.py"))], r"x\.py: the file is read-only"),
    Case("export-read-only-sidecar", lambda f: (read_only(f, "m.npz"), ["export", ok(f), "--to", "torch", "--out", str(f / "m.py")])[1], r"m\.npz: the file is read-only"),
    Case("render-read-only", lambda f: ["render", ok(f), "--out", str(read_only(f, "p.png"))], r"p\.png: the file is read-only"),
    Case("render-dev-null", lambda f: (needs_root(), ["render", ok(f), "--out", "/dev/null"])[1], r"cannot write /dev/null"),
    Case("render-missing-folder", lambda f: ["render", ok(f), "--out", str(f / "no" / "p.png")], r"cannot write .*p\.png: no folder"),
    # -- CSV data: only regular files, bounded
    Case("csv-data-fifo", lambda f: ["eval", str(put(f, "c.json", _csv_scene(str(fifo(f, "d.csv")))))], r"data: .*d\.csv: cannot read file \(a FIFO"),
    Case("csv-data-dev-zero", lambda f: ["train", str(put(f, "c.json", _csv_scene("/dev/zero"))), "--steps", "1"], r"/dev/zero: cannot read file \(a character device"),
    Case("csv-data-folder", lambda f: ["eval", str(put(f, "c.json", _csv_scene(str(f))))], r"a folder"),
    Case("csv-data-one-long-line", lambda f: ["eval", str(put(f, "c.json", _csv_scene(str(_sparse(f / "z.csv", 300 << 20)))))], r"z\.csv, line 1: longer than 1048576 characters"),
    # -- the command line itself
    Case("usage-steps-text", lambda f: ["train", ok(f), "--steps", "many"], r"argument --steps: expected a whole number, got 'many'"),
    Case("usage-steps-negative", lambda f: ["train", ok(f), "--steps", "-1"], r"argument --steps: must be from 0 to 1000000000, got -1"),
    Case("usage-steps-missing", lambda f: ["train", ok(f)], r"the following arguments are required: --steps"),
    Case("usage-unknown-flag", lambda f: ["eval", ok(f), "--frobnicate"], r"unrecognized arguments: --frobnicate"),
    Case("usage-bad-target", lambda f: ["export", ok(f), "--to", "keras"], r"invalid choice: 'keras'"),
    Case("usage-bad-size", lambda f: ["render", ok(f), "--out", "x.png", "--size", "1x1"], r"outside 320x240\.\.8000x8000"),
    Case("usage-no-scene", lambda f: ["eval"], r"required: scene"),
    Case("usage-steps-too-many", lambda f: ["train", ok(f), "--steps", "9" * 30], r"argument --steps: must be from 0 to 1000000000, got 9{30}"),
    # -- outputs that would overwrite each other or the scene being read
    Case("csv-same-as-save", lambda f: ["train", ok(f), "--steps", "1", "--csv", str(f / "o"), "--save", str(f / "o")], r"--csv and --save name the same file"),
    Case("csv-is-the-scene", lambda f: ["train", ok(f), "--steps", "1", "--csv", str(f / "ok.json")], r"--csv \S*ok\.json would replace the scene being read"),
    Case("export-out-is-the-scene", lambda f: ["export", ok(f), "--to", "numpy", "--out", str(f / "ok.json")], r"would replace the scene being read"),
    Case("render-out-is-the-scene", lambda f: ["render", ok(f), "--out", str(link(f, "l.png", f / "ok.json"))], r"would replace the scene being read"),
    Case("export-torch-out-npz", lambda f: ["export", ok(f), "--to", "torch", "--out", str(f / "m.npz")], r"writes its arrays to \S*m\.npz; end it in \.py"),
    Case("out-trailing-slash", lambda f: ["export", ok(f), "--to", "numpy", "--out", str(f / "sub") + "/"], r"sub/: that names a folder, not a file"),
    Case("out-empty", lambda f: ["export", ok(f), "--to", "numpy", "--out", ""], r"cannot write '': no file name given"),
]


def _sparse(path: Path, size: int) -> Path:
    with path.open("wb") as fh:
        fh.truncate(size)
    return path


def _renamed(old: str, new: str) -> dict[str, Any]:
    text = json.dumps(scalar()).replace(f'"{old}"', json.dumps(new))
    return json.loads(text)


def _port(name: str) -> dict[str, Any]:
    s = scalar()
    s["nodes"][2]["inputs"][name] = "x"
    return s


def _attr(name: str) -> dict[str, Any]:
    s = scalar()
    s["nodes"][2]["attrs"][name] = 1
    return s


def _matrix_output() -> dict[str, Any]:
    return scene("p", [node("p", "param", value=[[1.0, 2.0], [3.0, 4.0]])])


def _log_zero() -> dict[str, Any]:
    return scene("lg", [node("p", "param", value=0.0), node("lg", "log", {"x": "p"})])


def _csv_scene(path: str) -> dict[str, Any]:
    s = classifier("mse", "column")
    s["data"] = {"kind": "csv", "path": path, "target": "y"}
    return s


# ---- running a case --------------------------------------------------------------------------
def _files(folder: Path) -> dict[str, Any]:
    """Every entry under `folder`: regular files by content (huge sparse ones by inode, size
    and modification time: any write changes one of them), anything else by its kind."""
    out: dict[str, Any] = {}
    for path in sorted(folder.rglob("*")):
        info = path.lstat()
        key = str(path.relative_to(folder))
        if not stat.S_ISREG(info.st_mode):
            out[key] = stat.filemode(info.st_mode)
        elif info.st_size > 1 << 20:
            out[key] = (info.st_ino, info.st_size, info.st_mtime_ns)
        else:
            out[key] = path.read_bytes()
    return out


@pytest.fixture
def no_hang() -> Iterator[None]:
    """A case that blocks (a FIFO opened for reading) fails instead of hanging the suite."""

    def hung(signum: int, frame: Any) -> None:
        raise TimeoutError(f"the command took more than {HANG_SECONDS} s")

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(HANG_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input_gives_one_line_and_keeps_every_file(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str], no_hang: None
) -> None:
    dev_null = os.stat("/dev/null")
    argv = case.make(tmp_path)
    before = _files(tmp_path)
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == case.code, err
    assert err.count("\n") == 1 and err.startswith("bpviz: error: "), err
    assert re.search(case.message, err[len("bpviz: error: ") : -1]), err
    assert out == ""
    assert _files(tmp_path) == before  # nothing replaced, nothing half-written, no temp files
    after = os.stat("/dev/null")
    assert (stat.S_ISCHR(after.st_mode), after.st_rdev) == (True, dev_null.st_rdev)


def test_numpy_warnings_never_reach_stderr() -> None:
    """A library warning raised while bpviz works (numpy's "Mean of empty slice", here made to
    happen in tanh) never reaches stderr: bpviz's own lines are the only ones there."""
    patch = (
        "import sys, runpy, warnings\n"
        "from bpviz.engine.ops import REGISTRY\n"
        "spec = REGISTRY['tanh']\n"
        "def noisy(xs, attrs, params):\n"
        "    warnings.warn('Mean of empty slice.', RuntimeWarning)\n"
        "    return spec.forward(xs, attrs, params)\n"
        "REGISTRY['tanh'] = type(spec)(**{**spec.__dict__, 'forward': noisy})\n"
        "sys.argv = ['bpviz', *sys.argv[1:]]\n"
        "runpy.run_module('bpviz', run_name='__main__', alter_sys=True)\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "always", "-c", patch, "eval", str(SCENES / "neuron.json")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("output o = ")


def test_nothing_trainable_trains_with_one_warning_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fixed = scene("L", [node("a", "const", value=2.0), node("L", "mul", {"a": "a", "b": "a"})])
    path = put(tmp_path, "fixed.json", fixed)
    code = main(["train", str(path), "--steps", "3"])
    out, err = capsys.readouterr()
    assert code == 0
    assert err == (
        f"bpviz: warning: {path}: nothing to train: no node feeding output 'L' has parameters"
        " (param or dense), so training leaves every value as it is\n"
    )
    assert out == "trained 3 steps: loss 4\n"


def test_counts_of_one_are_singular(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["train", str(put(tmp_path, "s.json", scalar())), "--steps", "1"])
    assert code == 0 and capsys.readouterr().out.startswith("trained 1 step: loss ")
    one = scene("y", [node("w", "param", value=0.5), node("y", "tanh", {"x": "w"})])
    assert main(["gradcheck", str(put(tmp_path, "g.json", one))]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "the 1 gradient agrees with finite differences"
    )
    put(tmp_path, "d.csv", "a,b,y\n1,2,0\n3\n")
    assert main(["eval", str(put(tmp_path, "c.json", _csv_scene(str(tmp_path / "d.csv"))))]) == 2
    assert capsys.readouterr().err.endswith("d.csv, line 3: 1 field, expected 3\n")


def test_restored_minibatch_position_is_reached_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_hang: None
) -> None:
    """A saved optimizer step of 10^12 with minibatches: no replay of 10^12 batches."""
    raw = classifier(batch_size=8)
    path = put(tmp_path, "c.json", raw)
    assert main(["train", str(path), "--steps", "2", "--save", str(path)]) == 0
    saved = json.loads(path.read_text())
    saved["state"]["optimizer"]["step"] = 10**12
    put(tmp_path, "c.json", saved)
    capsys.readouterr()
    assert main(["train", str(path), "--steps", "3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["steps"] == 3


# ---- whole processes: Ctrl-C, memory ---------------------------------------------------------
def _start(argv: list[str]) -> subprocess.Popen[str]:
    """`python -m bpviz ARGV`, started once the interpreter itself is up (the moments below
    count from when bpviz's own code starts loading, which is what the guard can cover)."""
    launcher = (  # Ctrl-C as from a terminal, even when the tests run as a background job
        "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler);"
        " sys.stdout.write('up'); sys.stdout.flush(); sys.argv = sys.argv[1:];"
        " runpy.run_module('bpviz', run_name='__main__', alter_sys=True)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", launcher, "bpviz", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.stdout is not None and proc.stdout.read(2) == "up"
    return proc


@pytest.mark.parametrize("delay", [0.01, 0.05, 0.2, 0.5, 1.5])
def test_ctrl_c_at_any_moment_is_one_line_and_130(delay: float, tmp_path: Path) -> None:
    scene_path = shutil.copy(SCENES / "moons.json", tmp_path / "moons.json")
    proc = _start(["train", str(scene_path), "--steps", "1000000", "--csv", str(tmp_path / "l.csv")])
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=HANG_SECONDS)
    assert (proc.returncode, err) == (130, "bpviz: interrupted\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["moons.json"]


def test_a_background_job_keeps_ignoring_ctrl_c(tmp_path: Path) -> None:
    """A shell starts background jobs with Ctrl-C ignored; bpviz leaves it so (Python does)."""
    scene_path = shutil.copy(SCENES / "moons.json", tmp_path / "moons.json")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bpviz", "train", str(scene_path), "--steps", "1000000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),  # noqa: PLW1509
    )
    try:
        time.sleep(1.5)  # well into training, past where the command line sets its handler
        proc.send_signal(signal.SIGINT)
        time.sleep(0.5)
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.communicate()


def _peak_rss_mib(argv: list[str]) -> tuple[int, str, float]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bpviz", *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    start = time.monotonic()
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert time.monotonic() - start < HANG_SECONDS
    return proc.returncode, err, usage.ru_maxrss / 1024  # KiB on Linux


@pytest.mark.skipif(not hasattr(os, "wait4"), reason="needs os.wait4 to measure a child's memory")
@pytest.mark.parametrize(
    "what",
    ["dev-zero-scene", "dev-zero-csv", "huge-scene", "huge-csv-line", "huge-param", "wide-layer"],
)
def test_hostile_files_stay_small_in_memory(what: str, tmp_path: Path) -> None:
    """Files that would need gigabytes end with one line, well under 1.5 GiB: refused before
    reading, streamed, or stopped by the command line's memory limit (Linux)."""
    if what == "huge-param":  # 3.2 GB of weights
        big = scene("p", [node("p", "param", shape=[20000, 20000])])
        argv = ["eval", str(put(tmp_path, "p.json", big))]
    elif what == "wide-layer":  # 2000 points x 10^6 units: 16 GB of activations
        wide = scene("h", [node("x", "input"), node("h", "dense", {"x": "x"}, units=1_000_000)])
        wide["data"] = {"kind": "moons", "n": 2000}
        argv = ["eval", str(put(tmp_path, "w.json", wide))]
    elif what == "dev-zero-scene":
        argv = ["eval", "/dev/zero"]
    elif what == "huge-scene":
        argv = ["eval", str(_sparse(tmp_path / "big.json", 2 << 30))]
    else:
        data = "/dev/zero" if what == "dev-zero-csv" else str(_sparse(tmp_path / "z.csv", 1 << 30))
        argv = ["eval", str(put(tmp_path, "c.json", _csv_scene(data)))]
    code, err, peak = _peak_rss_mib(argv)
    assert code == 2 and err.count("\n") == 1 and err.startswith("bpviz: error: "), err
    assert peak < 1536, f"peak memory {peak:.0f} MiB"


# ---- a full disk -----------------------------------------------------------------------------
@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB file system (tmpfs; needs root and mount), so writes really run out of space."""
    disk = tmp_path / "disk"
    disk.mkdir()
    try:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)],
            capture_output=True,
            timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        pytest.skip(f"cannot mount a small file system here: {e}")
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True, timeout=20)


def _fill(disk: Path, leave: int) -> None:
    """Fill the disk until about `leave` bytes are free."""
    free = shutil.disk_usage(disk).free
    with (disk / "filler").open("wb") as fh:
        fh.write(b"\0" * max(0, free - leave))


FULL_DISK = [
    ("save", lambda d: ["--save", str(d / "old")], SCENES / "spiral.json"),
    ("csv", lambda d: ["--csv", str(d / "old")], SCENES / "xor.json"),
    ("export-numpy", lambda d: ["--to", "numpy", "--out", str(d / "old")], SCENES / "spiral.json"),
    ("export-torch", lambda d: ["--to", "torch", "--out", str(d / "old")], SCENES / "spiral.json"),
    ("export-onnx", lambda d: ["--to", "onnx", "--out", str(d / "old")], SCENES / "spiral.json"),
    ("render", lambda d: ["--out", str(d / "old")], SCENES / "xor.json"),
]


@pytest.mark.parametrize(("what", "target", "source"), FULL_DISK, ids=[c[0] for c in FULL_DISK])
def test_full_disk_keeps_the_old_file_whole(
    what: str,
    target: Callable[[Path], list[str]],
    source: Path,
    small_disk: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    old = b"the old file, which must survive\n" * 100
    (small_disk / "old").write_bytes(old)
    _fill(small_disk, leave=8 * 1024)
    verb = what.split("-")[0]
    steps = ["--steps", "300"] if verb in ("save", "csv") else []
    verb = "train" if verb in ("save", "csv") else verb
    code = main([verb, str(source), *steps, *target(small_disk)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert re.match(r"bpviz: error: cannot write \S*old\S*: No space left on device$", err), err
    assert (small_disk / "old").read_bytes() == old
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler", "old"]


# ---- standard output that cannot be written ----------------------------------------------------
@pytest.mark.parametrize("where", ["full", "closed", "pipe-closed-early"])
def test_unwritable_stdout_is_one_line(where: str) -> None:
    if where == "full" and not Path("/dev/full").exists():
        pytest.skip("this platform has no /dev/full")
    argv = [sys.executable, "-m", "bpviz", "eval", str(SCENES / "spiral.json")]
    cwd = Path(__file__).resolve().parents[2]
    if where == "pipe-closed-early":  # --json: far more than a pipe buffer holds
        proc = subprocess.Popen([*argv, "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.read(10)
        proc.stdout.close()  # like `| head -c 10`
        err = proc.stderr.read().decode()
        assert (proc.wait(timeout=HANG_SECONDS), err) == (0, "")
        return
    with open("/dev/full" if where == "full" else os.devnull, "w") as sink:
        result = subprocess.run(
            argv,
            stdout=sink if where == "full" else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            timeout=60,
            close_fds=True,
            pass_fds=(),
            preexec_fn=(lambda: os.close(1)) if where == "closed" else None,
        )
    if where == "full":
        assert (result.returncode, result.stderr) == (
            2,
            "bpviz: error: cannot write the output: No space left on device\n",
        )
    else:  # nobody reads a closed stdout: the command still runs and says nothing
        assert (result.returncode, result.stderr) == (0, "")


def test_render_prints_nothing_but_its_result_even_without_a_display(tmp_path: Path) -> None:
    """Qt's own messages ("This plugin does not support propagateSizeHints()") stay off
    stderr, and no display is needed whatever QT_QPA_PLATFORM and DISPLAY say."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["QT_QPA_PLATFORM"] = ""
    out = tmp_path / "x.png"
    result = subprocess.run(
        [sys.executable, "-m", "bpviz", "render", str(SCENES / "xor.json"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert (result.returncode, result.stderr, result.stdout) == (0, "", f"wrote {out}\n")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
