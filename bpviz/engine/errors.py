"""Errors the engine raises. Every user-facing failure is a BpvizError with a readable message."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, TypeVar

T = TypeVar("T")


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


def trap_float_errors() -> AbstractContextManager[Any]:
    """Make overflow, 0/0, log(0) and friends raise FloatingPointError at the op that caused
    them (matmul included), so the pass can name the node at no per-node cost. Underflow to
    zero is harmless and ignored.

    Every pass and every update enters this, so it is made cheap: numpy 2 keeps its error
    state in a context variable, and that state is made once and set directly (what
    `np.errstate` does on each entry, at a third of the cost); with any other numpy it is
    `np.errstate` itself."""
    global _TRAP
    if _TRAP is None:
        _TRAP = _trap_state()
    if _TRAP is False:
        import numpy as np

        return np.errstate(over="raise", invalid="raise", divide="raise", under="ignore")
    return _Trap()


def run_trapped(fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)` inside `trap_float_errors()`, for the calls every training step makes (a
    pass, an update): the state is set and restored here directly, one call instead of the
    four a `with` block costs."""
    trap = _TRAP
    if trap is None or trap is False:
        with trap_float_errors():
            return fn(*args)
    var, state = trap
    token = var.set(state)
    try:
        return fn(*args)
    finally:
        var.reset(token)


_TRAP: Any = None  # (numpy's context variable, the trapping state); False: use np.errstate
_TRAPPING = {"divide": "raise", "over": "raise", "under": "ignore", "invalid": "raise"}


def _trap_state() -> Any:
    import numpy as np

    try:
        from numpy._core._multiarray_umath import _make_extobj
        from numpy._core._ufunc_config import _extobj_contextvar

        state = _make_extobj(over="raise", invalid="raise", divide="raise", under="ignore")
        token = _extobj_contextvar.set(state)
        try:
            works = np.geterr() == _TRAPPING
        finally:
            _extobj_contextvar.reset(token)
    except Exception:  # another numpy: its own errstate then
        return False
    return (_extobj_contextvar, state) if works else False


class _Trap:
    __slots__ = ("_token",)

    def __enter__(self) -> None:
        var, state = _TRAP
        self._token = var.set(state)

    def __exit__(self, *exc: object) -> None:
        _TRAP[0].reset(self._token)


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
