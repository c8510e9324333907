"""The Data panel's ranges say exactly what make_dataset accepts; the CSV preview."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bpviz.engine.data_options import GENERATED_KINDS, USUAL_TRANSFORMS, number_settings
from bpviz.engine.datasets import DatasetError, make_dataset, preview_csv
from bpviz.engine.transforms import parse_transforms

CASES = [(kind, s) for kind in GENERATED_KINDS for s in number_settings(kind, n=40)]


def _accepted(kind: str, key: str, value: float) -> bool:
    try:
        make_dataset({"kind": kind, "n": 40, key: value})
    except DatasetError:
        return False
    return True


@pytest.mark.parametrize(("kind", "setting"), CASES, ids=[f"{k}-{s.key}" for k, s in CASES])
def test_ranges_match_the_generator(kind: str, setting) -> None:  # noqa: ANN001
    step = 1 if setting.integer else 1e-9
    low, high = setting.low, setting.high
    assert _accepted(kind, setting.key, setting.default)
    assert _accepted(kind, setting.key, low) is not setting.low_open
    assert not _accepted(kind, setting.key, low - step)
    if math.isinf(high) or setting.key in ("n", "seed"):
        return  # n: a million points, checked below; seed: any larger seed works too
    assert _accepted(kind, setting.key, high) is not setting.high_open
    assert not _accepted(kind, setting.key, high + step)


def test_the_largest_size_is_the_generators_limit() -> None:
    (n,) = [s for s in number_settings("xor") if s.key == "n"]
    with pytest.raises(DatasetError, match="data.n: expected an integer from 4 to 1000000"):
        make_dataset({"kind": "xor", "n": int(n.high) + 1})
    assert n.accepts(n.high) and not n.accepts(n.high + 1) and not n.accepts(4.5)


def test_usual_transforms_are_valid_for_2d_data() -> None:
    feats = parse_transforms([e for e, _ in USUAL_TRANSFORMS], 2)
    assert [f.text for f in feats] == ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"]


def test_csv_preview_reads_the_head(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("a,b,label\n1,2,0\n\n3,4,1\n5,6,0\n7,8,1\n")
    assert preview_csv(path, rows=2) == (["a", "b", "label"], [["1", "2", "0"], ["3", "4", "1"]])
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(DatasetError, match="e.csv: file is empty"):
        preview_csv(tmp_path / "e.csv")
    with pytest.raises(DatasetError, match="nope.csv: file not found"):
        preview_csv(tmp_path / "nope.csv")
