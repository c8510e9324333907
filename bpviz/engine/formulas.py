"""An op's formula and local derivative with the current numbers filled in.

The text comes from the registry (`OpSpec.formula` and `OpSpec.derivative`, with `{attr}`
placeholders); the numbers come from the op's own forward output and its own backward, called
with an upstream gradient of ones, so what the inspector shows is exactly what the engine uses.

For tanh at x = 0.5493:  ``y = tanh(x) = tanh(0.5493) = 0.5`` and ``dy/dx = 1 − y² = 0.75``.

The derivative template lists one term per input (and per parameter), separated by ``;`` or
``,``, each starting ``∂y/∂a =`` or ``dy/dx =``; a term is matched to its port by the symbol under
the fraction bar, which is the port's name or its first letter (``p`` for ``pred``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bpviz.engine.ops.base import OpSpec

UNKNOWN = "—"
MINUS = "−"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_TERM_SPLIT = re.compile(r"\s*[,;]\s*(?=(?:∂|d)\w*/(?:∂|d)\w+\s*=)")
_TERM_HEAD = re.compile(r"^(?:∂|d)(\w*)/(?:∂|d)(\w+)\s*=\s*")
_SUBSCRIPTS = "ᵢⱼₖ"


@dataclass(frozen=True)
class Explanation:
    """`formula`: one line; `derivative`: one line per input port, then per parameter.

    `local[port]` is the numeric ∂y/∂input (same shape as the input), present when the output
    is a single number and the op's backward ran; `local_params` likewise for parameters.
    """

    formula: str
    derivative: tuple[str, ...] = ()
    local: dict[str, np.ndarray] = field(default_factory=dict)
    local_params: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n".join([self.formula, *self.derivative]) if self.formula else ""


def explain(
    spec: OpSpec,
    attrs: Mapping[str, Any] | None,
    inputs: Mapping[str, Any] | None,
    output: Any | None,
    params: Mapping[str, Any] | None = None,
) -> Explanation:
    """Explain one node: `inputs` by port and `output` as the engine computed them (None or a
    missing port: unknown, the templates are shown without numbers)."""
    full_attrs = {**spec.default_attrs(), **dict(attrs or {})}
    formula_t = fill_attrs(spec.formula, full_attrs)
    derivative_t = fill_attrs(spec.derivative, full_attrs)
    values = {p: np.asarray(v) for p, v in (inputs or {}).items() if v is not None}
    out = None if output is None else np.asarray(output)
    symbols = _symbols(spec.inputs, formula_t + " " + derivative_t)
    return Explanation(
        formula=_formula_line(formula_t, spec, values, out, symbols),
        **_derivative_parts(derivative_t, spec, full_attrs, values, out, params, symbols),
    )


# ---- text helpers ------------------------------------------------------------------------
def fill_attrs(template: str, attrs: Mapping[str, Any]) -> str:
    """Replace `{name}` by the attr's value; unknown names stay as they are."""

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in attrs or attrs[name] is None:
            return m.group(0)
        value = attrs[name]
        if isinstance(value, str):
            return "" if value == "none" else value
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, (int, float)):
            return fmt_number(value)
        text = str(value)
        return text if len(text) <= 24 else text[:21] + "…"

    return _PLACEHOLDER.sub(sub, template)


def fmt_number(value: Any) -> str:
    """Four significant digits with a typographic minus: 0.5493, −0.75, 1e+04."""
    v = float(np.asarray(value).reshape(-1)[0]) if np.size(value) else float("nan")
    if v == 0:
        v = 0.0  # no "−0"
    text = f"{v:.4g}"
    return text.replace("-", MINUS) if text[0] == "-" else text


def summarize(a: np.ndarray) -> str:
    """A number for a single value; otherwise shape and range of an array."""
    a = np.asarray(a)
    if a.size == 1:
        return fmt_number(a)
    if a.size == 0:
        return f"empty {a.shape}"
    af = a.astype(np.float64)
    finite = af[np.isfinite(af)]
    if finite.size == 0:
        return f"{_shape(a)} array, not finite"
    lo, hi = fmt_number(finite.min()), fmt_number(finite.max())
    if lo == hi:
        return f"{_shape(a)} array, all {lo}"
    return f"{_shape(a)} array, mean {fmt_number(finite.mean())}, range {lo} … {hi}"


def _shape(a: np.ndarray) -> str:
    return "(" + ", ".join(str(n) for n in a.shape) + ("," if a.ndim == 1 else "") + ")"


def _symbols(ports: Sequence[str], text: str) -> dict[str, str]:
    """port -> the symbol the templates use for it: its name if the text uses it, else its
    first letter."""
    out = {}
    for port in ports:
        out[port] = port if re.search(rf"(?<!\w){re.escape(port)}(?!\w)", text) else port[0]
    return out


def _rhs(template: str) -> str:
    return template.split(" = ", 1)[1] if " = " in template else ""


def _substitute(rhs: str, numbers: Mapping[str, str]) -> str:
    for sym, text in numbers.items():
        rhs = re.sub(rf"(?<![\w.]){re.escape(sym)}(?![\w])", lambda m, t=text: t, rhs)
    return rhs


def _join(head: str, *tails: str) -> str:
    """`head = t1 = t2`, dropping a tail equal to the text just before it."""
    parts = [head]
    last = _rhs(head).strip() or head
    for tail in tails:
        if tail and tail.strip() != last and not last.startswith(tail.strip() + " "):
            parts.append(tail)
            last = tail.strip()
    return " = ".join(parts)


# ---- formula ------------------------------------------------------------------------------
def _formula_line(
    template: str,
    spec: OpSpec,
    values: Mapping[str, np.ndarray],
    out: np.ndarray | None,
    symbols: Mapping[str, str],
) -> str:
    if not template:
        return ""
    if out is None:
        return template
    if out.size != 1 or any(values.get(p) is None or values[p].size != 1 for p in spec.inputs):
        return _join(template, summarize(out))
    numbers = {}
    for port in spec.inputs:
        text = fmt_number(values[port])
        numbers[symbols[port]] = f"({text})" if text.startswith(MINUS) else text
    filled = _substitute(_rhs(template), numbers) if spec.inputs else ""
    return _join(template, filled, fmt_number(out))


# ---- derivative ---------------------------------------------------------------------------
def _terms(template: str) -> list[tuple[str | None, str]]:
    """(symbol under the fraction bar or None, term text) for each term of the template."""
    terms: list[tuple[str | None, str]] = []
    for part in _TERM_SPLIT.split(template.strip()) if template.strip() else []:
        m = _TERM_HEAD.match(part)
        terms.append((m.group(2).rstrip(_SUBSCRIPTS) if m else None, part))
    return terms


def _run_backward(
    spec: OpSpec,
    attrs: Mapping[str, Any],
    values: Mapping[str, np.ndarray],
    out: np.ndarray | None,
    params: Mapping[str, Any] | None,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The op's own backward with an upstream gradient of ones (nothing if it cannot run)."""
    if out is None or any(p not in values for p in spec.inputs):
        return {}, {}
    xs = [values[p] for p in spec.inputs]
    ps = {k: np.asarray(v) for k, v in (params or {}).items()}
    try:
        with np.errstate(all="ignore"):
            gin, gparams = spec.backward(np.ones_like(out, dtype=np.float64), xs, out, attrs, ps)
    except Exception:  # noqa: BLE001 - missing params or a shape the op refuses: no numbers
        return {}, {}
    grads = {p: np.asarray(g) for p, g in zip(spec.inputs, gin, strict=False) if g is not None}
    pgrads = {k: np.asarray(g) for k, g in (gparams or {}).items() if g is not None}
    return grads, pgrads


def _derivative_parts(
    template: str,
    spec: OpSpec,
    attrs: Mapping[str, Any],
    values: Mapping[str, np.ndarray],
    out: np.ndarray | None,
    params: Mapping[str, Any] | None,
    symbols: Mapping[str, str],
) -> dict[str, Any]:
    grads, pgrads = _run_backward(spec, attrs, values, out, params)
    out_sym = (spec.formula.split(" = ", 1)[0].strip() or "y").rstrip(_SUBSCRIPTS)
    by_port = {sym: port for port, sym in symbols.items()}
    terms = _terms(template)
    port_terms: dict[str, str] = {}
    param_terms: dict[str, str] = {}
    loose: list[str] = []
    for sym, text in terms:
        if sym in by_port and by_port[sym] not in port_terms:
            port_terms[by_port[sym]] = text
        elif sym is not None and (sym in pgrads or sym in (params or {})):
            param_terms[sym] = text
        else:
            loose.append(text)
    param_names = list(pgrads) or list(params or {})
    if len(loose) == 1 and not spec.inputs and len(param_names) == 1:
        param_terms[param_names[0]] = loose.pop()  # param: "∂L/∂θ ..." names its one value

    scalar_out = out is not None and out.size == 1
    lines: list[str] = []
    for port in spec.inputs:
        text = port_terms.get(port, f"∂{out_sym}/∂{symbols[port]}")
        lines.append(_with_number(text, grads.get(port), scalar_out))
    for name in dict.fromkeys([*param_terms, *param_names]):
        text = param_terms.get(name, f"∂{out_sym}/∂{name}")
        lines.append(_with_number(text, pgrads.get(name), scalar_out))
    lines.extend(loose)
    local = {p: g for p, g in grads.items() if scalar_out}
    local_params = {k: g for k, g in pgrads.items() if scalar_out}
    return {"derivative": tuple(lines), "local": local, "local_params": local_params}


def _with_number(text: str, grad: np.ndarray | None, scalar_out: bool) -> str:
    if grad is None:
        return text
    if scalar_out:
        return _join(text, fmt_number(grad)) if grad.size == 1 else f"{text}  [{summarize(grad)}]"
    return f"{text}  [with upstream 1s: {summarize(grad)}]"
