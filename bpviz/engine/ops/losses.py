"""Losses: each takes `pred` and `target` and returns the mean over the examples.

A target with as many elements as the prediction is reshaped to it, so (N,) targets never
broadcast against (N, 1) predictions into an (N, N) matrix; a scalar target applies to all.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bpviz.engine.ops.activations import sigmoid, softmax
from bpviz.engine.ops.base import UNIT_GRAD, OpSpec, no_params_backward, register, unbroadcast


def _match(p: np.ndarray, t: np.ndarray) -> np.ndarray:
    if t.shape == p.shape or t.ndim == 0:
        return t
    if t.size == p.size:
        return t.reshape(p.shape)
    raise ValueError(f"prediction shape {p.shape} and target shape {t.shape} do not match")


def _loss(name: str, forward, backward, doc: str, formula: str, derivative: str) -> None:  # noqa: ANN001
    """forward(p, t) -> scalar; backward(p, t, target_too) -> (dL/dp, dL/dt or None) as means
    over the examples; the target's is skipped when nothing reads it (training)."""

    def fwd(xs, attrs, params):  # noqa: ANN001, ANN202
        p, t = xs
        return np.asarray(forward(p, t if t.shape == p.shape else _match(p, t)), dtype=np.float64)

    def bwd(g, xs, out, attrs, params, wants=None):  # noqa: ANN001, ANN202
        p, t = xs
        target_too = wants is None or wants[1]
        gp, gt = backward(p, t if t.shape == p.shape else _match(p, t), target_too)
        if g is not UNIT_GRAD:  # a loss is usually the output: then g is exactly 1
            gp = g * gp
            gt = g * gt if target_too else None
        if not target_too:
            return (gp, None), None
        return (gp, unbroadcast(gt, t.shape) if t.ndim == 0 else gt.reshape(t.shape)), None

    register(
        OpSpec(
            name=name,
            inputs=("pred", "target"),
            forward=fwd,
            backward=bwd,
            category="losses",
            doc=doc,
            formula=formula,
            derivative=derivative,
        )
    )


def _n(p: np.ndarray) -> float:
    return float(p.size or 1)


def _mean(a: np.ndarray) -> np.ndarray:
    """np.mean without its Python-level overhead (this runs every training step)."""
    return np.add.reduce(a, None) / float(a.size or 1)  # _n(a), without the call


_loss(
    "mse",
    lambda p, t: _mean(np.square(p - t)),
    lambda p, t, both: (2.0 * (p - t) / _n(p), -2.0 * (p - t) / _n(p) if both else None),
    "Mean squared error, for regression.",
    "L = mean((p − t)²)",
    "∂L/∂p = 2(p − t)/n; ∂L/∂t = −2(p − t)/n",
)
_loss(
    "bce",
    lambda p, t: _mean(np.maximum(p, 0.0) - p * t + np.log1p(np.exp(-np.abs(p)))),
    lambda p, t, both: ((sigmoid(p) - t) / _n(p), -p / _n(p) if both else None),
    "Binary cross-entropy on logits (applies the sigmoid itself); targets 0 or 1.",
    "L = mean(log(1 + e^p) − t·p)",
    "∂L/∂p = (σ(p) − t)/n; ∂L/∂t = −p/n",
)


def _hinge_backward(p: np.ndarray, t: np.ndarray, both: bool) -> tuple[np.ndarray, Any]:
    scale = (t * p < 1.0) * (-1.0 / _n(p))  # -1/n where the margin is violated, else 0
    return scale * t, scale * p if both else None


_loss(
    "hinge",
    lambda p, t: _mean(np.maximum(1.0 - t * p, 0.0)),
    _hinge_backward,
    "Hinge loss, mean of relu(1 − t·p); targets −1 or +1.",
    "L = mean(max(0, 1 − t·p))",
    "∂L/∂p = −t/n if t·p < 1 else 0; ∂L/∂t = −p/n if t·p < 1 else 0",
)


def _labels(logits: np.ndarray, t: np.ndarray) -> np.ndarray:
    labels = t.astype(np.int64)
    if logits.ndim not in (1, 2) or labels.shape != logits.shape[:-1]:
        raise ValueError(
            f"cross_entropy wants logits (N, K) with labels (N,), got {logits.shape} and {t.shape}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= logits.shape[-1]):
        raise ValueError(f"labels must lie in 0..{logits.shape[-1] - 1}")
    return labels


def _ce_forward(xs, attrs, params):  # noqa: ANN001, ANN202
    z, t = xs
    labels = _labels(z, t)
    zs = z - z.max(axis=-1, keepdims=True)
    logp = zs - np.log(np.exp(zs).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(logp, labels[..., None], axis=-1)
    return np.asarray(-picked.mean(), dtype=np.float64)


def _ce_backward(g, xs, out, attrs):  # noqa: ANN001, ANN202
    z, t = xs
    labels = _labels(z, t)
    grad = softmax(z)
    np.put_along_axis(
        grad, labels[..., None], np.take_along_axis(grad, labels[..., None], -1) - 1.0, -1
    )
    n = float(max(labels.size, 1))
    return g * grad / n, np.zeros(t.shape)


register(
    OpSpec(
        name="cross_entropy",
        inputs=("pred", "target"),
        forward=_ce_forward,
        backward=no_params_backward(_ce_backward),
        category="losses",
        doc="Softmax cross-entropy on logits (N, K) against integer labels (N,).",
        formula="L = −mean(log softmax(p)[t])",
        derivative="∂L/∂p = (softmax(p) − onehot(t))/N; ∂L/∂t = 0 (labels get no gradient)",
    )
)

ENCODINGS_FOR_LOSS: dict[str, tuple[str, ...]] = {
    "bce": ("column", "labels"),  # 0/1 targets
    "hinge": ("signs",),  # -1/+1 targets: with 0/1 every negative example looks like a margin
    "cross_entropy": ("labels",),  # one class index per example
}
"""Which `target` node encodings of a dataset's labels each classification loss can read."""
