r"""Exact derivatives with ``torch.func`` (lesson 2): what the scratch central differences approximate.

``gradient`` is ``torch.func.grad``, ``jacobian`` is ``torch.func.jacrev`` (reverse mode: one vector-Jacobian
product per output), ``hessian_vector_product`` is forward-over-reverse ``jvp(grad(f))`` — :math:`Hv` without
forming H. Twin of :mod:`from_scratch.calculus.numerical`.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch.func import grad, jacrev, jvp

from from_scratch.validation import check_array


def default_step(dtype=torch.float64) -> float:
    r"""The central-difference step :math:`\varepsilon^{1/3}` of ``dtype``."""
    return float(torch.finfo(dtype).eps ** (1 / 3))


def derivative(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Elementwise derivative of an elementwise f: the gradient of sum(f(x))."""
    check_array("x", x)
    return grad(lambda z: f(z).sum())(x)


def jacobian(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Jacobian of shape f(x).shape + x.shape (``torch.func.jacrev``)."""
    check_array("x", x)
    return jacrev(f)(x)


def gradient(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Gradient of a scalar f (``torch.func.grad``); ValueError if f is not scalar."""
    check_array("x", x)
    out_shape = f(x).shape
    if out_shape != ():
        raise ValueError(f"f must return a scalar for gradient(), got output shape {tuple(out_shape)}")
    return grad(f)(x)


def hessian_vector_product(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Hv by forward-mode differentiation of the reverse-mode gradient."""
    check_array("x", x)
    check_array("v", v)
    if v.shape != x.shape:
        raise ValueError(f"v must have the shape of x {tuple(x.shape)}, got {tuple(v.shape)}")
    return jvp(grad(f), (x,), (v,))[1]


def step_size_errors(f: Callable, df: Callable, x: float, steps: torch.Tensor) -> dict[str, torch.Tensor]:
    """|forward difference - f'(x)| and |central difference - f'(x)| per step, computed in torch float64."""
    steps = torch.as_tensor(steps, dtype=torch.float64)
    check_array("steps", steps, ndim=1)
    if (steps <= 0).any():
        raise ValueError("steps must all be > 0")
    x = torch.tensor(x, dtype=torch.float64)
    exact = df(x)
    forward = (f(x + steps) - f(x)) / steps
    central = (f(x + steps) - f(x - steps)) / (2 * steps)
    return {"forward": (forward - exact).abs(), "central": (central - exact).abs()}
