"""Read an ONNX model (written by any tool) as a scene: its forward graph, weights included.

Every ONNX op maps through one entry in ONNX_IMPORTS. Initializers become the weights
(`param` nodes, or a `dense` node's W and b), `Constant` nodes become `const` nodes, and the
graph input becomes the scene's `input` node, whose `attrs.value` is zeros of the input's
shape with dynamic dimensions set to 1 (the scene has no data; choose some in the window or
edit the value). A Gemm, or a MatMul followed by an Add of an initializer, becomes a `dense`
node where it fits, taking a following Relu, Tanh or Sigmoid as its activation. Numbers are
read in float64 whatever the model's float type. An op without an entry, or an attribute the
scene cannot express, raises one InteropError naming the node and op type, before anything
is written.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bpviz.interop.common import InteropError, SceneBuilder, tensor, unsupported

MAX_BYTES = 512 * 1024 * 1024  # the largest model file read
DENSE_ACTIVATIONS = {"Relu": "relu", "Tanh": "tanh", "Sigmoid": "sigmoid"}


class _Unsupported(Exception):
    """An op present in the table but used in a way the scene cannot express."""


class _Graph:
    """The ONNX graph being translated: names of ONNX values -> bpviz node ids."""

    def __init__(self, onnx: Any, model: Any) -> None:
        self.onnx = onnx
        self.graph = model.graph
        self.opset = next(
            (o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 1
        )
        self.b = SceneBuilder()
        self.value: dict[str, str] = {}  # ONNX value name -> bpviz node id
        self.consts: dict[str, np.ndarray] = {
            t.name: onnx.numpy_helper.to_array(t) for t in self.graph.initializer
        }
        self.from_constant: set[str] = set()  # values made by Constant nodes (-> const)
        self.ranks: dict[str, int] = _ranks(onnx, model)
        self.consumers: dict[str, list[Any]] = {}
        for node in self.graph.node:
            for name in node.input:
                self.consumers.setdefault(name, []).append(node)
        self.outputs = {o.name for o in self.graph.output}
        self.absorbed: set[int] = set()  # ids of nodes folded into an earlier dense node
        # bpviz's exporter gives the last ONNX node of each bpviz node that node's id; other
        # tools name a layer by its first node (fc1/Gemm rather than relu/Relu).
        self.name_by_last = model.producer_name == "bpviz"

    # ---- reading inputs -------------------------------------------------------------------
    def const(self, name: str) -> np.ndarray | None:
        """A value fixed in the file (initializer or Constant), or None for a computed one."""
        return self.consts.get(name)

    def x(self, name: str) -> str:
        """The bpviz node computing ONNX value `name`; an initializer becomes a param node
        the first time it is used, a Constant's value a const node."""
        nid = self.value.get(name)
        if nid is None:
            value = self.consts[name]
            op = "const" if name in self.from_constant else "param"
            nid = self.b.add(self.b.ids.take(name, "w"), op, attrs={"value": tensor(value)})
            self.value[name] = nid
        return nid

    def rank(self, name: str) -> int | None:
        c = self.const(name)
        return c.ndim if c is not None else self.ranks.get(name)

    def only_consumer(self, name: str) -> Any | None:
        """The one node reading `name`, if exactly one does and it is not a graph output."""
        users = self.consumers.get(name, [])
        return users[0] if len(users) == 1 and name not in self.outputs else None

    # ---- writing nodes --------------------------------------------------------------------
    def emit(
        self, node: Any, op: str, inputs: dict[str, str], attrs: dict[str, Any] | None = None,
        part: str = "",
    ) -> str:
        """A bpviz node for ONNX `node` (a `part` suffix names helper nodes of a composition)."""
        base = node.name or node.output[0]
        nid = self.b.ids.take(f"{base}.{part}" if part else base, "n")
        return self.b.add(nid, op, inputs, attrs)

    def number(self, node: Any, value: float, part: str) -> str:
        nid = self.b.ids.take(f"{node.name or node.output[0]}.{part}", "c")
        return self.b.add(nid, "const", attrs={"value": float(value)})


def _ranks(onnx: Any, model: Any) -> dict[str, int]:
    """Rank of every value whose shape ONNX shape inference knows."""
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception:  # a model shape inference trips on still imports; ranks stay unknown
        inferred = model
    g = inferred.graph
    ranks: dict[str, int] = {}
    for info in [*g.input, *g.value_info, *g.output]:
        t = info.type.tensor_type
        if t.HasField("shape"):
            ranks[info.name] = len(t.shape.dim)
    return ranks


def _attrs(onnx: Any, node: Any) -> dict[str, Any]:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


Importer = Callable[[_Graph, Any, dict[str, Any]], str]  # (graph, node, attrs) -> node id


def _op(op: str, *ports: str, **fixed: Any) -> Importer:
    """An ONNX op that is exactly one bpviz op, inputs in the same order."""

    def imp(g: _Graph, node: Any, attrs: dict[str, Any]) -> str:
        inputs = {p: g.x(name) for p, name in zip(ports, node.input, strict=True)}
        return g.emit(node, op, inputs, dict(fixed))

    return imp


def _alias(g: _Graph, node: Any, attrs: dict[str, Any]) -> str:
    return g.x(node.input[0])


def _flatten(g: _Graph, node: Any, attrs: dict[str, Any]) -> str:
    """Flatten(axis=1) of a 2-D input changes nothing."""
    rank = g.rank(node.input[0])
    if rank != 2 or attrs.get("axis", 1) not in (1, -1):
        got = "unknown rank" if rank is None else f"rank {rank}"
        axis = attrs.get("axis", 1)
        raise _Unsupported(f"only Flatten(axis=1) of a 2-D input (got {got}, axis {axis})")
    return _alias(g, node, attrs)


def _leaky_relu(g: _Graph, node: Any, attrs: dict[str, Any]) -> str:
    alpha = float(attrs.get("alpha", 0.01))
    return g.emit(node, "leaky_relu", {"x": g.x(node.input[0])}, {"alpha": alpha})


def _pow(g: _Graph, node: Any, attrs: dict[str, Any]) -> str:
    exponent = g.const(node.input[1])
    if exponent is None or exponent.size != 1:
        raise _Unsupported("the exponent must be one number fixed in the model")
    return g.emit(node, "pow", {"x": g.x(node.input[0])}, {"exponent": float(exponent.item())})


def _softmax(g: _Graph, node: Any, attrs: dict[str, Any]) -> str:
    """bpviz's softmax runs along the last axis; before opset 13 the default axis was 1 and
    the input was flattened from it, which is the same only when that axis is the last."""
    axis = int(attrs.get("axis", -1 if g.opset >= 13 else 1))
    rank = g.rank(node.input[0])
    last = axis == -1 if rank is None else axis % max(rank, 1) == rank - 1
    if not last:
        raise _Unsupported(f"only the last axis (axis {axis} of a rank-{rank} input)")
    return g.emit(node, "softmax", {"x": g.x(node.input[0])})


def _reduce(op: str) -> Importer:
    """axes as an input (opset 13+ ReduceSum, 18+ ReduceMean) or as an attribute."""

    def imp(g: _Graph, node: Any, attrs: dict[str, Any]) -> str:
        axes: Any = attrs.get("axes")
        if len(node.input) > 1 and node.input[1]:
            given = g.const(node.input[1])
            if given is None:
                raise _Unsupported("the axes must be fixed in the model")
            axes = [int(a) for a in given.reshape(-1)]
        if axes is not None and len(axes) == 0:
            if int(attrs.get("noop_with_empty_axes", 0)):
                return _alias(g, node, attrs)
            axes = None
        attr: dict[str, Any] = {} if axes is None else {
            "axis": axes[0] if len(axes) == 1 else list(axes)
        }
        if int(attrs.get("keepdims", 1)):  # ONNX keeps reduced axes unless told not to
            attr["keepdims"] = True
        return g.emit(node, op, {"x": g.x(node.input[0])}, attr)

    return imp


def _last_axis(g: _Graph, name: str, axis: int) -> None:
    """bpviz's column and concat work on the last axis only."""
    rank = g.rank(name)
    if not (axis == -1 or (rank is not None and axis == rank - 1)):
        raise _Unsupported(f"only the last axis (axis {axis} of a rank-{rank} input)")


def _concat(g: _Graph, node: Any, attrs: dict[str, Any]) -> str:
    """Concat of n inputs along the last axis: n − 1 concat nodes, left to right."""
    _last_axis(g, node.input[0], int(attrs.get("axis", 0)))
    ids = [g.x(name) for name in node.input]
    out = ids[0]
    for k, nid in enumerate(ids[1:], start=1):
        part = "" if k == len(ids) - 1 else str(k)
        out = g.emit(node, "concat", {"a": out, "b": nid}, part=part)
    return out


def _slice(g: _Graph, node: Any, attrs: dict[str, Any]) -> str:
    """Slice of one column along the last axis, x[..., i:i+1], is bpviz's column."""
    if len(node.input) > 1:  # opset 10+: starts, ends, axes, steps as inputs
        given = [g.const(n) if n else None for n in node.input[1:]]
        if any(v is None for n, v in zip(node.input[1:], given, strict=True) if n):
            raise _Unsupported("starts, ends, axes and steps must be fixed in the model")
        starts, ends, axes, steps = (*given, None, None)[:4]
    else:
        starts, ends = attrs.get("starts"), attrs.get("ends")
        axes, steps = attrs.get("axes"), None
    flat = [None if v is None else [int(a) for a in np.reshape(v, -1)] for v in
            (starts, ends, axes, steps)]
    starts, ends, axes, steps = flat
    if len(starts) != 1 or (steps is not None and steps != [1]):
        raise _Unsupported("only one column, x[..., i:i+1]")
    _last_axis(g, node.input[0], axes[0] if axes else 0)
    i = starts[0]
    if i < 0 or ends[0] != i + 1:
        raise _Unsupported(f"only one column, x[..., i:i+1] (got {i}:{ends[0]})")
    return g.emit(node, "column", {"x": g.x(node.input[0])}, {"index": i})


def _bias(c: np.ndarray | None, units: int) -> np.ndarray | None:
    """`c` as a (units,) bias if it broadcasts like one over a (batch, units) result."""
    if c is None:
        return np.zeros(units)
    if c.ndim > 2 or (c.ndim == 2 and c.shape[0] != 1):
        return None
    try:
        return np.broadcast_to(c.astype(np.float64), (1, units)).reshape(units).copy()
    except ValueError:
        return None


def _dense(g: _Graph, nodes: Sequence[Any], x: str, w: np.ndarray, b: np.ndarray) -> str:
    """A dense node standing for `nodes` (a Gemm, or a MatMul and the Add after it); a lone
    Relu, Tanh or Sigmoid reading the result becomes its activation."""
    attrs: dict[str, Any] = {"units": int(w.shape[1])}
    nodes = list(nodes)
    nxt = g.only_consumer(nodes[-1].output[0])
    if nxt is not None and nxt.op_type in DENSE_ACTIVATIONS and _standard(nxt):
        attrs["activation"] = DENSE_ACTIVATIONS[nxt.op_type]
        g.absorbed.add(id(nxt))
        nodes.append(nxt)
    nid = g.emit(nodes[-1] if g.name_by_last else nodes[0], "dense", {"x": g.x(x)}, attrs)
    for n in nodes:
        g.value[n.output[0]] = nid
    g.b.set_params(nid, W=w, b=b)
    return nid


def _gemm(g: _Graph, node: Any, attrs: dict[str, Any]) -> str:
    """alpha·A'·B' + beta·C: a dense node when B and C are weights, else matmul and friends.
    A transposed operand must be fixed in the model (bpviz has no transpose node)."""
    alpha, beta = float(attrs.get("alpha", 1.0)), float(attrs.get("beta", 1.0))
    trans = (int(attrs.get("transA", 0)), int(attrs.get("transB", 0)))
    a_name, b_name = node.input[0], node.input[1]
    c_name = node.input[2] if len(node.input) > 2 and node.input[2] else None
    a, bw = g.const(a_name), g.const(b_name)
    c = g.const(c_name) if c_name else None
    for name, t, value in ((a_name, trans[0], a), (b_name, trans[1], bw)):
        if t and value is None:
            raise _Unsupported(f"a transposed input must be fixed in the model ('{name}' is not)")
    a = a.T if trans[0] else a
    bw = bw.T if trans[1] else bw
    if bw is not None and not trans[0] and (c_name is None or c is not None):
        bias = _bias(None if c is None else beta * c.astype(np.float64), bw.shape[1])
        if bias is not None:
            return _dense(g, [node], a_name, alpha * bw.astype(np.float64), bias)
    inputs = []
    for name, t, value in ((a_name, trans[0], a), (b_name, trans[1], bw)):
        if t:  # a fixed operand, transposed here
            nid = g.b.ids.take(f"{name}.T", "w")
            inputs.append(g.b.add(nid, "param", attrs={"value": tensor(value)}))
        else:
            inputs.append(g.x(name))
    has_c = c_name is not None and beta != 0.0
    mm = {"a": inputs[0], "b": inputs[1]}
    y = g.emit(node, "matmul", mm, part="AB" if has_c or alpha != 1.0 else "")
    if alpha != 1.0:
        scale = {"a": y, "b": g.number(node, alpha, "alpha")}
        y = g.emit(node, "mul", scale, part="alphaAB" if has_c else "")
    if not has_c:
        return y
    cc = g.x(c_name)
    if beta != 1.0:
        cc = g.emit(node, "mul", {"a": g.number(node, beta, "beta"), "b": cc}, part="betaC")
    return g.emit(node, "add", {"a": y, "b": cc})


def _matmul(g: _Graph, node: Any, attrs: dict[str, Any]) -> str:
    """MatMul(x, W) + b with W and b weights and x a vector or a batch -> one dense node."""
    x_name, w_name = node.input
    w = g.const(w_name)
    add = g.only_consumer(node.output[0])
    if (
        w is not None
        and w.ndim == 2
        and g.rank(x_name) in (1, 2)
        and add is not None
        and add.op_type == "Add"
        and _standard(add)
    ):
        other = add.input[1] if add.input[0] == node.output[0] else add.input[0]
        c = g.const(other)
        fits = c is not None and (c.ndim <= 1 or g.rank(x_name) == 2)
        bias = _bias(c, w.shape[1]) if fits else None
        if bias is not None:
            g.absorbed.add(id(add))
            return _dense(g, [node, add], x_name, w.astype(np.float64), bias)
    return g.emit(node, "matmul", {"a": g.x(x_name), "b": g.x(w_name)})


def _constant(g: _Graph, node: Any, attrs: dict[str, Any]) -> str:
    value = attrs.get("value")
    if value is None:
        for key in ("value_float", "value_floats", "value_int", "value_ints"):
            if key in attrs:
                value = np.asarray(attrs[key])
                break
    else:
        value = g.onnx.numpy_helper.to_array(value)
    if value is None:
        raise _Unsupported("only numeric tensor constants")
    g.consts[node.output[0]] = np.asarray(value)
    g.from_constant.add(node.output[0])
    return ""  # made into a const node when something computed reads it


AB = ("a", "b")
ONNX_IMPORTS: dict[str, Importer] = {
    "Gemm": _gemm,
    "MatMul": _matmul,
    "Add": _op("add", *AB),
    "Sub": _op("sub", *AB),
    "Mul": _op("mul", *AB),
    "Div": _op("div", *AB),
    "Neg": _op("neg", "x"),
    "Exp": _op("exp", "x"),
    "Log": _op("log", "x"),
    "Pow": _pow,
    "Relu": _op("relu", "x"),
    "LeakyRelu": _leaky_relu,
    "Tanh": _op("tanh", "x"),
    "Sigmoid": _op("sigmoid", "x"),
    "Softmax": _softmax,
    "ReduceSum": _reduce("sum"),
    "ReduceMean": _reduce("mean"),
    "Identity": _alias,
    "Flatten": _flatten,
    "Concat": _concat,
    "Slice": _slice,
    "Constant": _constant,
}
"""ONNX op type -> how it becomes scene nodes (the import direction of docs/interop.md)."""


def _import_onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise InteropError(
            'ONNX import needs the onnx package: pip install "bpviz[onnx]" (or pip install onnx)'
        ) from None
    return onnx


def _input_node(g: _Graph) -> None:
    inits = set(g.consts)
    inputs = [i for i in g.graph.input if i.name not in inits]
    if len(inputs) > 1:
        names = ", ".join(f"'{i.name}'" for i in inputs)
        raise InteropError(f"the model has {len(inputs)} inputs ({names}); bpviz takes one")
    for info in inputs:
        t = info.type.tensor_type
        if not t.HasField("shape"):
            raise InteropError(f"input '{info.name}' has no shape")
        shape = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else 1
                 for d in t.shape.dim]
        name = info.name
        first = g.only_consumer(name)
        if g.name_by_last and first is not None and first.op_type == "Identity":
            name = first.name or name  # bpviz's exporter: Identity named after the input node
        nid = g.b.ids.take(name, "x")
        g.value[info.name] = g.b.add(nid, "input", attrs={"value": tensor(np.zeros(shape))})


def _standard(node: Any) -> bool:
    """In ONNX's default operator set (not a vendor's domain)."""
    return node.domain in ("", "ai.onnx")


def onnx_to_scene(model: Any, name: str | None = None) -> dict[str, Any]:
    """The scene dict of an ONNX ModelProto (InteropError naming what cannot be imported)."""
    onnx = _import_onnx()
    nodes = list(model.graph.node)
    missing = [
        (n.name or n.output[0], n.op_type if _standard(n) else f"{n.domain}.{n.op_type}")
        for n in nodes
        if n.op_type not in ONNX_IMPORTS or not _standard(n)
    ]
    if missing:
        raise unsupported("the model", missing)
    g = _Graph(onnx, model)
    for t in g.consts.values():
        if t.dtype.kind not in "fiub":
            raise InteropError(f"an initializer has type {t.dtype}; only numbers can be imported")
    _input_node(g)
    for node in nodes:
        if id(node) in g.absorbed:
            continue
        try:
            nid = ONNX_IMPORTS[node.op_type](g, node, _attrs(onnx, node))
        except _Unsupported as e:
            raise InteropError(
                f"node '{node.name or node.output[0]}' ({node.op_type}): unsupported: {e}"
            ) from None
        if nid:
            g.value.setdefault(node.output[0], nid)
    if not g.graph.output:
        raise InteropError("the model has no output")
    out = g.graph.output[0].name
    if out not in g.value and out not in g.consts:
        raise InteropError(f"output '{out}' is not computed by any node")
    output = g.x(out)
    description = model.doc_string or g.graph.doc_string or None
    return g.b.scene(output, name or g.graph.name or None, description)


def import_onnx(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read the ONNX file at `path` as a scene dict; errors name the file."""
    p = Path(path)
    try:
        if not p.is_file():
            raise InteropError("not a file" if p.exists() else "no such file")
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise InteropError(f"too large ({size >> 20} MB; models up to {MAX_BYTES >> 20} MB)")
        onnx = _import_onnx()
        try:
            model = onnx.load_model_from_string(p.read_bytes())
            onnx.checker.check_model(model)
        except OSError as e:
            raise InteropError(f"cannot read file ({e.strerror or e})") from None
        except Exception as e:  # protobuf's DecodeError, the checker's ValidationError
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise InteropError(f"not a valid ONNX model ({first})") from None
        return onnx_to_scene(model, p.stem)
    except InteropError as e:
        raise InteropError(f"{p}: {e}") from None
