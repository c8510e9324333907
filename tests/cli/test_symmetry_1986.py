"""The 1986 mirror-symmetry network, trained from the command line, reaches the result
scenes/README.md documents and shows the paper's weight pattern."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from bpviz.cli import main

SCENES = Path(__file__).resolve().parents[2] / "scenes"
STEPS = 1500


def test_the_data_is_all_64_patterns_labelled_by_mirror_symmetry() -> None:
    lines = (SCENES / "symmetry_1986.csv").read_text().splitlines()
    assert lines[0] == "x1,x2,x3,x4,x5,x6,symmetric"
    rows = [tuple(int(v) for v in line.split(",")) for line in lines[1:]]
    assert sorted(r[:6] for r in rows) == list(itertools.product((0, 1), repeat=6))
    assert [r for r in rows if r[6] == 1] == [
        r + (1,) for r in itertools.product((0, 1), repeat=6) if r == r[::-1]
    ]
    assert sum(r[6] for r in rows) == 8  # 2³ patterns are their own mirror image


def test_trained_in_the_cli_it_classifies_every_pattern_with_mirrored_weights(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "trained.json"
    argv = ["train", str(SCENES / "symmetry_1986.json"), "--steps", str(STEPS), "--json"]
    assert main([*argv, "--save", str(out)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["steps"] == STEPS
    assert result["accuracy"] == 1.0
    assert result["loss"] < 0.02
    w = np.asarray(json.loads(out.read_text())["state"]["params"]["hidden"]["W"])
    assert w.shape == (6, 2)  # six inputs, two hidden units
    for unit in w.T:
        size = np.abs(unit).max()
        # equal magnitude and opposite sign about the middle: w[i] = −w[5−i]
        assert np.abs(unit + unit[::-1]).max() < 0.01 * size
        # the magnitudes on one side stand 1 : 2 : 4, as in the paper
        ratios = np.sort(np.abs(unit[:3])) / np.abs(unit[:3]).min()
        assert ratios == pytest.approx([1.0, 2.0, 4.0], rel=0.05)
    # the two units are mirror images of each other in sign
    assert np.sign(w[:, 0]).tolist() == (-np.sign(w[:, 1])).tolist()
