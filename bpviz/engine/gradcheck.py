"""Gradient check: the analytic gradients against central finite differences."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bpviz.engine.errors import BpvizError
from bpviz.engine.executor import Executor


@dataclass(frozen=True)
class GradCheck:
    node_id: str
    name: str  # "value" for a node's own value, else the parameter's name
    max_abs_error: float
    max_rel_error: float
    ok: bool


def _sample(size: int, limit: int, rng: np.random.Generator) -> np.ndarray:
    return np.arange(size) if size <= limit else np.sort(rng.choice(size, limit, replace=False))


def _scalar(ex: Executor) -> float:
    """A non-scalar output is checked through its sum, the same seed backward uses."""
    return float(np.sum(ex.forward()))


def _check(
    analytic: np.ndarray, numeric: np.ndarray, rtol: float, atol: float
) -> tuple[float, float, bool]:
    err = np.abs(analytic - numeric)
    scale = np.maximum(np.abs(analytic), np.abs(numeric))
    rel = err / np.maximum(scale, 1e-12)
    ok = bool(np.all(err <= atol + rtol * scale))
    return float(err.max(initial=0.0)), float(rel.max(initial=0.0)), ok


def gradcheck(
    ex: Executor,
    eps: float = 1e-6,
    rtol: float = 1e-4,
    atol: float = 1e-6,
    max_entries: int = 64,
    seed: int = 0,
) -> list[GradCheck]:
    """Check every parameter and every const/input value (up to `max_entries` entries each).

    Integer-valued targets (class labels) have no gradient and are skipped.
    """
    rng = np.random.default_rng(seed)
    ex.forward()
    ex.backward()
    plan = ex.plan
    results: list[GradCheck] = []
    analytic_params = {
        nid: {k: np.array(g) for k, g in pg.items()} for nid, pg in ex.param_grads.items()
    }
    sources = [n.node_id for n in plan.data]
    analytic_sources = {nid: np.array(ex.grad(nid)) for nid in sources}
    for node_id, arrays in ex.params.items():
        if node_id not in plan.index:
            continue
        for name, p in arrays.items():
            analytic = analytic_params.get(node_id, {}).get(name, np.zeros_like(p))
            idx = _sample(p.size, max_entries, rng)
            numeric = _numeric(ex, p, idx, eps)
            results.append(
                GradCheck(node_id, name, *_check(analytic.ravel()[idx], numeric, rtol, atol))
            )
    for node_id in sources:
        if np.issubdtype(ex.value(node_id).dtype, np.integer):
            continue
        value = np.array(ex.value(node_id), dtype=np.float64)
        idx = _sample(value.size, max_entries, rng)
        ex.source_override(node_id, value)
        numeric = _numeric(ex, value, idx, eps)
        analytic = analytic_sources[node_id].ravel()[idx]
        results.append(GradCheck(node_id, "value", *_check(analytic, numeric, rtol, atol)))
    ex.forward()
    ex.backward()
    return results


def _numeric(ex: Executor, array: np.ndarray, idx: np.ndarray, eps: float) -> np.ndarray:
    """Central differences, perturbing `array` in place (it is the live value the pass reads)."""
    flat = array.reshape(-1)
    if not np.shares_memory(flat, array):
        raise BpvizError("gradcheck needs contiguous arrays")
    out = np.empty(len(idx))
    for k, i in enumerate(idx):
        orig = flat[i]
        flat[i] = orig + eps
        plus = _scalar(ex)
        flat[i] = orig - eps
        minus = _scalar(ex)
        flat[i] = orig
        out[k] = (plus - minus) / (2 * eps)
    return out
