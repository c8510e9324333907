"""The quick-add popup (Tab on the canvas): type part of an op's name, Enter adds it.

A frameless Qt.Popup, so clicking anywhere else dismisses it. Matching and ranking are the
palette's (`search_ops`), so both find the same ops in the same order.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, QSize, Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from bpviz.engine.ops import REGISTRY
from bpviz.ui.palette import OP_ROLE, op_tooltip, search_ops
from bpviz.ui.theme import FONT_SMALL, op_icon, ui_font

POPUP_SIZE = QSize(300, 320)


class NodeSearchPopup(QFrame):
    """`popup_at(global_pos)` shows it; `op_chosen(op_name)` when an op is picked."""

    op_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup | Qt.WindowType.FramelessWindowHint)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFrameShadow(QFrame.Shadow.Raised)
        self.resize(POPUP_SIZE)

        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("Add node…")
        self.edit.textChanged.connect(self._refill)
        self.edit.installEventFilter(self)

        self.list = QListWidget(self)
        self.list.setIconSize(QSize(18, 18))
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # typing stays in the line edit
        self.list.itemClicked.connect(self._choose_item)
        self.list.currentItemChanged.connect(self._show_doc)

        self.doc = QLabel(self)
        self.doc.setWordWrap(True)
        self.doc.setFont(ui_font(FONT_SMALL))
        self.doc.setProperty("role", "muted")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(self.edit)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.doc)
        self._refill("")

    # ---- showing -------------------------------------------------------------------------
    def popup_at(self, global_pos: QPoint) -> None:
        """Show at `global_pos` (kept on screen), empty, with the cursor in the search field."""
        self.edit.clear()
        self._refill("")
        pos = QPoint(global_pos)
        screen = QGuiApplication.screenAt(pos) or QGuiApplication.primaryScreen()
        if screen is not None:
            area = screen.availableGeometry()
            pos.setX(max(area.left(), min(pos.x(), area.right() - self.width())))
            pos.setY(max(area.top(), min(pos.y(), area.bottom() - self.height())))
        self.move(pos)
        self.show()
        self.raise_()
        self.activateWindow()
        self.edit.setFocus(Qt.FocusReason.PopupFocusReason)

    def visible_ops(self) -> list[str]:
        return [self.list.item(i).data(OP_ROLE) for i in range(self.list.count())]

    def current_op(self) -> str | None:
        item = self.list.currentItem()
        return item.data(OP_ROLE) if item is not None else None

    # ---- filtering and choosing ----------------------------------------------------------
    def _refill(self, text: str) -> None:
        self.list.clear()
        for spec in search_ops(text):
            item = QListWidgetItem(op_icon(spec.name), spec.name)
            item.setData(OP_ROLE, spec.name)
            item.setToolTip(op_tooltip(spec))
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)
        else:
            self.doc.setText("No op matches.")

    def _show_doc(self, item: QListWidgetItem | None) -> None:
        spec = REGISTRY.get(item.data(OP_ROLE)) if item is not None else None
        self.doc.setText(op_tooltip(spec) if spec else "")

    def _choose_item(self, item: QListWidgetItem) -> None:
        self._choose(item.data(OP_ROLE))

    def _choose(self, op: str | None) -> None:
        if not op:
            return
        self.close()
        self.op_chosen.emit(op)

    def _move(self, step: int) -> None:
        count = self.list.count()
        if count:
            row = self.list.currentRow()
            self.list.setCurrentRow(max(0, min(count - 1, row + step)))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.edit and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key == Qt.Key.Key_Down:
                self._move(1)
                return True
            if key == Qt.Key.Key_Up:
                self._move(-1)
                return True
            if key == Qt.Key.Key_PageDown:
                self._move(8)
                return True
            if key == Qt.Key.Key_PageUp:
                self._move(-8)
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self._choose(self.current_op())
                return True
            if key == Qt.Key.Key_Escape:
                self.close()
                return True
        return super().eventFilter(watched, event)
