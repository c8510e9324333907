"""Command line: everything the window can do to a graph's numbers, without a window.

Exit status: 0 success, 1 a check failed (gradcheck), 2 bad input (one line on stderr,
`bpviz: error: ...`), 130 interrupted (Ctrl-C, `bpviz: interrupted`).

Only the standard library is imported at the top: the interrupt guard in `main` must be in
place before numpy, the scene package or Qt load. A verb is one `cmd_*` function plus one
`_add_*` function that declares its arguments, listed in `VERBS`.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import signal
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from bpviz import __version__
from bpviz.engine.errors import BpvizError, one_line, plural
from bpviz.engine.files import FileProblem

LOSS_MEANING = (
    "Every reported loss and accuracy is measured on the whole training set with the "
    "parameters after the step's update (the final figure is the trained model's). "
    "--csv adds batch_loss: the loss of the batch each step's gradients came from, "
    "before its update."
)


class UsageError(BpvizError):
    """A mistake on the command line itself (argparse's complaint, made one line)."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting: bad input of any kind
    gives the same single `bpviz: error:` line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see: {self.prog} --help)")


# ---- output helpers --------------------------------------------------------------------------
def _fmt(a: Any) -> str:
    """A scalar, or an array's first entries and its shape: one short cell per array
    (`--json` has every number)."""
    import numpy as np

    a = np.asarray(a)
    if a.ndim == 0:
        return f"{float(a):.6g}"
    flat = [f"{float(v):.4g}" for v in a.reshape(-1)[:4]]
    if a.size > 4:
        flat[-1:] = ["…", f"{float(a.reshape(-1)[-1]):.4g}"]
    return f"[{' '.join(flat)}] {a.shape}"


def _json_value(a: Any) -> Any:
    import numpy as np

    a = np.asarray(a)
    return a.item() if a.ndim == 0 else a.tolist()


class OutputError(BpvizError):
    """Standard output cannot be written (a full disk, a closed descriptor)."""


def _say(text: str) -> None:
    """One line of results on stdout; a failure to write it is bpviz's one error line."""
    _write(text + "\n")


def _write(text: str) -> None:
    """Text on stdout, as `_say` but without ending the line."""
    if sys.stdout is None:  # started with stdout closed: nobody is reading
        return
    try:
        sys.stdout.write(text)
    except BrokenPipeError:
        raise
    except OSError as e:
        _silence_stdout()
        raise OutputError(f"cannot write the output: {e.strerror or e}") from None


def _flush() -> None:
    if sys.stdout is None:
        return
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as e:
        _silence_stdout()
        raise OutputError(f"cannot write the output: {e.strerror or e}") from None


def _warn(message: str) -> None:
    print(f"bpviz: warning: {one_line(message)}", file=sys.stderr)


MAX_STEPS = 1_000_000_000


def _steps(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 0 <= n <= MAX_STEPS:
        raise argparse.ArgumentTypeError(f"must be from 0 to {MAX_STEPS}, got {n}")
    return n


def _distinct(
    scene: str, *, what: str = "scene", **outputs: str | os.PathLike[str] | None
) -> None:
    """Refuse two outputs naming one file, or an output that would replace the scene read
    (except --save, whose point may be to update the scene in place)."""
    seen: dict[str, str] = {}
    for flag, path in outputs.items():
        if path is None:
            continue
        real = os.path.realpath(path)
        if flag != "save" and real == os.path.realpath(scene):
            raise UsageError(f"--{flag} {path} would replace the {what} being read")
        if real in seen:
            raise UsageError(f"--{seen[real]} and --{flag} name the same file, {path}")
        seen[real] = flag


# ---- verbs -----------------------------------------------------------------------------------
def _eval_rows(scene: Any) -> Iterator[tuple[str, str, Any, Any]]:
    """(name, op, value, gradient) for every computed node in pass order, each followed by
    its own parameters that are not the node's value (a dense layer's W and b). Made one
    row at a time: a million-node table is printed without being held."""
    executor = scene.session.executor
    for nid in scene.graph.topological_order():
        if not executor.has_value(nid):
            continue
        op = scene.graph.node(nid).op
        yield nid, op, scene.value(nid), scene.grad(nid)
        grads = executor.param_grads.get(nid, {})
        for name, value in executor.params.get(nid, {}).items():
            if name != "value" and name in grads:
                yield f"{nid}.{name}", f"{op} {name}", value, grads[name]


def cmd_eval(args: argparse.Namespace) -> int:
    from bpviz.scene import load_scene

    scene = load_scene(args.scene)
    with scene.running():
        out = scene.forward()
        scene.backward()
    if args.json:
        _write_eval_json(scene, out)
        return 0
    _say(f"output {scene.graph.output} = {_fmt(out)}")
    head = ("node", "op", "value", "gradient")
    # two passes over the rows (widths, then lines): nothing per row is kept in between
    widths = [len(cell) for cell in head[:3]]
    for name, op, v, _ in _eval_rows(scene):
        widths = [max(w, len(c)) for w, c in zip(widths, (name, op, _fmt(v)), strict=True)]
    for row in itertools.chain([head], _eval_table(scene)):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        _say("  ".join([*cells, row[3]]))
    return 0


def _write_eval_json(scene: Any, out: Any) -> None:
    """`{"output": …, "nodes": {id: {"value", "grad"}}, "params": {id: {name: {…}}}}` on one
    line, the same text as one `json.dumps` of that object, but the nodes written one by
    one: a million-node scene is never held as one dict or string (the parameters, a dense
    layer's W and b, are kept until the end)."""
    _write(f'{{"output": {json.dumps(_json_value(out))}, "nodes": {{')
    params: dict[str, dict[str, Any]] = {}
    separator = ""
    for name, _, v, g in _eval_rows(scene):
        entry = {"value": _json_value(v), "grad": _json_value(g)}
        if "." in name:
            nid, param = name.rsplit(".", 1)
            params.setdefault(nid, {})[param] = entry
        else:
            _write(f"{separator}{json.dumps(name)}: {json.dumps(entry)}")
            separator = ", "
    _write(f'}}, "params": {json.dumps(params)}}}\n')


def _eval_table(scene: Any) -> Iterator[tuple[str, str, str, str]]:
    for name, op, v, g in _eval_rows(scene):
        yield name, op, _fmt(v), _fmt(g)


def _progress(total: int, enabled: bool):  # noqa: ANN202 - tqdm or a no-op
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="step", file=sys.stderr, dynamic_ncols=True, leave=False)


def cmd_train(args: argparse.Namespace) -> int:
    from bpviz.scene import load_scene
    from bpviz.scene.files import check_writable

    _distinct(args.scene, csv=args.csv, save=args.save)
    for target in (args.csv, args.save):
        if target is not None:
            check_writable(target)  # before minutes of training, not after
    scene = load_scene(args.scene)
    scene.check_trainable()
    for warning in scene.training_warnings():
        _warn(f"{args.scene}: {warning}")
    bar = _progress(args.steps, sys.stderr.isatty() and not args.json)

    def on_step(result) -> None:  # noqa: ANN001
        if bar is not None:
            bar.update(1)
            if result.step % 50 == 0:
                bar.set_postfix(loss=f"{result.loss:.4g}")

    try:
        with scene.running():
            history = scene.train(args.steps, on_step=on_step)
    finally:
        if bar is not None:
            bar.close()
    loss, acc = scene.metrics()  # with the l1/l2 penalty, as the history records it
    if args.csv:
        from bpviz.scene.history_csv import write_history_csv

        write_history_csv(history, args.csv)
    if args.save:
        scene.save(args.save)
    steps = len(history)
    if args.json:
        _say(json.dumps({"loss": loss, "accuracy": acc, "steps": steps}))
    else:
        line = f"trained {plural(steps, 'step')}: loss {loss:.6g}"
        if acc is not None:
            line += f", accuracy {acc:.1%}"
        _say(line)
        if args.save:
            _say(f"saved {args.save}")
    return 0


def cmd_gradcheck(args: argparse.Namespace) -> int:
    from bpviz.scene import load_scene

    scene = load_scene(args.scene)
    with scene.running():
        results = scene.gradcheck()
    bad = [r for r in results if not r.ok]
    for r in results:
        mark = "ok  " if r.ok else "FAIL"
        errors = f"max abs error {r.max_abs_error:.2e}, max rel error {r.max_rel_error:.2e}"
        _say(f"{mark} {r.node_id}.{r.name}: {errors}")
    if bad:
        names = ", ".join(sorted({r.node_id for r in bad}))
        _say(f"gradient check failed for: {names}")
        return 1
    n = len(results)
    _say(
        "the 1 gradient agrees with finite differences"
        if n == 1
        else f"all {n} gradients agree with finite differences"
    )
    return 0


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected WIDTHxHEIGHT like 1400x900, got {text!r}"
        ) from None
    if not (320 <= w <= 8000 and 240 <= h <= 8000):
        raise argparse.ArgumentTypeError(f"size {w}x{h} is outside 320x240..8000x8000 pixels")
    return w, h


def cmd_render(args: argparse.Namespace) -> int:
    from bpviz.scene import load_scene
    from bpviz.scene.files import check_writable

    _distinct(args.scene, out=args.out)
    check_writable(args.out)
    if args.steps:
        load_scene(args.scene).check_trainable()
    from bpviz.scene import SceneError
    from bpviz.ui.render import render

    try:
        render(args.scene, args.out, args.size, args.steps, args.theme, args.expand)
    except (SceneError, FileProblem):
        raise  # they name their file already
    except BpvizError as e:  # raised while training or drawing: say which scene
        raise SceneError(str(e), source=args.scene) from e
    _say(f"wrote {args.out}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from bpviz.export import TARGETS, export_scene
    from bpviz.scene import load_scene
    from bpviz.scene.files import check_writable

    out = Path(args.scene).stem + TARGETS[args.to].suffix if args.out is None else args.out
    check_writable(out)  # first: a folder such as / has no name to give the sidecar
    sidecar = Path(out).with_suffix(".npz") if args.to == "torch" else None
    if sidecar is not None and os.path.realpath(sidecar) == os.path.realpath(out):
        raise UsageError(
            f"--out {out}: the torch export writes its arrays to {sidecar}; end it in .py"
        )
    _distinct(args.scene, out=out, npz=sidecar)
    if sidecar is not None:
        check_writable(sidecar)
    out = Path(out)
    scene = load_scene(args.scene)
    with scene.running():
        written = export_scene(scene, args.to, out)
    _say("wrote " + ", ".join(str(p) for p in written))
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """An ONNX model as a scene file; nothing is written when the model cannot be imported."""
    from bpviz.interop.onnx_import import import_onnx
    from bpviz.scene import save_scene_dict
    from bpviz.scene.files import check_writable

    out = Path(args.model).stem + ".json" if args.out is None else args.out
    _distinct(args.model, what="model", out=out)
    check_writable(out)
    save_scene_dict(import_onnx(args.model), out)
    _say(f"wrote {out}")
    return 0


def _no_display() -> bool:
    """On X11/Wayland systems without a display Qt aborts the process; say so instead."""
    if sys.platform in ("win32", "darwin") or os.environ.get("QT_QPA_PLATFORM"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def cmd_window(args: argparse.Namespace) -> int:
    if _no_display():
        if args.scene is not None:
            from bpviz.scene import load_scene

            load_scene(args.scene, runnable=False)  # a bad file is reported first, as ever
        raise BpvizError(
            "no display to open the window on (DISPLAY is not set); set"
            " QT_QPA_PLATFORM=offscreen to run without one, or draw the window into a PNG"
            " with `bpviz render SCENE.json --out FILE.png`"
        )
    try:
        from bpviz.ui.app import run
    except ImportError as e:
        raise BpvizError(f"the desktop window is not available: {e}") from None
    return run(args.scene)


# ---- the parser ------------------------------------------------------------------------------
Sub = Any  # argparse's private _SubParsersAction
SCENE_HELP = "a bpviz scene file (.json), e.g. scenes/moons.json"


def _add_eval(sub: Sub) -> None:
    e = sub.add_parser(
        "eval", help="one forward and backward pass: every node's value and gradient"
    )
    e.add_argument("scene", help=SCENE_HELP)
    e.add_argument("--json", action="store_true", help="machine-readable output")
    e.set_defaults(func=cmd_eval)


def _add_train(sub: Sub) -> None:
    t = sub.add_parser(
        "train",
        help="train as the scene's training block says",
        description=f"Train as the scene's training block says. {LOSS_MEANING}",
    )
    t.add_argument("scene", help=SCENE_HELP)
    t.add_argument(
        "--steps", type=_steps, required=True, help=f"optimizer steps to take (0 to {MAX_STEPS})"
    )
    t.add_argument("--save", metavar="OUT", help="save the scene with learned weights")
    t.add_argument(
        "--csv",
        metavar="LOSS.csv",
        help="write the history as CSV: step, loss, accuracy (whole training set after the"
        " step's update), test_loss, test_accuracy, batch_loss (the step's batch, before it)",
    )
    t.add_argument(
        "--json",
        action="store_true",
        help='machine-readable output: {"loss", "accuracy", "steps"}',
    )
    t.set_defaults(func=cmd_train)


def _add_gradcheck(sub: Sub) -> None:
    g = sub.add_parser(
        "gradcheck", help="compare gradients with finite differences (exit 1 on failure)"
    )
    g.add_argument("scene", help=SCENE_HELP)
    g.set_defaults(func=cmd_gradcheck)


def _add_render(sub: Sub) -> None:
    r = sub.add_parser(
        "render", help="draw the window showing a scene into a PNG (no display needed)"
    )
    r.add_argument("scene", help=SCENE_HELP)
    r.add_argument("--out", required=True, metavar="FILE.png", help="the PNG to write")
    r.add_argument(
        "--size",
        type=_size,
        default=(1400, 900),
        metavar="WxH",
        help="image size in pixels, from 320x240 up (default 1400x900)",
    )
    r.add_argument("--steps", type=_steps, default=0, help="train this many steps first")
    r.add_argument(
        "--theme",
        choices=["light", "dark", "system"],
        default="light",
        help="colours to draw in (default light)",
    )
    r.add_argument(
        "--expand",
        action="append",
        default=[],
        metavar="ID",
        help="show layer ID opened into its neurons (repeatable)",
    )
    r.set_defaults(func=cmd_render)


def _add_export(sub: Sub) -> None:
    from bpviz.export import TARGETS

    x = sub.add_parser(
        "export", help="write the graph as code: a PyTorch module, a numpy script or ONNX"
    )
    x.add_argument("scene", help=SCENE_HELP)
    x.add_argument("--to", required=True, choices=list(TARGETS), help="what to write")
    x.add_argument("--out", metavar="FILE", help="default: the scene's name, in this folder")
    x.set_defaults(func=cmd_export)


def _add_import(sub: Sub) -> None:
    i = sub.add_parser("import", help="read an ONNX model as a scene file")
    i.add_argument("model", metavar="MODEL.onnx", help="the ONNX model file to read")
    i.add_argument("--out", metavar="SCENE.json", help="default: the model's name, in this folder")
    i.set_defaults(func=cmd_import)


def _add_open(sub: Sub) -> None:
    w = sub.add_parser("open", help="open a scene in the window (the default command)")
    w.add_argument("scene", nargs="?", help=SCENE_HELP + " (default: an example)")
    w.set_defaults(func=cmd_window)


VERBS: tuple[Callable[[Sub], None], ...] = (
    _add_eval,
    _add_train,
    _add_gradcheck,
    _add_render,
    _add_export,
    _add_import,
    _add_open,
)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="bpviz",
        description="See backpropagation happen. With no command, opens the window.",
        epilog=LOSS_MEANING,
    )
    p.add_argument("--version", action="version", version=f"bpviz {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for add in VERBS:
        add(sub)
    return p


# ---- running ---------------------------------------------------------------------------------
class _Interrupts:
    """Remembers a Ctrl-C even when a library turns the KeyboardInterrupt into another error
    (numpy's import reports one as an ImportError)."""

    seen = False

    @classmethod
    def handler(cls, signum: int, frame: Any) -> None:
        cls.seen = True
        raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. Whatever happens, at most one line reaches stderr."""
    _Interrupts.seen = False
    try:  # unless Ctrl-C is ignored, as in a background job (Python leaves it so, too)
        ignored = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        old = None if ignored else signal.signal(signal.SIGINT, _Interrupts.handler)
    except ValueError:  # not the main thread: keep Python's own handler
        old = None
    try:
        code = _main(argv)
        if not _Interrupts.seen:
            return code
    except KeyboardInterrupt:
        pass
    finally:
        if old is not None:
            # a real process: a second Ctrl-C must not interrupt the goodbye
            signal.signal(signal.SIGINT, signal.SIG_IGN if argv is None else old)
    print("bpviz: interrupted", file=sys.stderr)
    return 130


def _main(argv: Sequence[str] | None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    with warnings.catch_warnings():
        # numpy's RuntimeWarnings (and any library's) would print before bpviz's own line;
        # every problem bpviz can report is reported as an error or a `bpviz: warning:` line
        warnings.simplefilter("ignore")
        try:
            parser = build_parser()
            commands = set(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
            if not args_list or (args_list[0] not in commands and not args_list[0].startswith("-")):
                args_list = ["open", *args_list]  # `bpviz` and `bpviz SCENE` open the window
            try:
                args = parser.parse_args(args_list)
            except SystemExit as e:  # --help or --version: argparse printed them
                return 0 if not e.code else 2
            if not hasattr(args, "func"):
                raise UsageError("expected a command (see: bpviz --help)")
            if argv is None and args.func is not cmd_window:
                _limit_memory()
            code = args.func(args)
            _flush()
            return code
        except BpvizError as e:
            return _error(str(e))
        except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading
            _silence_stdout()
            return 0
        except MemoryError:
            return _error(f"not enough memory{_memory_note()}")
        except RecursionError:
            return _error("nested too deeply")
        except Exception as e:  # a bug must still give one line, not a traceback
            if os.environ.get("BPVIZ_DEBUG"):
                raise
            return _error(f"unexpected problem ({type(e).__name__}: {e}); please report it")


MEMORY_LIMIT_MIB = 1536
"""What a command (not the window) may allocate: a hostile scene or data file ends with one
`not enough memory` line instead of swapping the machine. BPVIZ_MEMORY_LIMIT (MiB, 0 for
none) changes it."""


def _memory_limit_mib() -> int:
    try:
        return max(0, int(os.environ.get("BPVIZ_MEMORY_LIMIT", MEMORY_LIMIT_MIB)))
    except ValueError:
        return MEMORY_LIMIT_MIB


def _limit_memory() -> None:
    """Cap the process's data memory (Linux: heap and private mappings, which is where numpy
    arrays live); allocations beyond it raise MemoryError, which every layer reports."""
    limit = _memory_limit_mib()
    if not limit or not sys.platform.startswith("linux"):
        return
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
        want = limit << 20
        if hard != resource.RLIM_INFINITY:
            want = min(want, hard)
        if soft == resource.RLIM_INFINITY or soft > want:
            resource.setrlimit(resource.RLIMIT_DATA, (want, hard))
    except (ImportError, OSError, ValueError):
        pass


def _memory_note() -> str:
    limit = _memory_limit_mib()
    if not limit or not sys.platform.startswith("linux"):
        return ""
    return f" (commands use at most {limit} MiB; BPVIZ_MEMORY_LIMIT=MiB changes it, 0 for none)"


def _error(message: str) -> int:
    if _Interrupts.seen:  # the error is what the interrupt turned into; main says so
        return 130
    print(f"bpviz: error: {one_line(message)}", file=sys.stderr)
    return 2


def _silence_stdout() -> None:
    """Point stdout at /dev/null so Python's final flush cannot complain about the pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives until the process ends


if __name__ == "__main__":
    raise SystemExit(main())
