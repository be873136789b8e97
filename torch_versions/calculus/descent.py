r"""Gradient descent with ``torch.optim.SGD`` and autograd (lesson 2). Twin of :mod:`from_scratch.calculus.descent`:
same objectives, same iterates :math:`x_{t+1}=x_t-\eta\nabla f(x_t)` (identical in float64)."""
from __future__ import annotations

from typing import NamedTuple

import torch

from from_scratch.validation import check_array, check_positive, check_quadratic, check_steps


def quadratic(x: torch.Tensor, A: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    r""":math:`\tfrac12x^\top Ax-b^\top x`."""
    check_quadratic(x, A, b)
    return 0.5 * x @ A @ x - b @ x


def rosenbrock(x: torch.Tensor, a: float = 1.0, b: float = 100.0) -> torch.Tensor:
    r""":math:`\sum_{i<n}b(x_{i+1}-x_i^2)^2+(a-x_i)^2`."""
    check_array("x", x, ndim=1)
    if x.shape[0] < 2:
        raise ValueError(f"x must have at least 2 entries for the Rosenbrock function, got shape {tuple(x.shape)}")
    return (b * (x[1:] - x[:-1] ** 2) ** 2 + (a - x[:-1]) ** 2).sum()


class DescentResult(NamedTuple):
    trajectory: torch.Tensor
    values: torch.Tensor


OBJECTIVES = {"quadratic": quadratic, "rosenbrock": rosenbrock}


def gradient_descent(objective: str, x0: torch.Tensor, lr: float, n_steps: int, **params) -> DescentResult:
    """``torch.optim.SGD`` on a leaf tensor started at ``x0``; returns every iterate and value."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {sorted(OBJECTIVES)}, got {objective!r}")
    check_array("x0", x0, ndim=1)
    check_positive("lr", lr)
    check_steps("n_steps", n_steps)
    f = OBJECTIVES[objective]
    x = x0.detach().clone().requires_grad_(True)
    opt = torch.optim.SGD([x], lr=lr)
    xs, values = [x.detach().clone()], []
    for t in range(n_steps):
        opt.zero_grad(set_to_none=True)
        loss = f(x, **params)
        loss.backward()
        opt.step()
        values.append(loss.detach())
        if not torch.isfinite(x).all():
            raise FloatingPointError(f"gradient descent diverged at step {t + 1} (lr={lr}); try a smaller lr")
        xs.append(x.detach().clone())
    with torch.no_grad():
        values.append(f(x, **params))
    return DescentResult(torch.stack(xs), torch.stack(values))
