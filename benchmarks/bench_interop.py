"""Tracing speed: micrograd's moons MLP (2-16-16-1, hinge loss) traced over a batch with
bpviz.Value, then turned into a scene.

Run: python benchmarks/bench_interop.py [--batches 5 10 20]
Reports, per batch size, the scene's node count and ratios measured in the same process
(absolute times are not comparable between runs here):
  build/trace  building the scene's nodes, ids and layout ÷ computing the Values and their
               gradients (what the person's own script costs);
  check/trace  validating the scene like a file being opened ÷ the same;
A ratio that stays flat as the batch grows means that part grows linearly with the nodes.
"""

from __future__ import annotations

import argparse
import gc
import random
import time
from collections.abc import Callable

from bpviz.interop.trace import build
from bpviz.interop.value import Value
from bpviz.scene import validate_scene_dict


def mlp(rng: random.Random, sizes: list[int]) -> list[list[tuple[list[Value], Value, bool]]]:
    """micrograd's nn.MLP: each neuron is (weights, bias, relu?); the last layer is linear."""
    return [
        [
            ([Value(rng.uniform(-1, 1)) for _ in range(sizes[i])], Value(0.0), i < len(sizes) - 2)
            for _ in range(sizes[i + 1])
        ]
        for i in range(len(sizes) - 1)
    ]


def forward(model, x: list[Value | float]) -> Value:  # noqa: ANN001
    for layer in model:
        outs = []
        for w, b, nonlin in layer:
            act = sum((wi * xi for wi, xi in zip(w, x, strict=True)), b)
            outs.append(act.relu() if nonlin else act)
        x = outs
    return x[0]


def traced_loss(batch: int) -> tuple[Value, float]:
    rng = random.Random(1)
    model = mlp(rng, [2, 16, 16, 1])
    xs = [[rng.uniform(-1, 2), rng.uniform(-1, 1)] for _ in range(batch)]
    ys = [rng.choice([-1, 1]) for _ in range(batch)]
    start = time.perf_counter()
    scores = [forward(model, x) for x in xs]
    loss = sum((1 + -y * s).relu() for y, s in zip(ys, scores, strict=True)) * (1.0 / batch)
    loss.backward()
    return loss, time.perf_counter() - start


def best(fn: Callable[[], object], repeats: int = 3) -> float:
    """The fastest of a few runs: the least disturbed by other work on the machine."""
    times = []
    for _ in range(repeats):
        gc.collect()  # start each run with no leftovers from the last
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def measure(batch: int) -> tuple[int, float, float]:
    """(nodes, build/trace, check/trace)."""
    loss, _ = traced_loss(batch)
    traced = best(lambda: traced_loss(batch))

    def build_and_lay_out() -> dict:
        b, output = build(loss)
        return b.laid_out(output)

    built = best(build_and_lay_out)
    scene = build_and_lay_out()
    check = best(lambda: validate_scene_dict(scene))
    return len(scene["nodes"]), built / traced, check / traced


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batches", type=int, nargs="+", default=[5, 10, 20])
    args = p.parse_args()
    measure(2)  # warm-up: first imports and caches
    rows = [(b, *measure(b)) for b in args.batches]
    print(f"{'batch':>5} {'nodes':>7} {'build/trace':>12} {'check/trace':>12}")
    for batch, n, built, check in rows:
        print(f"{batch:>5} {n:>7} {built:>12.2f} {check:>12.2f}")


if __name__ == "__main__":
    main()
