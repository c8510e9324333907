"""Engine speed: bpviz's training step against a hand-written numpy step of the same network.

Run: python benchmarks/bench_engine.py [--steps N]
Reports ratios measured in the same process (machines here are noisy; absolute times are not
comparable between runs). Targets: bpviz within 1.5x of hand-written numpy per step.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

from bpviz.engine.datasets import make_dataset
from bpviz.engine.executor import Executor
from bpviz.engine.graph import Graph
from bpviz.engine.optim import TrainingConfig
from bpviz.engine.training import Trainer

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
    """The same network written out by hand: what a careful person would write in numpy."""
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
    # Interleave rounds so drift in machine load hits both alike.
    bp_us, np_us = [], []
    for _ in range(5):
        bp_us.append(time_per_call(bp, args.steps, 1))
        np_us.append(time_per_call(hand, args.steps, 1))
    bp_t, np_t = statistics.median(bp_us), statistics.median(np_us)
    print("moons 2-16-16-1 relu, hinge, sgd, 100 points, full batch")
    print(f"  hand-written numpy : {np_t:8.1f} us/step   1.00x")
    print(f"  bpviz              : {bp_t:8.1f} us/step   {bp_t / np_t:.2f}x   (target <= 1.5x)")
    torch = torch_step(params)
    if torch is not None:
        t_t = time_per_call(torch, args.steps // 2)
        print(f"  PyTorch eager (CPU): {t_t:8.1f} us/step   {t_t / np_t:.2f}x")
    else:
        print("  PyTorch            : not installed")

    g = elementwise_graph(1000)
    ex = Executor(g)

    def fb() -> None:
        ex.forward()
        ex.backward()

    fb()
    us = time_per_call(fb, 50)
    print(
        f"1000-node elementwise graph: forward+backward {us / 1000:.2f} us per node "
        f"({us / 1000:.1f} ms per pass)"
    )


if __name__ == "__main__":
    main()
