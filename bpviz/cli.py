"""Command line: everything the window can do to a graph's numbers, without a window.

Exit status: 0 success, 1 a check failed (gradcheck), 2 bad input (one-line message).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bpviz import __version__
from bpviz.engine.errors import BpvizError


def _fmt(a: np.ndarray) -> str:
    a = np.asarray(a)
    if a.ndim == 0:
        return f"{float(a):.6g}"
    body = np.array2string(a, precision=4, threshold=8, edgeitems=2, max_line_width=60)
    return f"{' '.join(body.split())}  shape {a.shape}"


def _json_value(a: np.ndarray) -> Any:
    a = np.asarray(a)
    return a.item() if a.ndim == 0 else a.tolist()


def cmd_eval(args: argparse.Namespace) -> int:
    from bpviz.scene import load_scene

    scene = load_scene(args.scene)
    out = scene.forward()
    scene.backward()
    rows = {
        nid: (scene.value(nid), scene.grad(nid))
        for nid in scene.graph.topological_order()
        if scene.session.executor.has_value(nid)
    }
    if args.json:
        nodes = {
            nid: {"value": _json_value(v), "grad": _json_value(g)} for nid, (v, g) in rows.items()
        }
        print(json.dumps({"output": _json_value(out), "nodes": nodes}))
        return 0
    print(f"output {scene.graph.output} = {_fmt(out)}")
    width = max((len(n) for n in rows), default=4)
    ops = {n.id: n.op for n in scene.graph}
    print(f"{'node':<{width}}  {'op':<13} {'value':<30} grad")
    for nid, (v, g) in rows.items():
        print(f"{nid:<{width}}  {ops[nid]:<13} {_fmt(v):<30} {_fmt(g)}")
    return 0


def _progress(total: int, enabled: bool):  # noqa: ANN202 - tqdm or a no-op
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="step", file=sys.stderr, dynamic_ncols=True, leave=False)


def cmd_train(args: argparse.Namespace) -> int:
    from bpviz.scene import load_scene

    if args.steps < 0:
        raise BpvizError(f"--steps must be >= 0, got {args.steps}")
    scene = load_scene(args.scene)
    bar = _progress(args.steps, sys.stderr.isatty() and not args.json)

    def on_step(result) -> None:  # noqa: ANN001
        if bar is not None:
            bar.update(1)
            if result.step % 50 == 0:
                bar.set_postfix(loss=f"{result.loss:.4g}")

    try:
        history = scene.train(args.steps, on_step=on_step)
    finally:
        if bar is not None:
            bar.close()
    loss = float(scene.forward())
    acc = scene.session.accuracy()
    if args.csv:
        _write_history_csv(Path(args.csv), history.to_dict())
    if args.save:
        scene.save(args.save)
    if args.json:
        print(json.dumps({"loss": loss, "accuracy": acc, "steps": len(history)}))
    else:
        line = f"trained {len(history)} steps: loss {loss:.6g}"
        if acc is not None:
            line += f", accuracy {acc:.1%}"
        print(line)
        if args.save:
            print(f"saved {args.save}")
    return 0


def _write_history_csv(path: Path, h: dict[str, list]) -> None:
    test = dict(
        zip(
            h["test_step"],
            zip(h["test_loss"], h["test_accuracy"] or [None] * len(h["test_step"]), strict=True),
            strict=True,
        )
    )
    try:
        with path.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["step", "loss", "accuracy", "test_loss", "test_accuracy"])
            accs = h["accuracy"] or [None] * len(h["step"])
            for step, loss, acc in zip(h["step"], h["loss"], accs, strict=True):
                tl, ta = test.get(step, (None, None))
                w.writerow(
                    [
                        step,
                        loss,
                        "" if acc is None else acc,
                        "" if tl is None else tl,
                        "" if ta is None else ta,
                    ]
                )
    except OSError as e:
        raise BpvizError(f"cannot write {path}: {e.strerror}") from None


def cmd_gradcheck(args: argparse.Namespace) -> int:
    from bpviz.scene import load_scene

    scene = load_scene(args.scene)
    results = scene.gradcheck()
    bad = [r for r in results if not r.ok]
    for r in results:
        mark = "ok  " if r.ok else "FAIL"
        errors = f"max abs error {r.max_abs_error:.2e}, max rel error {r.max_rel_error:.2e}"
        print(f"{mark} {r.node_id}.{r.name}: {errors}")
    if bad:
        names = ", ".join(sorted({r.node_id for r in bad}))
        print(f"gradient check failed for: {names}")
        return 1
    print(f"all {len(results)} gradients agree with finite differences")
    return 0


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected WIDTHxHEIGHT like 1400x900, got {text!r}"
        ) from None
    if not (200 <= w <= 8000 and 200 <= h <= 8000):
        raise argparse.ArgumentTypeError(f"size {w}x{h} is outside 200..8000 pixels")
    return w, h


def cmd_render(args: argparse.Namespace) -> int:
    from bpviz.ui.app import render

    if args.steps < 0:
        raise BpvizError(f"--steps must be >= 0, got {args.steps}")
    render(args.scene, args.out, args.size, args.steps, args.expand)
    print(f"wrote {args.out}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from bpviz.export import TARGETS, export_scene
    from bpviz.scene import load_scene

    scene = load_scene(args.scene)
    out = Path(args.out or Path(args.scene).stem + TARGETS[args.to].suffix)
    try:
        written = export_scene(scene, args.to, out)
    except OSError as e:
        raise BpvizError(f"cannot write {e.filename or out}: {e.strerror}") from None
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def cmd_window(args: argparse.Namespace) -> int:
    try:
        from bpviz.ui.app import run
    except ImportError as e:
        raise BpvizError(f"the desktop window is not available: {e}") from None
    return run(args.scene)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="bpviz",
        description="See backpropagation happen. With no command, opens the window.",
    )
    p.add_argument("--version", action="version", version=f"bpviz {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    e = sub.add_parser(
        "eval", help="one forward and backward pass: every node's value and gradient"
    )
    e.add_argument("scene")
    e.add_argument("--json", action="store_true", help="machine-readable output")
    e.set_defaults(func=cmd_eval)

    t = sub.add_parser("train", help="train as the scene's training block says")
    t.add_argument("scene")
    t.add_argument("--steps", type=int, required=True, help="optimizer steps to take")
    t.add_argument("--save", metavar="OUT", help="save the scene with learned weights")
    t.add_argument("--csv", metavar="LOSS.csv", help="write the loss history as CSV")
    t.add_argument("--json", action="store_true", help="machine-readable output")
    t.set_defaults(func=cmd_train)

    g = sub.add_parser(
        "gradcheck", help="compare gradients with finite differences (exit 1 on failure)"
    )
    g.add_argument("scene")
    g.set_defaults(func=cmd_gradcheck)

    r = sub.add_parser(
        "render", help="draw the window showing a scene into a PNG (no display needed)"
    )
    r.add_argument("scene")
    r.add_argument("--out", required=True, metavar="FILE.png")
    r.add_argument(
        "--size", type=_size, default=(1400, 900), metavar="WxH", help="default 1400x900"
    )
    r.add_argument("--steps", type=int, default=0, help="train this many steps first")
    r.add_argument(
        "--expand",
        action="append",
        default=[],
        metavar="ID",
        help="show layer ID opened into its neurons (repeatable)",
    )
    r.set_defaults(func=cmd_render)

    from bpviz.export import TARGETS

    x = sub.add_parser(
        "export", help="write the graph as code: a PyTorch module, a numpy script or ONNX"
    )
    x.add_argument("scene")
    x.add_argument("--to", required=True, choices=list(TARGETS), help="what to write")
    x.add_argument("--out", metavar="FILE", help="default: the scene's name, in this folder")
    x.set_defaults(func=cmd_export)

    w = sub.add_parser("open", help="open a scene in the window (the default command)")
    w.add_argument("scene", nargs="?")
    w.set_defaults(func=cmd_window)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    commands = {"eval", "train", "gradcheck", "render", "export", "open"}
    if not argv or (argv[0] not in commands and not argv[0].startswith("-")):
        argv = ["open", *argv]  # `bpviz` and `bpviz SCENE` open the window
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse already printed its message
        return 2 if e.code else 0
    try:
        return args.func(args)
    except BpvizError as e:
        print(f"bpviz: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bpviz: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
