"""Errors the engine raises. Every user-facing failure is a BpvizError with a readable message."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy loads on first use: the CLI's interrupt guard must come first
    import numpy as np


class BpvizError(Exception):
    """Base of every error bpviz reports to a person (the CLI prints it on one line)."""


class GraphError(BpvizError):
    """An invalid graph edit: unknown node or port, duplicate id, cycle, bad attribute."""


class ShapeError(BpvizError):
    """Input shapes an op cannot combine; names the node."""

    def __init__(self, node_id: str, message: str) -> None:
        super().__init__(f"node '{node_id}': {message}")
        self.node_id = node_id


class NonFiniteError(BpvizError):
    """A NaN or Inf appeared; names the first node that produced it and the pass."""

    def __init__(self, node_id: str, phase: str, detail: str = "") -> None:
        what = {"forward": "value", "backward": "gradient"}.get(phase, "parameter")
        msg = f"non-finite {what} (NaN or Inf) produced by node '{node_id}' during {phase}"
        super().__init__(msg + (f": {detail}" if detail else ""))
        self.node_id = node_id
        self.phase = phase


class DatasetError(BpvizError):
    """Bad dataset spec or data file; names the file, line and column where known."""


def trap_float_errors() -> np.errstate:
    """Make overflow, 0/0, log(0) and friends raise FloatingPointError at the op that caused
    them (matmul included), so the pass can name the node at no per-node cost. Underflow to
    zero is harmless and ignored."""
    import numpy as np

    return np.errstate(over="raise", invalid="raise", divide="raise", under="ignore")


def plural(count: int, noun: str) -> str:
    """'1 node', '3 nodes': messages read naturally whatever the count."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def one_line(text: str) -> str:
    """`text` with every line break and control character written as an escape, so a name
    holding a newline still gives a one-line message."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch.isprintable() or ch == " ":
            out.append(ch)
        elif ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif unicodedata.category(ch) in ("Zs",):
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    return "".join(out)
