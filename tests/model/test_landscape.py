"""The loss landscape: grid values are the engine's loss, the session is left untouched."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import bpviz
from bpviz.model.landscape import Landscape, ParamRef, resolve, scalar_params

SCENES = Path(__file__).resolve().parents[2] / "scenes"


def session(name: str):  # noqa: ANN201 - engine Session
    return bpviz.load_scene(SCENES / f"{name}.json").session


def snapshot(s) -> dict:  # noqa: ANN001
    return {n: {k: v.copy() for k, v in a.items()} for n, a in s.executor.params.items()}


def test_scalar_params_lists_every_entry_with_labels() -> None:
    assert [r.label for r in scalar_params(session("neuron"))] == ["w1", "w2", "b"]
    refs = scalar_params(session("xor"))
    labels = [r.label for r in refs]
    assert labels[:5] == [
        "hidden.W[0,0]",
        "hidden.W[0,1]",
        "hidden.W[1,0]",
        "hidden.W[1,1]",
        "hidden.b[0]",
    ]
    assert len(refs) == 2 * 2 + 2 + 2 * 1 + 1
    assert all(ParamRef.parse(r.label) == r for r in refs)


def test_large_arrays_are_capped_but_every_entry_resolves() -> None:
    s = session("moons")
    shapes = {n: {k: v.shape for k, v in a.items()} for n, a in s.executor.params.items()}
    capped = scalar_params(s, limit=3)
    assert len(capped) == sum(
        min(3, int(np.prod(sh))) for a in shapes.values() for sh in a.values()
    )
    assert len(scalar_params(s, limit=None)) > len(capped)
    assert resolve(s, "h1.W[1,5]") == ParamRef("h1", "W", (1, 5))
    assert resolve(s, "h1.W[9,9]") is None
    assert resolve(s, "nonsense") is None


@pytest.mark.parametrize(("name", "pick"), [("neuron", (0, 2)), ("xor", (1, 5))])
def test_grid_values_equal_the_engines_loss(name: str, pick: tuple[int, int]) -> None:
    s = session(name)
    refs = scalar_params(s)
    a, b = refs[pick[0]], refs[pick[1]]
    land = Landscape()
    land.start(s, a, b, n=9)
    land.compute_all()
    assert land.progress == 1.0 and land.error is None
    assert land.values.shape == (9, 9)
    assert land.xs[4] == a.get(s.executor.params) and land.ys[4] == b.get(s.executor.params)
    for i, j in [(0, 0), (0, 8), (3, 5), (8, 2), (4, 4)]:
        fresh = session(name)
        fresh.forward()  # draw the parameters, then set the two entries by hand
        fresh.executor.params[a.node_id][a.name][a.index] = land.xs[i]
        fresh.executor.params[b.node_id][b.name][b.index] = land.ys[j]
        assert land.values[i, j] == float(np.sum(fresh.forward()))


def test_the_session_is_bit_identical_afterwards() -> None:
    s = session("xor")
    s.train(20)
    s.forward()
    before = snapshot(s)
    out_before = np.array(s.value("loss"))
    refs = scalar_params(s)
    land = Landscape()
    land.start(s, refs[0], refs[-1], n=7)
    land.compute_all()
    after = snapshot(s)
    assert before.keys() == after.keys()
    for n in before:
        for k in before[n]:
            assert before[n][k].tobytes() == after[n][k].tobytes()
    assert np.array_equal(s.value("loss"), out_before)


def test_an_undrawn_session_is_not_disturbed() -> None:
    s = session("xor")
    s.executor.reset_params()  # as after Reset: drawn again on the next pass
    land = Landscape()
    refs = scalar_params(s)
    land.start(s, refs[0], refs[1], n=5)
    land.compute_all()
    assert s.executor.params == {}
    assert np.isfinite(land.values).all()


def test_slices_finish_in_several_calls_with_growing_progress() -> None:
    s = session("moons")
    refs = scalar_params(s)
    land = Landscape()
    land.start(s, refs[0], refs[1], n=12)
    assert land.progress == 0.0 and np.isnan(land.values).all()
    progress, calls = [0.0], 0
    while not land.compute_some(1e-6):
        calls += 1
        progress.append(land.progress)
    progress.append(land.progress)
    assert calls >= 3
    assert progress == sorted(progress) and progress[-1] == 1.0
    assert np.isfinite(land.values).all()


def test_non_finite_losses_are_nan() -> None:
    s = session("neuron")
    s.executor.params["w1"] = {"value": np.array(5e307)}  # x1·w1 = 2·w1 overflows
    a, b = ParamRef("w1"), ParamRef("b")
    land = Landscape()
    land.start(s, a, b, n=5, span=(5e307, 1.0))
    land.compute_all()
    assert land.error is None
    assert np.isnan(land.values).any() and np.isfinite(land.values).any()


def test_same_or_missing_entries_are_refused() -> None:
    s = session("neuron")
    land = Landscape()
    with pytest.raises(ValueError, match="different"):
        land.start(s, ParamRef("w1"), ParamRef("w1"))
    with pytest.raises(ValueError, match="no parameter entry"):
        land.start(s, ParamRef("w1"), ParamRef("x1"))


def test_path_records_the_values_after_training_steps() -> None:
    s = session("xor")
    refs = scalar_params(s)
    a, b = refs[0], refs[1]
    land = Landscape()
    land.start(s, a, b, n=3)
    seen = [land.path[-1]]
    for _ in range(5):
        s.trainer.step()
        land.record(s)
        land.record(s)  # a repeat adds nothing
        seen.append((a.get(s.executor.params), b.get(s.executor.params)))
    assert land.path == seen
    land.clear_path(s)
    assert land.path == [seen[-1]]
    land.start(s, refs[2], refs[3], n=3)  # other axes: a new path
    assert len(land.path) == 1
