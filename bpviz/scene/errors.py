"""The one error a scene file can cause, and how places inside a file are written.

A person fixing a file by hand needs the place (``nodes[3].inputs.b``) more than the reason,
so every message is ``source: place: problem`` and nothing else ever escapes the loader.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from bpviz.engine.errors import BpvizError, one_line

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*\Z")


class SceneError(BpvizError):
    """A scene that cannot be read, checked or written. `place` is where in the file (may be
    empty), `problem` what is wrong there, and `source` the file name or another label."""

    def __init__(self, problem: str, place: str = "", source: str = "") -> None:
        self.problem = problem
        self.place = place
        self.source = source
        # one line whatever the names hold: a newline in an id is shown as \n
        super().__init__(one_line(": ".join(part for part in (source, place, problem) if part)))

    def with_source(self, source: str) -> SceneError:
        """The same error, told about the file it came from (the checks never know it)."""
        if self.source or not source:
            return self
        err = SceneError(self.problem, self.place, source)
        err.__cause__ = self.__cause__
        return err


def key_part(key: Any) -> str:
    """One step of a place: `.name` for plain keys, `["odd key"]` for anything else."""
    if isinstance(key, int) and not isinstance(key, bool):
        return f"[{key}]"
    text = str(key)
    return f".{text}" if _PLAIN_KEY.match(text) else f"[{_quote(text)}]"


def join_place(parts: Iterable[Any]) -> str:
    """`("nodes", 3, "inputs", "b")` -> `nodes[3].inputs.b`."""
    return "".join(key_part(p) for p in parts).lstrip(".")


def _quote(text: str) -> str:
    out = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{out}"'


def describe(value: Any, limit: int = 40) -> str:
    """A short, JSON-flavoured description of a value for 'got ...' in messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an object {...}"
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value)}"
    if isinstance(value, (int, float)):
        text = repr(value)
        return text if len(text) <= limit else f"a number with {len(text)} digits"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"
