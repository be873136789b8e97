r"""A scalar reverse-mode automatic differentiation engine (lesson 2), in the spirit of micrograd.

Every arithmetic operation on :class:`Value` objects records a node of a computation graph: its result, its
parents and the *local* derivatives :math:`\partial\,\mathrm{node}/\partial\,\mathrm{parent}`, evaluated in the
forward pass. :meth:`Value.backward` then applies the chain rule once, in reverse topological order:

.. math::

    \bar v = \frac{\partial\,\mathrm{out}}{\partial v}
           = \sum_{c\ \text{child of}\ v} \bar c\,\frac{\partial c}{\partial v}, \qquad \overline{\mathrm{out}} = 1.

The sum over children is why gradients *accumulate* when a node is reused (``x * x``, or ``x`` feeding several
branches): each use contributes one term. Reverse order guarantees that :math:`\bar c` is complete before it is
pushed to the parents, so one sweep costs a small constant times the forward pass.

Semantics of repeated ``backward()`` calls (the same as PyTorch's leaves and ``retain_grad()`` tensors): every
node's ``.grad`` is *increased* by :math:`\partial\,\mathrm{out}/\partial v` of that call; :meth:`Value.zero_grad`
resets the graph. Numbers are Python floats (IEEE double precision throughout).

See also: :mod:`torch_versions.calculus.autodiff` (the same graph built from torch ops, differentiated by
autograd), ``lessons/02_calculus_gradients.md``.
"""
from __future__ import annotations

import math
from numbers import Real

__all__ = ["Value", "topological_order"]


class Value:
    """A scalar that remembers how it was computed.

    ``Value(data, label="")`` creates a leaf; arithmetic creates interior nodes. ``data`` is the number, ``grad``
    the accumulated :math:`\\partial\\,\\mathrm{out}/\\partial\\,\\mathrm{self}` (0.0 until ``backward`` runs).
    Supported: ``+ - * /`` with Values, ints and floats in either order, unary ``-``, ``v ** c`` for a constant
    int/float ``c``, and :meth:`exp`, :meth:`log`, :meth:`tanh`, :meth:`relu`, :meth:`sigmoid`.
    """

    __slots__ = ("data", "grad", "label", "_prev", "_local", "_op")

    def __init__(self, data: float, label: str = "") -> None:
        if not isinstance(data, Real):
            raise TypeError(f"Value expects a real number, got {type(data).__name__}")
        self.data = float(data)
        self.grad = 0.0
        self.label = label
        self._prev: tuple[Value, ...] = ()   # the parents this node was computed from
        self._local: tuple[float, ...] = ()  # d self / d parent, one per parent
        self._op = ""

    @classmethod
    def _node(cls, data: float, parents: tuple[Value, ...], local: tuple[float, ...], op: str) -> Value:
        out = cls(data)
        out._prev, out._local, out._op = parents, local, op
        return out

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    # --- arithmetic: d(a+b) = (1, 1), d(a-b) = (1, -1), d(ab) = (b, a), d(a/b) = (1/b, -a/b^2) -----------------
    def __add__(self, other: Value | float) -> Value:
        other = _lift(other)
        if other is None:
            return NotImplemented
        return Value._node(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __mul__(self, other: Value | float) -> Value:
        other = _lift(other)
        if other is None:
            return NotImplemented
        return Value._node(self.data * other.data, (self, other), (other.data, self.data), "*")

    __radd__ = __add__
    __rmul__ = __mul__

    def __neg__(self) -> Value:
        return Value._node(-self.data, (self,), (-1.0,), "neg")

    def __sub__(self, other: Value | float) -> Value:
        other = _lift(other)
        if other is None:
            return NotImplemented
        return Value._node(self.data - other.data, (self, other), (1.0, -1.0), "-")

    def __rsub__(self, other: float) -> Value:
        other = _lift(other)
        return NotImplemented if other is None else other - self

    def __truediv__(self, other: Value | float) -> Value:
        other = _lift(other)
        if other is None:
            return NotImplemented
        a, b = self.data, other.data
        if b == 0:
            raise ZeroDivisionError("division by a Value equal to zero")
        return Value._node(a / b, (self, other), (1.0 / b, -a / (b * b)), "/")

    def __rtruediv__(self, other: float) -> Value:
        other = _lift(other)
        return NotImplemented if other is None else other / self

    def __pow__(self, exponent: float) -> Value:
        r"""``v ** n`` for a constant n: :math:`d(v^n)/dv = n\,v^{n-1}` (0 for n = 0; +inf at v = 0 for 0<n<1)."""
        x, n = self.data, check_exponent(self.data, exponent)
        if n == 0:
            local = 0.0
        elif x == 0 and n < 1:
            local = math.inf
        else:
            local = n * x ** (n - 1)
        return Value._node(x ** n, (self,), (local,), f"**{exponent!r}")

    # --- functions: exp' = exp, log' = 1/x, tanh' = 1 - tanh^2, relu' = [x > 0], sigmoid' = s (1 - s) ----------
    def exp(self) -> Value:
        try:
            e = math.exp(self.data)
        except OverflowError:  # x > ~709.78: saturate to inf, as IEEE arithmetic (and torch) do
            e = math.inf
        return Value._node(e, (self,), (e,), "exp")

    def log(self) -> Value:
        """Natural logarithm; ValueError unless the input is positive."""
        check_log_input(self.data)
        return Value._node(math.log(self.data), (self,), (1.0 / self.data,), "log")

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        return Value._node(t, (self,), (1.0 - t * t,), "tanh")

    def relu(self) -> Value:
        """max(0, x); the derivative at 0 is taken to be 0 (as torch does)."""
        x = self.data
        return Value._node(x if x > 0 else 0.0, (self,), (1.0 if x > 0 else 0.0,), "relu")

    def sigmoid(self) -> Value:
        r""":math:`\sigma(x)=1/(1+e^{-x})`, evaluated as :math:`e^{x}/(1+e^{x})` for x < 0: no branch overflows."""
        e = math.exp(-abs(self.data))  # in (0, 1]
        s = 1.0 / (1.0 + e) if self.data >= 0 else e / (1.0 + e)
        return Value._node(s, (self,), (s * (1.0 - s),), "sigmoid")

    # --- the reverse sweep -----------------------------------------------------------------------------------------
    def backward(self) -> None:
        """Add :math:`\\partial\\,\\mathrm{self}/\\partial v` to ``v.grad`` for every node v of the graph.

        The adjoints of one call are summed in a dictionary first, so a second call adds exactly one more
        gradient (stale ``.grad`` values never feed the chain rule)."""
        adjoint = {self: 1.0}  # d out / d out = 1
        for node in reversed(topological_order(self)):
            g = adjoint.pop(node, 0.0)
            node.grad += g
            for parent, local in zip(node._prev, node._local):
                adjoint[parent] = adjoint.get(parent, 0.0) + g * local

    def zero_grad(self) -> None:
        """Set ``grad = 0.0`` on every node of this value's graph (call it between independent backward passes)."""
        for node in topological_order(self):
            node.grad = 0.0


def topological_order(root: Value) -> list[Value]:
    """Every node ``root`` depends on, each after all of its parents (leaves first, ``root`` last).

    An iterative depth-first search with an explicit stack, so graphs deeper than Python's recursion limit are
    fine: a node is emitted when it is popped the second time, after all its parents have been emitted. Works for
    any node type with a ``_prev`` tuple of parents (the torch twin's ``Value`` reuses it).
    """
    order, seen = [], set()
    stack = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))
            stack.extend((p, False) for p in node._prev if p not in seen)
    return order


def _lift(other) -> Value | None:
    """A Value for ``other`` (numbers become constant leaves); None for unsupported operands (-> TypeError)."""
    if isinstance(other, Value):
        return other
    return Value(other) if isinstance(other, Real) else None


def check_exponent(base: float, exponent) -> float:
    """The exponent as a float; TypeError for a non-constant exponent, ValueError/ZeroDivisionError off the domain.
    Shared with the torch twin, so both sides raise the same errors."""
    if isinstance(exponent, bool) or not isinstance(exponent, Real):
        raise TypeError(f"Value ** {type(exponent).__name__}: the exponent must be a constant int or float")
    n = float(exponent)
    if base < 0 and not n.is_integer():
        raise ValueError(f"a negative base ({base!r}) has no real power {exponent!r}")
    if base == 0 and n < 0:
        raise ZeroDivisionError(f"0.0 cannot be raised to a negative power ({exponent!r})")
    return n


def check_log_input(x: float) -> None:
    """ValueError unless x > 0 (NaN included). Shared with the torch twin."""
    if not x > 0:
        raise ValueError(f"log is defined only for positive inputs, got {x!r}")
