"""`from_torch`: a PyTorch module that torch.fx can trace, as a scene with its weights.

torch.fx records the module's forward as a graph of calls; each call maps through one entry
of TORCH_IMPORTS, looked up by the module class (`Linear`), the function (`torch.exp`,
`F.relu`, `operator.add`) or the tensor method (`x.sum`) it calls. A Linear becomes a dense
node, taking a ReLU, Tanh or Sigmoid that alone reads it as its activation; parameters and
tensors the module keeps become `param` nodes; Python numbers become `const` nodes; the
forward's argument becomes the `input` node, holding the example input as its value so the
scene computes what the module computes. Weights are read in float64.

torch stays optional: it is imported when `from_torch` is called.
"""

from __future__ import annotations

import copy
import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bpviz.interop.common import InteropError, SceneBuilder, tensor, unsupported

DENSE_ACTIVATIONS = {  # TORCH_IMPORTS key -> a dense node's activation
    "ReLU": "relu", "Tanh": "tanh", "Sigmoid": "sigmoid",
    "relu": "relu", "tanh": "tanh", "sigmoid": "sigmoid",
}  # fmt: skip


class _Unsupported(Exception):
    """A known call used in a way the scene cannot express (keepdim=True, softmax dim 0)."""


class _Trace:
    """The fx graph being translated: fx nodes -> bpviz node ids."""

    def __init__(self, gm: Any, torch: Any) -> None:
        self.gm, self.torch = gm, torch
        self.b = SceneBuilder()
        self.value: dict[Any, str] = {}  # fx node -> bpviz node id
        self.absorbed: set[Any] = set()
        self.functions = _functions(torch)

    def x(self, arg: Any, owner: Any) -> str:
        """The bpviz node for an argument: an fx node's, or a const node for a number."""
        if arg in self.value:
            return self.value[arg]
        if isinstance(arg, (int, float)) and not isinstance(arg, bool):
            nid = self.b.ids.take(f"{owner.name}.c", "c")
            return self.b.add(nid, "const", attrs={"value": float(arg)})
        raise _Unsupported(f"argument {arg!r} is neither a tensor nor a number")

    def emit(self, node: Any, op: str, inputs: dict[str, str], attrs: dict | None = None) -> str:
        return self.b.add(self.b.ids.take(node.name, "n"), op, inputs, attrs)

    def rank(self, arg: Any) -> int | None:
        meta = getattr(arg, "meta", {}).get("tensor_meta")
        return None if meta is None else len(meta.shape)


Handler = Callable[[_Trace, Any, Sequence[Any], dict[str, Any]], str]


def _no_extra(kwargs: dict[str, Any], allowed: Sequence[str] = ()) -> None:
    extra = [
        k for k, v in kwargs.items() if k not in allowed and v is not None and k != "_stacklevel"
    ]
    if extra:
        raise _Unsupported(f"argument {', '.join(extra)}")


def _binary(op: str) -> Handler:
    def handle(t: _Trace, node: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> str:
        if kwargs.get("alpha", 1) != 1:
            raise _Unsupported("alpha other than 1")
        _no_extra(kwargs, ("alpha",))
        a, b = args[:2]
        return t.emit(node, op, {"a": t.x(a, node), "b": t.x(b, node)})

    return handle


def _unary(op: str, **attrs: Any) -> Handler:
    def handle(t: _Trace, node: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> str:
        _no_extra(kwargs, ("inplace",))
        return t.emit(node, op, {"x": t.x(args[0], node)}, dict(attrs))

    return handle


def _pow(t: _Trace, node: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> str:
    base, exponent = (*args, kwargs.get("exponent"))[:2]
    if isinstance(exponent, bool) or not isinstance(exponent, (int, float)):
        raise _Unsupported("the exponent must be a number")
    return t.emit(node, "pow", {"x": t.x(base, node)}, {"exponent": float(exponent)})


def _leaky_relu(t: _Trace, node: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> str:
    slope = args[1] if len(args) > 1 else kwargs.get("negative_slope", 0.01)
    return t.emit(node, "leaky_relu", {"x": t.x(args[0], node)}, {"alpha": float(slope)})


def _softmax(t: _Trace, node: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> str:
    _no_extra(kwargs, ("dim",))
    dim = args[1] if len(args) > 1 else kwargs.get("dim")
    rank = t.rank(args[0])
    if dim is None or rank is None or dim % max(rank, 1) != rank - 1:
        raise _Unsupported(f"only the last dimension (dim={dim} of a rank-{rank} input)")
    return t.emit(node, "softmax", {"x": t.x(args[0], node)})


def _reduce(op: str) -> Handler:
    def handle(t: _Trace, node: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> str:
        _no_extra(kwargs, ("dim", "keepdim"))
        dim = args[1] if len(args) > 1 else kwargs.get("dim")
        attrs: dict[str, Any] = {} if dim is None else {
            "axis": dim if isinstance(dim, int) else list(dim)
        }
        if args[2] if len(args) > 2 else kwargs.get("keepdim", False):
            attrs["keepdims"] = True
        return t.emit(node, op, {"x": t.x(args[0], node)}, attrs)

    return handle


def _last_dim(t: _Trace, x: Any, dim: int) -> None:
    rank = t.rank(x)
    if rank is None or dim % max(rank, 1) != rank - 1:
        raise _Unsupported(f"only the last dimension (dim={dim} of a rank-{rank} input)")


def _cat(t: _Trace, node: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> str:
    """torch.cat along the last dimension: one concat node per joined tensor."""
    _no_extra(kwargs, ("dim",))
    parts = list(args[0])
    dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
    _last_dim(t, parts[0], dim)
    out = t.x(parts[0], node)
    for k, part in enumerate(parts[1:], start=1):
        inputs = {"a": out, "b": t.x(part, node)}
        if k == len(parts) - 1:
            out = t.emit(node, "concat", inputs)
        else:
            out = t.b.add(t.b.ids.take(f"{node.name}.{k}", "n"), "concat", inputs)
    return out


def _index_text(index: tuple[Any, ...]) -> str:
    """An index as it was written: (Ellipsis, slice(1, 2)) -> `..., 1:2`."""

    def one(i: Any) -> str:
        if i is Ellipsis:
            return "..."
        if isinstance(i, slice):
            text = f"{'' if i.start is None else i.start}:{'' if i.stop is None else i.stop}"
            return text + ("" if i.step is None else f":{i.step}")
        return getattr(i, "name", repr(i))

    return ", ".join(one(i) for i in index)


def _getitem(t: _Trace, node: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> str:
    """Indexing that takes one column, x[..., i:i+1] or x[:, i:i+1], is bpviz's column."""
    x, index = args
    rank = t.rank(x)
    index = index if isinstance(index, tuple) else (index,)
    *lead, last = index
    whole = slice(None)
    ok = (
        isinstance(last, slice)
        and isinstance(last.start, int)
        and last.start >= 0
        and last.stop == last.start + 1
        and last.step in (None, 1)
        and all(i is Ellipsis or i == whole for i in lead)
        and (Ellipsis in lead or (rank is not None and len(index) == rank))
    )
    if not ok:
        raise _Unsupported(f"only one column, x[..., i:i+1] (got x[{_index_text(index)}])")
    return t.emit(node, "column", {"x": t.x(x, node)}, {"index": last.start})


def _alias(t: _Trace, node: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> str:
    return t.x(args[0], node)


def _activation_after(t: _Trace, node: Any) -> tuple[str, Any] | None:
    """The relu/tanh/sigmoid that alone reads `node`, if there is one."""
    if len(node.users) != 1:
        return None
    (user,) = node.users
    act = DENSE_ACTIVATIONS.get(_key(t, user) or "")
    if act is not None and user.args == (node,) and not any(user.kwargs.values()):
        return act, user
    return None


def _linear(t: _Trace, node: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> str:
    """A dense node for a vector or batch input; for more dimensions matmul and add."""
    layer = t.gm.get_submodule(node.target)
    w = layer.weight.detach().double().numpy().T
    b = np.zeros(w.shape[1]) if layer.bias is None else layer.bias.detach().double().numpy()
    x = t.x(args[0], node)
    if t.rank(args[0]) not in (1, 2):
        wid = t.b.add(t.b.ids.take(f"{node.name}.W", "w"), "param", attrs={"value": tensor(w)})
        mm = t.b.add(t.b.ids.take(f"{node.name}.xW", "n"), "matmul", {"a": x, "b": wid})
        bid = t.b.add(t.b.ids.take(f"{node.name}.b", "w"), "param", attrs={"value": tensor(b)})
        return t.emit(node, "add", {"a": mm, "b": bid})
    attrs: dict[str, Any] = {"units": int(w.shape[1])}
    act = _activation_after(t, node)
    if act is not None:
        attrs["activation"], user = act
        t.absorbed.add(user)
    nid = t.emit(node, "dense", {"x": x}, attrs)
    if act is not None:
        t.value[act[1]] = nid
    t.b.set_params(nid, W=w, b=b)
    return nid


def _module_leaky_relu(t: _Trace, node: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> str:
    slope = t.gm.get_submodule(node.target).negative_slope
    return _leaky_relu(t, node, [args[0], slope], {})


def _module_softmax(t: _Trace, node: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> str:
    return _softmax(t, node, [args[0], t.gm.get_submodule(node.target).dim], {})


TORCH_IMPORTS: dict[str, Handler] = {
    # modules, by class name (torch.nn)
    "Linear": _linear,
    "ReLU": _unary("relu"),
    "Tanh": _unary("tanh"),
    "Sigmoid": _unary("sigmoid"),
    "LeakyReLU": _module_leaky_relu,
    "Softmax": _module_softmax,
    "Identity": _alias,
    # functions and tensor methods, by what they compute
    "add": _binary("add"),
    "sub": _binary("sub"),
    "mul": _binary("mul"),
    "div": _binary("div"),
    "matmul": _binary("matmul"),
    "neg": _unary("neg"),
    "exp": _unary("exp"),
    "log": _unary("log"),
    "pow": _pow,
    "sum": _reduce("sum"),
    "mean": _reduce("mean"),
    "relu": _unary("relu"),
    "tanh": _unary("tanh"),
    "sigmoid": _unary("sigmoid"),
    "leaky_relu": _leaky_relu,
    "softmax": _softmax,
    "cat": _cat,
    "getitem": _getitem,
}
"""What each traced call becomes (the import direction of docs/interop.md)."""

MODULE_KEYS = ("Linear", "ReLU", "Tanh", "Sigmoid", "LeakyReLU", "Softmax", "Identity")
METHODS = {
    "add": "add", "sub": "sub", "mul": "mul", "div": "div", "true_divide": "div",
    "matmul": "matmul", "neg": "neg", "exp": "exp", "log": "log", "pow": "pow",
    "sum": "sum", "mean": "mean", "relu": "relu", "tanh": "tanh", "sigmoid": "sigmoid",
    "softmax": "softmax",
}  # fmt: skip
"""Tensor method name -> TORCH_IMPORTS key."""


def _functions(torch: Any) -> dict[Any, str]:
    """The functions fx records -> TORCH_IMPORTS key (operators, torch.*, F.*)."""
    f = torch.nn.functional
    found = {
        operator.add: "add", operator.sub: "sub", operator.mul: "mul",
        operator.truediv: "div", operator.matmul: "matmul", operator.neg: "neg",
        operator.pow: "pow", f.relu: "relu", f.leaky_relu: "leaky_relu", f.softmax: "softmax",
        operator.getitem: "getitem", torch.cat: "cat", torch.concat: "cat",
    }  # fmt: skip
    for name in (
        "add", "sub", "mul", "div", "true_divide", "matmul", "neg", "exp", "log", "pow",
        "sum", "mean", "relu", "tanh", "sigmoid", "softmax",
    ):  # fmt: skip
        found[getattr(torch, name)] = METHODS[name]
    for name in ("tanh", "sigmoid"):
        found[getattr(f, name)] = name
    return found


def _key(t: _Trace, node: Any) -> str | None:
    """The TORCH_IMPORTS key of an fx call node, or None when there is no entry."""
    if node.op == "call_module":
        m = t.gm.get_submodule(node.target)
        name = type(m).__name__
        return name if name in MODULE_KEYS and type(m).__module__.startswith("torch.nn") else None
    if node.op == "call_function":
        return t.functions.get(node.target)
    if node.op == "call_method":
        return METHODS.get(node.target)
    return None


def _describe(t: _Trace, node: Any) -> str:
    if node.op == "call_module":
        return type(t.gm.get_submodule(node.target)).__name__
    if node.op == "call_method":
        return f"Tensor.{node.target}"
    fn = node.target
    module = (getattr(fn, "__module__", None) or "builtins").removeprefix("_")  # _operator
    return f"{module}.{getattr(fn, '__name__', fn)}"


def _import_torch() -> Any:
    try:
        import torch
        import torch.fx
    except ImportError:
        raise InteropError(
            'PyTorch import needs torch: pip install "bpviz[torch]" (or pip install torch)'
        ) from None
    return torch


def _first_line(e: Exception) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _trace(torch: Any, module: Any, example: Any) -> tuple[Any, Any]:
    """The fx graph module, run in float64 on the example so each node knows its shape."""
    from torch.fx.passes.shape_prop import ShapeProp

    what = type(module).__name__
    if not isinstance(module, torch.nn.Module):
        raise InteropError(f"from_torch wants a torch.nn.Module, got {what}")
    try:
        gm = torch.fx.symbolic_trace(module)
    except Exception as e:
        raise InteropError(f"torch.fx cannot trace {what}: {_first_line(e)}") from None
    inputs = [n.name for n in gm.graph.nodes if n.op == "placeholder"]
    if len(inputs) != 1:
        listed = ", ".join(inputs)
        raise InteropError(f"forward takes {len(inputs)} inputs ({listed}); bpviz takes one")
    gm = copy.deepcopy(gm).double()
    x = torch.as_tensor(example).double()
    try:
        ShapeProp(gm).propagate(x)
    except Exception as e:
        raise InteropError(f"{what} does not run on the example input: {_first_line(e)}") from None
    return gm, x


def from_torch(module: Any, example_input: Any, name: str | None = None) -> dict[str, Any]:
    """A valid scene dict computing `module` on `example_input` (its `input` node's value).

    Raises one InteropError naming every call the scene cannot express."""
    torch = _import_torch()
    gm, x = _trace(torch, module, example_input)
    t = _Trace(gm, torch)
    nodes = list(gm.graph.nodes)
    missing = [
        (n.name, _describe(t, n))
        for n in nodes
        if n.op in ("call_module", "call_function", "call_method") and _key(t, n) is None
    ]
    if missing:
        raise unsupported(type(module).__name__, missing)
    output = None
    for node in nodes:
        if node in t.absorbed:
            continue
        if node.op == "placeholder":
            value = tensor(x.numpy())
            t.value[node] = t.b.add(t.b.ids.take(node.name, "x"), "input", attrs={"value": value})
        elif node.op == "get_attr":
            held = operator.attrgetter(node.target)(gm)
            if not isinstance(held, torch.Tensor):
                raise InteropError(f"'{node.name}': {node.target} is not a tensor")
            value = tensor(held.detach().double().numpy())
            t.value[node] = t.b.add(t.b.ids.take(node.name, "w"), "param", attrs={"value": value})
        elif node.op == "output":
            output = node.args[0]
            if not isinstance(output, torch.fx.Node):
                raise InteropError("forward must return one tensor")
        else:
            try:
                t.value[node] = TORCH_IMPORTS[_key(t, node)](t, node, node.args, dict(node.kwargs))
            except _Unsupported as e:
                what = f"node '{node.name}' ({_describe(t, node)})"
                raise InteropError(f"{what}: unsupported: {e}") from None
    return t.b.scene(t.value[output], name or type(module).__name__)
