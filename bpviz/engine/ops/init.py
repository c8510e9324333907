"""Seeded, reproducible parameter initialisation.

Each parameter draws from its own generator seeded by (seed, node id, param name), so adding
or reordering nodes never changes another node's initial weights.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np

INIT_NAMES: tuple[str, ...] = ("zeros", "normal", "xavier", "he")


def check_init(init: Any) -> str | None:
    """Return a problem description, or None if `init` is a valid init spec."""
    if isinstance(init, str):
        return (
            None
            if init in INIT_NAMES
            else f"unknown init '{init}' (use one of {INIT_NAMES} or {{\"uniform\": R}})"
        )
    if isinstance(init, Mapping) and set(init) == {"uniform"}:
        r = init["uniform"]
        if isinstance(r, (int, float)) and not isinstance(r, bool) and 0 <= r <= 1e6:
            return None
        return f"uniform range must be a number from 0 to 1e6, got {r!r}"
    return f'expected one of {INIT_NAMES} or {{"uniform": R}}, got {init!r}'


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[0] * receptive, shape[1] * receptive


def rng_for(seed: int, node_id: str, name: str) -> np.random.Generator:
    return np.random.default_rng(
        [seed & 0xFFFFFFFF, zlib.crc32(node_id.encode()), zlib.crc32(name.encode())]
    )


def initialise(init: Any, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Draw an array of `shape` by the init spec (validated beforehand by `check_init`)."""
    fan_in, fan_out = _fans(shape)
    if isinstance(init, Mapping):
        r = float(init["uniform"])
        return rng.uniform(-r, r, size=shape)
    if init == "zeros":
        return np.zeros(shape)
    if init == "normal":
        return rng.standard_normal(shape)
    if init == "xavier":
        return rng.standard_normal(shape) * np.sqrt(2.0 / (fan_in + fan_out))
    if init == "he":
        return rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
    raise ValueError(check_init(init))
