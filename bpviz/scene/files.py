"""Scene files on disk: JSON in with line and column on errors, JSON out written atomically.

Writing goes to a temporary file in the destination folder, is flushed and fsynced, then
renamed over the old file with `os.replace`, so a crash or a full disk leaves either the old
scene or the new one, never half of one. Never pickle: a scene file must be safe to open.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from bpviz.scene.errors import SceneError, describe

PathArg = str | os.PathLike[str]


class _DuplicateKey(Exception):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json keeps the last of two equal keys silently; in a hand-edited file that hides typos."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def decode(text: str | bytes) -> Any:
    """Parsed JSON, or a SceneError naming the line and column of the first mistake."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise SceneError(
                f"not UTF-8 text (byte {e.object[e.start]:#04x} at offset {e.start})"
            ) from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise SceneError("empty; expected a JSON object")
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as e:
        raise SceneError(f"not valid JSON ({e.msg})", f"line {e.lineno} column {e.colno}") from None
    except _DuplicateKey as e:
        raise SceneError(
            f"not valid: key {describe(e.args[0])} appears twice in one object"
        ) from None
    except RecursionError:
        raise SceneError("not valid JSON (nested too deeply)") from None


def read_bytes(path: PathArg) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise SceneError(f"cannot read file ({e.strerror or e})") from None


# ---- writing -------------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    """numpy scalars and arrays become JSON-able Python values (the UI may hand us either)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _is_leaf(value: Any) -> bool:
    return not isinstance(value, (dict, list, tuple, np.ndarray))


def _format(value: Any, indent: str) -> str:
    """Indented JSON, but a list of numbers stays on one line: weights stay readable and
    a trained scene does not become one number per line."""
    value = _plain(value)
    inner = indent + "  "
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        items = []
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"keys must be text, got {describe(k)}")
            items.append(f"{inner}{json.dumps(k, ensure_ascii=False)}: {_format(v, inner)}")
        return "{\n" + ",\n".join(items) + f"\n{indent}}}"
    if isinstance(value, (list, tuple)):
        if all(_is_leaf(_plain(v)) for v in value):
            return "[" + ", ".join(_format(v, inner) for v in value) + "]"
        return "[\n" + ",\n".join(inner + _format(v, inner) for v in value) + f"\n{indent}]"
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def encode(scene: Mapping[str, Any]) -> str:
    """The file text; SceneError if some value has no JSON form (NaN, a set, an object)."""
    try:
        return _format(scene, "") + "\n"
    except (TypeError, ValueError) as e:
        raise SceneError(f"cannot be written as JSON: {e}") from None
    except RecursionError:
        raise SceneError("cannot be written as JSON: nested too deeply") from None


def _mode_for(target: Path) -> int:
    """Keep an existing file's permissions; a new file gets the usual rw-r--r--."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        return 0o644


def write_atomic(text: str, path: PathArg) -> None:
    """Replace `path` with `text` in one step; on any failure the old file is untouched and
    the temporary file is gone."""
    target = Path(os.path.realpath(path))  # through a symlink, not over it
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            f = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        except BaseException:
            os.close(fd)
            raise
        with f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
        tmp = None
    except Exception as e:
        reason = (e.strerror or str(e)) if isinstance(e, OSError) else f"{type(e).__name__}: {e}"
        raise SceneError(f"cannot save ({reason})") from e
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    _sync_folder(target.parent)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable where the OS allows fsync on a directory."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def rebase_data(data: Any, old_dir: PathArg | None, new_dir: PathArg) -> Any:
    """`data` with a relative CSV path rewritten for a file saved in another folder, so a
    scene saved elsewhere still finds its data."""
    if not isinstance(data, Mapping) or old_dir is None:
        return data
    rel = data.get("path")
    if not isinstance(rel, str) or not rel or os.path.isabs(rel):
        return data
    old, new = Path(old_dir).resolve(), Path(new_dir).resolve()
    if old == new:
        return data
    where = old / rel
    try:
        moved = os.path.relpath(where, new)
    except ValueError:  # another drive on Windows: only an absolute path can reach it
        moved = str(where)
    return {**data, "path": Path(moved).as_posix()}
