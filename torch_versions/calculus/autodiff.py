r"""The scalar autodiff engine's torch twin (lesson 2): the same :class:`Value` API, but each node wraps a 0-d
tensor built with torch ops, and :meth:`Value.backward` hands the chain rule to autograd.

``Value(2.0)`` is a float64 leaf with ``requires_grad=True``; ``Value(t)`` for a 0-d tensor ``t`` that already
requires grad keeps it *attached* (``Value(x[i])`` lets gradients flow back to ``x``) and keeps its dtype and
device; numbers combined with a Value become constants of that Value's dtype and device. Interior tensors call
``retain_grad()``, so ``.grad`` is defined on every node, as in the scratch engine.

Repeated ``backward()`` calls: autograd *adds* into ``.grad`` of leaves and retained tensors, exactly the
scratch semantics; :meth:`Value.zero_grad` sets them back to ``None`` (``.grad`` then reads 0.0).
Domain errors (log of x <= 0, negative base to a fractional power, division by zero) are raised as on the
scratch side, which costs a ``.item()`` per check.

See also: :mod:`from_scratch.calculus.autodiff`, ``lessons/02_calculus_gradients.md``.
"""
from __future__ import annotations

from numbers import Real

import torch

from from_scratch.calculus.autodiff import check_exponent, check_log_input, topological_order

__all__ = ["Value", "topological_order"]


class Value:
    """A 0-d tensor in a graph of Values. ``data`` and ``grad`` read as Python floats; ``tensor`` is the tensor."""

    __slots__ = ("tensor", "label", "_prev", "_op")

    def __init__(self, data: float | torch.Tensor, label: str = "") -> None:
        if isinstance(data, torch.Tensor):
            if data.ndim != 0:
                raise ValueError(f"Value wraps a 0-d tensor, got shape {tuple(data.shape)}")
            t = data if data.is_floating_point() else data.to(torch.float64)
            if not t.requires_grad:
                t = t.detach().requires_grad_()  # a new leaf of this graph (the caller's tensor is untouched)
            elif t.grad_fn is not None:
                t.retain_grad()
        elif isinstance(data, Real):
            t = torch.tensor(float(data), dtype=torch.float64, requires_grad=True)
        else:
            raise TypeError(f"Value expects a real number or a 0-d tensor, got {type(data).__name__}")
        self.tensor, self.label, self._prev, self._op = t, label, (), ""

    @classmethod
    def _node(cls, tensor: torch.Tensor, parents: tuple[Value, ...], op: str) -> Value:
        out = cls.__new__(cls)
        if tensor.requires_grad:  # False only under torch.no_grad()
            tensor.retain_grad()
        out.tensor, out.label, out._prev, out._op = tensor, "", parents, op
        return out

    @property
    def data(self) -> float:
        return self.tensor.item()

    @property
    def grad(self) -> float:
        return 0.0 if self.tensor.grad is None else self.tensor.grad.item()

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    def _lift(self, other) -> Value | None:
        if isinstance(other, Value):
            return other
        if isinstance(other, Real):
            return Value(torch.tensor(float(other), dtype=self.tensor.dtype, device=self.tensor.device))
        return None

    def _binary(self, other, fn, op: str, reflected: bool = False) -> Value:
        other = self._lift(other)
        if other is None:
            return NotImplemented
        a, b = (other, self) if reflected else (self, other)
        if op == "/" and b.data == 0:
            raise ZeroDivisionError("division by a Value equal to zero")
        return Value._node(fn(a.tensor, b.tensor), (a, b), op)

    # Same parent order as the scratch engine: x + c and c + x both record (x, c); c - x records (c, x).
    def __add__(self, other: Value | float) -> Value:
        return self._binary(other, torch.add, "+")

    def __mul__(self, other: Value | float) -> Value:
        return self._binary(other, torch.mul, "*")

    __radd__ = __add__
    __rmul__ = __mul__

    def __sub__(self, other: Value | float) -> Value:
        return self._binary(other, torch.sub, "-")

    def __rsub__(self, other: float) -> Value:
        return self._binary(other, torch.sub, "-", reflected=True)

    def __truediv__(self, other: Value | float) -> Value:
        return self._binary(other, torch.div, "/")

    def __rtruediv__(self, other: float) -> Value:
        return self._binary(other, torch.div, "/", reflected=True)

    def __neg__(self) -> Value:
        return Value._node(-self.tensor, (self,), "neg")

    def __pow__(self, exponent: float) -> Value:
        check_exponent(self.data, exponent)
        return Value._node(self.tensor ** exponent, (self,), f"**{exponent!r}")

    def exp(self) -> Value:
        return Value._node(torch.exp(self.tensor), (self,), "exp")

    def log(self) -> Value:
        check_log_input(self.data)
        return Value._node(torch.log(self.tensor), (self,), "log")

    def tanh(self) -> Value:
        return Value._node(torch.tanh(self.tensor), (self,), "tanh")

    def relu(self) -> Value:
        return Value._node(torch.relu(self.tensor), (self,), "relu")

    def sigmoid(self) -> Value:
        return Value._node(torch.sigmoid(self.tensor), (self,), "sigmoid")

    def backward(self) -> None:
        """Autograd from this node: d self / d v is *added* to every leaf's and retained tensor's ``.grad``.
        ``retain_graph=True`` keeps the graph so that ``backward`` may be called again, as on the scratch side."""
        self.tensor.backward(retain_graph=True)

    def zero_grad(self) -> None:
        """Clear ``.grad`` (to ``None``, read as 0.0) on every node of this value's graph."""
        for node in topological_order(self):
            node.tensor.grad = None
