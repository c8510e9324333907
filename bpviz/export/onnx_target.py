"""Write a scene's forward graph as an ONNX model, for inference in onnxruntime, Netron & co.

When the output is a loss whose prediction needs no targets, only the prediction is exported
(the loss is for training). ONNX nodes carry the bpviz node ids as names and the op's formula
as doc string, so Netron shows the graph the user drew. Every op maps through one small entry
in ONNX_OPS; an op without one raises ExportError naming node and op before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bpviz.engine.errors import BpvizError
from bpviz.engine.files import write_atomic
from bpviz.engine.graph import Node
from bpviz.engine.ops import REGISTRY
from bpviz.export.common import ExportError, Snapshot, formula

OPSET = 18  # ReduceSum and ReduceMean both take their axes as an input from 18 on
IR_VERSION = 8  # the oldest IR that carries opset 18, so older runtimes load the file too
INPUTS, TARGETS = "inputs", "targets"  # graph inputs: features (N, F) and raw labels (N,)
DENSE_ACTIVATIONS = {"none": None, "tanh": "Tanh", "sigmoid": "Sigmoid", "relu": "Relu"}
LABEL_PORTS = {("cross_entropy", "target")}  # ports read as int64 labels, not as doubles


class _Emit:
    """What an ONNX_OPS entry is given: `e("OpType", *inputs, **attrs)` adds one ONNX node
    and returns the name of the value it produces. The last node added becomes the bpviz node."""

    def __init__(self, model: _Model, node: Node) -> None:
        self.model, self.node = model, node
        self.attrs = {**REGISTRY[node.op].default_attrs(), **node.attrs}
        self.emitted: list[Any] = []

    def __call__(self, op_type: str, *inputs: str, **attrs: Any) -> str:
        m = self.model
        out = m.fresh(f"{self.node.id}/{op_type}")
        onnx_node = m.helper.make_node(
            op_type, list(inputs), [out], name=out, doc_string=m.doc(self.node), **attrs
        )
        if op_type == "Cast" and attrs.get("to") == m.tp.INT64:
            m.ints.add(out)
        m.nodes.append(onnx_node)
        self.emitted.append(onnx_node)
        return out

    def const(self, suffix: str, value: Any, dtype: type = np.float64) -> str:
        """A helper constant, e.g. pow's exponent, named `node/suffix`."""
        return self.model.init(f"{self.node.id}/{suffix}", np.asarray(value, dtype), self.node)

    def param(self, name: str) -> str:
        """A layer's parameter as an initializer named `node.name` (e.g. `hidden.W`)."""
        value = self.model.snap.params[self.node.id][name]
        return self.model.init(f"{self.node.id}.{name}", value, self.node)

    def shape(self, port: str) -> tuple[int, ...]:
        """The shape an input had on the training set (ranks do not depend on the batch)."""
        return np.shape(self.model.snap.values[self.node.inputs[port]])

    def labels(self, name: str) -> str:
        """`name` as int64 class indices (GatherElements wants integer indices)."""
        return name if name in self.model.ints else self("Cast", name, to=self.model.tp.INT64)

    def source(self) -> str:
        """A data node's current value, frozen as an initializer named after the node."""
        value = self.model.snap.values[self.node.id]
        return self.model.init(
            self.model.value[self.node.id], np.asarray(value, np.float64), self.node
        )


Emitter = Callable[..., str]  # (e, *input value names in the op's port order) -> value name


def _param(e: _Emit) -> str:
    value = e.model.snap.params[e.node.id]["value"]
    return e.model.init(e.model.value[e.node.id], value, e.node)


def _input(e: _Emit) -> str:
    """The features; with data.transforms, computed in the graph from the raw features."""
    if not e.model.has_data:
        return e.source()
    features = e.model.snap.features
    if not features:
        return e("Identity", INPUTS)

    def column(i: int, suffix: str) -> str:  # x[:, i:i+1], as the column op exports
        start, end = (
            e.const(f"{suffix}start", [i], np.int64),
            e.const(f"{suffix}end", [i + 1], np.int64),
        )
        return e("Slice", INPUTS, start, end, e.const(f"{suffix}axis", [-1], np.int64))

    columns = []
    for k, f in enumerate(features):
        a = column(f.i, f"f{k}")  # (N, 1)
        if f.kind == "square":
            a = e("Mul", a, a)
        elif f.kind == "product":
            a = e("Mul", a, column(f.j, f"f{k}b"))
        elif f.kind in ("sin", "cos"):
            a = e(f.kind.capitalize(), a)
        columns.append(a)
    return e("Concat", *columns, axis=-1)


def _target(e: _Emit) -> str:
    """encode_target inside the graph: column (N, 1), signs 2·t − 1, labels int64 (N,)."""
    if not e.model.has_data:
        return e.source()
    encoding = e.attrs.get("encoding", "column")
    if encoding == "labels":
        return e.labels(TARGETS)
    column = e("Reshape", TARGETS, e.const("shape", [-1, 1], np.int64))
    if encoding == "column":
        return column
    return e("Sub", e("Mul", column, e.const("two", 2.0)), e.const("one", 1.0))


def _reduce(op_type: str) -> Emitter:
    """axis None reduces everything, an int or list those axes, [] nothing (numpy axis=())."""

    def emit(e: _Emit, x: str) -> str:
        axis, keep = e.attrs.get("axis"), int(bool(e.attrs.get("keepdims")))
        if axis is None:
            return e(op_type, x, keepdims=keep)
        axes = e.const("axes", [axis] if isinstance(axis, int) else list(axis), np.int64)
        return e(op_type, x, axes, keepdims=keep, noop_with_empty_axes=1)

    return emit


def _dense(e: _Emit, x: str) -> str:
    """Gemm for a batch; MatMul + Add for a single vector (Gemm wants 2-D)."""
    if len(e.shape("x")) == 2:
        z = e("Gemm", x, e.param("W"), e.param("b"))
    else:
        z = e("Add", e("MatMul", x, e.param("W")), e.param("b"))
    act = DENSE_ACTIVATIONS[e.attrs.get("activation", "none")]
    return z if act is None else e(act, z)


def _match(e: _Emit, p: str, t: str) -> str:
    """losses._match: a target with as many entries as the prediction takes its shape."""
    ps, ts = e.shape("pred"), e.shape("target")
    return t if ts == ps or not ts else e("Reshape", t, e("Shape", p))


def _mean(e: _Emit, x: str) -> str:
    return e("ReduceMean", x, keepdims=0)


def _bce(e: _Emit, p: str, t: str) -> str:
    """mean(max(p, 0) − p·t + log(1 + e^−|p|)); Softplus has no double kernel in onnxruntime."""
    softplus = e("Log", e("Add", e.const("one", 1.0), e("Exp", e("Neg", e("Abs", p)))))
    return _mean(e, e("Add", e("Sub", e("Relu", p), e("Mul", p, _match(e, p, t))), softplus))


def _cross_entropy(e: _Emit, z: str, t: str) -> str:
    """−mean(log_softmax(z)[label]); works for (N, K) with (N,) and for (K,) with one label."""
    idx = e("Unsqueeze", e.labels(t), e.const("axes", [-1], np.int64))
    picked = e("GatherElements", e("LogSoftmax", z, axis=-1), idx, axis=-1)
    return e("Neg", _mean(e, picked))


ONNX_OPS: dict[str, Emitter] = {
    "const": lambda e: e.source(),
    "input": _input,
    "target": _target,
    "param": _param,
    "add": lambda e, a, b: e("Add", a, b),
    "sub": lambda e, a, b: e("Sub", a, b),
    "mul": lambda e, a, b: e("Mul", a, b),
    "div": lambda e, a, b: e("Div", a, b),
    "neg": lambda e, x: e("Neg", x),
    "exp": lambda e, x: e("Exp", x),
    "log": lambda e, x: e("Log", x),
    "pow": lambda e, x: e("Pow", x, e.const("exponent", float(e.attrs["exponent"]))),
    "matmul": lambda e, a, b: e("MatMul", a, b),
    "sum": _reduce("ReduceSum"),
    "mean": _reduce("ReduceMean"),
    "tanh": lambda e, x: e("Tanh", x),
    "sigmoid": lambda e, x: e("Sigmoid", x),
    "relu": lambda e, x: e("Relu", x),
    "leaky_relu": lambda e, x: e("LeakyRelu", x, alpha=float(e.attrs.get("alpha", 0.01))),
    "softmax": lambda e, x: e("Softmax", x, axis=-1),
    "column": lambda e, x: e(
        "Slice",
        x,
        e.const("start", [int(e.attrs["index"])], np.int64),
        e.const("end", [int(e.attrs["index"]) + 1], np.int64),
        e.const("axis", [-1], np.int64),
    ),
    "concat": lambda e, a, b: e("Concat", a, b, axis=-1),
    "dense": _dense,
    "mse": lambda e, p, t: _mean(e, e("Mul", d := e("Sub", p, _match(e, p, t)), d)),
    "bce": _bce,
    "hinge": lambda e, p, t: _mean(
        e, e("Relu", e("Sub", e.const("one", 1.0), e("Mul", _match(e, p, t), p)))
    ),
    "cross_entropy": _cross_entropy,
}


def exported_output(snap: Snapshot) -> str:
    """The loss's prediction when it needs no targets (inference drops the loss), else the
    graph's output."""
    pred = snap.prediction()
    if pred is None:
        return snap.output
    needs = snap.graph.ancestors(pred) | {pred}
    return snap.output if any(snap.node(n).op == "target" for n in needs) else pred


def check_exportable(snap: Snapshot, node_ids: list[str]) -> None:
    """Raise ExportError for the first node ONNX_OPS cannot express."""
    for nid in node_ids:
        node = snap.node(nid)
        if node.op not in ONNX_OPS:
            raise ExportError(nid, node.op, "onnx")
        act = node.attrs.get("activation", "none")
        if node.op == "dense" and act not in DENSE_ACTIVATIONS:
            raise ExportError(nid, f"dense(activation={act})", "onnx")


def _import_onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise BpvizError(
            'ONNX export needs the onnx package: pip install "bpviz[onnx]" (or pip install onnx)'
        ) from None
    return onnx


class _Model:
    """Collects ONNX nodes and initializers while the bpviz graph is walked in order."""

    def __init__(self, onnx: Any, snap: Snapshot, node_ids: list[str]) -> None:
        self.onnx, self.helper, self.tp = onnx, onnx.helper, onnx.TensorProto
        self.snap = snap
        self.included = [snap.node(nid) for nid in node_ids]
        self.has_data = snap.x is not None
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self.ints: set[str] = set()  # values of type int64 (labels); everything else is double
        self.taken = {INPUTS, TARGETS}
        self.value = {nid: self.fresh(nid) for nid in node_ids}  # bpviz node -> its value

    def fresh(self, base: str) -> str:
        name, k = base, 2
        while name in self.taken:
            name, k = f"{base}_{k}", k + 1
        self.taken.add(name)
        return name

    def doc(self, node: Node) -> str:
        return f"bpviz {node.op} '{node.id}': {formula(node)}"

    def init(self, name: str, value: np.ndarray, node: Node) -> str:
        if name != self.value.get(node.id):
            name = self.fresh(name)
        tensor = self.onnx.numpy_helper.from_array(np.asarray(value), name)
        tensor.doc_string = self.doc(node)
        self.inits.append(tensor)
        if tensor.data_type == self.tp.INT64:
            self.ints.add(name)
        return name

    def _arg(self, node: Node, port: str, e: _Emit) -> str:
        """An input's value, cast to double unless the port reads labels."""
        name = self.value[node.inputs[port]]
        if name in self.ints and (node.op, port) not in LABEL_PORTS:
            return e("Cast", name, to=self.tp.DOUBLE)
        return name

    def add(self, node: Node) -> None:
        """Emit one bpviz node; its last ONNX node takes the node's id as name and value."""
        e = _Emit(self, node)
        args = [self._arg(node, port, e) for port in REGISTRY[node.op].inputs]
        out = ONNX_OPS[node.op](e, *args)
        if e.emitted and out == e.emitted[-1].output[0]:
            last = e.emitted[-1]
            last.name = last.output[0] = self.value[node.id]
            if out in self.ints:
                self.ints.add(self.value[node.id])
            out = self.value[node.id]
        self.value[node.id] = out

    def graph_inputs(self) -> list[Any]:
        used = {name for n in self.nodes for name in n.input}
        make, double = self.helper.make_tensor_value_info, self.tp.DOUBLE
        inputs = []
        if INPUTS in used:
            features = self.snap.x.shape[1]
            doc = f"double [N, {features}], the features, one row per example"
            if self.snap.features:
                doc += " (raw: the scene's transforms are applied inside the model)"
            inputs.append(make(INPUTS, double, ["N", features], doc))
        if TARGETS in used:
            doc = "double [N], the raw targets (0/1 or class labels, or numbers), one per row"
            inputs.append(make(TARGETS, double, ["N"], doc))
        return inputs

    def output(self, nid: str) -> str:
        """The graph output's name; a frozen source gets an Identity (no initializer outputs)."""
        name = self.value[nid]
        if any(t.name == name for t in self.inits):
            name = _Emit(self, self.snap.node(nid))("Identity", name)
        return name


def _describe(snap: Snapshot, nid: str, out_name: str, inputs: list[Any]) -> str:
    node = snap.node(nid)
    lines = [f"Exported from bpviz scene '{snap.name}' for inference (forward pass only)."]
    for i in inputs:
        lines.append(f"Input '{i.name}': {i.doc_string}.")
    if not inputs:
        lines.append("No inputs: every data node is frozen at its value at export time.")
    lines.append(f"Output '{out_name}': the value of node '{nid}' ({node.op}).")
    if nid != snap.output:
        loss = snap.node(snap.output)
        lines.append(f"The loss '{loss.id}' ({loss.op}) is for training only and is left out.")
    return "\n".join(lines)


def onnx_model(snap: Snapshot) -> Any:
    """The checked ONNX ModelProto for `snap` (ExportError before anything is built)."""
    nid = exported_output(snap)
    needed = snap.graph.ancestors(nid) | {nid}
    node_ids = [n for n in snap.order if n in needed]
    check_exportable(snap, node_ids)
    onnx = _import_onnx()
    m = _Model(onnx, snap, node_ids)
    for node in m.included:
        m.add(node)
    out = m.output(nid)
    inputs = m.graph_inputs()
    elem = m.tp.INT64 if out in m.ints else m.tp.DOUBLE
    graph = m.helper.make_graph(
        m.nodes,
        snap.name,
        inputs,
        [m.helper.make_tensor_value_info(out, elem, None, f"value of node '{nid}'")],
        initializer=m.inits,
    )
    model = m.helper.make_model(
        graph,
        producer_name="bpviz",
        opset_imports=[m.helper.make_opsetid("", OPSET)],
        ir_version=IR_VERSION,
        doc_string=_describe(snap, nid, out, inputs),
    )
    m.helper.set_model_props(model, {"bpviz.scene": snap.name, "bpviz.output": nid})
    try:  # shape inference fills in the output's shape, which the full check requires
        model = onnx.shape_inference.infer_shapes(model, strict_mode=True)
        onnx.checker.check_model(model, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as err:
        raise BpvizError(f"ONNX export built an invalid model (a bpviz bug): {err}") from err
    return model


def write_onnx(snap: Snapshot, out: Path) -> list[Path]:
    """Write the model to `out`; nothing is written when an op cannot be exported."""
    model = onnx_model(snap)
    write_atomic(out, model.SerializeToString())
    return [out]
