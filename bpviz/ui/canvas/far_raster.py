"""The far view's sharp raster, painted a few pieces per event-loop tick.

Rastering a 5,000-node far view (8,000 wires and 5,000 boxes) costs 30–70 ms: two to four
frames. A worker thread does not help: PySide6 keeps the GIL through every QPainter call
(`drawPicture`, `QPicture.play`, `drawLines`...), so the GUI thread would wait just as long.
Instead the overview is recorded in pieces (overview.py) and a raster plays them in order, as
many per tick as fit in `budget_ms`, into an image of its own; the view keeps showing its last
raster, moved along, until the sharp one is done. Playing the same pieces in the same order
gives the same pixels as playing them at once. The pieces may be recorded as they are asked
for (`Overview.stream`): after an edit, recording and raster are spread over ticks alike.

Finished rasters come back through `done` with the key they were asked with: the view shows
one only if the key still describes what it shows (the recordings, its size and its
transform). A new request replaces the one in progress; `cancel` drops it.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Iterable, Iterator, Sequence

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QImage, QPainter, QPicture, QTransform

BUDGET_MS = 6.0  # per tick: leaves most of a 16 ms frame to everything else
_END = object()  # no piece left


def play(image: QImage, transform: QTransform, pictures: Sequence[QPicture]) -> None:
    """Replay `pictures` over `image` (its background already painted) at `transform`."""
    painter = QPainter(image)
    painter.setTransform(transform)
    for picture in pictures:
        picture.play(painter)  # what drawPicture(0, 0, picture) does
    painter.end()


class FarRaster(QObject):
    """Paints one far-view raster at a time, a few pieces per event-loop tick."""

    done = Signal(object, QImage)  # the request's key and its finished raster

    def __init__(self, parent: QObject | None = None, budget_ms: float = BUDGET_MS) -> None:
        super().__init__(parent)
        self.budget_ms = budget_ms
        self._job: tuple[Hashable, QImage, QTransform, Iterator[QPicture | None]] | None = None
        self.played = 0  # pieces played, in all (for tests and benchmarks)
        self._tick = QTimer(self, singleShot=True, interval=0)
        self._tick.timeout.connect(self.step)

    def request(
        self,
        key: Hashable,
        image: QImage,
        transform: QTransform,
        pictures: Iterable[QPicture | None],
    ) -> None:
        """Play `pictures` over `image` at `transform`, starting at the next tick, and hand
        the image back with `key` when all are played. Each is taken when its turn comes
        (None: none ready yet, the time spent counts against the tick's budget)."""
        self._job = key, image, QTransform(transform), iter(pictures)
        self._tick.start()

    def cancel(self) -> None:
        """Drop the raster in progress, if any."""
        self._job = None
        self._tick.stop()

    def busy(self) -> bool:
        return self._job is not None

    def step(self) -> None:
        """One tick: take and play pieces until the budget is spent (at least one)."""
        if self._job is None:
            return
        key, image, transform, pictures = self._job
        painter = QPainter(image)
        painter.setTransform(transform)
        start = time.perf_counter()
        finished = False
        while not finished:
            picture = next(pictures, _END)
            if picture is _END:
                finished = True
            elif picture is not None:
                picture.play(painter)
                self.played += 1
            if (time.perf_counter() - start) * 1000 >= self.budget_ms:
                break
        painter.end()
        if not finished:
            self._tick.start()
            return
        self._job = None
        self.done.emit(key, image)
