"""Optimizers with the same update rules as PyTorch's SGD (with momentum) and Adam, so a graph
exported to PyTorch trains along the same path. Weight decay is L2 added to the gradient."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from bpviz.engine.errors import BpvizError, NonFiniteError, run_trapped
from bpviz.engine.regularize import lr_factor, schedule_problem

OPTIMIZERS: tuple[str, ...] = ("sgd", "momentum", "adam")

ParamTree = dict[str, dict[str, np.ndarray]]


class ConfigError(BpvizError):
    """A training setting with a wrong type or range; the message names the key."""


@dataclass
class TrainingConfig:
    optimizer: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0
    batch_size: int | None = None  # None: full batch
    seed: int = 0
    eval_every: int = 1  # test-set loss every n steps
    l1: float = 0.0  # rate of the penalty Σ|w| over the weights (engine/regularize.py)
    l2: float = 0.0  # rate of the penalty ½Σw² over the weights
    schedule: dict[str, Any] | None = None  # learning-rate schedule, None: constant

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None, where: str = "training") -> TrainingConfig:
        d = dict(d or {})
        known = {f.name for f in fields(cls)}
        for key in d:
            if key not in known:
                raise ConfigError(
                    f"{where}.{key}: unknown setting (known: {', '.join(sorted(known))})"
                )
        cfg = cls(**d)
        cfg.check(where)
        return cfg

    def check(self, where: str = "training") -> None:
        def num(key: str, lo: float, hi: float, lo_open: bool = False) -> None:
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ConfigError(f"{where}.{key}: expected a number, got {v!r}")
            if not (lo < v if lo_open else lo <= v) or not v < hi:
                raise ConfigError(f"{where}.{key}: {v!r} is out of range")

        if self.optimizer not in OPTIMIZERS:
            names = ", ".join(OPTIMIZERS)
            raise ConfigError(f"{where}.optimizer: expected one of {names}, got {self.optimizer!r}")
        num("lr", 0.0, 1e6, lo_open=True)
        num("momentum", 0.0, 1.0)
        num("beta1", 0.0, 1.0)
        num("beta2", 0.0, 1.0)
        num("eps", 0.0, 1.0, lo_open=True)
        num("weight_decay", 0.0, 1e6)
        num("l1", 0.0, 1e6)
        num("l2", 0.0, 1e6)
        problem = schedule_problem(self.schedule, f"{where}.schedule")
        if problem:
            raise ConfigError(problem)
        for key, low in (("seed", 0), ("eval_every", 1)):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, int) or not low <= v < 2**32:
                raise ConfigError(f"{where}.{key}: expected an integer >= {low}, got {v!r}")
        b = self.batch_size
        if b is not None and (isinstance(b, bool) or not isinstance(b, int) or b < 1):
            raise ConfigError(f"{where}.batch_size: expected null or an integer >= 1, got {b!r}")

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def lr_at(self, step: int) -> float:
        """The learning rate of optimizer step `step` (1 for the first), after the schedule."""
        return self.lr * lr_factor(self.schedule, step - 1)


class Optimizer:
    """Updates parameter arrays in place from their gradients; keeps per-parameter slots."""

    def __init__(self, config: TrainingConfig) -> None:
        self.config = config
        self.t = 0
        self.start = 0  # the step count when this optimizer kind took over (bias correction)
        self.slots: dict[str, dict[str, dict[str, np.ndarray]]] = {}

    def configure(self, config: TrainingConfig) -> None:
        """Use new settings from the next step on. Another optimizer kind starts with empty
        slots (a momentum buffer is not Adam's first moment), as a new PyTorch optimizer
        would, and Adam's bias correction counts from here; the step count goes on (it
        numbers the history and drives the schedule)."""
        if config.optimizer != self.config.optimizer:
            self.slots = {}
            self.start = self.t
        self.config = config

    def step(self, params: ParamTree, grads: ParamTree) -> None:
        """One update. Overflow raises NonFiniteError naming the parameter's node, leaving
        the parameters updated so far as they are (the trainer stops there)."""
        self.t += 1
        run_trapped(self._step, params, grads)

    def _step(self, params: ParamTree, grads: ParamTree) -> None:
        node_id = ""
        cfg = self.config
        try:
            if cfg.optimizer == "sgd" and not cfg.weight_decay:  # the common case, inline
                lr = cfg.lr if cfg.schedule is None else cfg.lr_at(self.t)
                for node_id, node_grads in grads.items():
                    arrays = params[node_id]
                    for name, g in node_grads.items():
                        p = arrays[name]
                        p -= lr * g  # in place: no store back into the dict
                return
            for node_id, node_grads in grads.items():
                self._update(node_id, params[node_id], node_grads)
        except FloatingPointError as e:
            raise NonFiniteError(node_id, "update", str(e)) from None

    def _update(
        self, node_id: str, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]
    ) -> None:
        cfg = self.config
        kind = cfg.optimizer
        lr = cfg.lr if cfg.schedule is None else cfg.lr_at(self.t)
        for name, g in grads.items():
            p = params[name]
            if cfg.weight_decay:
                g = g + cfg.weight_decay * p
            if kind == "sgd":
                p -= lr * g
                continue
            slot = self.slots.setdefault(node_id, {}).get(name)
            if slot is None or slot["m"].shape != p.shape:
                slot = {"m": np.zeros_like(p)} | ({"v": np.zeros_like(p)} if kind == "adam" else {})
                self.slots[node_id][name] = slot
            m = slot["m"]
            if kind == "momentum":
                m *= cfg.momentum
                m += g
                p -= lr * m
            else:
                v = slot["v"]
                m *= cfg.beta1
                m += (1.0 - cfg.beta1) * g
                v *= cfg.beta2
                v += (1.0 - cfg.beta2) * g * g
                n = self.t - self.start
                m_hat = m / (1.0 - cfg.beta1**n)
                v_hat = v / (1.0 - cfg.beta2**n)
                p -= lr * m_hat / (np.sqrt(v_hat) + cfg.eps)

    def state_dict(self, params: ParamTree | None = None) -> dict[str, Any]:
        """Step count and slots as plain data. Given the current `params`, slots that no
        longer match a parameter (deleted node, changed shape) are left out: the optimizer
        would start them afresh anyway, and a file must not carry arrays that cannot load."""

        def fits(nid: str, name: str, slot: dict[str, np.ndarray]) -> bool:
            if params is None:
                return True
            p = params.get(nid, {}).get(name)
            return p is not None and p.shape == slot["m"].shape

        slots: dict[str, Any] = {}
        for nid, ps in self.slots.items():
            kept = {
                n: {k: a.tolist() for k, a in sl.items()}
                for n, sl in ps.items()
                if fits(nid, n, sl)
            }
            if kept:
                slots[nid] = kept
        return {"step": self.t, "slots": slots} | ({"start": self.start} if self.start else {})

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.t = int(state.get("step", 0))
        self.start = int(state.get("start", 0))
        self.slots = {
            nid: {
                name: {k: np.array(a, dtype=np.float64) for k, a in slot.items()}
                for name, slot in ps.items()
            }
            for nid, ps in state.get("slots", {}).items()
        }
