"""Scene files on disk: JSON in with line and column on errors, JSON out written atomically.

Reading and writing go through `engine.files`: only regular files are read, up to a size cap;
writes replace the old file in one step, so a crash or a full disk leaves either the old
scene or the new one, never half of one. Never pickle: a scene file must be safe to open.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from bpviz.engine import files
from bpviz.engine.files import MAX_SCENE_BYTES, FileProblem, read_regular
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


MAX_JSON_ITEMS = 10_000_000
"""Items in all the lists and objects of one scene file together (a 10^6-node scene has about
7 million). Parsed JSON takes 30 to 60 bytes per item, so this keeps a hostile file of short
numbers well inside memory; counted on the raw text, before anything is parsed."""


def decode(text: str | bytes) -> Any:
    """Parsed JSON, or a SceneError naming the line and column of the first mistake."""
    return parse_json(scene_text(text))


def scene_text(text: str | bytes) -> str:
    """The file's text, refused early when it is too large, not UTF-8 or empty."""
    items = text.count(b"," if isinstance(text, (bytes, bytearray)) else ",")
    if items >= MAX_JSON_ITEMS:
        raise SceneError(
            f"too large: {items + 1:,} or more items in its lists and objects, over the"
            f" {MAX_JSON_ITEMS:,} limit"
        )
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
    return text


def parse_json(text: str) -> Any:
    """`scene_text`'s text parsed, refusing duplicate keys; SceneError with line and column."""
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
    """A scene file's bytes: a regular file of at most MAX_SCENE_BYTES (see engine.files)."""
    try:
        return read_regular(path, MAX_SCENE_BYTES)
    except FileProblem as e:
        raise SceneError(f"cannot read file ({e.reason})") from None


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


def write_atomic(text: str, path: PathArg) -> None:
    """Replace `path` with `text` in one step (engine.files.write_atomic); on any failure the
    old file is untouched and the temporary file is gone."""
    try:
        files.write_atomic(path, text)
    except FileProblem as e:
        raise SceneError(str(e)) from e


def check_writable(path: PathArg) -> None:
    """Fail early, before work that would be lost, if `path` cannot be written."""
    files.check_writable(path)


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
