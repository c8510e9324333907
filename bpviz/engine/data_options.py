"""What a dataset spec may say, as data a settings panel builds its controls from.

The limits here are the ones `make_dataset` enforces (tests check both agree), so a control
never offers a value the file format refuses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bpviz.engine.datasets import DATASET_KINDS, DEFAULT_NOISE, KIND_KEYS, MAX_POINTS


@dataclass(frozen=True)
class NumberSetting:
    """A numeric `data` key: its range, whether it is an integer, its default."""

    key: str
    label: str
    default: float
    low: float
    high: float  # math.inf: no upper limit
    integer: bool = False
    low_open: bool = False  # low itself is refused
    high_open: bool = False  # high itself is refused
    doc: str = ""

    def accepts(self, value: float) -> bool:
        if self.integer and value != int(value):
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below


SEED = NumberSetting("seed", "Seed", 0, 0, 2**31 - 1, True, doc="points, noise and split")
TEST_FRACTION = NumberSetting(
    "test_fraction", "Test share", 0.2, 0.0, 1.0, high_open=True, doc="held out as test set"
)
N = NumberSetting("n", "Points", 200, 4, MAX_POINTS, True, doc="number of points")
FACTOR = NumberSetting(
    "factor", "Inner radius", 0.5, 0.0, 1.0, low_open=True, high_open=True, doc="circles"
)
FEATURES = NumberSetting("features", "Features", 1, 1, 1000, True, doc="linear: input columns")


def noise(kind: str) -> NumberSetting:
    return NumberSetting(
        "noise", "Noise", DEFAULT_NOISE[kind], 0.0, math.inf, high_open=True, doc="std of noise"
    )


def classes(n: int = 200) -> NumberSetting:
    """Spiral arms: from 2 up to the number of points."""
    return NumberSetting("classes", "Classes", 3, 2, n, True, doc="spiral arms")


GENERATED_KINDS: tuple[str, ...] = tuple(k for k in DATASET_KINDS if k != "csv")
TWO_D_KINDS: tuple[str, ...] = ("xor", "circles", "moons", "spiral", "gauss")

# the transforms a panel offers as checkboxes for 2-D data: (expression, label)
USUAL_TRANSFORMS: tuple[tuple[str, str], ...] = (
    ("x1", "x₁"),
    ("x2", "x₂"),
    ("x1^2", "x₁²"),
    ("x2^2", "x₂²"),
    ("x1*x2", "x₁·x₂"),
    ("sin(x1)", "sin x₁"),
    ("sin(x2)", "sin x₂"),
)


def number_settings(kind: str, n: int = 200) -> list[NumberSetting]:
    """The numeric keys of a generated `kind`, its own keys last: n, noise, test_fraction,
    seed, then factor (circles), classes (spiral) or features (linear)."""
    if kind not in GENERATED_KINDS:
        raise KeyError(f"no generated kind {kind!r} (known: {', '.join(GENERATED_KINDS)})")
    own = {"factor": FACTOR, "classes": classes(n), "features": FEATURES}
    extra = [own[k] for k in KIND_KEYS[kind] if k in own]
    return [N, noise(kind), TEST_FRACTION, SEED, *extra]
