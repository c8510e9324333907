"""Engine speed: bpviz's training step against a hand-written numpy step of the same network,
and a scalar graph's forward + backward against a pure-Python scalar autograd.

Run from the checkout root: PYTHONPATH=. python benchmarks/bench_engine.py [--steps N]
Reports ratios measured in the same process, rounds interleaved (machines here are noisy;
absolute times are not comparable between runs). Targets: the 784-256-128-10 softmax MLP at
batch 128 within 1.2x of hand-written numpy, moons within 1.3x, a 1,000-node scalar DAG at
most 1.0x the pure-Python autograd per node.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one thread for both sides: fair, steady

import argparse  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402

from bpviz.engine.datasets import make_dataset  # noqa: E402
from bpviz.engine.executor import Executor  # noqa: E402
from bpviz.engine.graph import Graph  # noqa: E402
from bpviz.engine.optim import TrainingConfig  # noqa: E402
from bpviz.engine.training import Trainer  # noqa: E402

MOONS = {"kind": "moons", "n": 100, "noise": 0.1, "seed": 1, "test_fraction": 0.0}
LR = 0.1


def moons_graph() -> Graph:
    g = Graph()
    g.add_node("x", "input")
    g.add_node("h1", "dense", {"units": 16, "activation": "relu"}, inputs={"x": "x"})
    g.add_node("h2", "dense", {"units": 16, "activation": "relu"}, inputs={"x": "h1"})
    g.add_node("out", "dense", {"units": 1}, inputs={"x": "h2"})
    g.add_node("t", "target", {"encoding": "signs"})
    g.add_node("loss", "hinge", inputs={"pred": "out", "target": "t"})
    g.set_output("loss")
    return g


def bpviz_step() -> tuple[Callable[[], float], dict]:
    ds = make_dataset(MOONS)
    trainer = Trainer(Executor(moons_graph()), ds, TrainingConfig(lr=LR))
    trainer.step()
    params = {k: {n: a.copy() for n, a in v.items()} for k, v in trainer.executor.params.items()}
    return lambda: trainer.step(continuing=True).loss, params  # as in a training loop


def numpy_step(params: dict) -> Callable[[], float]:
    """The same network written out by hand: what a careful person would write in numpy.
    It measures the loss but neither computes the accuracy nor records a history row, both
    of which bpviz's step does: the ratio counts them against bpviz."""
    ds = make_dataset(MOONS)
    x, t = ds.x_train, (2.0 * ds.y_train - 1.0).reshape(-1, 1)
    W1, b1 = params["h1"]["W"].copy(), params["h1"]["b"].copy()
    W2, b2 = params["h2"]["W"].copy(), params["h2"]["b"].copy()
    W3, b3 = params["out"]["W"].copy(), params["out"]["b"].copy()
    n = x.shape[0]

    def step() -> float:
        nonlocal W1, b1, W2, b2, W3, b3
        h1 = np.maximum(x @ W1 + b1, 0.0)
        h2 = np.maximum(h1 @ W2 + b2, 0.0)
        p = h2 @ W3 + b3
        margin = 1.0 - t * p
        loss = float(np.maximum(margin, 0.0).mean())
        if not np.isfinite(loss):
            raise FloatingPointError
        gp = np.where(margin > 0, -t, 0.0) / n
        gW3, gb3 = h2.T @ gp, gp.sum(0)
        g2 = (gp @ W3.T) * (h2 > 0)
        gW2, gb2 = h1.T @ g2, g2.sum(0)
        g1 = (g2 @ W2.T) * (h1 > 0)
        gW1, gb1 = x.T @ g1, g1.sum(0)
        W1 -= LR * gW1
        b1 -= LR * gb1
        W2 -= LR * gW2
        b2 -= LR * gb2
        W3 -= LR * gW3
        b3 -= LR * gb3
        return loss

    return step


def torch_step(params: dict) -> Callable[[], float] | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    ds = make_dataset(MOONS)
    x = torch.tensor(ds.x_train)
    t = torch.tensor(2.0 * ds.y_train - 1.0).reshape(-1, 1)
    ws = [
        torch.tensor(params[k][n], requires_grad=True)
        for k in ("h1", "h2", "out")
        for n in ("W", "b")
    ]
    opt = torch.optim.SGD(ws, lr=LR)

    def step() -> float:
        W1, b1, W2, b2, W3, b3 = ws
        p = torch.relu(torch.relu(x @ W1 + b1) @ W2 + b2) @ W3 + b3
        loss = torch.clamp(1 - t * p, min=0).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return float(loss.detach())

    return step


MLP_SIZES = (784, 256, 128, 10)
MLP_BATCH = 128
MLP_LR = 0.01


def mlp_graph() -> Graph:
    g = Graph()
    g.add_node("x", "input")
    prev = "x"
    for i, units in enumerate(MLP_SIZES[1:], 1):
        act = "relu" if i < len(MLP_SIZES) - 1 else "none"
        g.add_node(f"h{i}", "dense", {"units": units, "activation": act}, inputs={"x": prev})
        prev = f"h{i}"
    g.add_node("t", "target", {"encoding": "labels"})
    g.add_node("loss", "cross_entropy", inputs={"pred": prev, "target": "t"})
    g.set_output("loss")
    return g


def mlp_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((MLP_BATCH, MLP_SIZES[0]))
    y = rng.integers(0, MLP_SIZES[-1], MLP_BATCH).astype(np.float64)
    return x, y


def bpviz_mlp_step() -> tuple[Callable[[], float], dict]:
    ex = Executor(mlp_graph())
    ex.set_data(*mlp_data())
    trainer = Trainer(ex, None, TrainingConfig(lr=MLP_LR))
    trainer.step()
    params = {k: {n: a.copy() for n, a in v.items()} for k, v in ex.params.items()}
    return lambda: trainer.step(continuing=True).loss, params


def numpy_mlp_step(params: dict) -> Callable[[], float]:
    """The softmax MLP by hand: no gradient for the input data, as a careful person writes it."""
    x, y = mlp_data()
    labels = y.astype(np.int64)
    n = len(x)
    rows = np.arange(n)
    Ws = [params[f"h{i}"]["W"].copy() for i in (1, 2, 3)]
    bs = [params[f"h{i}"]["b"].copy() for i in (1, 2, 3)]

    def step() -> float:
        h1 = np.maximum(x @ Ws[0] + bs[0], 0.0)
        h2 = np.maximum(h1 @ Ws[1] + bs[1], 0.0)
        z = h2 @ Ws[2] + bs[2]
        zs = z - z.max(axis=1, keepdims=True)
        e = np.exp(zs)
        s = e.sum(axis=1, keepdims=True)
        loss = float(-(zs[rows, labels] - np.log(s[:, 0])).mean())
        if not np.isfinite(loss):
            raise FloatingPointError
        dz = e / s
        dz[rows, labels] -= 1.0
        dz /= n
        g3 = (h2.T @ dz, dz.sum(0))
        d2 = (dz @ Ws[2].T) * (h2 > 0)
        g2 = (h1.T @ d2, d2.sum(0))
        d1 = (d2 @ Ws[1].T) * (h1 > 0)
        g1 = (x.T @ d1, d1.sum(0))
        for i, (gW, gb) in enumerate((g1, g2, g3)):
            Ws[i] -= MLP_LR * gW
            bs[i] -= MLP_LR * gb
        return loss

    return step


class Value:
    """The pure-Python scalar autograd reference (micrograd's design): a node per value,
    a closure per op for its local derivative, a topological sort per backward pass."""

    __slots__ = ("data", "grad", "_prev", "_backward")

    def __init__(self, data: float, prev: tuple = ()) -> None:
        self.data, self.grad, self._prev, self._backward = data, 0.0, prev, None

    def __add__(self, other: Value) -> Value:
        out = Value(self.data + other.data, (self, other))

        def backward() -> None:
            self.grad += out.grad
            other.grad += out.grad

        out._backward = backward
        return out

    def __mul__(self, other: Value) -> Value:
        out = Value(self.data * other.data, (self, other))

        def backward() -> None:
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = backward
        return out

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        out = Value(t, (self,))

        def backward() -> None:
            self.grad += (1.0 - t * t) * out.grad

        out._backward = backward
        return out

    def backward(self) -> None:
        order: list[Value] = []
        seen: set[Value] = set()

        def visit(v: Value) -> None:  # micrograd's own topological sort (fine at this depth)
            if v not in seen:
                seen.add(v)
                for p in v._prev:
                    visit(p)
                order.append(v)

        visit(self)
        self.grad = 1.0
        for v in reversed(order):
            if v._backward is not None:
                v._backward()


def scalar_dag(n: int, seed: int = 0) -> list[tuple[str, tuple[int, ...]]]:
    """A micrograd-style random DAG of n scalar ops: 20 leaves, then units tanh(a * b + c)
    reading recent leaves or unit outputs (so values stay bounded at any depth); the last
    node is the output."""
    rng = np.random.default_rng(seed)
    spec: list[tuple[str, tuple[int, ...]]] = [("leaf", ()) for _ in range(20)]
    bounded = list(range(20))
    while len(spec) + 3 <= n:
        a, b, c = (bounded[-int(k)] for k in np.minimum(rng.geometric(0.1, 3), len(bounded)))
        i = len(spec)
        spec += [("mul", (a, b)), ("add", (i, c)), ("tanh", (i + 1,))]
        bounded.append(i + 2)
    return spec


def scalar_reference(spec: list, leaves: list[float]) -> Callable[[], float]:
    def run() -> float:
        vals: list[Value] = []
        for op, ins in spec:
            if op == "leaf":
                vals.append(Value(leaves[len(vals)]))
            elif op == "add":
                vals.append(vals[ins[0]] + vals[ins[1]])
            elif op == "mul":
                vals.append(vals[ins[0]] * vals[ins[1]])
            else:
                vals.append(vals[ins[0]].tanh())
        vals[-1].backward()
        return vals[0].grad

    return run


def scalar_bpviz(spec: list, leaves: list[float]) -> tuple[Executor, Callable[[], float]]:
    g = Graph()
    for i, (op, ins) in enumerate(spec):
        if op == "leaf":
            g.add_node(f"v{i}", "param", {"value": leaves[i]})
        else:
            ports = ("x",) if op == "tanh" else ("a", "b")
            g.add_node(f"v{i}", op, inputs={p: f"v{j}" for p, j in zip(ports, ins, strict=True)})
    g.set_output(f"v{len(spec) - 1}")
    ex = Executor(g)

    def run() -> float:
        ex.forward()
        ex.backward()
        return ex.param_grads["v0"]["value"]

    return ex, run


def paired(a: Callable[[], object], b: Callable[[], object], calls: int, rounds: int = 11):
    """Median time per call of a and of b, the median of their ratio round by round (a and b
    take turns, so a slower moment of the machine hits both alike), and the same median
    ratio by this thread's CPU time, which leaves out the moments other programs had the
    core (on a shared machine the wall clock counts them against whichever side they hit)."""
    ta, tb, ca, cb = [], [], [], []
    for _ in range(rounds):
        for fn, wall, cpu in ((a, ta, ca), (b, tb, cb)):
            w0, c0 = time.perf_counter(), time.thread_time()
            for _ in range(calls):
                fn()
            cpu.append(time.thread_time() - c0)
            wall.append((time.perf_counter() - w0) / calls * 1e6)
    ratio = statistics.median(x / y for x, y in zip(ta, tb, strict=True))
    cpu_ratio = statistics.median(x / y for x, y in zip(ca, cb, strict=True))
    return statistics.median(ta), statistics.median(tb), ratio, cpu_ratio


def time_per_call(fn: Callable[[], object], calls: int, repeats: int = 5) -> float:
    """Median over `repeats` rounds of the mean time per call, in microseconds."""
    rounds = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        rounds.append((time.perf_counter() - t0) / calls * 1e6)
    return statistics.median(rounds)


def elementwise_graph(n_nodes: int) -> Graph:
    """A long graph of cheap elementwise ops on small vectors: measures per-node overhead."""
    g = Graph()
    g.add_node("p0", "param", {"value": [0.1, 0.2, 0.3, 0.4]})
    ops = ["tanh", "sigmoid", "neg", "exp"]
    prev = "p0"
    for i in range(1, n_nodes - 1):
        if i % 5 == 0:
            g.add_node(f"n{i}", "add", inputs={"a": prev, "b": "p0"})
        else:
            g.add_node(f"n{i}", ops[i % 4] if ops[i % 4] != "exp" else "tanh", inputs={"x": prev})
        prev = f"n{i}"
    g.add_node("out", "sum", inputs={"x": prev})
    g.set_output("out")
    return g


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=2000)
    args = ap.parse_args()

    bp, params = bpviz_step()
    hand = numpy_step(params)
    bp_t, np_t, ratio, cpu = paired(bp, hand, args.steps // 4)
    print("moons 2-16-16-1 relu, hinge, sgd, 100 points, full batch")
    print(f"  hand-written numpy : {np_t:8.1f} us/step   1.00x")
    print(f"  bpviz              : {bp_t:8.1f} us/step   {ratio:.2f}x   (target <= 1.3x)")
    print(f"                       by CPU time:        {cpu:.2f}x")
    torch = torch_step(params)
    if torch is not None:
        t_t = time_per_call(torch, args.steps // 2)
        print(f"  PyTorch eager (CPU): {t_t:8.1f} us/step   {t_t / np_t:.2f}x")
    else:
        print("  PyTorch            : not installed")

    bp_mlp, mlp_params = bpviz_mlp_step()
    hand_mlp = numpy_mlp_step(mlp_params)
    # the same steps from the same weights: bpviz reports the loss after its update, the
    # hand-written step the loss before its update, so step k+1's figure matches step k's
    hand_mlp()
    assert abs(bp_mlp() - hand_mlp()) < 1e-12
    bp_t, np_t, ratio, cpu = paired(bp_mlp, hand_mlp, max(args.steps // 100, 5))
    print("MLP 784-256-128-10 relu, softmax cross-entropy, sgd, batch 128")
    print(f"  hand-written numpy : {np_t:8.1f} us/step   1.00x")
    print(f"  bpviz              : {bp_t:8.1f} us/step   {ratio:.2f}x   (target <= 1.2x)")
    print(f"                       by CPU time:        {cpu:.2f}x")

    rng = np.random.default_rng(1)
    spec = scalar_dag(1000)
    leaves = [float(v) for v in rng.uniform(-1, 1, len(spec))]
    ref = scalar_reference(spec, leaves)
    ex, bp = scalar_bpviz(spec, leaves)
    # the same gradient (numpy's tanh and math.tanh may differ in the last bit)
    assert math.isclose(ref(), float(bp()), rel_tol=1e-9, abs_tol=1e-12)
    bp_t, ref_t, ratio, cpu = paired(bp, ref, 10)
    n = len(spec)
    print("1000-node scalar DAG (add, mul, tanh), forward + backward")
    print(f"  pure-Python autograd: {ref_t / n:6.2f} us/node   1.00x")
    print(f"  bpviz               : {bp_t / n:6.2f} us/node   {ratio:.2f}x   (target <= 1.0x)")
    print(f"                        by CPU time:      {cpu:.2f}x")

    g = elementwise_graph(1000)
    ex = Executor(g)

    def fb() -> None:
        ex.forward()
        ex.backward()

    fb()
    us = time_per_call(fb, 50)
    print(
        f"1000-node elementwise graph on 4-vectors: forward+backward {us / 1000:.2f} us per node "
        f"({us / 1000:.1f} ms per pass)"
    )


if __name__ == "__main__":
    main()
