"""Write a scene as a PyTorch script: an `nn.Module` with one line of `forward` per node.

The weights, the optimizer's state and the training data go to a sidecar `.npz` next to the
script (exact float64, and the script stays short enough to read). The script reproduces
bpviz's training too: the same optimizer settings and the same seeded minibatch order, so
training the export tracks the loss history bpviz would record.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bpviz.engine.files import atomic_writer, check_writable, write_atomic
from bpviz.engine.graph import Node
from bpviz.engine.regularize import is_weight
from bpviz.engine.transforms import source as features_source
from bpviz.export.common import (
    SOURCES,
    ExportError,
    Snapshot,
    formula,
    literal,
    unique_identifiers,
)

# nn.Module's own attributes, which a parameter named after a node must not replace
_MODULE_WORDS = """
T_destination add_module apply bfloat16 buffers call_super_init children compile cpu cuda
double dump_patches eval extra_repr float forward get_buffer get_extra_state get_parameter
get_submodule half ipu load_state_dict modules mtia named_buffers named_children
named_modules named_parameters parameters register_backward_hook register_buffer
register_forward_hook register_forward_pre_hook register_full_backward_hook
register_full_backward_pre_hook register_load_state_dict_post_hook
register_load_state_dict_pre_hook register_module register_parameter
register_state_dict_post_hook register_state_dict_pre_hook requires_grad_ set_extra_state
set_submodule share_memory state_dict to to_empty train training type xpu zero_grad
"""
MODULE_NAMES = frozenset(_MODULE_WORDS.split())
# names the generated forward() uses itself
SCRIPT_NAMES = frozenset(
    {"self", "inputs", "targets", "torch", "nn", "F", "np", "match", "features", "penalty"}
)

ACTIVATION = {"none": "{}", "tanh": "torch.tanh({})", "sigmoid": "torch.sigmoid({})"}
ACTIVATION["relu"] = "torch.relu({})"
ENCODING = {
    "column": "targets.reshape(-1, 1)",
    "signs": "2 * targets.reshape(-1, 1) - 1",
    "labels": "targets.long()",
}


def _reduce(method: str) -> Callable[[dict[str, str], dict[str, Any]], str]:
    def expr(a: dict[str, str], attrs: dict[str, Any]) -> str:
        axis, keep = attrs.get("axis"), bool(attrs.get("keepdims"))
        if axis is None:
            whole = f"{a['x']}.{method}()"
            return f"{whole}.reshape([1] * {a['x']}.dim())" if keep else whole
        if axis == []:
            return a["x"]  # an empty axis list reduces nothing
        dims = axis if isinstance(axis, int) else tuple(axis)
        return f"{a['x']}.{method}(dim={dims!r}" + (", keepdim=True)" if keep else ")")

    return expr


def _simple(template: str) -> Callable[[dict[str, str], dict[str, Any]], str]:
    return lambda a, attrs: template.format(**a)


# op -> expression of its inputs' variable names (a) and attrs
TORCH_OPS: dict[str, Callable[[dict[str, str], dict[str, Any]], str]] = {
    "add": _simple("{a} + {b}"),
    "sub": _simple("{a} - {b}"),
    "mul": _simple("{a} * {b}"),
    "div": _simple("{a} / {b}"),
    "neg": _simple("-{x}"),
    "exp": _simple("torch.exp({x})"),
    "log": _simple("torch.log({x})"),
    "pow": lambda a, attrs: f"torch.pow({a['x']}, {float(attrs.get('exponent', 2.0))!r})",
    "matmul": _simple("{a} @ {b}"),
    "sum": _reduce("sum"),
    "mean": _reduce("mean"),
    "tanh": _simple("torch.tanh({x})"),
    "sigmoid": _simple("torch.sigmoid({x})"),
    "relu": _simple("torch.relu({x})"),
    "leaky_relu": lambda a, attrs: f"F.leaky_relu({a['x']}, {float(attrs.get('alpha', 0.01))!r})",
    "softmax": _simple("torch.softmax({x}, dim=-1)"),
    "column": lambda a, attrs: f"{a['x']}[..., {int(attrs.get('index', 0))}:"
    f"{int(attrs.get('index', 0)) + 1}]",
    "concat": _simple("torch.cat([{a}, {b}], dim=-1)"),
    "mse": _simple("F.mse_loss({pred}, match({pred}, {target}))"),
    "bce": _simple("F.binary_cross_entropy_with_logits({pred}, match({pred}, {target}))"),
    "hinge": _simple("torch.relu(1 - match({pred}, {target}) * {pred}).mean()"),
    "cross_entropy": _simple("F.cross_entropy({pred}, {target}.long())"),
}


class _Writer:
    """Collects the pieces of the script while walking the graph once."""

    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap
        self.names = unique_identifiers(snap.order, MODULE_NAMES | SCRIPT_NAMES)
        self.init: list[str] = []  # lines of Model.__init__
        self.forward: list[str] = []  # lines of Model.forward
        self.params: dict[str, tuple[str, bool]] = {}  # bpviz key -> (torch name, transposed)
        self.arrays: dict[str, np.ndarray] = {}  # what goes into the .npz
        self.has_data = snap.x is not None
        ops = {n.op for n in snap.nodes}
        self.args = [a for a, op in (("inputs", "input"), ("targets", "target")) if op in ops]
        if not self.has_data:
            self.args = []

    def node(self, node: Node) -> None:
        v = self.names[node.id]
        a = {port: self.names[src] for port, src in node.inputs.items()}
        note = node.op if node.op in SOURCES else formula(node)
        if node.op == "param":
            value = self.snap.params[node.id]["value"]
            self.init.append(f"self.{v} = nn.Parameter(torch.zeros({value.shape!r}))")
            self.params[f"{node.id}.value"] = (v, False)
            expr = f"self.{v}"
        elif node.op == "dense":
            w = self.snap.params[node.id]["W"]
            act = node.attrs.get("activation", "none")
            if act not in ACTIVATION:
                raise ExportError(node.id, f"dense(activation={act})", "torch")
            self.init.append(f"self.{v} = nn.Linear({w.shape[0]}, {w.shape[1]})")
            self.params[f"{node.id}.W"] = (f"{v}.weight", True)  # nn.Linear keeps W transposed
            self.params[f"{node.id}.b"] = (f"{v}.bias", False)
            expr = ACTIVATION[act].format(f"self.{v}({a['x']})")
        elif node.op in ("input", "target") and self.has_data:
            encoding = node.attrs.get("encoding", "column")
            expr = "inputs" if node.op == "input" else ENCODING[encoding]
            note = "the features" if node.op == "input" else f"the targets, {encoding} encoding"
            if node.op == "input" and self.snap.features:
                expr, note = "features(inputs)", "the features after the scene's transforms"
        elif node.op in ("const", "input", "target"):
            value = self.snap.values[node.id]
            self.init.append(f'self.register_buffer("{v}", torch.tensor({literal(value)}))')
            expr = f"self.{v}"
        elif node.op in TORCH_OPS:
            expr = TORCH_OPS[node.op](a, node.attrs)
        else:
            raise ExportError(node.id, node.op, "torch")
        self.forward += [f"# {node.id}: {note}", f"{v} = {expr}"]

    def collect_arrays(self) -> None:
        snap = self.snap
        for key in self.params:
            nid, _, name = key.rpartition(".")
            self.arrays[f"param/{key}"] = snap.params[nid][name]
        for nid, named in snap.optimizer_state.get("slots", {}).items():
            for name, slot in named.items():
                if f"{nid}.{name}" in self.params:
                    for k, a in slot.items():
                        self.arrays[f"slot/{k}/{nid}.{name}"] = np.asarray(a, dtype=np.float64)
        for split, x, y in (("train", snap.x, snap.y), ("test", snap.x_test, snap.y_test)):
            if x is not None and y is not None:
                self.arrays[f"data/{split}/inputs"] = x
                self.arrays[f"data/{split}/targets"] = np.asarray(y, dtype=np.float64)


def _features_function(snap: Snapshot) -> str:
    """`features(x)`: the scene's data.transforms, so Model takes the raw features."""
    if not snap.features:
        return ""
    return f'''

def features(x):
    """The scene's feature transforms of raw features x (N, F), as bpviz applies them."""
    return {features_source(snap.features, "torch")}
'''


MATCH = '''

def match(pred, target):
    """bpviz's losses compare a target of the prediction's size in the prediction's shape."""
    if target.shape != pred.shape and target.numel() == pred.numel() and target.dim():
        return target.reshape(pred.shape)
    return target.expand_as(pred) if target.dim() == 0 else target
'''


def _q(text: str) -> str:
    """A double-quoted Python string literal (JSON's escapes are valid Python)."""
    return json.dumps(text)


def _block(lines: list[str], indent: int) -> str:
    pad = " " * indent
    return "\n".join(pad + line for line in lines) if lines else pad + "pass"


def _optimizer(snap: Snapshot) -> str:
    c = snap.config
    if c.optimizer == "adam":
        name, extra = "Adam", f"betas=({c.beta1!r}, {c.beta2!r}), eps={c.eps!r}"
    else:
        name, extra = "SGD", f"momentum={c.momentum!r}" if c.optimizer == "momentum" else ""
    settings = ", ".join(
        s for s in (f"lr={c.lr!r}", extra, f"weight_decay={c.weight_decay!r}") if s
    )
    call = f"torch.optim.{name}(model.parameters(), {settings})"
    return call if len(call) < 80 else call.replace("(", "(\n        ", 1)[:-1] + "\n    )"


def _extras(snap: Snapshot, params: dict[str, tuple[str, bool]]) -> tuple[str, str, str]:
    """Settings, functions and train() lines for training.l1/l2 and training.schedule, only
    when the scene uses them (engine/regularize.py has the rules)."""
    c = snap.config
    start = int(snap.optimizer_state.get("start", 0))
    settings = [f"START = {start}  # the step this optimizer took over: Adam's bias counts from it"]
    functions, lines = [], []
    if c.l1 or c.l2:
        ops = {n.id: n.op for n in snap.nodes}
        keys = [k for k in params if is_weight(ops[k.rpartition(".")[0]], k.rpartition(".")[2])]
        settings.append(f"L1, L2 = {c.l1!r}, {c.l2!r}  # rates of l1·Σ|w| + l2·½Σw²")
        settings.append(f"WEIGHTS = {keys!r}  # the penalised parameters: no dense bias")
        functions.append('''

def penalty(model):
    """training.l1 and l2 over the weights, added to the loss as bpviz adds it."""
    layout = bpviz_layout(model)
    total = 0.0
    for key in WEIGHTS:
        w = layout[key]
        total = total + L1 * w.abs().sum() + L2 * 0.5 * (w * w).sum()
    return total
''')
        lines.append(" + penalty(model)")
    if c.schedule:
        settings.append(f"LR, SCHEDULE = {c.lr!r}, {c.schedule!r}")
        functions.append('''

def lr_factor(k):
    """The learning rate's factor for the step after k steps (bpviz's training.schedule)."""
    if SCHEDULE["kind"] == "step":
        return SCHEDULE["factor"] ** (k // SCHEDULE["every"])
    n = SCHEDULE["steps"]
    return 0.5 * (1.0 + math.cos(math.pi * min(k, n) / n))
''')
    return "\n".join(settings), "".join(functions), "".join(lines)


def torch_source(snap: Snapshot, arrays_name: str) -> tuple[str, dict[str, np.ndarray]]:
    """The script's text and the arrays for its sidecar file."""
    w = _Writer(snap)
    for node in snap.nodes:
        w.node(node)
    w.collect_arrays()
    out = w.names[snap.output]
    pred = snap.prediction()
    pred_note = (
        f"\n    The prediction is `{w.names[pred]}`, the value its loss compares with the targets."
        if pred
        else ""
    )
    rows = [
        f"    {_q(k)}: ({_q(name)}, {transposed})," for k, (name, transposed) in w.params.items()
    ]
    params = "{" + "".join("\n" + row for row in rows) + ("\n}" if rows else "}")
    forward = _block(w.forward, 8)
    c = snap.config
    step = int(snap.optimizer_state.get("step", 0))
    signature = ", ".join(["self", *w.args])
    settings, functions, penalty_term = _extras(snap, w.params)
    set_lr = (
        "\n            for group in optimizer.param_groups:"
        '\n                group["lr"] = LR * lr_factor(STEP + k)'
        if c.schedule
        else ""
    )
    arg_names = f"({', '.join(map(_q, w.args))}{',' if len(w.args) == 1 else ''})"
    text = f'''"""{snap.name}: a PyTorch model exported from bpviz.

`Model()` computes the graph node by node with the scene's current weights, read from
{arrays_name} next to this script (with the optimizer state and the training data).

    python {Path(arrays_name).stem}.py              # print the output on the training data
    python {Path(arrays_name).stem}.py --train 100  # train with the scene's optimizer first
"""

import argparse
{"import math" + chr(10) if c.schedule else ""}from pathlib import Path

import numpy as np
import torch
{"import torch.nn.functional as F" + chr(10) if "F." in forward else ""}from torch import nn

torch.set_default_dtype(torch.float64)  # bpviz computes in float64

ARRAYS = Path(__file__).with_name({_q(arrays_name)})
OPTIMIZER = {_q(c.optimizer)}
STEP = {step}  # optimizer steps the scene has taken; training continues from here
BATCH_SIZE = {c.batch_size!r}  # None: every step sees the whole training set
SEED = {c.seed!r}  # seeds the minibatch order exactly as bpviz does
{settings}

# bpviz parameter -> (parameter of Model, stored transposed?): nn.Linear keeps W as (out, in)
PARAMETERS = {params}
{MATCH if "match(" in forward else ""}{_features_function(snap)}

class Model(nn.Module):
    """The graph {_q(snap.name)}: one line of forward() per node, in bpviz's order.

    forward() returns the output node `{out}`.{pred_note}
    """

    def __init__(self, weights=True):
        super().__init__()
{_block(w.init, 8)}
        if weights:
            load_weights(self, np.load(ARRAYS))

    def forward({signature}):
{forward}
        return {out}


def bpviz_layout(model, grads=False):
    """Each parameter (or its gradient) shaped as bpviz stores it, keyed "node.name"."""
    named = dict(model.named_parameters())
    tensors = {{}}
    for key, (name, transposed) in PARAMETERS.items():
        t = named[name].grad if grads else named[name]
        tensors[key] = t.T if transposed and t is not None else t
    return tensors


def load_weights(model, arrays):
    with torch.no_grad():
        for key, tensor in bpviz_layout(model).items():
            tensor.copy_(torch.from_numpy(arrays["param/" + key]))


def scene_data(split="train"):
    """The scene's data as Model's arguments ({", ".join(w.args) or "none"})."""
    arrays = np.load(ARRAYS)
    return tuple(torch.from_numpy(arrays[f"data/{{split}}/{{a}}"]) for a in {arg_names})


def scene_loss(model, split="train"):
    """The graph's output (the loss, for a training graph) on the scene's data."""
    return model(*scene_data(split))


def make_optimizer(model):
    """The scene's optimizer, carrying on with bpviz's state (moments and step count)."""
    if not PARAMETERS:
        return None
    optimizer = {_optimizer(snap)}
    arrays = np.load(ARRAYS)
    named = dict(model.named_parameters())
    for key, (name, transposed) in PARAMETERS.items():
        slot = {{}}
        for k in ("m", "v"):
            a = arrays.get(f"slot/{{k}}/{{key}}")
            if a is not None:
                slot[k] = torch.from_numpy(a.T.copy() if transposed else a)
        param = named[name]
        if OPTIMIZER == "momentum" and "m" in slot:
            optimizer.state[param] = {{"momentum_buffer": slot["m"]}}
        elif OPTIMIZER == "adam" and STEP - START:  # bpviz corrects each moment's bias by step
            zeros = torch.zeros_like(param)
            optimizer.state[param] = {{
                "step": torch.tensor(float(STEP - START)),
                "exp_avg": slot.get("m", zeros),
                "exp_avg_sq": slot.get("v", zeros.clone()),
            }}
    return optimizer
{functions}

def batches(data, skip=STEP):
    """bpviz's minibatches: epoch e is the permutation np.random.default_rng((SEED, e)) draws,
    cut into n // BATCH_SIZE batches; `skip` batches are passed over without replaying them."""
    n = len(data[0]) if data else 0
    if not data or BATCH_SIZE is None or BATCH_SIZE >= n:
        while True:
            yield data
    per_epoch = n // BATCH_SIZE
    epoch, k = divmod(skip, per_epoch)
    while True:
        order = torch.from_numpy(np.random.default_rng((SEED, epoch)).permutation(n))
        for start in range(k * BATCH_SIZE, per_epoch * BATCH_SIZE, BATCH_SIZE):
            yield tuple(a[order[start : start + BATCH_SIZE]] for a in data)
        epoch, k = epoch + 1, 0


def train(model, steps, optimizer=None):
    """Optimizer steps as bpviz takes them. Each loss is the one bpviz records: the whole
    training set's, measured after the step's update."""
    optimizer = optimizer or make_optimizer(model)
    data = scene_data()
    sampler = batches(data)
    losses = []
    for k in range(steps):
        loss = model(*next(sampler)){penalty_term}
        if optimizer is not None:  # None: the graph has no parameters to train{set_lr}
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            losses.append((model(*data){penalty_term}).item())
    return losses


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=0, metavar="STEPS", help="train first")
    args = parser.parse_args()
    model = Model()
    if args.train:
        for step, loss in enumerate(train(model, args.train), start=STEP + 1):
            print(f"step {{step}}: loss {{loss:.6g}}")
    with torch.no_grad():
        out = scene_loss(model)
    print(out.item() if out.dim() == 0 else out.numpy())
'''
    return text, w.arrays


def write_torch(snap: Snapshot, out: Path) -> list[Path]:
    """`out` (the script) and the .npz beside it with the same stem."""
    sidecar = out.with_suffix(".npz")
    text, arrays = torch_source(snap, sidecar.name)
    check_writable(out)  # both refusals before either file is replaced
    check_writable(sidecar)
    with atomic_writer(sidecar) as f:
        np.savez(f, **arrays)
    write_atomic(out, text)
    return [out, sidecar]
