"""The timeline widget: scrubbing shows the stored numbers, the label counts snapshots and
memory, Latest goes back to the live state, and training does not move a scrubbed slider."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from bpviz.model.snapshots import SnapshotStore
from bpviz.ui.timeline import TimelineWidget


class FakeController:
    def __init__(self) -> None:
        self.params = {"w": {"value": np.zeros(3)}}
        self.session = SimpleNamespace(executor=SimpleNamespace(params=self.params))
        self.values: dict = {}
        self.grads: dict = {}
        self.contributions: dict = {}
        self.grads_fresh = True

    def train_to(self, step: int) -> None:
        self.params["w"]["value"][:] = step
        self.values = {"y": np.array(step * 10.0)}
        self.grads = {"y": np.array(1.0), "w": np.full(3, -float(step))}
        self.contributions = {("w", "y", "x"): np.full(3, step + 0.5)}


def train(store: SnapshotStore, fake: FakeController, steps: range) -> None:
    for step in steps:
        fake.train_to(step)
        store.record(step, fake, loss=1.0 / step)


@pytest.fixture
def fake() -> FakeController:
    return FakeController()


@pytest.fixture
def store(fake: FakeController) -> SnapshotStore:
    s = SnapshotStore()
    train(s, fake, range(1, 6))
    return s


@pytest.fixture
def timeline(qtbot, store: SnapshotStore) -> TimelineWidget:  # noqa: ANN001
    w = TimelineWidget(store)
    qtbot.addWidget(w)
    w.show()
    return w


def test_starts_at_latest_and_label_shows_counts_and_memory(timeline: TimelineWidget) -> None:
    assert timeline.slider.maximum() == 4 and timeline.slider.value() == 4
    assert timeline.following and not timeline.latest_button.isEnabled()
    text = timeline.label.text()
    assert text.startswith("step 5 of 5 · 5 snapshots · ")
    assert text.endswith("of 64 MB")


def test_moving_the_slider_emits_the_stored_numbers(qtbot, timeline: TimelineWidget) -> None:  # noqa: ANN001
    with qtbot.waitSignal(timeline.scrubbed) as blocker:
        timeline.slider.setValue(1)
    snap = blocker.args[0]
    assert snap.step == 2 and snap.loss == pytest.approx(0.5)
    np.testing.assert_array_equal(snap.values["y"], np.array(20.0))
    np.testing.assert_array_equal(snap.grads["w"], np.full(3, -2.0))
    np.testing.assert_array_equal(snap.contributions[("w", "y", "x")], np.full(3, 2.5))
    np.testing.assert_array_equal(snap.params["w"]["value"], np.full(3, 2.0))
    assert not timeline.following and timeline.latest_button.isEnabled()
    assert timeline.label.text().startswith("step 2 of 5 · ")


def test_keys_scrub_too(qtbot, timeline: TimelineWidget) -> None:  # noqa: ANN001
    from PySide6.QtCore import Qt

    timeline.slider.setFocus()
    with qtbot.waitSignal(timeline.scrubbed) as blocker:
        qtbot.keyClick(timeline.slider, Qt.Key.Key_Left)
    assert blocker.args[0].step == 4


def test_latest_button_returns_to_latest(qtbot, timeline: TimelineWidget) -> None:  # noqa: ANN001
    from PySide6.QtCore import Qt

    timeline.slider.setValue(0)
    with qtbot.waitSignal(timeline.returned_to_latest):
        qtbot.mouseClick(timeline.latest_button, Qt.MouseButton.LeftButton)
    assert timeline.following and timeline.slider.value() == 4
    assert timeline.label.text().startswith("step 5 of 5")


def test_training_moves_a_following_slider_but_not_a_scrubbed_one(
    qtbot,  # noqa: ANN001
    timeline: TimelineWidget,
    store: SnapshotStore,
    fake: FakeController,
) -> None:
    train(store, fake, range(6, 9))
    timeline.redraw()
    assert timeline.slider.value() == 7 and timeline.current_step() == 8

    timeline.slider.setValue(2)
    with qtbot.assertNotEmitted(timeline.scrubbed):
        train(store, fake, range(9, 20))
        timeline.redraw()
    assert timeline.current_step() == 3 and not timeline.following
    assert timeline.label.text().startswith("step 3 of 19 · 19 snapshots")


def test_a_reset_store_goes_back_to_following(timeline: TimelineWidget, store) -> None:  # noqa: ANN001
    timeline.slider.setValue(1)
    store.clear()
    timeline.redraw()
    assert timeline.following and timeline.label.text() == "no history yet"
    assert not timeline.slider.isEnabled()


def test_a_thinned_away_step_shows_the_kept_one_before_it(qtbot, fake: FakeController) -> None:  # noqa: ANN001
    store = SnapshotStore(budget_bytes=10**9)
    train(store, fake, range(1, 9))
    timeline = TimelineWidget(store)
    qtbot.addWidget(timeline)
    timeline.scrub_to(5)
    assert timeline.current_step() == 5
    store.budget = store.nbytes - 1  # the next record thins the older half 2-5: 3 and 5 go
    with qtbot.waitSignal(timeline.scrubbed) as blocker:
        train(store, fake, range(9, 10))
        timeline.redraw()
    assert store.steps() == [1, 2, 4, 6, 7, 8, 9]
    assert blocker.args[0].step == timeline.current_step() == 4
    assert not timeline.following
