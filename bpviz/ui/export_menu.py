"""File › Export: the open scene as pictures, a recorded pass, or code for other tools.

Every action writes files from the window's current state; a failure is shown in one dialog
(no traceback) and never changes the document.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QMenu, QWidget

from bpviz.engine.errors import BpvizError, plural
from bpviz.export import TARGETS, Target, export_scene
from bpviz.model.training import Phase
from bpviz.scene import Scene, parse_scene
from bpviz.ui.actions import ActionRegistry, ActionSpec
from bpviz.ui.canvas.scene import CanvasScene
from bpviz.ui.dialogs import Dialogs
from bpviz.ui.exports import (
    clean_frames,
    copy_image_to_clipboard,
    export_png,
    export_svg,
    one_pass,
    record_pass_frames,
    write_gif,
)
from bpviz.ui.files import DocumentFiles
from bpviz.ui.training_ui import TrainingUI


class ExportMenu:
    """File › Export (`menu`): registers export_png, export_svg, record_pass,
    record_pass_gif, copy_plot and export_<target> for every code target."""

    def __init__(
        self,
        files: DocumentFiles,
        training: TrainingUI,
        canvas: CanvasScene,
        view: QWidget,
        loss_plot: QWidget,
        dialogs: Dialogs,
        show_status: Callable[[str], None],
        registry: ActionRegistry,
    ) -> None:
        self.files = files
        self.training = training
        self.canvas = canvas
        self.view = view
        self.loss_plot = loss_plot
        self.dialogs = dialogs
        self.show_status = show_status
        A = ActionSpec
        specs = [
            A("export_png", "Canvas as &PNG…", self.export_png, None,
              "Save the graph as a picture"),
            A("export_svg", "Canvas as &SVG…", self.export_svg, None,
              "Save the graph as a vector drawing"),
            A("record_pass", "&Record a Training Step…", self.record_step, None,
              "Save one forward and backward pass as numbered PNG frames, for slides"),
            A("record_pass_gif", "Record a Training Step as &GIF…", self.record_step_gif, None,
              "Save one forward and backward pass as a looping animated GIF"),
            A("copy_plot", "Copy Loss &Plot", self.copy_plot, None,
              "Copy the loss plot as an image"),
        ]  # fmt: skip
        # one per target, from the registry: targets added there appear here unchanged
        code = [
            A(
                f"export_{name}",
                f"{menu_label(target.label)}…",
                lambda _=False, t=target: self.export_code(t),
                None,
                target.tip,
            )
            for name, target in TARGETS.items()
        ]
        self.menu = QMenu("E&xport")
        for act in registry.add_all(specs):
            self.menu.addAction(act)
        self.menu.addSeparator()
        for act in registry.add_all(code):
            self.menu.addAction(act)

    def export_png(self) -> None:
        path = self.dialogs.export_path(
            "Export canvas as PNG", self._export_start(".png"), "PNG images (*.png)"
        )
        if path is not None:
            self._export(lambda: export_png(self.canvas, path))

    def export_svg(self) -> None:
        path = self.dialogs.export_path(
            "Export canvas as SVG", self._export_start(".svg"), "SVG drawings (*.svg)"
        )
        if path is not None:
            self._export(lambda: export_svg(self.canvas, path))

    def _export_start(self, suffix: str) -> str:
        """The name an export dialog suggests: the scene's, beside its file (xor.json -> xor.py)."""
        stem = self.files.display_name().removesuffix(".json")
        return str(Path(self.files.path.parent if self.files.path else "", stem + suffix))

    def export_code(self, target: Target) -> None:
        """The graph with the weights trained so far, as code for `target` (File › Export)."""
        path = self.dialogs.export_path(
            f"Export as {target.label}",
            self._export_start(target.suffix),
            f"{target.label} (*{target.suffix});;All files (*)",
        )
        if path is None:
            return
        if not path.suffix:
            path = path.with_suffix(target.suffix)
        self.training.pause()  # the weights must hold still while they are copied
        self._export(lambda: export_scene(self._runnable_scene(), target.name, path))

    def _runnable_scene(self) -> Scene:
        """A fresh Scene of the document as it is now, so an export never touches the window's
        own session; relative data paths resolve where the window resolves them."""
        base = self.files.base_dir
        return parse_scene(
            self.files.scene_dict(),
            str(base) if base else None,
            source=self.files.display_name(),
        )

    def record_step(self) -> None:
        """One forward and one backward pass, node by node, as frame_000.png, frame_001.png…"""
        directory = self.dialogs.directory("Folder for the frames")
        if directory is None:
            return
        frames = self._record_pass(directory)
        if frames is not None:
            self.show_status(f"Recorded {plural(len(frames), 'frame')} in {directory}")

    def record_step_gif(self) -> None:
        """The same pass as one looping animated GIF, for slides and chat."""
        path = self.dialogs.export_path(
            "Record a training step as GIF", self._export_start(".gif"), "GIF animations (*.gif)"
        )
        if path is None:
            return
        with tempfile.TemporaryDirectory() as tmp:
            frames = self._record_pass(Path(tmp))
            if frames:
                self._export(lambda: write_gif(frames, path))

    def _record_pass(self, directory: Path) -> list[Path] | None:
        """Walk one forward and one backward pass, saving the canvas after every node (pulses
        off: a frame shows where a pass stands, not a wire in motion); None on failure."""
        c = self.training.controller
        if c is None:
            return None
        self.training.pause()
        c.reset_pass()
        pulses, self.canvas.pulses.enabled = self.canvas.pulses.enabled, False
        try:
            clean_frames(directory)
            return record_pass_frames(
                one_pass(c.next_step, lambda: c.phase in (Phase.BACKWARD_DONE, Phase.ERROR)),
                self.view.grab,
                directory,
                size=(1280, 720),
            )
        except (BpvizError, OSError) as e:
            self.dialogs.error("Could not record", str(e))
            return None
        finally:
            self.canvas.pulses.enabled = pulses

    def _export(self, write: Callable[[], Path | list[Path]]) -> None:
        """Run `write`; a failure is shown (no traceback) and the document stays as it was."""
        try:
            written = write()
        except (BpvizError, OSError) as e:
            self.dialogs.error("Could not export", str(e))
            return
        paths = written if isinstance(written, list) else [written]
        self.show_status(f"Exported {and_list([p.name for p in paths])}")

    def copy_plot(self) -> None:
        copy_image_to_clipboard(self.loss_plot)
        self.show_status("Copied the loss plot to the clipboard")


def menu_label(label: str) -> str:
    """'NumPy script' -> 'NumPy Script': menu capitalisation that keeps 'NumPy' and 'ONNX'."""
    words = label.replace("&", "&&").split()
    return " ".join(w[:1].upper() + w[1:] for w in words)


def and_list(names: list[str]) -> str:
    """'a', 'a and b', 'a, b and c': file names for a status message."""
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"
