r"""Gradient descent on test functions (lesson 2): :math:`x_{t+1}=x_t-\eta\nabla f(x_t)`.

* Convex quadratic :math:`f(x)=\tfrac12x^\top Ax-b^\top x` (A symmetric positive definite), gradient
  :math:`Ax-b`, minimizer :math:`A^{-1}b`; gradient descent converges iff :math:`0<\eta<2/\lambda_{\max}(A)`.
* Rosenbrock :math:`f(x)=\sum_i b(x_{i+1}-x_i^2)^2+(a-x_i)^2`; with the default a = 1 its minimum is 0 at
  :math:`(1,\dots,1)` (for n = 2 and any a: at :math:`(a,a^2)`), at the end of a curved, badly conditioned valley.

The trajectory (every iterate) is returned so it can be drawn over the contours.

See also: :mod:`torch_versions.calculus.descent` (``torch.optim.SGD`` + autograd), ``lessons/02_calculus_gradients.md``.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from from_scratch.validation import check_array, check_positive, check_quadratic, check_steps


def quadratic(x: np.ndarray, A: np.ndarray, b: np.ndarray) -> np.ndarray:
    r""":math:`\tfrac12x^\top Ax-b^\top x` for x (n,), A (n, n) symmetric, b (n,)."""
    check_quadratic(x, A, b)
    return 0.5 * x @ A @ x - b @ x


def quadratic_backward(x: np.ndarray, A: np.ndarray, b: np.ndarray, grad_out: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Gradients (grad_x, grad_A, grad_b) of :func:`quadratic`: :math:`\bar x=g\,(Ax-b)` (A symmetric),
    :math:`\bar A=\tfrac g2xx^\top`, :math:`\bar b=-g\,x`."""
    return grad_out * (A @ x - b), 0.5 * grad_out * np.outer(x, x), -grad_out * x


def rosenbrock(x: np.ndarray, a: float = 1.0, b: float = 100.0) -> np.ndarray:
    r""":math:`\sum_{i<n}b(x_{i+1}-x_i^2)^2+(a-x_i)^2` for x (n,), n >= 2."""
    check_array("x", x, ndim=1)
    if x.shape[0] < 2:
        raise ValueError(f"x must have at least 2 entries for the Rosenbrock function, got shape {x.shape}")
    return (b * (x[1:] - x[:-1] ** 2) ** 2 + (a - x[:-1]) ** 2).sum()


def rosenbrock_backward(x: np.ndarray, grad_out: np.ndarray, a: float = 1.0, b: float = 100.0) -> np.ndarray:
    r"""Gradient of :func:`rosenbrock`: with :math:`r_i=x_{i+1}-x_i^2`,
    :math:`\partial_{x_i}=-4bx_ir_i-2(a-x_i)` (as a left end) :math:`+\,2br_{i-1}` (as a right end)."""
    r = x[1:] - x[:-1] ** 2
    g = np.zeros_like(x)
    g[:-1] += -4 * b * x[:-1] * r - 2 * (a - x[:-1])
    g[1:] += 2 * b * r
    return grad_out * g


class DescentResult(NamedTuple):
    trajectory: np.ndarray  # (n_steps + 1, n): x_0 ... x_T
    values: np.ndarray  # (n_steps + 1,): f(x_0) ... f(x_T)


#: name -> (f(x, **params), gradient(x, **params)) for the built-in objectives.
OBJECTIVES: dict[str, tuple[Callable, Callable]] = {
    "quadratic": (quadratic, lambda x, A, b: A @ x - b),
    "rosenbrock": (rosenbrock, lambda x, a=1.0, b=100.0: rosenbrock_backward(x, 1.0, a, b)),
}


def gradient_descent(objective: str, x0: np.ndarray, lr: float, n_steps: int, **params) -> DescentResult:
    r"""Run :math:`x_{t+1}=x_t-\eta\nabla f(x_t)` from ``x0`` on ``objective`` ("quadratic" with A, b, or
    "rosenbrock" with optional a, b) and return every iterate and value. Diverging runs stop early with a
    ``FloatingPointError`` naming the step, rather than returning inf/NaN."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {sorted(OBJECTIVES)}, got {objective!r}")
    check_array("x0", x0, ndim=1)
    check_positive("lr", lr)
    check_steps("n_steps", n_steps)
    f, grad = OBJECTIVES[objective]
    xs = np.empty((n_steps + 1,) + x0.shape, dtype=x0.dtype)
    xs[0] = x0
    for t in range(n_steps):
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported below, once
            xs[t + 1] = xs[t] - lr * grad(xs[t], **params)
        if not np.isfinite(xs[t + 1]).all():
            raise FloatingPointError(f"gradient descent diverged at step {t + 1} (lr={lr}); try a smaller lr")
    values = np.array([f(x, **params) for x in xs], dtype=x0.dtype)
    return DescentResult(xs, values)
