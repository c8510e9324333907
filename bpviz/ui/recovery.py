"""Crash recovery: a copy of the open document, written every 30 s while it has unsaved
changes and removed on a clean exit. If it is still there at start-up, bpviz crashed."""

from __future__ import annotations

import json
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QStandardPaths

from bpviz.engine.files import MAX_SCENE_BYTES, FileProblem, read_regular, write_atomic

AUTOSAVE_MS = 30_000


def default_directory() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or tempfile.gettempdir()) / "bpviz"


class Recovery:
    def __init__(self, directory: Path | None = None) -> None:
        self.path = (directory or default_directory()) / "recovery.json"

    def save(self, scene: dict[str, Any], source: Path | None) -> None:
        """Atomic, so a crash while writing leaves the previous copy intact."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        record = {
            "saved_at": datetime.now().isoformat(timespec="seconds"),
            "source": str(source) if source else None,
            "scene": scene,
        }
        write_atomic(self.path, json.dumps(record))

    def load(self) -> tuple[dict[str, Any], Path | None, str] | None:
        """(scene dict, the file it came from, when it was saved), or None if unreadable."""
        try:
            record = json.loads(read_regular(self.path, MAX_SCENE_BYTES))
            scene, source, saved_at = record["scene"], record.get("source"), record["saved_at"]
        except (FileProblem, OSError, ValueError, KeyError, TypeError):
            return None
        if not isinstance(scene, dict):
            return None
        return scene, Path(source) if source else None, str(saved_at)

    def exists(self) -> bool:
        return self.path.exists()

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
