"""Write a scene's graph as a readable numpy script: forward and backward, one block per node.

Ops without a template in NUMPY_OPS (or a writer below) raise ExportError naming node and op.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bpviz.engine.files import write_atomic
from bpviz.engine.ops import REGISTRY
from bpviz.engine.transforms import source as features_source
from bpviz.export.common import (
    SOURCES,
    ExportError,
    Snapshot,
    formula,
    literal,
    unique_identifiers,
)

# op -> (forward template, {port: backward template}); g is the upstream gradient, y the output,
# {port} an input's value and {attr} an attribute written as a literal (see _attr_source)
NUMPY_OPS: dict[str, tuple[str, dict[str, str]]] = {
    "add": ("{a} + {b}", {"a": "g", "b": "g"}),
    "sub": ("{a} - {b}", {"a": "g", "b": "-g"}),
    "mul": ("{a} * {b}", {"a": "g * {b}", "b": "g * {a}"}),
    "div": ("{a} / {b}", {"a": "g / {b}", "b": "-g * {y} / {b}"}),
    "neg": ("-{x}", {"x": "-g"}),
    "exp": ("np.exp({x})", {"x": "g * {y}"}),
    "log": ("np.log({x})", {"x": "g / {x}"}),
    "tanh": ("np.tanh({x})", {"x": "g * (1 - {y} ** 2)"}),
    "sigmoid": ("_sigmoid({x})", {"x": "g * {y} * (1 - {y})"}),
    "relu": ("np.maximum({x}, 0.0)", {"x": "g * ({x} > 0)"}),
    "mse": (
        "np.mean((_t({pred}, {target}) - {pred}) ** 2)",
        {
            "pred": "g * 2 * ({pred} - _t({pred}, {target})) / {pred}.size",
            "target": "_back(g * -2 * ({pred} - _t({pred}, {target})) / {pred}.size, {target})",
        },
    ),
    "bce": (
        "np.mean(np.maximum({pred}, 0) - {pred} * _t({pred}, {target})"
        " + np.log1p(np.exp(-np.abs({pred}))))",
        {
            "pred": "g * (_sigmoid({pred}) - _t({pred}, {target})) / {pred}.size",
            "target": "_back(g * -{pred} / {pred}.size, {target})",
        },
    ),
    "hinge": (
        "np.mean(np.maximum(1 - _t({pred}, {target}) * {pred}, 0))",
        {
            "pred": "g * (_t({pred}, {target}) * {pred} < 1) * -_t({pred}, {target}) / {pred}.size",
            "target": "_back(g * (_t({pred}, {target}) * {pred} < 1) * -{pred} / {pred}.size,"
            " {target})",
        },
    ),
    "cross_entropy": (
        "_ce({pred}, {target})",
        {"pred": "g * _ce_grad({pred}, {target})", "target": "np.zeros({target}.shape)"},
    ),
    "matmul": (
        "{a} @ {b}",
        {"a": "_matmul_grad_a(g, {a}, {b})", "b": "_matmul_grad_b(g, {a}, {b})"},
    ),
    "pow": (
        "np.power({x}, {exponent})",
        {"x": "g * ({exponent} * np.power({x}, {exponent} - 1.0))"},
    ),
    "sum": (
        "np.sum({x}, axis={axis}, keepdims={keepdims})",
        {"x": "_unreduce(g, {x}, {axis}, {keepdims})"},
    ),
    "mean": (
        "np.mean({x}, axis={axis}, keepdims={keepdims})",
        {"x": "_unreduce(g, {x}, {axis}, {keepdims}) / _count({x}, {axis})"},
    ),
    "softmax": ("_softmax({x})", {"x": "{y} * (g - (g * {y}).sum(axis=-1, keepdims=True))"}),
    "leaky_relu": (
        "np.where({x} > 0, {x}, {alpha} * {x})",
        {"x": "g * np.where({x} > 0, 1.0, {alpha})"},
    ),
    "column": (
        "{x}[..., {index}:{index} + 1]",
        {"x": "np.where(np.arange({x}.shape[-1]) == {index}, g, 0.0)"},
    ),
    "concat": (
        "np.concatenate([{a}, {b}], axis=-1)",
        {"a": "g[..., :{a}.shape[-1]]", "b": "g[..., {a}.shape[-1]:]"},
    ),
}
ACT = {
    "none": ("{z}", "1.0"),
    "tanh": ("np.tanh({z})", "(1 - {y} ** 2)"),
    "sigmoid": ("_sigmoid({z})", "{y} * (1 - {y})"),
    "relu": ("np.maximum({z}, 0.0)", "({y} > 0)"),
}


def _dense(
    node: Any, names: dict[str, str], p: dict[str, Any], fwd: list, blocks: list
) -> None:
    v, x = names[node.id], names[node.inputs["x"]]
    act = node.attrs.get("activation", "none")
    if act not in ACT:
        raise ExportError(node.id, f"dense(activation={act})", "numpy")
    f, d = ACT[act]
    fwd.append(f"    # {node.id}: dense  ({formula(node)})")
    fwd.append(f"    P['{v}.W'] = np.array({literal(p['W'])})")
    fwd.append(f"    P['{v}.b'] = np.array({literal(p['b'])})")
    z = f"v['{x}'] @ P['{v}.W'] + P['{v}.b']"
    fwd.append(f"    v['{v}'] = " + f.format(z=f"({z})"))
    block = [
        f"    # {node.id}: dense — delta = g * act'(z); dW = x^T delta; db = sum delta",
        f"    delta = grads['{v}'] * " + d.format(y=f"v['{v}']"),
        f"    xx = np.atleast_2d(v['{x}'])",
        f"    pgrads['{v}.W'] = xx.T @ np.atleast_2d(delta)",
        f"    pgrads['{v}.b'] = np.atleast_2d(delta).sum(axis=0)",
        f"    grads['{x}'] = grads.get('{x}', 0.0) + delta @ P['{v}.W'].T",
    ]
    blocks.append(block)


def _attr_source(value: Any) -> str:
    """An attribute as a Python literal, so the script stays standalone: numbers exactly (repr
    round-trips), a list of axes as a tuple (numpy reads axis=() as "reduce nothing")."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(tuple(value)) if isinstance(value, list) else repr(value)


# functions the generated code may call; a script carries only those it uses
HELPER_SOURCE = '''
def _unbroadcast(g, shape):
    """Sum g back to an input's shape: a broadcast input gets the sum over its copies."""
    g = np.broadcast_to(g, np.broadcast_shapes(np.shape(g), shape)) * 1.0
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for i, n in enumerate(shape):
        if n == 1 and g.shape[i] != 1:
            g = g.sum(axis=i, keepdims=True)
    return g


def _t(p, t):
    """A target with as many entries as the prediction takes its shape; a scalar broadcasts."""
    return t.reshape(p.shape) if t.ndim and t.size == p.size else t


def _back(g, t):
    return g.reshape(t.shape) if t.ndim else np.sum(g)


def _unreduce(g, x, axis, keepdims):
    """Put back the axes a sum or mean removed, so g spreads over every entry of x it read."""
    if axis is not None and not keepdims:
        axes = (axis,) if isinstance(axis, int) else axis
        g = np.expand_dims(g, axes)
    return np.broadcast_to(g, x.shape)


def _count(x, axis):
    """How many entries of x each output of a mean averages (1 for axis=(): no reduction)."""
    axes = range(x.ndim) if axis is None else (axis,) if isinstance(axis, int) else axis
    return float(np.prod([x.shape[a] for a in axes])) or 1.0


def _sigmoid(x):
    """1 / (1 + exp(-x)), computed from exp(-|x|) so it cannot overflow."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _softmax(x):
    """exp(x) / sum exp(x) along the last axis, shifted by the max so exp cannot overflow."""
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _as_matrices(g, a, b):
    """Promote vectors as @ does: a vector a is the row (1, n), a vector b the column (n, 1);
    g gains the same axes, so the matrix rules apply unchanged."""
    g = np.asarray(g)
    if b.ndim == 1:
        b, g = b[:, None], g[..., None]
    if a.ndim == 1:
        a, g = a[None, :], g[..., None, :]
    return g, a, b


def _matmul_grad_a(g, a, b):
    """dL/da = g @ b^T, summed over broadcast batches and reshaped back to a."""
    g2, a2, b2 = _as_matrices(g, a, b)
    return _unbroadcast(g2 @ np.swapaxes(b2, -1, -2), a2.shape).reshape(np.shape(a))


def _matmul_grad_b(g, a, b):
    """dL/db = a^T @ g, summed over broadcast batches and reshaped back to b."""
    g2, a2, b2 = _as_matrices(g, a, b)
    return _unbroadcast(np.swapaxes(a2, -1, -2) @ g2, b2.shape).reshape(np.shape(b))


def _log_softmax(z):
    zs = z - z.max(axis=-1, keepdims=True)
    return zs - np.log(np.exp(zs).sum(axis=-1, keepdims=True))


def _ce(z, t):
    """Mean of -log softmax(z)[label]."""
    labels = t.astype(np.int64)[..., None]
    return -np.take_along_axis(_log_softmax(z), labels, axis=-1).mean()


def _ce_grad(z, t):
    """(softmax(z) - onehot(t)) / N."""
    labels = t.astype(np.int64)
    grad = _softmax(z)
    idx = labels[..., None]
    np.put_along_axis(grad, idx, np.take_along_axis(grad, idx, -1) - 1, -1)
    return grad / max(labels.size, 1)
'''
HELPERS = {
    chunk.split("(", 1)[0]: "def " + chunk.rstrip() for chunk in HELPER_SOURCE.split("\ndef ")[1:]
}


def _helpers_for(code: str) -> str:
    """The HELPERS `code` calls, and the ones those call, in HELPERS' order."""
    used: set[str] = set()
    pending = code
    while True:
        new = {n for n in HELPERS if n not in used and f"{n}(" in pending}
        if not new:
            break
        used |= new
        pending = "\n".join(HELPERS[n] for n in new)
    return "\n\n\n".join(HELPERS[n] for n in HELPERS if n in used)


def numpy_source(snap: Snapshot, script_name: str = "script.py") -> str:
    order = snap.order
    names = unique_identifiers(order)
    fwd: list[str] = []
    blocks: list[list[str]] = []  # backward blocks in forward order; written reversed
    for nid in order:
        node = snap.node(nid)
        v = names[nid]
        if node.op == "input" and snap.features and snap.x is not None:
            fwd.append(f"    # {nid}: input, the raw features after the scene's transforms")
            fwd.append(f"    v['{v}'] = features(np.array({literal(snap.x)}))")
            continue
        if node.op in SOURCES:
            value = snap.params[nid]["value"] if node.op == "param" else snap.values[nid]
            fwd.append(f"    # {nid}: {node.op}")
            fwd.append(f"    v['{v}'] = np.array({literal(value)})")
            continue
        if node.op == "dense":
            _dense(node, names, snap.params[nid], fwd, blocks)
            continue
        if node.op not in NUMPY_OPS:
            raise ExportError(nid, node.op, "numpy")
        tmpl, grads = NUMPY_OPS[node.op]
        attrs = {k: a.default for k, a in REGISTRY[node.op].attrs.items()} | node.attrs
        lits = {k: _attr_source(a) for k, a in attrs.items()}
        args = {p: f"v['{names[s]}']" for p, s in node.inputs.items()}
        fwd.append(f"    # {nid}: {node.op}  ({tmpl.format(**node.inputs, **lits)})")
        fwd.append(f"    v['{v}'] = " + tmpl.format(**args, **lits))
        block = [
            f"    # {nid}: {node.op} — {formula(node, 'derivative') or 'chain rule'}",
            f"    g = grads['{v}']",
        ]
        for port, src in node.inputs.items():
            expr = grads[port].format(y=f"v['{v}']", **args, **lits)
            s = names[src]
            block.append(
                f"    grads['{s}'] = grads.get('{s}', 0.0) + _unbroadcast({expr}, v['{s}'].shape)"
            )
        blocks.append(block)
    bwd = [line for block in reversed(blocks) for line in block]
    out = names[snap.output]
    helpers = _helpers_for("\n".join(fwd + bwd))
    if snap.features:
        feature_fn = f'''def features(x):
    """The scene's feature transforms of raw features x (N, F), as bpviz applies them."""
    return {features_source(snap.features, "np")}'''
        helpers = "\n\n\n".join(h for h in (helpers, feature_fn) if h)
    return f'''"""{snap.name}: exported from bpviz as plain numpy.

forward() computes every node's value and backward() every node's gradient, one block per
node: the chain rule written out. `python {script_name}` prints the output.
"""

import numpy as np

OUTPUT = {out!r}
P = {{}}  # parameters of layers, keyed "node.name"
pgrads = {{}}  # their gradients, filled by backward()


{helpers}


def forward():
    v = {{}}
{chr(10).join(fwd)}
    return v


def backward(v):
    grads = {{OUTPUT: np.ones_like(v[OUTPUT])}}
{chr(10).join(bwd)}
    for name, value in v.items():  # nodes the output does not depend on get a zero gradient
        grads.setdefault(name, np.zeros_like(value))
    return grads


if __name__ == "__main__":
    values = forward()
    print(values[OUTPUT])
'''


def write_numpy(snap: Snapshot, out: Path) -> list[Path]:
    write_atomic(out, numpy_source(snap, out.name))
    return [out]
