"""Loading speed: random scalar DAGs of 1k, 10k and 100k nodes (optionally 1M), listed in
topological file order and reversed, from JSON text to a runnable scene with values; and
auto layout (Ctrl+L) of 5,000 of those nodes.

Run: python benchmarks/bench_load.py [--sizes 1000 10000 100000] [--million]
Each figure is the best of a few loads in this process; ratios compare sizes and orders
measured side by side. Targets: 10k ≤ 12× the 1k time; reversed ≤ 2× forward; 100k in a
few seconds; 1M within 10 s and 1.5 GB (--million runs it in a child process, to read
its peak memory alone); layout of 5,000 nodes ≤ 0.5 s.

Run it from the checkout root with `PYTHONPATH=.` so the checkout's bpviz is the one measured.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

from bpviz.model.document import Document
from bpviz.model.layout import auto_layout_positions
from bpviz.scene.document import parse_scene

BINARY = ("add", "mul", "sub")
SQUASH = ("tanh", "sigmoid")


def random_dag(n: int, seed: int = 0, reverse: bool = False) -> str:
    """n nodes: 5% constants, then pairs of a random binary op reading two earlier bounded
    values (mostly recent ones, as built graphs do) and a squashing op of it, so values stay
    finite at any depth. The last node is the output. Positions on a grid."""
    rng = np.random.default_rng(seed)
    nodes: list[dict] = []
    n_const = max(2, n // 20)
    for i in range(n_const):
        nodes.append({"id": f"c{i}", "op": "const", "attrs": {"value": round(0.1 + i % 7 / 10, 2)}})
    bounded = [node["id"] for node in nodes]
    for i in range(n_const, n):
        if (i - n_const) % 2 == 0:
            op = BINARY[int(rng.integers(len(BINARY)))]
            back = np.minimum(rng.geometric(0.1, size=2), len(bounded))
            srcs = {"a": bounded[-int(back[0])], "b": bounded[-int(back[1])]}
        else:
            op = SQUASH[int(rng.integers(len(SQUASH)))]
            srcs = {"x": nodes[-1]["id"]}
            bounded.append(f"n{i}")
        nodes.append({"id": f"n{i}", "op": op, "inputs": srcs})
    for i, node in enumerate(nodes):
        node["pos"] = [float(i // 100) * 200.0, float(i % 100) * 110.0]
    out = nodes[-1]["id"]
    if reverse:
        nodes.reverse()
    return json.dumps(
        {"format": "bpviz-scene", "version": 1, "output": out, "nodes": nodes},
        separators=(",", ":"),
    )


def load_time(text: str, repeats: int) -> float:
    """Best of `repeats`: parse, check, build and run one forward pass (what opening does)."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        parse_scene(text)
        best = min(best, time.perf_counter() - t0)
    return best


def million() -> None:
    text = random_dag(1_000_000)
    t0 = time.perf_counter()
    scene = parse_scene(text)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{len(scene.graph):>9} nodes: {seconds:7.2f} s, peak {peak:.0f} MB (including the text)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[1000, 10_000, 100_000])
    ap.add_argument("--million", action="store_true", help="also load 1M nodes in a child")
    ap.add_argument("--million-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.million_child:
        million()
        return
    times: dict[tuple[int, bool], float] = {}
    for n in args.sizes:
        repeats = 5 if n <= 10_000 else 2
        texts = {rev: random_dag(n, reverse=rev) for rev in (False, True)}
        for rev in (False, True):
            times[n, rev] = load_time(texts[rev], repeats)
        fwd, rev_t = times[n, False], times[n, True]
        print(
            f"{n:>9} nodes: forward order {fwd * 1e3:8.1f} ms, reversed {rev_t * 1e3:8.1f} ms"
            f"  (reversed/forward {rev_t / fwd:.2f}x)"
        )
    small = args.sizes[0]
    for n in args.sizes[1:]:
        ratio = times[n, False] / times[small, False]
        print(f"  {n} vs {small}: {ratio:.1f}x for {n / small:.0f}x the nodes")
    doc = Document.from_scene_dict(json.loads(random_dag(5000, reverse=True)))
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        auto_layout_positions(doc)
        best = min(best, time.perf_counter() - t0)
    print(f"auto layout of {len(doc)} nodes: {best * 1e3:.0f} ms (target <= 500 ms)")
    if args.million:
        subprocess.run([sys.executable, __file__, "--million-child"], check=True)


if __name__ == "__main__":
    main()
