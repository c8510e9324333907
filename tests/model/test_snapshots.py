"""SnapshotStore: bounded memory by thinning, first and newest always kept, and exactly the
numbers the controller had at each kept step."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from bpviz.model import Document
from bpviz.model.snapshots import Snapshot, SnapshotStore
from bpviz.model.training import TrainingController

SCENES = Path(__file__).resolve().parents[2] / "scenes"


class FakeController:
    """Just the attributes the store reads: parameters, values, gradients, wire gradients."""

    def __init__(self, size: int = 4) -> None:
        self.params = {"w": {"value": np.zeros(size)}}
        self.session = SimpleNamespace(executor=SimpleNamespace(params=self.params))
        self.values: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.contributions: dict[tuple[str, str, str], np.ndarray] = {}
        self.grads_fresh = False

    def train_to(self, step: int, fresh: bool = False) -> None:
        self.params["w"]["value"][:] = step  # in place, as the optimizer does
        self.grads_fresh = fresh
        if fresh:
            self.values = {"w": np.full(3, float(step)), "y": np.array(step * 2.0)}
            self.grads = {"w": np.full(3, -float(step))}
            self.contributions = {("w", "y", "x"): np.full(3, step + 0.5)}


def xor_controller() -> TrainingController:
    doc = Document.from_scene_dict(json.loads((SCENES / "xor.json").read_text()))
    return TrainingController(doc, SCENES)


def copied(arrays: dict) -> dict:
    return {k: np.array(v) for k, v in arrays.items()}


def assert_same(kept: dict, expected: dict) -> None:
    assert kept.keys() == expected.keys()
    for k, a in expected.items():
        np.testing.assert_array_equal(kept[k], a, err_msg=str(k))


# ---- bounded memory ----------------------------------------------------------------------
def test_memory_stays_within_budget_over_100k_steps() -> None:
    fake = FakeController()
    budget = 40_000
    store = SnapshotStore(budget_bytes=budget, full_every=1000)
    for step in range(1, 100_001):
        fake.train_to(step, fresh=step % 5000 == 0)
        store.record(step, fake, loss=1.0 / step)
        assert store.nbytes <= budget
    steps = store.steps()
    assert steps[0] == 1 and steps[-1] == 100_000
    assert steps == sorted(set(steps))
    assert 10 < len(steps) < 1000
    assert store.recorded == 100_000
    assert store.nbytes == sum(store.get(s).nbytes for s in steps)
    # newest dense, older progressively sparser
    gaps = np.diff(steps)
    assert gaps[-1] == 1
    assert gaps[: len(gaps) // 4].mean() > gaps[-len(gaps) // 4 :].mean()


def test_first_and_latest_are_always_kept() -> None:
    fake = FakeController(size=32)
    store = SnapshotStore(budget_bytes=2_000)
    for step in range(1, 2_000):
        fake.train_to(step)
        store.record(step, fake)
        assert store.steps()[0] == 1
        assert store.latest_step == step
        np.testing.assert_array_equal(store.latest().params["w"]["value"], np.full(32, step))


def test_params_are_copies_and_get_finds_nearest_kept_step_before() -> None:
    fake = FakeController()
    store = SnapshotStore()
    for step in (1, 2, 5):
        fake.train_to(step)
        store.record(step, fake, loss=step / 10)
    fake.train_to(99)  # the optimizer moves on in place: the snapshots must not
    assert store.steps() == [1, 2, 5]
    assert store.get(0) is None
    assert store.get(4).step == 2 and store.get(4).loss == pytest.approx(0.2)
    assert store.get(1000).step == 5
    np.testing.assert_array_equal(store.get(2).params["w"]["value"], np.full(4, 2.0))
    store.clear()
    assert store.steps() == [] and store.nbytes == 0 and store.latest() is None


def test_fresh_numbers_make_full_snapshots_and_stale_ones_light() -> None:
    fake = FakeController()
    store = SnapshotStore(full_every=10)
    fake.train_to(1, fresh=True)
    full = store.record(1, fake)
    fake.train_to(2)
    light = store.record(2, fake)
    assert full.full and not light.full and light.values == {}
    np.testing.assert_array_equal(full.contributions[("w", "y", "x")], np.full(3, 1.5))
    fake.values["w"][:] = -7  # the controller's arrays change later: the snapshot does not
    np.testing.assert_array_equal(full.values["w"], np.full(3, 1.0))


def test_recording_an_earlier_step_rewrites_history_from_there() -> None:
    fake = FakeController()
    store = SnapshotStore()
    for step in range(1, 6):
        fake.train_to(step)
        store.record(step, fake)
    fake.train_to(3)
    store.record(3, fake)
    assert store.steps() == [1, 2, 3]
    assert store.nbytes == sum(store.get(s).nbytes for s in store.steps())


# ---- the real controller -----------------------------------------------------------------
def test_get_returns_exactly_what_the_controller_had_at_each_step() -> None:
    controller = xor_controller()
    store = SnapshotStore()
    expected: dict[int, dict] = {}
    for _ in range(50):
        controller.step()
        controller.refresh()
        step = controller.session.trainer.step_count
        store.record(step, controller)
        expected[step] = {
            "values": copied(controller.values),
            "grads": copied(controller.grads),
            "contributions": copied(controller.contributions),
            "params": {n: copied(p) for n, p in controller.session.executor.params.items()},
        }
    assert store.steps() == list(range(1, 51))
    for step in store.steps():
        snap = store.get(step)
        assert snap.step == step and snap.full
        assert_same(snap.values, expected[step]["values"])
        assert_same(snap.grads, expected[step]["grads"])
        assert_same(snap.contributions, expected[step]["contributions"])
        assert snap.params.keys() == expected[step]["params"].keys()
        for n, p in expected[step]["params"].items():
            assert_same(snap.params[n], p)
    # the store kept copies: the controller has moved on, the snapshot of step 1 has not
    first = store.get(1)
    assert not np.array_equal(first.values["loss"], controller.values["loss"])


def test_computed_snapshots_match_a_refresh_without_touching_the_controller() -> None:
    controller = xor_controller()
    store = SnapshotStore(full_every=5)
    detach = store.attach(controller)
    controller.run_for(10.0, max_steps=7)  # one slice: only its last step is current
    assert store.steps() == [7]
    snap = store.get(7)
    assert snap.full  # computed on a private executor: none was taken yet
    assert controller.values == {} and controller.phase == "updated"
    controller.refresh()  # what the window does a few times a second
    assert_same(snap.values, controller.values)
    assert_same(snap.grads, controller.grads)
    assert_same(snap.contributions, controller.contributions)

    controller.run_for(10.0, max_steps=2)
    light = store.get(9)
    assert light.step == 9 and not light.full
    full = store.materialize(light)
    controller.refresh()
    assert store.get(9).full  # completed from the controller's own refresh
    assert_same(full.values, controller.values)
    assert_same(full.grads, controller.grads)

    controller.reset(seed=1)
    assert store.steps() == []
    detach()
    controller.step()
    assert store.steps() == []


def test_snapshot_nbytes_counts_every_array() -> None:
    snap = Snapshot(3, {"w": {"value": np.zeros(10)}}, values={"y": np.zeros(5)}, full=True)
    assert snap.nbytes >= 15 * 8


def test_the_budget_counts_what_a_scalar_graph_snapshot_really_holds() -> None:
    """A 2,000-node graph of numbers: mostly array objects and dict entries, not numbers."""
    import tracemalloc

    doc = Document()
    doc.add_node("w", "param", {"value": 0.5})
    prev = "w"
    for i in range(2000):
        doc.add_node(f"n{i}", "tanh" if i % 2 else "add")
        if i % 2:
            doc.connect(prev, f"n{i}", "x")
        else:
            doc.connect(prev, f"n{i}", "a")
            doc.connect("w", f"n{i}", "b")
        prev = f"n{i}"
    doc.set_output(prev)
    controller = TrainingController(doc)
    assert controller.refresh()
    store = SnapshotStore(budget_bytes=1 << 30)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    snap = store.record(1, controller)
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert snap.full and len(snap.contributions) == 3000
    assert 0.8 * held <= snap.nbytes <= 1.25 * held


def test_a_full_snapshots_loss_node_shows_the_recorded_loss() -> None:
    """The history's loss for a step is measured with the parameters that step left, the same
    ones a snapshot keeps: scrubbing to it shows the recorded number on the loss node."""
    ctl = xor_controller()
    store = SnapshotStore(full_every=1)
    detach = store.attach(ctl)
    results = [ctl.step() for _ in range(6)]
    detach()
    for result in results:
        snap = store.materialize(store.get(result.step), ctl)
        assert snap.full and snap.loss == result.loss
        assert float(snap.values["loss"]) == result.loss


def test_without_full_every_only_fresh_numbers_make_full_snapshots() -> None:
    controller = xor_controller()
    store = SnapshotStore(full_every=None)
    detach = store.attach(controller)
    for _ in range(3):
        controller.run_for(10.0, max_steps=60)
    assert store.steps() == [60, 120, 180]
    assert [store.get(s).full for s in store.steps()] == [False, False, False]  # none computed
    controller.refresh()  # what Run does a few times a second: this one comes for free
    assert [store.get(s).full for s in store.steps()] == [False, False, True]
    shown = store.materialize(store.get(120))  # the timeline computes one when shown
    assert shown.full and not store.get(120).full
    detach()
