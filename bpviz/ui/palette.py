"""The op palette: every registered op, grouped by category, searchable, draggable.

Dragging an entry carries its op name under `OP_MIME`; the canvas view accepts that drop.
Double-click or Enter asks the window to add the op at the view centre (`op_activated`).
The matching used by the filter is shared with the node search popup.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6.QtCore import QEvent, QMimeData, QObject, QSize, Qt, Signal
from PySide6.QtGui import QDrag, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from bpviz.engine.ops import CATEGORIES, REGISTRY, OpSpec
from bpviz.ui.theme import op_icon, ui_font

OP_MIME = "application/x-bpviz-op"
OP_ROLE = Qt.ItemDataRole.UserRole

# ---- matching, shared with the node search popup -----------------------------------------


def _term_rank(spec: OpSpec, term: str) -> int | None:
    name = spec.name.lower()
    if name == term:
        return 0
    if name.startswith(term):
        return 1
    if term in name:
        return 2
    if term in spec.title.lower() or term in spec.category.lower():
        return 3
    if term in spec.doc.lower():
        return 4
    return None


def match_rank(spec: OpSpec, query: str) -> int | None:
    """How well `spec` matches `query` (0 best), or None. Case-insensitive; every word of the
    query must appear in the op's name, label, category or doc."""
    terms = query.lower().split()
    if not terms:
        return 5
    ranks = [_term_rank(spec, t) for t in terms]
    if any(r is None for r in ranks):
        return None
    return max(r for r in ranks if r is not None)


def op_matches(spec: OpSpec, query: str) -> bool:
    return match_rank(spec, query) is not None


def search_ops(query: str, specs: Iterable[OpSpec] | None = None) -> list[OpSpec]:
    """The ops matching `query`, best first: name matches before doc matches, then by
    category order, then registry order."""
    pool = list(REGISTRY.values() if specs is None else specs)
    order = {c: i for i, c in enumerate(CATEGORIES)}
    ranked = []
    for index, spec in enumerate(pool):
        rank = match_rank(spec, query)
        if rank is not None:
            ranked.append((rank, order.get(spec.category, len(order)), index, spec))
    ranked.sort(key=lambda r: r[:3])
    return [r[3] for r in ranked]


def op_tooltip(spec: OpSpec) -> str:
    """'tanh — Hyperbolic tangent… (inputs: x)'."""
    inputs = f"inputs: {', '.join(spec.inputs)}" if spec.inputs else "no inputs"
    return f"{spec.name} — {spec.doc} ({inputs})"


# ---- the widget --------------------------------------------------------------------------


class _OpTree(QTreeWidget):
    """The tree of ops: drags carry `OP_MIME`, Enter activates the current op."""

    op_activated = Signal(str)

    def mimeTypes(self) -> list[str]:
        return [OP_MIME]

    def mimeData(self, items: Sequence[QTreeWidgetItem]) -> QMimeData:
        data = QMimeData()
        ops = [item.data(0, OP_ROLE) for item in items if item.data(0, OP_ROLE)]
        if ops:
            data.setData(OP_MIME, ops[0].encode())
            data.setText(ops[0])
        return data

    def startDrag(self, supportedActions: Qt.DropAction) -> None:
        item = self.currentItem()
        op = item.data(0, OP_ROLE) if item is not None else None
        if not op:
            return
        drag = QDrag(self)
        drag.setMimeData(self.mimeData([item]))
        drag.setPixmap(op_icon(op).pixmap(32, 32))
        drag.exec(Qt.DropAction.CopyAction)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        item = self.currentItem()
        op = item.data(0, OP_ROLE) if item is not None else None
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and op:
            self.op_activated.emit(op)
            event.accept()
            return
        super().keyPressEvent(event)


class PaletteWidget(QWidget):
    """Search field above the op tree. `op_activated(op_name)` on double-click or Enter."""

    op_activated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search ops…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.set_filter)
        self.search.returnPressed.connect(self._activate_current)
        self.search.installEventFilter(self)

        self.tree = _OpTree(self)
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(True)
        self.tree.setIconSize(QSize(20, 20))
        self.tree.setIndentation(14)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.tree.itemDoubleClicked.connect(self._on_double_click)
        self.tree.op_activated.connect(self.op_activated)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)

        self._categories: dict[str, QTreeWidgetItem] = {}
        self._ops: dict[str, QTreeWidgetItem] = {}
        self._populate()

    def _populate(self) -> None:
        category_font = ui_font(bold=True)
        for category in CATEGORIES:
            specs = [s for s in REGISTRY.values() if s.category == category]
            if not specs:
                continue
            group = QTreeWidgetItem(self.tree, [category.capitalize()])
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            group.setFont(0, category_font)
            self._categories[category] = group
            for spec in specs:
                item = QTreeWidgetItem(group, [spec.name])
                item.setIcon(0, op_icon(spec.name))
                item.setToolTip(0, op_tooltip(spec))
                item.setStatusTip(0, spec.doc)
                item.setData(0, OP_ROLE, spec.name)
                item.setFlags(
                    Qt.ItemFlag.ItemIsEnabled
                    | Qt.ItemFlag.ItemIsSelectable
                    | Qt.ItemFlag.ItemIsDragEnabled
                )
                self._ops[spec.name] = item
            group.setExpanded(True)

    # ---- queries (also for tests) --------------------------------------------------------
    def item_for(self, op_name: str) -> QTreeWidgetItem:
        return self._ops[op_name]

    def category_item(self, category: str) -> QTreeWidgetItem:
        return self._categories[category]

    def visible_ops(self) -> list[str]:
        """Op names not hidden by the filter, in tree order."""
        ops: list[str] = []
        for group in self._categories.values():
            if group.isHidden():
                continue
            for i in range(group.childCount()):
                child = group.child(i)
                if not child.isHidden():
                    ops.append(child.data(0, OP_ROLE))
        return ops

    # ---- filtering and activation --------------------------------------------------------
    def set_filter(self, text: str) -> None:
        """Show only ops matching `text`; hide categories left empty."""
        if self.search.text() != text:
            self.search.setText(text)  # re-enters through textChanged
            return
        for op, item in self._ops.items():
            item.setHidden(not op_matches(REGISTRY[op], text))
        for group in self._categories.values():
            children = (group.child(i) for i in range(group.childCount()))
            group.setHidden(all(child.isHidden() for child in children))
            group.setExpanded(True)
        current = self.tree.currentItem()
        if current is None or current.isHidden() or not current.data(0, OP_ROLE):
            visible = self.visible_ops()
            self.tree.setCurrentItem(self._ops[visible[0]] if visible else None)

    def _activate_current(self) -> None:
        item = self.tree.currentItem()
        op = item.data(0, OP_ROLE) if item is not None and not item.isHidden() else None
        if not op:
            visible = self.visible_ops()
            op = visible[0] if visible else None
        if op:
            self.op_activated.emit(op)

    def _on_double_click(self, item: QTreeWidgetItem, column: int) -> None:
        op = item.data(0, OP_ROLE)
        if op:
            self.op_activated.emit(op)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Down in the search field moves into the list, as in most pickers."""
        if watched is self.search and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() == Qt.Key.Key_Down:
                self.tree.setFocus(Qt.FocusReason.TabFocusReason)
                current = self.tree.currentItem()
                visible = self.visible_ops()
                if (current is None or current.isHidden()) and visible:
                    self.tree.setCurrentItem(self._ops[visible[0]])
                return True
        return super().eventFilter(watched, event)
