"""`Value`: a scalar that remembers how it was computed, with micrograd's API and semantics.

Writing `a * b + c` with Values records the expression graph as it is evaluated; `backward()`
fills every `.grad` by the chain rule, and `bpviz.to_scene` turns the same graph into a scene
the window can show. Each operation is one node of the bpviz op it names (`-` is `sub`, `/` is
`div`), so values are computed exactly as the engine computes them and the scene evaluates to
the same numbers. Gradients accumulate across `backward()` calls, as in micrograd.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

Number = int | float


def _sigmoid(x: float) -> float:
    """Stable for large |x|, like the engine's sigmoid (no overflow in exp)."""
    e = math.exp(-abs(x))
    return 1.0 / (1.0 + e) if x >= 0 else e / (1.0 + e)


class Value:
    """A scalar in an expression graph: `.data`, `.grad`, `.backward()`.

    `label` names the node the value becomes in a scene. Numbers mixed into an expression
    become constants; Values created directly become the scene's trainable parameters.
    """

    __slots__ = ("data", "grad", "label", "_prev", "_op", "_attrs", "_backward", "_const")

    def __init__(self, data: Number, label: str | None = None) -> None:
        if isinstance(data, Value) or not isinstance(data, (int, float)):
            raise TypeError(f"Value wants a number, got {type(data).__name__}")
        self.data = data
        self.grad: Number = 0
        self.label = label
        self._prev: tuple[Value, ...] = ()
        self._op = ""  # the bpviz op that produced it; "" for a leaf
        self._attrs: dict[str, Any] = {}
        # backward(out) adds out's gradient into its inputs'. It is handed `out` rather than
        # closing over it: no reference cycle, so a graph is freed as soon as it is dropped.
        self._backward: Callable[[Value], None] | None = None
        self._const = False  # a plain number lifted into the graph

    # ---- building ------------------------------------------------------------------------
    @staticmethod
    def _lift(x: Value | Number) -> Value:
        if isinstance(x, Value):
            return x
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise TypeError(f"unsupported operand for Value: {type(x).__name__}")
        v = Value(x)
        v._const = True
        return v

    def _result(self, data: Number, prev: tuple[Value, ...], op: str, **attrs: Any) -> Value:
        out = Value(data)
        out._prev, out._op, out._attrs = prev, op, attrs
        return out

    def _binary(self, other: Value | Number, op: str, swap: bool = False) -> Value:
        a, b = (self._lift(other), self) if swap else (self, self._lift(other))
        x, y = a.data, b.data
        if op == "add":
            out = a._result(x + y, (a, b), op)

            def backward(out: Value) -> None:
                a.grad += out.grad
                b.grad += out.grad
        elif op == "sub":
            out = a._result(x - y, (a, b), op)

            def backward(out: Value) -> None:
                a.grad += out.grad
                b.grad -= out.grad
        elif op == "mul":
            out = a._result(x * y, (a, b), op)

            def backward(out: Value) -> None:
                a.grad += y * out.grad
                b.grad += x * out.grad
        else:  # div
            out = a._result(x / y, (a, b), op)

            def backward(out: Value) -> None:
                a.grad += out.grad / y
                b.grad += -out.grad * out.data / y

        out._backward = backward
        return out

    def _unary(self, data: Number, op: str, local: Callable[[], Number], **attrs: Any) -> Value:
        """`local()` is d(out)/d(self), read when the gradient arrives."""
        out = self._result(data, (self,), op, **attrs)

        def backward(out: Value) -> None:
            self.grad += local() * out.grad

        out._backward = backward
        return out

    # ---- arithmetic ----------------------------------------------------------------------
    def __add__(self, other: Value | Number) -> Value:
        return self._binary(other, "add")

    def __radd__(self, other: Number) -> Value:
        return self._binary(other, "add", swap=True)

    def __sub__(self, other: Value | Number) -> Value:
        return self._binary(other, "sub")

    def __rsub__(self, other: Number) -> Value:
        return self._binary(other, "sub", swap=True)

    def __mul__(self, other: Value | Number) -> Value:
        return self._binary(other, "mul")

    def __rmul__(self, other: Number) -> Value:
        return self._binary(other, "mul", swap=True)

    def __truediv__(self, other: Value | Number) -> Value:
        return self._binary(other, "div")

    def __rtruediv__(self, other: Number) -> Value:
        return self._binary(other, "div", swap=True)

    def __pow__(self, exponent: Number) -> Value:
        if isinstance(exponent, bool) or not isinstance(exponent, (int, float)):
            raise TypeError("only a number exponent is supported (Value ** int or float)")
        x = self.data
        return self._unary(x**exponent, "pow", lambda: exponent * x ** (exponent - 1),
                           exponent=exponent)

    def __neg__(self) -> Value:
        return self._unary(-self.data, "neg", lambda: -1)

    # ---- functions -----------------------------------------------------------------------
    def relu(self) -> Value:
        x = self.data
        return self._unary(x if x > 0 else 0 * x, "relu", lambda: 1 if x > 0 else 0)

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        return self._unary(t, "tanh", lambda: 1 - t * t)

    def exp(self) -> Value:
        e = math.exp(self.data)
        return self._unary(e, "exp", lambda: e)

    def log(self) -> Value:
        x = self.data
        return self._unary(math.log(x), "log", lambda: 1 / x)

    def sigmoid(self) -> Value:
        s = _sigmoid(self.data)
        return self._unary(s, "sigmoid", lambda: s * (1 - s))

    # ---- gradients -----------------------------------------------------------------------
    def backward(self) -> None:
        """d(self)/d(v) into every `v.grad` of the graph below, by the chain rule in reverse
        topological order (an explicit stack, so deep graphs do not hit Python's recursion
        limit)."""
        self.grad = 1
        for v in reversed(topological_order(self)):
            if v._backward is not None:
                v._backward(v)

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"


def topological_order(root: Value) -> list[Value]:
    """Every Value `root` depends on, each after all of its inputs, `root` last."""
    order: list[Value] = []
    seen = {id(root)}
    stack: list[tuple[Value, int]] = [(root, 0)]
    while stack:
        v, i = stack.pop()
        if i < len(v._prev):
            stack.append((v, i + 1))
            child = v._prev[i]
            if id(child) not in seen:
                seen.add(id(child))
                stack.append((child, 0))
        else:
            order.append(v)
    return order
