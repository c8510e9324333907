"""The main window: assembles the parts and lays out the docks.

Canvas in the centre, palette left, inspector, data and training settings and lessons right,
loss plot below. The parts do the work and each gets only the collaborators it needs: `files`
(DocumentFiles), `edits` (CanvasEdits), `training_ui` (TrainingUI), `export_menu`
(ExportMenu), `learn` (LearnPanel), `data_panel` (DataPanel: the undo stack and the CSV file
question), `training_panel` (TrainingPanel: the undo stack).
Their actions live in one registry, `registry`, from which the menus and toolbars are built.

A new panel: construct it in `__init__` with the objects it uses (never the window) and give
it a dock in `_lay_out_docks` with `add_dock`. A new action: the part that owns the slot
registers an `ActionSpec` (`registry.add`), and its name goes into one of the menu or
toolbar tuples below.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QToolBar, QVBoxLayout, QWidget

from bpviz.examples import example_paths
from bpviz.interop.files import OPEN_SUFFIXES
from bpviz.model.document import Document
from bpviz.model.shapes import ShapeOracle
from bpviz.model.training import TrainingController
from bpviz.ui.actions import SEPARATOR as SEP
from bpviz.ui.actions import ActionRegistry, ActionSpec
from bpviz.ui.boundary import BoundaryView
from bpviz.ui.canvas.scene import CanvasScene
from bpviz.ui.canvas.view import CanvasView
from bpviz.ui.data_panel import DataPanel
from bpviz.ui.dialogs import Dialogs
from bpviz.ui.edits import CanvasEdits
from bpviz.ui.export_menu import ExportMenu
from bpviz.ui.files import DocumentFiles
from bpviz.ui.inspector import InspectorWidget
from bpviz.ui.landscape import LandscapeView
from bpviz.ui.learn_panel import ANSWERS_FILE, LearnPanel
from bpviz.ui.lesson_controls import PanelControls
from bpviz.ui.node_numbers import explain_node, node_numbers
from bpviz.ui.palette import PaletteWidget
from bpviz.ui.plot_widget import adopt_menu
from bpviz.ui.plots import LossPlot
from bpviz.ui.recovery import Recovery
from bpviz.ui.theme_menu import ThemeMenu
from bpviz.ui.timeline import TimelineWidget
from bpviz.ui.training_panel import TrainingPanel
from bpviz.ui.training_ui import TrainingUI, TrainingViews
from bpviz.ui.undo import UndoStack

DEFAULT_EXAMPLE = "neuron.json"
LEARN_WIDTH = 340  # px: the Learn panel, wide enough for a lesson page
K = QKeySequence.StandardKey
LEFT = Qt.DockWidgetArea.LeftDockWidgetArea
RIGHT = Qt.DockWidgetArea.RightDockWidgetArea
BOTTOM = Qt.DockWidgetArea.BottomDockWidgetArea

# menus and toolbars by action name (see each part's docstring for the names it registers)
EDIT_MENU = ("undo", "redo", SEP, "cut", "copy", "paste", "duplicate", "delete", SEP,
             "select_all", "find", "set_output", "insert_layer")  # fmt: skip
VIEW_MENU = ("fit", "zoom_in", "zoom_out", "zoom_reset", SEP, "layout", "snap", SEP)
TRAIN_MENU = ("forward", "backward", "update", "step", SEP, "next_node", SEP, "run", "reset",
              SEP, "check", "animate")  # fmt: skip
HELP_MENU = ("lessons", "shortcuts", "about")
MAIN_TOOLBAR = ("new", "open", "save", SEP, "undo", "redo", SEP, "find", "layout", "fit", SEP,
                "data_panel", "training_panel")  # fmt: skip
TRAINING_TOOLBAR = ("forward", "backward", "update", "step", "next_node", SEP, "run", "reset")


def zoom_text(zoom: float) -> str:
    """'Zoom 80 %': labelled, so it is not read as an accuracy."""
    return f"Zoom {zoom * 100:.0f} %"


class MainWindow(QMainWindow):
    def __init__(
        self,
        settings: QSettings | None = None,
        recovery: Recovery | None = None,
        dialogs: Dialogs | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings or QSettings("bpviz", "bpviz")
        self.dialogs = dialogs or Dialogs(self)
        self.registry = ActionRegistry(self)
        self._listed_docks: list[QDockWidget] = []
        self.undo = UndoStack(Document(), self)
        self.undo.failed.connect(self.show_status)
        self.shapes = ShapeOracle(self.undo.document)

        self.canvas = CanvasScene(
            self.undo.push, lambda node_id: explain_node(self.training_ui.controller, node_id), self
        )
        self.canvas.status.connect(self.show_status)
        self.canvas.selectionChanged.connect(self._selection_changed)
        self.view = CanvasView(self.canvas, self)
        self.setCentralWidget(self.view)
        self.loss_plot = LossPlot()
        self.timeline = TimelineWidget()
        self.boundary = BoundaryView()
        self.landscape = LandscapeView()
        self.inspector = InspectorWidget()
        self.palette = PaletteWidget()
        self.data_panel = DataPanel(self.undo, self.dialogs.csv_path)
        self.training_panel = TrainingPanel(self.undo)

        self.files = DocumentFiles(
            self.undo,
            self.dialogs,
            self.settings,
            recovery or Recovery(),
            self._show_document,
            lambda: c.state_dict() if (c := self.training_ui.controller) else None,
            self.show_status,
            self.registry,
            self,
        )
        self.files.title_changed.connect(self._update_title)
        self.files.saved.connect(lambda path: setattr(self.shapes, "base_dir", str(path.parent)))
        self.registry.add(ActionSpec("quit", "&Quit", self.close, K.Quit, "Quit bpviz"))
        self.edits = CanvasEdits(
            self.canvas, self.view, self.undo, self.show_status, self.registry, self
        )
        self.palette.op_activated.connect(self.edits.add_at_centre)
        views = TrainingViews(self.loss_plot, self.timeline, self.landscape, self.boundary)
        self.training_ui = TrainingUI(self.canvas, views, self.registry, self.show_status, self)
        self.training_ui.numbers_shown.connect(self.show_numbers_in_inspector)
        self.export_menu = ExportMenu(
            self.files,
            self.training_ui,
            self.canvas,
            self.view,
            self.loss_plot,
            self.dialogs,
            self.show_status,
            self.registry,
        )
        self.registry.add_all(
            [
                ActionSpec("shortcuts", "&Keyboard Shortcuts", self.show_shortcuts,
                           K.HelpContents, "List shortcuts"),
                ActionSpec("lessons", "&Lessons", self.show_lessons, "Ctrl+Shift+L",
                           "Guided lessons on backpropagation"),
                ActionSpec("about", "&About bpviz", self.about, None, "About bpviz"),
                ActionSpec("data_panel", "&Data", lambda: self.show_dock(self.data_dock),
                           "Ctrl+Shift+D", "Choose the dataset, its size and noise, and the "
                           "input features"),
                ActionSpec("training_panel", "&Training", lambda: self.show_dock(
                           self.training_dock), "Ctrl+Shift+T", "Choose the optimizer, "
                           "learning rate, batch size, penalties and schedule"),
            ]
        )  # fmt: skip
        self.training_toolbar = QToolBar("Training")
        self.panel_controls = PanelControls(
            self.training_panel, self.data_panel, self._show_panel
        )  # its panels (docks) are added once laid out
        self.learn = LearnPanel(
            self.files,
            self.training_ui,
            self.canvas,
            self.view,
            self.registry,
            self.training_toolbar,
            self.show_status,
            self,
            answers=self.files.recovery.path.parent / ANSWERS_FILE,
            push=self.undo.push,
            controls=self.panel_controls,
        )
        self._lay_out_docks()
        self.panel_controls.panels.update(
            nodes=self.palette_dock, inspector=self.inspector_dock, data=self.data_dock,
            training=self.training_dock, output=self.boundary_dock,
            landscape=self.landscape_dock, loss=self.plot_dock,
        )  # fmt: skip
        self._build_menus_and_toolbars()
        self.statusBar().addPermanentWidget(self.training_ui.status)
        self.zoom_label = QLabel(zoom_text(1.0))
        self.zoom_label.setToolTip("Canvas zoom: F fits the graph, Ctrl+0 is actual size")
        self.statusBar().addPermanentWidget(self.zoom_label)
        self.view.zoom_changed.connect(lambda z: self.zoom_label.setText(zoom_text(z)))
        self.setAcceptDrops(True)
        self.resize(1280, 800)
        self._size_docks()
        self._restore_settings()
        self.files.show(Document(), None)

    # ---- construction --------------------------------------------------------------------
    def add_dock(
        self, title: str, widget: QWidget, area: Qt.DockWidgetArea, listed: bool = True
    ) -> QDockWidget:
        """A dockable panel; `listed` ones get a show/hide entry in the View menu. The object
        name comes from the title, so saved layouts find it again."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{title.lower()}_dock")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        if listed:
            self._listed_docks.append(dock)
        return dock

    def _lay_out_docks(self) -> None:
        self.palette_dock = self.add_dock("Nodes", self.palette, LEFT)
        self.inspector_dock = self.add_dock("Inspector", self.inspector, RIGHT)
        plot_panel = QWidget()
        plot_layout = QVBoxLayout(plot_panel)
        plot_layout.setContentsMargins(0, 0, 0, 0)
        plot_layout.addWidget(self.loss_plot, 1)
        plot_layout.addWidget(self.timeline)
        self.plot_dock = self.add_dock("Loss", plot_panel, BOTTOM)
        self.boundary_dock = self.add_dock("Model output", self.boundary, RIGHT)
        self.landscape_dock = self.add_dock("Loss landscape", self.landscape, RIGHT)
        self.tabifyDockWidget(self.boundary_dock, self.landscape_dock)
        self.boundary_dock.raise_()
        self.data_dock = self.add_dock("Data", self.data_panel, RIGHT)
        self.tabifyDockWidget(self.inspector_dock, self.data_dock)
        self.training_dock = self.add_dock("Training", self.training_panel, RIGHT)
        self.tabifyDockWidget(self.data_dock, self.training_dock)
        # Help › Lessons; on the left, so a page and the Data or Training panel it points
        # into are on screen together
        self.learn_dock = self.add_dock("Learn", self.learn, LEFT, listed=False)
        self.tabifyDockWidget(self.palette_dock, self.learn_dock)
        self.palette_dock.raise_()
        self.inspector_dock.raise_()

    def _size_docks(self) -> None:
        """Side panels run full height; the plot sits under the canvas only."""
        self.setCorner(Qt.Corner.BottomLeftCorner, LEFT)
        self.setCorner(Qt.Corner.BottomRightCorner, RIGHT)
        self.resizeDocks(
            [self.palette_dock, self.inspector_dock], [210, 290], Qt.Orientation.Horizontal
        )
        self.resizeDocks([self.plot_dock], [190], Qt.Orientation.Vertical)
        # the settings panels above the model output get the larger share of the side
        self.resizeDocks(
            [self.inspector_dock, self.boundary_dock], [430, 330], Qt.Orientation.Vertical
        )

    def _build_menus_and_toolbars(self) -> None:
        bar, fill = self.menuBar(), self.registry.fill
        file = bar.addMenu("&File")
        fill(file, ("new",))
        file.addMenu(self.files.templates_menu)
        fill(file, ("open",))
        file.addMenu(self.files.recent_menu)
        file.addMenu(self.files.examples_menu)
        fill(file, (SEP, "save", "save_as"))
        file.addMenu(self.export_menu.menu)
        fill(file, (SEP, "quit"))
        for sub in (self.files.templates_menu, self.files.recent_menu, self.files.examples_menu):
            adopt_menu(file, sub)  # made without a parent: they go with the window now
        adopt_menu(file, self.export_menu.menu)
        fill(bar.addMenu("&Edit"), EDIT_MENU)
        view = bar.addMenu("&View")
        fill(view, VIEW_MENU)
        for dock in self._listed_docks:
            view.addAction(dock.toggleViewAction())
        view.addSeparator()
        self.theme_menu = ThemeMenu(self.settings, view)
        view.addMenu(self.theme_menu)
        fill(bar.addMenu("&Train"), TRAIN_MENU)
        fill(bar.addMenu("&Help"), HELP_MENU)
        tools = self.addToolBar("Main")
        tools.setObjectName("main_toolbar")
        fill(tools, MAIN_TOOLBAR)
        self.addToolBar(self.training_toolbar)
        self.training_toolbar.setObjectName("training_toolbar")
        fill(self.training_toolbar, TRAINING_TOOLBAR)
        self.training_toolbar.addWidget(self.training_ui.speed_widget)

    # ---- the document on screen ----------------------------------------------------------
    @property
    def document(self) -> Document:
        return self.undo.document

    def _show_document(self, document: Document, base_dir: Path | None) -> None:
        """Point every part at `document` (DocumentFiles calls this for each new one)."""
        self.shapes = ShapeOracle(document, str(base_dir) if base_dir else None)
        self.canvas.problem_checker = self.shapes.connection_problem
        self.canvas.splices.checker = self.shapes.splice_problem
        self.canvas.set_document(document)
        self.inspector.set_document(document, self.undo)
        self.inspector.show_node(None)
        self.data_panel.set_document(document, base_dir)
        self.training_panel.set_document(document)
        self.training_ui.set_controller(TrainingController(document, base_dir))
        document.changed.connect(self._selection_changed)
        self.view.fit_new()

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.files.display_name()}[*] — bpviz")
        self.setWindowModified(self.files.is_modified())

    def show_status(self, message: str) -> None:
        self.statusBar().showMessage(message, 8000)

    def open_default(self) -> None:
        """First launch shows a working graph, not an empty canvas."""
        path = next((p for p in example_paths() if p.name == DEFAULT_EXAMPLE), None)
        if path is not None:
            self.files.open_file(path, as_example=True)
            self.show_lessons()  # first launch: the lessons are one click away

    def _selection_changed(self) -> None:
        ids = self.canvas.selected_ids()
        node_id = ids[0] if len(ids) == 1 else None
        self.inspector.show_node(node_id)
        if node_id is not None:
            shapes = self.shapes.data_shapes()  # on all the training rows, as passes run
            node = self.document.node(node_id)
            self.inspector.set_shapes(
                {port: shapes.get(src) for port, src in node.inputs.items()}, shapes.get(node_id)
            )
            self.show_numbers_in_inspector()

    def show_numbers_in_inspector(self) -> None:
        """The formula with the current numbers filled in, for the node being inspected."""
        c = self.training_ui.controller
        node_id = self.inspector.node_id
        if node_id is None or node_id not in self.document.nodes:
            return
        if c is None:
            self.inspector.set_numbers(None, None)
            return
        self.inspector.set_numbers(*node_numbers(c, node_id))

    def show_dock(self, dock: QDockWidget) -> None:
        """Bring a panel to the front (the toolbar's one click to it)."""
        dock.show()
        dock.raise_()

    def _show_panel(self, section: str) -> None:
        """The Training or Data panel to the front, for a lesson pointing into it."""
        self.show_dock(self.training_dock if section == "training" else self.data_dock)

    # ---- help ----------------------------------------------------------------------------
    def show_lessons(self) -> None:
        self.show_dock(self.learn_dock)
        if self.learn_dock.width() < LEARN_WIDTH:  # room for a page's text
            self.resizeDocks([self.learn_dock], [LEARN_WIDTH], Qt.Orientation.Horizontal)

    def show_shortcuts(self) -> None:
        rows = [
            (
                act.text().replace("&", "").rstrip("…"),
                act.shortcut().toString(QKeySequence.SequenceFormat.NativeText),
            )
            for act in self.registry
            if not act.shortcut().isEmpty()
        ]
        rows += [
            ("Add node at cursor", "Tab or double-click"),
            ("Pan", "Middle-drag or Space+drag"),
            ("Zoom", "Mouse wheel"),
            ("Change a number", "Drag a param's value sideways (Shift finer, Ctrl coarser)"),
        ]
        self.dialogs.info("Keyboard shortcuts", shortcut_table(rows))

    def about(self) -> None:
        from bpviz import __version__

        self.dialogs.info(
            "About bpviz",
            f"bpviz {__version__}\nSee backpropagation happen: build a graph, watch values flow "
            "forward and gradients flow backward.",
        )

    # ---- window events -------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(_openable(u.toLocalFile()) for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        for url in event.mimeData().urls():
            if _openable(url.toLocalFile()):
                event.acceptProposedAction()
                self.files.open_file(Path(url.toLocalFile()))
                return

    def _restore_settings(self) -> None:
        geometry = self.settings.value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        state = self.settings.value("window_state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        self.registry["snap"].setChecked(self.settings.value("snap", False, type=bool))

    def closeEvent(self, event: QCloseEvent) -> None:
        self.training_ui.pause()
        if not self.files.confirm_discard():
            event.ignore()
            return
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("window_state", self.saveState())
        self.settings.setValue("snap", self.registry["snap"].isChecked())
        self.training_ui.shutdown()
        self.files.close()
        event.accept()


def _openable(path: str) -> bool:
    """A dropped file File › Open reads: a scene or an ONNX model."""
    return path.lower().endswith(OPEN_SUFFIXES)


def shortcut_table(rows: list[tuple[str, str]]) -> str:
    """Rows as an HTML table: columns line up in any font, where padding with spaces did not."""
    cells = "".join(
        f"<tr><td>{escape(name)}</td><td style='padding-left:16px'><b>{escape(keys)}</b></td></tr>"
        for name, keys in rows
    )
    return f"<table>{cells}</table>"
