"""from_torch: traced modules become scenes that compute what the module computes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from bpviz import from_torch
from bpviz.engine.errors import BpvizError
from bpviz.interop.torch_import import TORCH_IMPORTS
from bpviz.scene import parse_scene

torch = pytest.importorskip("torch", reason="PyTorch import needs torch")
nn, F = torch.nn, torch.nn.functional


def run(scene: dict[str, Any]) -> np.ndarray:
    return np.asarray(parse_scene(scene).forward())


def expected(module: Any, x: Any) -> np.ndarray:
    with torch.no_grad():
        return module.double()(x).numpy()


def summary(scene: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    return [(n["id"], n["op"], n["attrs"].get("activation")) for n in scene["nodes"]]


def test_issue_lists_each_module_and_operation() -> None:
    names = (
        "Linear ReLU Tanh Sigmoid LeakyReLU Softmax add sub mul div matmul sum mean exp log pow"
    )
    assert [n for n in names.split() if n not in TORCH_IMPORTS] == []


def test_sequential_mlp() -> None:
    torch.manual_seed(0)
    m = nn.Sequential(
        nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 4), nn.Tanh(), nn.Linear(4, 3),
        nn.Sigmoid(), nn.Linear(3, 3), nn.LeakyReLU(0.3), nn.Softmax(dim=-1),
    )
    x = torch.randn(5, 2, dtype=torch.float64)
    scene = from_torch(m, x)
    assert summary(scene) == [
        ("input_1", "input", None),
        ("_0", "dense", "relu"),
        ("_2", "dense", "tanh"),
        ("_4", "dense", "sigmoid"),
        ("_6", "dense", None),
        ("_7", "leaky_relu", None),
        ("_8", "softmax", None),
    ]
    np.testing.assert_allclose(run(scene), expected(m, x), rtol=1e-9, atol=1e-12)
    # the scene carries the module's weights, exactly
    params = scene["state"]["params"]
    assert params["_2"]["W"] == m[2].weight.detach().double().numpy().T.tolist()
    assert params["_2"]["b"] == m[2].bias.detach().double().numpy().tolist()
    assert scene["nodes"][0]["attrs"]["value"] == x.tolist()
    assert scene["name"] == "Sequential"


class Custom(nn.Module):
    """A custom forward mixing modules, functions, operators and tensor methods."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.w = nn.Parameter(torch.randn(4, 2))
        self.v = nn.Parameter(torch.randn(2, 2))
        self.act = nn.LeakyReLU(0.2)
        self.out = nn.Linear(2, 2, bias=False)

    def forward(self, x):  # noqa: ANN001, ANN201
        h = self.act(self.fc(x)) * 2.0 - 0.5
        z = torch.exp(h @ self.w) + 1
        q = F.relu(self.out(torch.log(z)))
        r = torch.matmul(q, self.v) @ self.v
        s = 3 / (1 + r.pow(2)) - F.sigmoid(-z) + torch.tanh(z).sub(x.mean())
        t = F.softmax(s, dim=1) + F.leaky_relu(s, 0.05).div(2) + s.exp().neg()
        u = torch.cat([t, t[:, 1:2], x[..., 0:1]], dim=-1)
        return u.sum(dim=0).mean() + torch.sum(t) * t.sum()


def test_custom_forward_equals_torch() -> None:
    torch.manual_seed(1)
    m = Custom()
    x = torch.randn(6, 3, dtype=torch.float64)
    scene = from_torch(m, x)
    ops = [n["op"] for n in scene["nodes"]]
    assert ops.count("dense") == 2 and "matmul" in ops and "softmax" in ops
    assert (ops.count("column"), ops.count("concat")) == (2, 2)
    out_layer = next(n for n in scene["nodes"] if n["id"] == "out")
    assert out_layer["attrs"] == {"units": 2, "activation": "relu"}  # F.relu folded in
    assert scene["state"]["params"]["out"]["b"] == [0.0, 0.0]  # bias=False
    np.testing.assert_allclose(run(scene), expected(m, x), rtol=1e-9, atol=1e-12)


def test_float32_module_is_read_in_float64() -> None:
    torch.manual_seed(2)
    m = nn.Sequential(nn.Linear(3, 2), nn.Tanh()).float()  # whatever the default dtype
    x = torch.randn(4, 3, dtype=torch.float32)
    scene = from_torch(m, x)
    assert m[0].weight.dtype == torch.float32  # the caller's module is left alone
    np.testing.assert_allclose(run(scene), expected(m, x.double()), rtol=1e-9, atol=1e-12)


def test_vector_input_and_three_dimensional_input() -> None:
    torch.manual_seed(3)
    m = nn.Sequential(nn.Linear(3, 2), nn.Sigmoid())
    v = torch.randn(3, dtype=torch.float64)
    np.testing.assert_allclose(run(from_torch(m, v)), expected(m, v), rtol=1e-9)
    batch = torch.randn(2, 4, 3, dtype=torch.float64)
    scene = from_torch(m, batch)  # dense takes at most a batch of vectors: matmul + add
    assert [n["op"] for n in scene["nodes"]] == [
        "input", "param", "matmul", "param", "add", "sigmoid"
    ]
    np.testing.assert_allclose(run(scene), expected(m, batch), rtol=1e-9)


class Unsupported(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(1, 1, 2)

    def forward(self, x):  # noqa: ANN001, ANN201
        return torch.flatten(self.conv(x.unsqueeze(1)), 1).abs()


def test_unsupported_calls_are_named_together() -> None:
    with pytest.raises(BpvizError) as e:
        from_torch(Unsupported(), torch.randn(2, 5))
    assert str(e.value) == (
        "cannot import Unsupported: unsupported 'unsqueeze' (Tensor.unsqueeze), "
        "'conv' (Conv1d), 'flatten' (torch.flatten), 'abs_1' (Tensor.abs)"
    )


class KeepDim(nn.Module):
    def forward(self, x):  # noqa: ANN001, ANN201
        return x / x.sum(dim=1, keepdim=True) - x.mean(keepdim=True, dim=(0, 1))


def test_keepdim_reductions() -> None:
    x = torch.rand(4, 3, dtype=torch.float64) + 0.5
    scene = from_torch(KeepDim(), x)
    reductions = [(n["op"], n["attrs"]) for n in scene["nodes"] if n["op"] in ("sum", "mean")]
    assert reductions == [
        ("sum", {"axis": 1, "keepdims": True}),
        ("mean", {"axis": [0, 1], "keepdims": True}),
    ]
    np.testing.assert_allclose(run(scene), expected(KeepDim(), x), rtol=1e-9)


class RowSlice(nn.Module):
    def forward(self, x):  # noqa: ANN001, ANN201
        return x[0:1]


class CatRows(nn.Module):
    def forward(self, x):  # noqa: ANN001, ANN201
        return torch.cat([x, x])




class SoftmaxFirst(nn.Module):
    def forward(self, x):  # noqa: ANN001, ANN201
        return torch.softmax(x, 0)


class PowTensor(nn.Module):
    def forward(self, x):  # noqa: ANN001, ANN201
        return x ** x


class TwoInputs(nn.Module):
    def forward(self, x, y):  # noqa: ANN001, ANN201
        return x + y


class Branches(nn.Module):
    def forward(self, x):  # noqa: ANN001, ANN201
        return x if x.sum() > 0 else -x


@pytest.mark.parametrize(
    ("module", "message"),
    [
        (SoftmaxFirst(), "node 'softmax' (torch.softmax): unsupported: only the last dimension"
         " (dim=0 of a rank-2 input)"),
        (PowTensor(), "node 'pow_1' (operator.pow): unsupported: the exponent must be a number"),
        (TwoInputs(), "forward takes 2 inputs (x, y); bpviz takes one"),
        (Branches(), "torch.fx cannot trace Branches: symbolically traced variables cannot be"
         " used as inputs to control flow"),
        ("not a module", "from_torch wants a torch.nn.Module, got str"),
        (RowSlice(), "node 'getitem' (operator.getitem): unsupported: only one column,"
         " x[..., i:i+1] (got x[0:1])"),
        (CatRows(), "node 'cat' (torch.cat): unsupported: only the last dimension"
         " (dim=0 of a rank-2 input)"),
    ],
    ids=[
        "softmax-dim", "pow-tensor", "two-inputs", "control-flow", "not-module",
        "row-slice", "cat-rows",
    ],
)
def test_cases_that_cannot_be_imported_name_themselves(module: Any, message: str) -> None:
    with pytest.raises(BpvizError) as e:
        from_torch(module, torch.ones(2, 3))
    assert str(e.value) == message


def test_without_torch_the_error_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "torch", None)  # as if torch were not installed
    with pytest.raises(BpvizError, match=r'needs torch: pip install "bpviz\[torch\]"'):
        from_torch(object(), [1.0])
