r"""Numerical differentiation (lesson 2): central differences for derivatives, gradients, Jacobians and
Hessian-vector products, and the step-size trade-off.

Taylor: :math:`f(x\pm h)=f(x)\pm hf'(x)+\tfrac{h^2}{2}f''(x)\pm\tfrac{h^3}{6}f'''(x)+\dots`, so the central
difference :math:`\frac{f(x+h)-f(x-h)}{2h}=f'(x)+\tfrac{h^2}{6}f'''(x)+O(h^4)` has truncation error
:math:`O(h^2)`, while rounding :math:`f` to relative precision :math:`\varepsilon` adds :math:`O(\varepsilon|f|/h)`.
The total :math:`\tfrac{h^2}{6}|f'''|+\tfrac{\varepsilon|f|}{h}` is smallest at :math:`h^\ast\sim\varepsilon^{1/3}`
(about 6e-6 in float64); the one-sided difference has :math:`O(h)` truncation and :math:`h^\ast\sim\sqrt\varepsilon`.

See also: :mod:`torch_versions.calculus.numerical` (autograd gives the exact values), ``lessons/02_calculus_gradients.md``.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from from_scratch.validation import check_array

ScalarFn = Callable[[np.ndarray], np.ndarray]


def default_step(dtype=np.float64) -> float:
    r"""The central-difference step :math:`\varepsilon^{1/3}` of ``dtype``."""
    return float(np.cbrt(np.finfo(dtype).eps))


def _steps(x: np.ndarray, h: float | None) -> np.ndarray:
    """Per-entry steps h * max(1, |x_j|), so the relative perturbation is the same for large and small entries."""
    h = default_step(x.dtype) if h is None else h
    if not h > 0:
        raise ValueError(f"h must be > 0, got {h!r}")
    return h * np.maximum(1.0, np.abs(x))


def derivative(f: ScalarFn, x: np.ndarray, h: float | None = None) -> np.ndarray:
    r"""Elementwise derivative of an elementwise function: :math:`\frac{f(x+h)-f(x-h)}{2h}`, x of any shape."""
    check_array("x", x)
    step = _steps(x, h)
    xp, xm = x + step, x - step
    return (f(xp) - f(xm)) / (xp - xm)  # the representable step, not the intended one


def jacobian(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, h: float | None = None) -> np.ndarray:
    r"""Jacobian :math:`J_{ij}=\partial f_i/\partial x_j` by central differences, one column per input entry.

    x of shape S, f(x) of shape T -> J of shape T + S (torch.autograd.functional.jacobian's layout).
    """
    check_array("x", x)
    step = _steps(x, h)
    flat, steps = x.reshape(-1), step.reshape(-1)
    cols = []
    for j in range(flat.size):
        xp, xm = flat.copy(), flat.copy()
        xp[j] += steps[j]
        xm[j] -= steps[j]
        diff = np.asarray(f(xp.reshape(x.shape))) - np.asarray(f(xm.reshape(x.shape)))
        cols.append(diff / (xp[j] - xm[j]))
    J = np.stack(cols, axis=-1)
    return J.reshape(J.shape[:-1] + x.shape)


def gradient(f: ScalarFn, x: np.ndarray, h: float | None = None) -> np.ndarray:
    r"""Gradient of a scalar function, :math:`\nabla f(x)_j\approx\frac{f(x+h_je_j)-f(x-h_je_j)}{2h_j}`; same shape as x."""
    g = jacobian(f, x, h)
    if g.shape != x.shape:
        raise ValueError(f"f must return a scalar for gradient(), got output shape {g.shape[:g.ndim - x.ndim]}")
    return g


def hessian_vector_product(f: ScalarFn, x: np.ndarray, v: np.ndarray, grad: Callable[[np.ndarray], np.ndarray] | None = None,
                           h: float | None = None) -> np.ndarray:
    r"""Hessian-vector product :math:`Hv\approx\frac{\nabla f(x+tv)-\nabla f(x-tv)}{2t}`, where
    :math:`t=h\max(1,\|x\|)/\|v\|` makes the step in x of length :math:`h\max(1,\|x\|)`: one directional difference of the gradient, never the n x n Hessian. ``grad`` is the exact
    gradient if you have one (then the error is :math:`O(h^2)`); otherwise :func:`gradient` is nested inside, with
    the larger step :math:`\varepsilon^{1/4}` that nesting needs."""
    check_array("x", x)
    check_array("v", v)
    if v.shape != x.shape:
        raise ValueError(f"v must have the shape of x {x.shape}, got {v.shape}")
    if grad is None:
        grad = lambda z: gradient(f, z)  # noqa: E731
        h = float(np.finfo(x.dtype).eps ** 0.25) if h is None else h
    h = default_step(x.dtype) if h is None else h
    norm_v = float(np.sqrt((v * v).sum()))
    if norm_v == 0:
        return np.zeros_like(x)
    t = h * max(1.0, float(np.sqrt((x * x).sum()))) / norm_v
    return (grad(x + t * v) - grad(x - t * v)) / (2 * t)


def step_size_errors(f: ScalarFn, df: ScalarFn, x: float, steps: np.ndarray) -> dict[str, np.ndarray]:
    r"""The V-shaped curve: |forward difference - f'(x)| and |central difference - f'(x)| for each step h.

    Forward error :math:`\approx\tfrac h2|f''|+\tfrac{2\varepsilon|f|}{h}`, central
    :math:`\approx\tfrac{h^2}{6}|f'''|+\tfrac{\varepsilon|f|}{h}` (round-off dominates left of the minimum).
    """
    steps = np.asarray(steps, dtype=np.float64)
    check_array("steps", steps, ndim=1)
    if (steps <= 0).any():
        raise ValueError("steps must all be > 0")
    x = np.float64(x)
    exact = df(x)
    forward = (f(x + steps) - f(x)) / steps
    central = (f(x + steps) - f(x - steps)) / (2 * steps)
    return {"forward": np.abs(forward - exact), "central": np.abs(central - exact)}
