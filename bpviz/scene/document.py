"""Loading, running and saving scenes: the pipeline from file text to a runnable `Scene`.

text -> JSON -> migrate to the newest version -> structure (schema) -> meaning (validate)
-> Graph -> Session (data, training) -> one forward pass (shapes) -> saved state restored.
Each stage raises only `SceneError`; whatever else goes wrong becomes one too, so callers
(the CLI, the window) need exactly one `except`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bpviz.engine.attrs import copy_value
from bpviz.engine.collector import collector_paused
from bpviz.engine.errors import BpvizError, DatasetError, GraphError, NonFiniteError, ShapeError
from bpviz.engine.files import FileProblem
from bpviz.engine.gradcheck import GradCheck
from bpviz.engine.graph import Graph
from bpviz.engine.optim import ConfigError, TrainingConfig
from bpviz.engine.session import Session
from bpviz.engine.training import History, StepResult
from bpviz.scene import codec, stream_check
from bpviz.scene.errors import SceneError, describe, join_place
from bpviz.scene.files import (
    PathArg,
    encode,
    parse_json,
    read_bytes,
    rebase_data,
    scene_text,
    write_atomic,
)
from bpviz.scene.migrate import check_header, migrate
from bpviz.scene.needs import check_target_encodings, scalar_problem, training_warnings
from bpviz.scene.schema import SceneModel, check_structure
from bpviz.scene.state import check_fits, normal_state, restore
from bpviz.scene.stream import read_scene
from bpviz.scene.validate import check_graph, node_place, normal_nodes

Pos = tuple[float, float]


def _split(message: str, area: str) -> SceneError:
    """Engine messages start with their own place (`training.lr: ...`); keep it as the place."""
    head, sep, rest = message.partition(": ")
    if sep and (head == area or head.startswith(area + ".")):
        return SceneError(rest, head)
    return SceneError(message, area)


def _check_training(training: dict[str, Any] | None) -> None:
    for key, value in (training or {}).items():
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**63:
            raise SceneError(f"number too large: {describe(value)}", join_place(("training", key)))
    try:
        TrainingConfig.from_dict(training)
    except ConfigError as e:
        raise _split(str(e), "training") from None


def _session(graph: Graph, scene: SceneModel, base_dir: PathArg | None) -> Session:
    try:
        return Session(graph, scene.data, scene.training, base_dir)
    except DatasetError as e:
        raise _split(str(e), "data") from None
    except ConfigError as e:  # already checked; kept for safety
        raise _split(str(e), "training") from None
    except (ArithmeticError, ValueError, TypeError) as e:
        raise SceneError(f"cannot make the dataset ({e})", "data") from None


_ENGINE_SLIPS = (ArithmeticError, ValueError, TypeError, KeyError, IndexError)


def _forward(session: Session, ids: Mapping[str, int], runnable: bool) -> None:
    """One pass to find shapes that cannot combine. A NaN is not a file problem (the person
    sees it when running), and a draft (`runnable=False`) may not run at all."""
    try:
        session.forward()
    except NonFiniteError:
        pass
    except ShapeError as e:
        if runnable:
            raise _shape_error(e, ids) from None
    except GraphError as e:
        if runnable:
            raise SceneError(f"cannot run: {e}", "nodes") from None
    except (MemoryError, *_ENGINE_SLIPS) as e:
        if runnable:
            raise _slip_error(e, session, ids) from None


def _slip_error(e: Exception, session: Session, ids: Mapping[str, int]) -> SceneError:
    """A numpy error the executor did not turn into ShapeError (a size too large to allocate,
    an axis too large for C): the culprit is the first node left without parameters, or
    else the first without a value."""
    ex = session.executor
    steps = ex.plan.nodes
    culprit = next(
        (
            s.node_id
            for s in steps
            if s.spec.has_params and s.node_id not in ex.params
        ),
        None,
    ) or next((s.node_id for s in steps if not ex.has_value(s.node_id)), None)
    if isinstance(e, MemoryError):
        problem = "not enough memory to compute it (is a size too large?)"
    else:
        problem = f"cannot compute ({type(e).__name__}: {e})"
    if culprit is None or culprit not in ids:
        return SceneError(problem, "nodes")
    return SceneError(problem, f"{node_place(ids[culprit])} (id '{culprit}')")


def _shape_error(e: ShapeError, ids: Mapping[str, int]) -> SceneError:
    message = str(e).removeprefix(f"node '{e.node_id}': ").strip()
    if message.startswith("saved parameters"):
        return SceneError(message, join_place(("state", "params", e.node_id)))
    i = ids.get(e.node_id)
    place = f"{node_place(i)} (id '{e.node_id}')" if i is not None else f"node '{e.node_id}'"
    if "shape" in message.lower():
        message = f"incompatible shapes: {message}"
    return SceneError(message, place)


@dataclass
class _Checked:
    model: SceneModel  # the file's top level (its node list is in `graph`)
    graph: Graph
    positions: dict[str, Pos]
    session: Session
    state: dict[str, Any] | None

    @property
    def normal(self) -> dict[str, Any]:
        """The scene dict as the codec writes it: every key present, ports and attrs in the
        op's order, null attrs dropped (made on demand: loading a file never needs it)."""
        scene, where = self.model, self.positions
        return codec.scene_dict(
            name=scene.name,
            description=scene.description,
            output=scene.output,
            nodes=[codec.node_dict(node, where.get(node.id)) for node in self.graph],
            data=scene.data,
            training=scene.training,
            state=self.state,
        )


def _structure(raw: Any, runnable: bool) -> tuple[SceneModel, Graph, dict[str, Pos], Mapping]:
    """The full route: JSON value -> upgraded -> schema -> meaning checks -> Graph."""
    if isinstance(raw, Mapping) and not isinstance(raw, dict):
        raw = dict(raw)
    scene = check_structure(migrate(raw))
    ids = check_graph(scene, complete=runnable)
    nodes = normal_nodes(scene)
    graph = codec.build_graph(nodes, scene.output, checked=True)
    return scene.model_copy(update={"nodes": []}), graph, codec.positions(nodes), ids


def _check(raw: Any, base_dir: PathArg | None, runnable: bool, run: bool = True) -> _Checked:
    """The file's checks; `run=False` leaves a draft without saved state unrun (its pass
    would report nothing: `_forward`)."""
    quick = None
    if isinstance(raw, (str, bytes, bytearray)):
        text = scene_text(raw)
        del raw  # the text alone from here on: a large file is held once, not twice
        quick = read_scene(text, runnable)
        if quick is None and len(text) >= stream_check.MIN_CHARS:
            problem = stream_check.first_problem(text, runnable)  # found without the whole
            if problem is not None:  # file in memory as objects: a big file still says why
                raise problem
        raw = parse_json(text) if quick is None else None
        del text
    if quick is not None:
        scene, graph, positions, ids = quick.model, quick.graph, quick.positions, quick.index
    else:
        scene, graph, positions, ids = _structure(raw, runnable)
    del raw
    if runnable:
        check_target_encodings(scene.data, graph.nodes, ids)
    state = None
    if scene.state is not None:
        state = normal_state(scene.state, {nid: node.op for nid, node in graph.nodes.items()})
    _check_training(scene.training)
    session = _session(graph, scene, base_dir)
    if run or runnable or state is not None:
        _forward(session, ids, runnable)
    if state is not None:
        check_fits(session.executor.params, state, session.config.optimizer)
        restore(session, state)
        _forward(session, ids, runnable)  # values of the saved model, ready to show
    return _Checked(scene, graph, positions, session, state)


def _guarded(source: str, run: Callable[[], Any], doing: str = "loading") -> Any:
    """Run a load stage; every failure leaves as one SceneError that starts with `source`."""
    try:
        with collector_paused():
            return run()
    except SceneError as e:
        raise e.with_source(source) from e.__cause__
    except RecursionError:
        raise SceneError("nested too deeply", source=source) from None
    except MemoryError:
        raise SceneError("too large to load (out of memory)", source=source) from None
    except Exception as e:  # a bug in a check must still not crash the caller
        kind = type(e).__name__
        raise SceneError(f"unexpected problem while {doing} ({kind}: {e})", source=source) from e


class Scene:
    """A loaded scene: its graph, a session that runs it, and what the editor shows.

    `data` and `training` are the file's specs as written; `path` is where it was loaded
    from or last saved to (None for text), and relative data paths resolve against `base_dir`.
    """

    def __init__(
        self,
        graph: Graph,
        session: Session,
        positions: dict[str, Pos],
        *,
        name: str | None = None,
        description: str | None = None,
        data: dict[str, Any] | None = None,
        training: dict[str, Any] | None = None,
        path: Path | None = None,
        base_dir: PathArg | None = None,
        restored: bool = False,
    ) -> None:
        self.graph = graph
        self.session = session
        self.positions = positions
        self.name = name
        self.description = description
        self.data = data
        self.training = training
        self.path = path
        self.base_dir = base_dir
        self._restored = restored

    # ---- running -------------------------------------------------------------------------
    def forward(self) -> np.ndarray:
        return self.session.forward()

    def backward(self) -> None:
        self.session.backward()

    def value(self, node_id: str) -> np.ndarray:
        return self.session.value(node_id)

    def grad(self, node_id: str) -> np.ndarray:
        return self.session.grad(node_id)

    def param(self, node_id: str, name: str = "value") -> np.ndarray:
        return self.session.param(node_id, name)

    def predict(self, x: Any, node: str | None = None) -> np.ndarray:
        """Evaluate `node` for new raw input rows `x` (N × F) with the current parameters,
        data transforms applied; by default the model's prediction (the node feeding the
        loss's `pred` port, or the output when it is not a loss). The training pass's values
        are left as they were."""
        return self.session.predict(x, node)

    def train(self, steps: int, on_step: Callable[[StepResult], None] | None = None) -> History:
        return self.session.train(steps, on_step)

    def gradcheck(self, **kwargs: Any) -> list[GradCheck]:
        return self.session.gradcheck(**kwargs)

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """Errors raised while computing (a NaN from log(0), a non-scalar loss, a full disk)
        come out as one SceneError that names this scene's file as well as the node."""
        source = os.fspath(self.path) if self.path is not None else "<scene>"
        try:
            yield
        except SceneError as e:
            raise e.with_source(source) from e.__cause__
        except FileProblem:
            raise  # names its own file
        except BpvizError as e:
            raise SceneError(str(e), source=source) from e
        except MemoryError:
            raise SceneError("not enough memory to compute it", source=source) from None
        except (ArithmeticError, ValueError, TypeError, IndexError) as e:
            problem = f"cannot compute ({type(e).__name__}: {e})"
            raise SceneError(problem, source=source) from e

    def check_trainable(self) -> None:
        """SceneError unless the output is a scalar loss (one forward pass finds its shape)."""
        with self.running():
            self.forward()
            problem = scalar_problem(self.session)
            if problem:
                raise SceneError(problem, "output")

    def training_warnings(self) -> list[str]:
        """Reasons training would change nothing, e.g. no node with parameters."""
        return training_warnings(self.session)

    def metrics(self) -> tuple[float, float | None]:
        """Loss and accuracy of the current parameters on the whole training set: the
        figures every report of a trained scene gives (see LOSS_MEANING). The loss carries
        the training.l1/l2 weight penalty, as the history's does."""
        with self.running():
            out = self.forward()
            problem = scalar_problem(self.session)
            if problem:
                raise SceneError(problem, "output")
            return float(out) + self.session.trainer.penalty(), self.session.accuracy()

    @property
    def history(self) -> History:
        """Steps trained since loading (numbering continues from a restored optimizer)."""
        return self.session.history

    @property
    def has_state(self) -> bool:
        """Learned numbers worth saving: restored from the file, or trained since loading.
        Initial weights are not: the seed recreates them."""
        return self._restored or self.session.trainer.step_count > 0

    # ---- saving --------------------------------------------------------------------------
    def node_dict(self, node_id: str) -> dict[str, Any]:
        # no position in the file: none written back (it is laid out when opened)
        return codec.node_dict(self.graph.node(node_id), self.positions.get(node_id))

    def state_dict(self) -> dict[str, Any]:
        """The session's learned state, limited to nodes still in the graph."""
        state = self.session.state_dict()
        state["params"] = {k: v for k, v in state["params"].items() if k in self.graph}
        slots = state["optimizer"].get("slots", {})
        state["optimizer"]["slots"] = {k: v for k, v in slots.items() if k in self.graph}
        return state

    def to_dict(self, include_state: bool = True) -> dict[str, Any]:
        """The file's dict; `state` only when asked for and there are learned numbers."""
        keep = include_state and self.has_state and bool(self.session.executor.params)
        return codec.scene_dict(
            name=self.name,
            description=self.description,
            output=self.graph.output,
            nodes=[self.node_dict(n.id) for n in self.graph],
            data=self.data,
            training=self.training,
            state=self.state_dict() if keep else None,
            with_state=keep,
        )

    def save(self, path: PathArg | None = None, include_state: bool = True) -> Path:
        """Write atomically to `path` (default: where it came from); the scene then lives
        there, and a relative data path is rewritten to keep pointing at the same file."""
        if path is None and self.path is None:
            raise SceneError("no file to save to; give a path")
        target = Path(path) if path is not None else self.path
        assert target is not None
        d = self.to_dict(include_state)
        d["data"] = rebase_data(d["data"], self.base_dir, target.parent)
        try:
            text = encode(d)
        except SceneError as e:
            raise e.with_source(os.fspath(target)) from e.__cause__
        write_atomic(text, target)  # its errors name the file: "cannot write PATH: reason"
        self.path, self.base_dir, self.data = target, target.parent, d["data"]
        return target


def _scene(checked: _Checked, path: Path | None, base_dir: PathArg | None) -> Scene:
    scene = checked.model
    return Scene(
        checked.graph,
        checked.session,
        checked.positions,
        name=scene.name,
        description=scene.description,
        data=copy_value(scene.data),
        training=copy_value(scene.training),
        path=path,
        base_dir=base_dir,
        restored=checked.state is not None,
    )


def parse_scene(
    text_or_dict: str | bytes | Mapping[str, Any],
    base_dir: PathArg | None = None,
    source: str = "<scene>",
    *,
    runnable: bool = True,
) -> Scene:
    """A scene from JSON text or an already parsed dict.

    `runnable=False` accepts an editing draft: unwired inputs, no output, shapes that do not
    fit yet. Everything else (ids, ops, ports, references, cycles, attrs, data, training,
    state) is checked all the same."""
    checked = _guarded(source, lambda: _check(text_or_dict, base_dir, runnable))
    return _scene(checked, None, base_dir)


def load_scene(path: PathArg, *, runnable: bool = True, run: bool = True) -> Scene:
    """Open a scene file; errors start with the file name. CSV paths are relative to it.

    A draft (`runnable=False`) is run once to have its values, unless `run=False` (for a
    caller that runs it its own way, as the window does: 10 ms at 5,000 nodes); a file with
    saved state is run all the same (the state is checked against the parameters)."""
    source = os.fspath(path) or "''"  # an empty name still shows where the error is
    base_dir = Path(path).parent
    checked = _guarded(source, lambda: _check(read_bytes(path), base_dir, runnable, run))
    return _scene(checked, Path(path), base_dir)


def validate_scene_dict(
    d: Mapping[str, Any],
    base_dir: PathArg | None = None,
    *,
    source: str = "<scene>",
    runnable: bool = True,
) -> dict[str, Any]:
    """Every load check on a dict (clipboard, recovery file); returns it normalised: every
    key present, ports and attrs in the op's order, arrays as float lists, null attrs gone."""
    if not isinstance(d, Mapping):
        raise SceneError("expected a scene dict {...}", source=source)
    # a draft's pass reports nothing and its values are not returned: not run
    return _guarded(source, lambda: _check(d, base_dir, runnable, run=False)).normal


def save_scene_dict(
    d: Mapping[str, Any], path: PathArg, *, base_dir: PathArg | None = None
) -> None:
    """Write a scene dict atomically as it is (an editing draft may not run yet), after
    checking it is a scene at all. With `base_dir` (where the dict's relative data path was
    meant from), a relative CSV path is rewritten for the new folder."""
    source = os.fspath(path) or "''"  # an empty name still shows where the error is

    def run() -> str:
        if not isinstance(d, Mapping):
            raise SceneError("expected a scene dict {...}")
        check_header(dict(d))
        scene = dict(d)
        if base_dir is not None and "data" in scene:
            scene["data"] = rebase_data(scene["data"], base_dir, Path(path).parent)
        return encode(scene)

    write_atomic(_guarded(source, run, "saving"), path)
