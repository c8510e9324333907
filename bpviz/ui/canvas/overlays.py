"""What a pass shows on the canvas, handed to each node and wire when it is seen.

A pass at 5,000 nodes changes every node's numbers and every wire's colour; setting them all at
once (numbers fitted, heatmaps made, 8,000 pens) costs several frames. Instead the window
publishes the numbers as functions of a node id or wire key, and an item takes its own when it
is about to be painted (the view brings what it shows up to date first), when anything reads
its numbers, or, for a wire's colour only, when the far view (overview.py) is recorded.
Whatever is on screen therefore shows the latest pass; what is off screen catches up when it
comes into view.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QGraphicsScene

Edge = tuple[str, str, str]  # (src, dst, port)
NodeNumbers = tuple["np.ndarray | None", "np.ndarray | None", bool, "str | None"]
"""A node's value, gradient, whether they are stale, and its gradient flag."""

_BOUNDS = Qt.ItemSelectionMode.IntersectsItemBoundingRect
MOVED_MAX = 256  # items moved between two paints kept to be brought up to date one by one;
# beyond (an auto layout), the next paint looks at all it shows


def _nothing(_key: object) -> None:
    return None


class Overlays:
    """The latest published numbers of one canvas scene and their generation: an item whose
    generation differs takes its numbers from here (items.py `_pull`)."""

    def __init__(self) -> None:
        self.generation = 0
        self.node: Callable[[str], NodeNumbers] = lambda _id: (None, None, False, None)
        self.wire: Callable[[Edge], np.ndarray | None] = _nothing
        self.term: Callable[[Edge], str | None] = _nothing
        self._largest: Callable[[], float] = lambda: 0.0
        self._largest_value: float | None = None
        self._brought: tuple[int, QRectF] | None = None  # the last view area brought up to date
        self._moved: set = set()  # nodes and wires moved since (`shifted`)
        self.pulls = 0  # how many items took their numbers (for tests and benchmarks)
        self.looked = 0  # how many items a paint looked at (for tests and benchmarks)
        self.added = 0  # how often items were added: a view's cached background, which holds
        # a big scene's wires (view.py), is drawn anew

    def publish(
        self,
        node: Callable[[str], NodeNumbers],
        wire: Callable[[Edge], np.ndarray | None] = _nothing,
        largest: Callable[[], float] = lambda: 0.0,
        term: Callable[[Edge], str | None] = _nothing,
    ) -> None:
        """New numbers for every node and wire. `largest` (the largest gradient any wire
        carries, for wire widths) is asked once, when the first wire needs it; `term` (a
        wire's chain-rule product in words) when its tooltip is shown."""
        self.generation += 1
        self.node, self.wire, self.term, self._largest = node, wire, term, largest
        self._largest_value = None
        self._brought = None
        self._moved.clear()

    def largest(self) -> float:
        if self._largest_value is None:
            self._largest_value = self._largest()
        return self._largest_value

    def items_added(self) -> None:
        """Items were added: the next paint looks at what it shows again."""
        self._brought = None
        self._moved.clear()
        self.added += 1

    def shifted(self, items: list) -> None:
        """A node and its wires moved, perhaps into the area last brought up to date: the
        next paint brings just them, not everything it shows (a drag step moves one node)."""
        if self._brought is None:
            return  # everything shown is looked at anyway
        self._moved.update(items)
        if len(self._moved) > MOVED_MAX:
            self._brought = None
            self._moved.clear()

    def bring(self, scene: QGraphicsScene, rect: QRectF) -> None:
        """Every node and wire touching `rect` (scene coordinates) shows the latest numbers.
        Repainting the same area with nothing new published costs nothing."""
        brought, moved = self._brought, self._moved
        if brought is not None and brought[0] == self.generation and brought[1].contains(rect):
            self.looked += len(moved)
            for item in moved:  # wherever they are now (a few, taken a little early)
                if item.scene() is scene:  # not removed since
                    item.pull()
            moved.clear()
            return
        items = scene.items(rect, _BOUNDS)
        self.looked += len(items)
        for item in items:
            pull = getattr(item, "pull", None)
            if pull is not None:
                pull()
        self._brought = self.generation, QRectF(rect)
        moved.clear()

    def bring_all(self, scene: QGraphicsScene) -> None:
        """Every node and wire shows the latest numbers (before an export draws them all)."""
        for item in scene.items():
            pull = getattr(item, "pull", None)
            if pull is not None:
                pull()
