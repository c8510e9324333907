"""Loading speed: random scalar DAGs of 1k, 10k and 100k nodes (optionally 1M), listed in
topological file order and reversed, from JSON text to a runnable scene with values; and
auto layout (Ctrl+L) of 5,000 of those nodes.

Run: python benchmarks/bench_load.py [--sizes 1000 10000 100000] [--million]
Each figure is the best of a few loads in this process; ratios compare sizes and orders
measured side by side. Targets: 10k ≤ 12× the 1k time; reversed ≤ 2× forward; 100k in a
few seconds; 1M within 10 s and 1.5 GB (--million writes the file, then loads it as the
command line does, under its 1.5 GiB limit, in a child process to read that load's peak
memory alone, then runs a forward and backward pass as `bpviz eval` does); layout of 5,000
nodes ≤ 0.5 s. --stages N shows where a load of N nodes spends its time and memory.

Run it from the checkout root with `PYTHONPATH=.` so the checkout's bpviz is the one measured.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

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


MIB = 1 << 20
CLI_LIMIT_MIB = 1536  # what the command line lets a command allocate (bpviz/cli.py)


def million(path: str, backward: bool = True) -> None:
    """Load the file as `bpviz` commands do, under the command line's memory limit, in a
    process of its own (the peak is the load's alone, text included)."""
    resource.setrlimit(resource.RLIMIT_DATA, (CLI_LIMIT_MIB * MIB, resource.RLIM_INFINITY))
    from bpviz.scene import load_scene

    t0, c0 = time.perf_counter(), time.process_time()
    scene = load_scene(path)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{len(scene.graph):>9} nodes: {seconds:7.2f} s ({cpu:.2f} s of CPU: on a busy machine"
        f" the gap is waiting for a core), peak {peak:.0f} MB (imports included)"
    )
    if backward:
        t0, c0 = time.perf_counter(), time.process_time()
        with scene.running():
            scene.forward()
            scene.backward()
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"  then forward + backward: {seconds:.2f} s ({cpu:.2f} s of CPU), peak {peak:.0f} MB"
        )


def stages(n: int) -> None:
    """Where a load of n nodes spends its time and memory, stage by stage: µs per node, and
    bytes per node at the stage's peak of new Python allocations (tracemalloc, second run)."""
    from bpviz.engine.executor import Executor
    from bpviz.scene.files import scene_text
    from bpviz.scene.stream import read_scene

    raw = random_dag(n).encode()

    def planned(graph: Any) -> Executor:
        ex = Executor(graph)
        ex.plan  # noqa: B018 (made on first use)
        return ex

    def run() -> list[tuple[str, float, int]]:
        rows: list[tuple[str, float, int]] = []

        def stage(name: str, fn: Callable[[], Any]) -> Any:
            base = 0
            if tracemalloc.is_tracing():
                tracemalloc.reset_peak()
                base = tracemalloc.get_traced_memory()[0]
            t0 = time.perf_counter()
            result = fn()
            seconds = time.perf_counter() - t0
            grew = tracemalloc.get_traced_memory()[1] - base if tracemalloc.is_tracing() else 0
            rows.append((name, seconds, grew))
            return result

        text = stage("text (UTF-8, size checks)", lambda: scene_text(raw))
        quick = stage("parse + check + graph", lambda: read_scene(text, True))
        ex = stage("plan", lambda: planned(quick.graph))
        stage("first forward", ex.forward)
        return rows

    gc.disable()  # as loading does (scene.document pauses the collector)
    timed = run()
    tracemalloc.start()
    traced = run()
    tracemalloc.stop()
    gc.enable()
    print(f"load of {n} nodes by stage ({len(raw) / n:.0f} bytes of JSON per node):")
    for (name, seconds, _), (_, _, grew) in zip(timed, traced, strict=True):
        print(f"  {name:<28} {seconds / n * 1e6:6.1f} us/node  {grew / n:6.0f} bytes/node at peak")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[1000, 10_000, 100_000])
    ap.add_argument("--million", action="store_true", help="also load 1M nodes in a child")
    ap.add_argument("--stages", type=int, metavar="N", help="only: time and memory by stage")
    ap.add_argument("--million-child", metavar="FILE", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.million_child:
        million(args.million_child)
        return
    if args.stages:
        stages(args.stages)
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
        auto_layout_positions(doc.graph, {n: doc.pos(n) for n in doc.nodes})
        best = min(best, time.perf_counter() - t0)
    print(f"auto layout of {len(doc)} nodes: {best * 1e3:.0f} ms (target <= 500 ms)")
    if args.million:
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "million.json")
            with open(path, "w", encoding="utf-8") as f:
                f.write(random_dag(1_000_000))
            subprocess.run([sys.executable, __file__, "--million-child", path], check=True)


if __name__ == "__main__":
    main()
