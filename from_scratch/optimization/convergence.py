r"""Convergence rates of first-order methods (lesson 4): measured on quadratics, compared with theory.

On :math:`f(x)=\tfrac12x^\top Ax` with the eigenvalues of A in :math:`[\mu,L]`, :math:`\kappa=L/\mu`, every
method below is a linear recursion, diagonal in A's eigenbasis, so the error :math:`e_t=\|x_t-x^*\|` (here
:math:`x^*=0`) decays like :math:`\rho^t` for the largest root modulus :math:`\rho` over the spectrum:

* gradient descent, :math:`\eta=2/(\mu+L)`: rate :math:`(\kappa-1)/(\kappa+1)`, attained at :math:`\lambda=\mu`
  and :math:`\lambda=L`;
* heavy ball (Polyak), :math:`\alpha=4/(\sqrt L+\sqrt\mu)^2`, :math:`\beta=((\sqrt\kappa-1)/(\sqrt\kappa+1))^2`:
  rate :math:`\sqrt\beta=(\sqrt\kappa-1)/(\sqrt\kappa+1)` at every :math:`\lambda` (double roots at :math:`\mu`, L);
* Nesterov, :math:`\eta=1/L`, momentum :math:`\beta=(\sqrt\kappa-1)/(\sqrt\kappa+1)`: rate
  :math:`1-1/\sqrt\kappa`, a double root at :math:`\lambda=\mu`.

Heavy ball: :math:`x_{t+1}=x_t-\alpha\nabla f(x_t)+\beta(x_t-x_{t-1})`; per eigenvalue the characteristic
polynomial :math:`z^2-(1+\beta-\alpha\lambda)z+\beta` has complex roots of modulus :math:`\sqrt\beta` on all of
:math:`[\mu,L]`. Nesterov: :math:`y_t=x_t+\beta(x_t-x_{t-1})`, :math:`x_{t+1}=y_t-\eta\nabla f(y_t)`; the roots of
:math:`z^2-(1-h)(1+\beta)z+(1-h)\beta` (:math:`h=\lambda/L`) have modulus :math:`\sqrt{(1-h)\beta}`, largest at
:math:`h=1/\kappa`, where they merge into :math:`1-1/\sqrt\kappa`.

**What is measured.** The distance :math:`e_t` of the iterate that ``torch.optim.SGD`` holds: :math:`x_t` for gradient
descent and heavy ball (``momentum=β`` is exactly Polyak's recursion), the look-ahead point :math:`y_t` for Nesterov
(``nesterov=True`` stores y; :math:`x_t` and :math:`y_t` share the rate). Nesterov's textbook bound
:math:`f(x_t)-f^*\le(1-1/\sqrt\kappa)^t(f(x_0)-f^*+\frac\mu2\|x_0-x^*\|^2)` is a Lyapunov bound; on a quadratic it
is not tight for the function value, which decays like :math:`e_t^2`, i.e. at :math:`(1-1/\sqrt\kappa)^2` -- the
distance (equivalently :math:`\sqrt{f-f^*}`) is the quantity whose rate is :math:`1-1/\sqrt\kappa`.

**Fitting.** :func:`fit_rate` is the least-squares slope of :math:`\log e_t` over a window. The worst case is
attained only if :math:`x_0` has components on the extreme eigenvectors (:func:`conditioned_quadratic` puts one on
every eigenvector) and after the transient of the faster modes. A double root makes :math:`e_t\propto t\rho^t`, whose
fitted slope is biased by about :math:`1/t`; so the momentum methods are run over 40 decades of decay (the
recursion is linear with :math:`x^*=0`, so float64 stays relatively exact far below 1e-16) and fitted on the second
half, leaving a bias of about 1.5 % in :math:`\log\rho`; gradient descent has no double root and needs 6 decades.
Rates are compared through :math:`\log\rho` (iterations per e-fold): near :math:`\rho\approx1` a relative error
in :math:`\rho` itself would hide any discrepancy.

See also: :mod:`torch_versions.optimization.convergence`, ``lessons/04_optimization.md``,
:mod:`from_scratch.calculus.descent` (lesson 2), ``python -m benchmarks.convergence``.
"""
from __future__ import annotations

import math
from typing import Mapping, NamedTuple

import numpy as np

from from_scratch.calculus.descent import rosenbrock, rosenbrock_backward
from from_scratch.optimization import optimizers as optim
from from_scratch.probability.logistic_regression import logistic_loss, logistic_loss_backward
from from_scratch.validation import (check_array, check_choice, check_positive, check_positive_array,
                                     check_steps, check_symmetric)

RATE_METHODS = ("gd", "heavy_ball", "nesterov")
#: Decades of decay a default run covers (see the module docstring: double roots need long runs).
RATE_DECADES = {"gd": 6, "heavy_ball": 40, "nesterov": 40}
COMPARISON_OBJECTIVES = ("rosenbrock", "logistic")
#: name -> (optimizer class name, shared by from_scratch.optimization.optimizers and torch.optim; its arguments),
#: tuned per objective so that every optimizer converges without diverging from the default start.
COMPARISON_OPTIMIZERS: dict[str, dict[str, tuple[str, dict]]] = {
    "rosenbrock": {
        "sgd": ("SGD", {"lr": 1e-3}),
        "momentum": ("SGD", {"lr": 2e-4, "momentum": 0.9}),
        "nesterov": ("SGD", {"lr": 2e-4, "momentum": 0.9, "nesterov": True}),
        "adagrad": ("Adagrad", {"lr": 0.5}),
        "rmsprop": ("RMSprop", {"lr": 3e-3}),  # constant lr, steps ~lr even near the minimum: it ends bouncing
        "adam": ("Adam", {"lr": 5e-2}),
        "adamw": ("AdamW", {"lr": 5e-2, "weight_decay": 1e-2}),
    },
    "logistic": {
        "sgd": ("SGD", {"lr": 1.0}),
        "momentum": ("SGD", {"lr": 0.5, "momentum": 0.9}),
        "nesterov": ("SGD", {"lr": 0.5, "momentum": 0.9, "nesterov": True}),
        "adagrad": ("Adagrad", {"lr": 0.5}),
        "rmsprop": ("RMSprop", {"lr": 3e-3}),  # (same: round-off decides its bounce after ~500 steps)
        "adam": ("Adam", {"lr": 5e-2}),
        "adamw": ("AdamW", {"lr": 5e-2, "weight_decay": 1e-2}),
    },
}


class RateResult(NamedTuple):
    errors: np.ndarray  # (n_steps + 1,): ||x_t - x*|| (Nesterov: ||y_t - x*||), t = 0 ... n_steps
    rate: np.ndarray  # (): the fitted per-step rate exp(slope of log e_t) over the window
    theory: float  # the worst-case rate for this kappa


def theoretical_rate(method: str, kappa: float) -> float:
    r"""Worst-case per-step rate of :math:`\|x_t-x^*\|` on quadratics with condition number :math:`\kappa\ge1`:
    :math:`(\kappa-1)/(\kappa+1)`, :math:`(\sqrt\kappa-1)/(\sqrt\kappa+1)` or :math:`1-1/\sqrt\kappa`."""
    check_choice("method", method, RATE_METHODS)
    if not (np.isfinite(kappa) and kappa >= 1):
        raise ValueError(f"kappa must be finite and >= 1, got {kappa!r}")
    s = math.sqrt(kappa)
    return {"gd": (kappa - 1) / (kappa + 1), "heavy_ball": (s - 1) / (s + 1), "nesterov": 1 - 1 / s}[method]


def _hyperparameters(method: str, mu: float, L: float) -> tuple[float, float]:
    """(lr, momentum) of the optimally tuned method (module docstring)."""
    s = math.sqrt(L / mu)
    if method == "gd":
        return 2 / (mu + L), 0.0
    if method == "heavy_ball":
        return 4 / (math.sqrt(L) + math.sqrt(mu)) ** 2, ((s - 1) / (s + 1)) ** 2
    return 1 / L, (s - 1) / (s + 1)


def _check_rate_problem(method: str, A, x0, mu: float, L: float, n_steps: int | None) -> int:
    """Validate and return n_steps (default: RATE_DECADES[method] decades of decay at the theoretical rate)."""
    check_choice("method", method, RATE_METHODS)
    check_symmetric("A", A)
    check_array("x0", x0, ndim=1)
    if x0.shape[0] != A.shape[0]:
        raise ValueError(f"x0 must have shape ({A.shape[0]},) to match A {tuple(A.shape)}, got {tuple(x0.shape)}")
    check_positive("mu", mu)
    check_positive("L", L)
    if L < mu:
        raise ValueError(f"L must be >= mu (the largest and smallest eigenvalues), got mu={mu!r}, L={L!r}")
    if n_steps is None:
        rho = theoretical_rate(method, L / mu)
        return max(20, math.ceil(RATE_DECADES[method] * math.log(10) / -math.log(rho))) if rho > 0 else 20
    check_steps("n_steps", n_steps)
    return n_steps


def _check_history(errors, mu: float, L: float) -> None:
    """A diverged run means A's spectrum is not inside [mu, L]: say so rather than fitting inf (shared with the twin)."""
    if not bool((errors[-1] < errors[0]) & (errors[-1] >= 0)):  # False for NaN too
        raise FloatingPointError(f"the run did not converge (last error {float(errors[-1])!r}); are all eigenvalues "
                                 f"of A inside [mu, L] = [{mu}, {L}]?")


def _window(n: int, start: int | None, stop: int | None) -> tuple[int, int]:
    start = n // 2 if start is None else start
    stop = n if stop is None else stop
    if not 0 <= start < stop - 1 < n:
        raise ValueError(f"the fit window [start, stop) must hold >= 2 of the {n} errors, "
                         f"got start={start}, stop={stop}")
    return start, stop


def fit_rate(errors: np.ndarray, start: int | None = None, stop: int | None = None) -> np.ndarray:
    r"""Per-step rate :math:`\exp(s)`, :math:`s` the least-squares slope of :math:`\log e_t` against t over
    ``errors[start:stop]`` (default: the second half), errors (T,) > 0."""
    check_array("errors", errors, ndim=1)
    check_positive_array("errors", errors)
    start, stop = _window(errors.shape[0], start, stop)
    t = np.arange(start, stop, dtype=errors.dtype)
    logs = np.log(errors[start:stop])
    tc = t - t.mean()
    return np.exp((tc @ (logs - logs.mean())) / (tc @ tc))


def conditioned_quadratic(eigenvalues: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""A (n, n) :math:`=Q\operatorname{diag}(\lambda)Q^\top` and :math:`x_0=Q\mathbf 1` (a unit component on
    every eigenvector), with Q the orthonormal DCT-II basis :math:`Q_{jk}=c_k\cos(\pi(2j+1)k/2n)` --
    deterministic, so both implementations build the same problem. eigenvalues (n,) > 0."""
    check_array("eigenvalues", eigenvalues, ndim=1)
    check_positive_array("eigenvalues", eigenvalues)
    n = eigenvalues.shape[0]
    j, k = np.arange(n, dtype=eigenvalues.dtype)[:, None], np.arange(n, dtype=eigenvalues.dtype)[None, :]
    scale = np.full(n, (2 / n) ** 0.5, dtype=eigenvalues.dtype)
    scale[0] = (1 / n) ** 0.5
    Q = np.cos(np.pi * (2 * j + 1) * k / (2 * n)) * scale  # (n, n)
    A = (Q * eigenvalues) @ Q.T
    return 0.5 * (A + A.T), Q.sum(axis=1)


def measure_rate(method: str, A: np.ndarray, x0: np.ndarray, mu: float, L: float, n_steps: int | None = None,
                 start: int | None = None) -> RateResult:
    r"""Run ``method`` ("gd", "heavy_ball", "nesterov"), optimally tuned for :math:`[\mu,L]`, on
    :math:`\tfrac12x^\top Ax` from x0 and fit the rate of :math:`e_t` over ``[start, n_steps]`` (default: the
    second half). The textbook recursions (module docstring), with :math:`x_{-1}=x_0`."""
    n_steps = _check_rate_problem(method, A, x0, mu, L, n_steps)
    lr, beta = _hyperparameters(method, mu, L)
    errors = np.empty(n_steps + 1, dtype=x0.dtype)
    errors[0] = np.sqrt(x0 @ x0)
    x_prev, x = x0.copy(), x0.copy()
    for t in range(n_steps):
        if method == "nesterov":
            y = x + beta * (x - x_prev)
            x_prev, x = x, y - lr * (A @ y)
            z = x + beta * (x - x_prev)  # the next look-ahead point: the iterate torch.optim.SGD(nesterov) holds
        else:
            x_prev, x = x, x - lr * (A @ x) + beta * (x - x_prev)
            z = x
        errors[t + 1] = np.sqrt(z @ z)
    _check_history(errors, mu, L)
    return RateResult(errors, fit_rate(errors, start), theoretical_rate(method, L / mu))


def _check_comparison(objective: str, x0, n_steps: int, X, y, C: float) -> None:
    """Shared with the twin: the objective's name, x0 (n,) (logistic: the flat [w, b] of length d + 1), data."""
    check_choice("objective", objective, COMPARISON_OBJECTIVES)
    check_array("x0", x0, ndim=1)
    check_steps("n_steps", n_steps)
    if objective == "rosenbrock":
        if x0.shape[0] < 2:
            raise ValueError(f"x0 must have at least 2 entries for the Rosenbrock function, "
                             f"got shape {tuple(x0.shape)}")
        return
    if X is None or y is None:
        raise ValueError("objective='logistic' needs the data X (N, d) and labels y (N,) in {0, 1}")
    check_array("X", X, ndim=2)
    if x0.shape[0] != X.shape[1] + 1:
        raise ValueError(f"x0 must be [weight, bias] of length d + 1 = {X.shape[1] + 1} for X {tuple(X.shape)}, "
                         f"got shape {tuple(x0.shape)}")
    check_positive("C", C)


def compare_optimizers(objective: str, x0: np.ndarray, n_steps: int = 500,
                       optimizers: Mapping[str, tuple[str, dict]] | None = None, X: np.ndarray | None = None,
                       y: np.ndarray | None = None, C: float = 1.0) -> dict[str, np.ndarray]:
    r"""Loss curves (n_steps + 1,) of several optimizers (:mod:`from_scratch.optimization.optimizers`, torch.optim's
    rules) from the same start, keyed by name (default: ``COMPARISON_OPTIMIZERS[objective]``).

    ``objective`` "rosenbrock" (lesson 2's :func:`rosenbrock`, x0 (n,)) or "logistic" (lesson 3's binary
    :func:`logistic_loss` of X (N, d), y (N,) in {0, 1}, C; x0 = [weight (d,), bias] flattened, length d + 1).
    """
    _check_comparison(objective, x0, n_steps, X, y, C)
    d = x0.shape[0] - 1

    def loss_and_grad(x):
        if objective == "rosenbrock":
            return rosenbrock(x), rosenbrock_backward(x, 1.0)
        w, b = x[None, :d], x[d:]
        _, gw, gb = logistic_loss_backward(X, y, w, b, C)
        return logistic_loss(X, y, w, b, C), np.concatenate([gw[0], gb])

    curves = {}
    for name, (cls, kwargs) in (COMPARISON_OPTIMIZERS[objective] if optimizers is None else optimizers).items():
        x = x0.copy()
        opt = getattr(optim, cls)([x], **kwargs)
        losses = np.empty(n_steps + 1, dtype=x0.dtype)
        for t in range(n_steps):
            losses[t], g = loss_and_grad(x)
            opt.step([g])
        losses[n_steps] = loss_and_grad(x)[0]
        curves[name] = losses
    return curves
