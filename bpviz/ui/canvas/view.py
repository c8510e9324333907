"""The canvas view: zoom around the cursor, pan, fit, rubber-band select, and drops from the
palette. Which node to add where is decided here; the document changes only via commands."""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QLineF, QPoint, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QHideEvent,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QGraphicsView,
    QRubberBand,
    QStyle,
    QStyleOptionRubberBand,
    QWidget,
)

from bpviz.engine.ops import REGISTRY
from bpviz.ui.canvas.far_raster import FarRaster, play
from bpviz.ui.canvas.items import GRID
from bpviz.ui.canvas.overview import Overview
from bpviz.ui.canvas.scene import CanvasScene
from bpviz.ui.canvas.wires import draw_wires
from bpviz.ui.palette import OP_MIME
from bpviz.ui.theme import Theme, current_theme

MIN_SCALE, MAX_SCALE = 0.1, 4.0
_SMOOTH = QPainter.RenderHint.Antialiasing
RESTED_MS = 150  # a far view that stopped moving this long is drawn sharp again
RESTARTS = 2  # a far raster restarts for a newer change this often; then it is shown first
SETTLE_MS = 1500  # after opening, resizes refit the graph this long (the window settling)


class CanvasView(QGraphicsView):
    search_requested = Signal(QPoint, QPointF)  # global position for the popup, scene position
    zoom_changed = Signal(float)

    def __init__(self, scene: CanvasScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.canvas = scene
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState, True)
        # the grid, and a big scene's wires over it (wires.py), are drawn once per scroll or
        # zoom into a cached background, not under every repainted node (Run mode repaints
        # often); a wire that changes has it redrawn where it was and is (items.py
        # `EdgeItem`), items being added all of it (`_cached`)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        self._cached: tuple[bool, int] | None = None  # big(), overlays.added when drawn
        # every paint covers all it repaints (the cached background, the far raster): Qt
        # need not fill the viewport first, a copy of its whole area at every frame
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAcceptDrops(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSceneRect(QRectF(-50_000, -50_000, 100_000, 100_000))
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._pan_from: QPoint | None = None
        # the far view rastered, and its key: (Overview.scenes, version, size, transform)
        self._far: tuple[tuple, QImage] | None = None
        self._far_wanted: tuple | None = None  # the key of the raster being painted
        self._far_ready: tuple[tuple, QImage] | None = None  # and that raster, once done
        self._far_restarts = 0  # how often it was asked again, the scene changing meanwhile
        self._rested = False
        self.far_rasters = 0  # how many far rasters were shown (for tests and benchmarks)
        self.far_raster = FarRaster(self)
        self.far_raster.done.connect(self._far_done)
        self._rest = QTimer(self, singleShot=True, interval=RESTED_MS)
        self._rest.timeout.connect(self.settle)
        self._space_down = False
        self.keep_fitted = False  # refit on resize: just after a document opened
        self._settled = QTimer(self, singleShot=True, interval=SETTLE_MS)
        self._settled.timeout.connect(lambda: setattr(self, "keep_fitted", False))

    # ---- zoom and pan --------------------------------------------------------------------
    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        self.keep_fitted = False
        target = min(MAX_SCALE, max(MIN_SCALE, self.zoom() * factor))
        factor = target / self.zoom()
        if not math.isclose(factor, 1.0):
            self.scale(factor, factor)
            self.zoom_changed.emit(self.zoom())

    def wheelEvent(self, event: QWheelEvent) -> None:
        self.zoom_by(1.0015 ** event.angleDelta().y())
        event.accept()

    def actual_size(self) -> None:
        """100 % (Ctrl+0)."""
        self.keep_fitted = False
        self.resetTransform()
        self.zoom_changed.emit(1.0)

    def fit_new(self) -> None:
        """A document just opened: fit it, and fit again while the window settles into its
        size (shown, docks laid out, geometry restored) — for a moment, or until the person
        clicks, zooms or pans."""
        self.keep_fitted = True
        self.fit_all()
        self._settled.start()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.keep_fitted:
            self.fit_all()

    def fit_all(self) -> None:
        """Show every node (F)."""
        if not self.canvas.node_items:
            return
        rect = self.canvas.nodes_rect().adjusted(-40, -40, 40, 40)
        self.resetTransform()
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom() > 1.5:
            self.resetTransform()
            self.scale(1.5, 1.5)
            self.centerOn(rect.center())
        self.zoom_changed.emit(self.zoom())

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.keep_fitted = False
        panning = event.button() == Qt.MouseButton.MiddleButton or (
            event.button() == Qt.MouseButton.LeftButton and self._space_down
        )
        if panning:
            self.keep_fitted = False
            self._pan_from = event.position().toPoint()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None:
            pos = event.position().toPoint()
            delta = pos - self._pan_from
            self._pan_from = pos
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - delta.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None:
            self._pan_from = None
            self.viewport().setCursor(
                Qt.CursorShape.OpenHandCursor if self._space_down else Qt.CursorShape.ArrowCursor
            )
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self.itemAt(event.position().toPoint()) is None:
            self._request_search(event.position().toPoint())
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    # ---- keys ----------------------------------------------------------------------------
    def event(self, event: QEvent) -> bool:
        # Tab would move focus to the next widget; on the canvas it opens the node search.
        if event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Tab:
            self._request_search(self.mapFromGlobal(self.cursor().pos()))
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = False
            self.viewport().setCursor(Qt.CursorShape.ArrowCursor)
            event.accept()
            return
        super().keyReleaseEvent(event)

    def _request_search(self, view_pos: QPoint) -> None:
        if not self.viewport().rect().contains(view_pos):
            view_pos = self.viewport().rect().center()
        self.search_requested.emit(self.viewport().mapToGlobal(view_pos), self.mapToScene(view_pos))

    # ---- drops from the palette ----------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(OP_MIME):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        """Outline the wire the node would go into if dropped here."""
        op = _dragged_op(event)
        if op is None:
            event.ignore()
            return
        self.canvas.splices.hover(op, self.mapToScene(event.position().toPoint()))
        event.acceptProposedAction()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self.canvas.splices.clear()
        super().dragLeaveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        op = _dragged_op(event)
        if op is None:
            self.canvas.splices.clear()
            event.ignore()
            return
        self.canvas.splices.drop(op, self.mapToScene(event.position().toPoint()))
        event.acceptProposedAction()

    # ---- painting ------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        """A big scene zoomed out is replayed from its overview picture (overview.py) instead
        of item by item; otherwise Qt paints the items."""
        overview = self.canvas.overview
        if not overview.wanted(self.zoom()):
            cached = (overview.big(), self.canvas.overlays.added)
            if cached != self._cached:  # a wire was added, or wires are now items' to paint
                self._cached = cached
                self.resetCachedContent()
            # what is about to be painted shows the latest pass (overlays.py)
            area = self.mapToScene(event.rect()).boundingRect()
            self.canvas.overlays.bring(self.canvas, area)
            super().paintEvent(event)
            return
        painter = QPainter(self.viewport())
        image, drawn_at = self._far_view(overview)
        t = self.viewportTransform()
        if drawn_at != (self._viewport_size(), t):  # moving: the last raster moved along
            painter.fillRect(self.viewport().rect(), QColor(current_theme().canvas))
            painter.setTransform(drawn_at[1].inverted()[0] * t)
        painter.drawImage(0, 0, image)
        painter.setTransform(t)  # what changed since, and the selected and marked nodes
        painter.drawPicture(0, 0, overview.over_raster())
        band = self.rubberBandRect()
        if not band.isEmpty():  # what QGraphicsView draws while a rubber band is dragged
            painter.resetTransform()
            option = QStyleOptionRubberBand()
            option.initFrom(self.viewport())
            option.rect = band
            option.shape = QRubberBand.Shape.Rectangle
            self.style().drawControl(QStyle.ControlElement.CE_RubberBand, option, painter)
        painter.end()

    def _viewport_size(self) -> tuple[int, int]:
        return self.viewport().width(), self.viewport().height()

    def far_changed(self) -> None:
        """Something the overview shows changed (overview.py `ask_repaint`): shown as the
        picture here, the scene repaints."""
        if self.canvas.overview.wanted(self.zoom()):
            self.viewport().update()

    def _far_view(self, overview: Overview) -> tuple[QImage, tuple[tuple[int, int], QTransform]]:
        """The overview rastered at this view's size and transform, and the size and transform
        it was rastered at. Repainting a far view that did not change is one copy. While it
        moves (wheel, pan, resize) the last raster is moved along; once it rests (`settle`)
        the sharp raster is painted a few pieces per tick (far_raster.py) and shown when done.
        After an edit the last raster stays too, with what changed drawn over it
        (`Overview.over_raster`), while the pictures are recorded and rastered a few pieces
        per tick alike. Only the first raster of a scene is painted here at once: there is
        nothing older to show."""
        t = QTransform(self.viewportTransform())
        place = (self._viewport_size(), t)
        ready, self._far_ready = self._far_ready, None
        if ready is not None:  # newer than what is shown, if perhaps no longer in place
            self._show_far(*ready)
        rested, self._rested = self._rested, False
        key = (overview.scenes, overview.version(), *place)
        far, wanted = self._far, self._far_wanted
        if far is None or far[0][0] != overview.scenes:
            self.far_raster.cancel()
            image = self._far_background()
            play(image, t, overview.pictures())
            self._show_far(key, image)
        elif far[0] == key:
            pass
        elif wanted is not None and wanted[2:] == place:  # being rastered for this place
            if wanted[1] != key[1] and self._far_restarts < RESTARTS:  # changed meanwhile
                self._far_restarts += 1
                self._ask_far(key, overview)
        elif far[0][2:] != place and not rested:  # moving (again): whatever was asked is old
            self._far_wanted = None
            self.far_raster.cancel()
            self._rest.start()
        else:
            self._ask_far(key, overview)
        image_key, image = self._far
        return image, image_key[2:]

    def _ask_far(self, key: tuple, overview: Overview) -> None:
        """Raster the overview for `key`, recorded anew where out of date, over ticks."""
        self._far_wanted = key
        self.far_raster.request(key, self._far_background(), key[3], overview.stream())

    def _far_background(self) -> QImage:
        """A viewport-sized image with the background drawn at the view's transform."""
        vp = self.viewport()
        ratio = vp.devicePixelRatioF()
        image = QImage(
            round(vp.width() * ratio), round(vp.height() * ratio), QImage.Format.Format_RGB32
        )
        image.setDevicePixelRatio(ratio)
        painter = QPainter(image)
        painter.setTransform(self.viewportTransform())
        self.draw_grid(painter, self.mapToScene(vp.rect()).boundingRect())
        painter.end()
        return image

    def _show_far(self, key: tuple, image: QImage) -> None:
        self._far = key, image
        self._far_wanted = None
        self._far_restarts = 0
        self.far_rasters += 1

    def _far_done(self, key: tuple, image: QImage) -> None:
        """A sharp raster came back: the next paint shows it if it is the one last asked for
        (for the view's size and transform then; recorded from the scene as it was then)."""
        if key == self._far_wanted:
            self._far_ready = key, image
            self.viewport().update()

    def settle(self) -> None:
        """The view rests: a moved far view is rastered sharp at its transform."""
        self._rested = True
        self.viewport().update()

    def hideEvent(self, event: QHideEvent) -> None:
        """Hidden (the window closed): no raster is painted for it any longer."""
        self._far_wanted = self._far_ready = None
        self.far_raster.cancel()
        super().hideEvent(event)

    # ---- theme and background ------------------------------------------------------------
    def theme_changed(self, theme: Theme) -> None:
        """Called by `apply_theme`: items repaint (and rebuild their heatmaps) in its colours."""
        self.canvas.refresh_theme()
        self.resetCachedContent()  # the cached grid was drawn in the old theme's colours
        self.viewport().update()


    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        """The grid, and over it a big scene's wires (under every item; wires.py)."""
        self.draw_grid(painter, rect)
        if self.canvas.overview.big():
            painter.setRenderHints(self.renderHints())  # Qt's painter of the cached one has none
            draw_wires(self.canvas, painter, rect)

    def draw_grid(self, painter: QPainter, rect: QRectF) -> None:
        """The canvas colour and, unless zoomed far out, the grid."""
        theme = current_theme()
        painter.fillRect(rect, QColor(theme.canvas))
        if self.zoom() < 0.35:
            return  # a dense grid at low zoom is noise and costs frame time
        left = math.floor(rect.left() / GRID) * GRID
        top = math.floor(rect.top() / GRID) * GRID
        minor: list[QLineF] = []
        major: list[QLineF] = []
        x = left
        while x < rect.right():
            line = QLineF(x, rect.top(), x, rect.bottom())
            (major if round(x / GRID) % 5 == 0 else minor).append(line)
            x += GRID
        y = top
        while y < rect.bottom():
            line = QLineF(rect.left(), y, rect.right(), y)
            (major if round(y / GRID) % 5 == 0 else minor).append(line)
            y += GRID
        smooth = painter.testRenderHint(_SMOOTH)
        painter.setRenderHint(_SMOOTH, False)  # crisp one-pixel lines, as the grid always was
        for colour, lines in ((theme.grid_minor, minor), (theme.grid_major, major)):
            painter.setPen(QPen(QColor(colour), 0))
            painter.drawLines(lines)  # one call per colour: a frame's grid costs ~0.2 ms, not 3
        painter.setRenderHint(_SMOOTH, smooth)


def _dragged_op(event: QDragMoveEvent | QDropEvent) -> str | None:
    """The registered op a palette drag carries, or None."""
    if not event.mimeData().hasFormat(OP_MIME):
        return None
    op = bytes(event.mimeData().data(OP_MIME)).decode()
    return op if op in REGISTRY else None
