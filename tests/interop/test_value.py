"""bpviz.Value against micrograd's documented numbers and against PyTorch autograd."""

from __future__ import annotations

import math
import random

import pytest

from bpviz import Value

torch = pytest.importorskip("torch", reason="PyTorch is the reference for gradients")


def readme_example() -> tuple[Value, Value, Value]:
    """micrograd's README example, line for line."""
    a = Value(-4.0, label="a")
    b = Value(2.0, label="b")
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    return a, b, g


def test_readme_example_prints_micrographs_numbers() -> None:
    a, b, g = readme_example()
    g.backward()
    assert [f"{g.data:.4f}", f"{a.grad:.4f}", f"{b.grad:.4f}"] == [
        "24.7041",
        "138.8338",
        "645.5773",
    ]


def test_readme_example_equals_torch() -> None:
    a, b, g = readme_example()
    g.backward()
    ta = torch.tensor(-4.0, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    c = ta + tb
    d = ta * tb + tb**3
    c = c + c + 1
    c = c + 1 + c + (-ta)
    d = d + d * 2 + (tb + ta).relu()
    d = d + 3 * d + (tb - ta).relu()
    e = c - d
    f = e**2
    tg = f / 2.0
    tg = tg + 10.0 / f
    tg.backward()
    assert g.data == pytest.approx(tg.item(), rel=1e-13)
    assert a.grad == pytest.approx(ta.grad.item(), rel=1e-13)
    assert b.grad == pytest.approx(tb.grad.item(), rel=1e-13)


def test_sanity_check_matches_torch_exactly() -> None:
    """micrograd's own sanity test: only +, * and relu, so every float is the same."""
    x = Value(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    tx = torch.tensor([-4.0], dtype=torch.float64, requires_grad=True)
    tz = 2 * tx + 2 + tx
    tq = tz.relu() + tz * tx
    th = (tz * tz).relu()
    ty = th + tq + tq * tx
    ty.backward()
    assert (y.data, x.grad) == (ty.item(), tx.grad.item())


def neuron(x: list[Value], w: list[Value], b: Value) -> Value:
    """micrograd's nn.Neuron: relu(sum of w·x, starting from b)."""
    return sum((wi * xi for wi, xi in zip(w, x, strict=True)), b).relu()


def test_neuron_example_gradients() -> None:
    w = [Value(0.5, label="w1"), Value(-0.25, label="w2")]
    b = Value(0.75, label="b")
    x = [Value(1.0, label="x1"), Value(-2.0, label="x2")]
    y = neuron(x, w, b)
    y.backward()
    # 0.75 + 0.5·1 + (−0.25)·(−2) = 1.75 > 0: relu passes the gradient through
    assert y.data == 1.75
    assert [v.grad for v in w] == [1.0, -2.0]
    assert [v.grad for v in x] == [0.5, -0.25]
    assert b.grad == 1


def test_gradients_accumulate_over_backward_calls_like_micrograd() -> None:
    a = Value(3.0)
    y = a * a
    y.backward()
    y.backward()
    assert a.grad == 12.0  # 2·3, twice


def test_value_used_twice_sums_both_paths() -> None:
    a = Value(3.0)
    b = a + a
    b.backward()
    assert a.grad == 2


def test_deep_chain_does_not_recurse() -> None:
    x = Value(0.5)
    y = x
    for _ in range(20_000):
        y = y + 1.0
    y.backward()
    assert (y.data, x.grad) == (20_000.5, 1)


def test_only_numbers_mix_with_values() -> None:
    a = Value(2.0)
    with pytest.raises(TypeError, match="number exponent"):
        a ** Value(2.0)
    with pytest.raises(TypeError, match="str"):
        a + "1"
    with pytest.raises(TypeError, match="number"):
        Value("x")  # type: ignore[arg-type]


OPS = ("add", "sub", "mul", "div", "rsub", "rdiv", "radd", "rmul", "pow", "neg", "relu",
       "tanh", "exp", "log", "sigmoid")


def random_expression(rng: random.Random, leaves: list, steps: int, lib: str):  # noqa: ANN201
    """The same random program on Values (lib 'v') or torch tensors (lib 't'); domains are
    kept safe (log and division only of positive numbers, exp of tanh)."""
    pool = list(leaves)
    for _ in range(steps):
        op = rng.choice(OPS)
        a, b = rng.choice(pool), rng.choice(pool)
        k = rng.choice([0.5, 1.5, 2.0, -3.0])
        if op == "add":
            r = a + b
        elif op == "sub":
            r = a - b
        elif op == "mul":
            r = a * b
        elif op == "div":
            r = a / (b * b + 0.5)
        elif op == "rsub":
            r = k - a
        elif op == "rdiv":
            r = k / (a * a + 1.0)
        elif op == "radd":
            r = k + a
        elif op == "rmul":
            r = k * a
        elif op == "pow":
            r = (a * a + 0.25) ** k
        elif op == "neg":
            r = -a
        elif op == "relu":
            r = a.relu()
        elif op == "tanh":
            r = a.tanh()
        elif op == "exp":
            r = a.tanh().exp()
        elif op == "log":
            r = (a * a + 1.0).log()
        else:
            r = a.sigmoid()
        pool.append(r)
    return pool[-1]


@pytest.mark.parametrize("seed", range(25))
def test_random_expressions_match_torch_autograd(seed: int) -> None:
    start = random.Random(seed)
    data = [start.uniform(-2, 2) for _ in range(3)]
    vs = [Value(d) for d in data]
    ts = [torch.tensor(d, dtype=torch.float64, requires_grad=True) for d in data]
    out = random_expression(random.Random(seed + 1000), vs, 12, "v")
    tout = random_expression(random.Random(seed + 1000), ts, 12, "t")
    out.backward()
    tout.backward()
    assert out.data == pytest.approx(tout.item(), rel=1e-12, abs=1e-12)
    for v, t in zip(vs, ts, strict=True):
        expected = 0.0 if t.grad is None else t.grad.item()
        assert v.grad == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_sigmoid_is_stable_for_large_inputs() -> None:
    assert Value(-1000.0).sigmoid().data == 0.0
    assert Value(1000.0).sigmoid().data == 1.0
    assert Value(0.3).sigmoid().data == pytest.approx(1 / (1 + math.exp(-0.3)), rel=1e-15)


def test_a_dropped_graph_is_freed_without_the_cycle_collector() -> None:
    """No reference cycles: thousands of traced Values go as soon as the last one is dropped,
    instead of piling up for Python's cycle collector (which slows everything it scans)."""
    import gc

    def build() -> None:
        x = Value(0.5)
        y = x
        for _ in range(1000):
            y = (y * 0.5 + 1.0).tanh() / 2.0 - (-y).relu() ** 2 + y.exp().log().sigmoid()
        y.backward()

    gc.collect()
    gc.disable()
    try:
        build()
        assert gc.collect() == 0
    finally:
        gc.enable()
