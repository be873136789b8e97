r"""Worked solutions to ``exercises/04_optimization.md``, problems 5-8 (learning rates, clipping, the lasso path,
stochastic gradients).

NumPy only, built on :mod:`from_scratch.optimization` (``SGD``, ``LRScheduler``, ``clip_grad_norm``,
``soft_threshold``), lesson 3's logistic regression (``logistic_loss``, ``logistic_loss_backward``,
``logistic_hessian``, ``fit_newton``) and lesson 1's ``power_iteration``. Problems 1-4 are in
:mod:`exercises.solutions.ex04_optimization`. Checked against ``torch.optim``, ``torch.nn.utils``, scikit-learn and
closed forms by ``tests/test_exercises_04_applied.py``.
"""
from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from from_scratch.linear_algebra.eigen import power_iteration
from from_scratch.optimization.optimizers import SGD
from from_scratch.optimization.regularization import soft_threshold
from from_scratch.optimization.schedules import LRScheduler, clip_grad_norm
from from_scratch.probability.logistic_regression import (fit_newton, logistic_hessian, logistic_loss,
                                                          logistic_loss_backward)
from from_scratch.validation import (check_array, check_choice, check_positive, check_positive_array,
                                     check_regression, check_steps)


# --- Problem 5: the learning-rate range test ------------------------------------------------------------------------

class RangeTest(NamedTuple):
    lrs: np.ndarray  # (n_steps,): the lr of each step, geometric from lr_min to lr_max
    losses: np.ndarray  # (n_steps,): the loss before each step


def _logistic_step(X, y, theta, C):
    """(loss, gradient (d + 1,)) of lesson 3's logistic_loss at theta = [w, b]."""
    d = X.shape[1]
    w, b = theta[None, :d], theta[d:]
    _, gw, gb = logistic_loss_backward(X, y, w, b, C)
    return float(logistic_loss(X, y, w, b, C)), np.concatenate([gw[0], gb])


def lr_range_test(X: np.ndarray, y: np.ndarray, lr_min: float = 1e-3, lr_max: float = 1e2, n_steps: int = 400,
                  C: float = 1.0) -> RangeTest:
    r"""Smith's (2017) range test on binary logistic regression (X (N, d), y (N,) in {0, 1}): one run of gradient
    descent from 0 whose lr grows geometrically, :math:`\eta_t=\eta_{\min}(\eta_{\max}/\eta_{\min})^{t/(T-1)}`,
    recording the loss before every step."""
    check_positive("lr_min", lr_min)
    check_positive("lr_max", lr_max)
    if lr_max <= lr_min:
        raise ValueError(f"lr_max must exceed lr_min, got lr_min={lr_min!r}, lr_max={lr_max!r}")
    check_steps("n_steps", n_steps)
    if n_steps < 2:
        raise ValueError(f"n_steps must be >= 2 for a range of lrs, got {n_steps}")
    check_array("X", X, ndim=2)
    lrs = lr_min * (lr_max / lr_min) ** (np.arange(n_steps) / (n_steps - 1))
    theta = np.zeros(X.shape[1] + 1, dtype=X.dtype)
    losses = np.empty(n_steps, dtype=X.dtype)
    for t, lr in enumerate(lrs):
        losses[t], g = _logistic_step(X, y, theta, C)  # validates X, y and C at t = 0
        theta -= lr * g
    return RangeTest(lrs, losses)


def divergence_lr(lrs: np.ndarray, losses: np.ndarray, factor: float = 2.0) -> float:
    r"""The first lr at which the loss exceeds ``factor`` times the best loss so far (the range test's "diverged")."""
    check_array("lrs", lrs, ndim=1)
    check_array("losses", losses, ndim=1)
    if lrs.shape != losses.shape:
        raise ValueError(f"lrs and losses must have one shape, got {lrs.shape} and {losses.shape}")
    if not factor > 1:
        raise ValueError(f"factor must be > 1, got {factor!r}")
    above = losses > factor * np.minimum.accumulate(losses)
    if not above.any():
        raise ValueError("losses never exceed factor x their running minimum: raise lr_max")
    return float(lrs[np.argmax(above)])


def critical_lr(X: np.ndarray, y: np.ndarray, C: float = 1.0) -> tuple[float, float]:
    r"""(:math:`2/\lambda_{\max}(H^*)`, :math:`2/L`): the largest lr at which gradient descent can converge to the
    minimizer (linearizing there, the error's slowest mode is multiplied by :math:`|1-\eta\lambda_{\max}|` per
    step), and the global bound :math:`L=\tfrac14\lambda_{\max}(\tilde X^\top\tilde X)/N+1/(CN)` from
    :math:`\sigma'\le\tfrac14`, which is smaller: it holds everywhere, the first only near :math:`\theta^*`."""
    fit = fit_newton(X, y, C)
    H = logistic_hessian(X, y, fit.weight, fit.bias, C)  # (d + 1, d + 1)
    N = X.shape[0]
    Xt = np.hstack([X, np.ones((N, 1), dtype=X.dtype)])
    L = 0.25 * power_iteration(Xt.T @ Xt / N, num_iters=10_000, tol=1e-12).eigenvalue + 1 / (C * N)
    return 2 / float(np.linalg.eigvalsh(H)[-1]), 2 / float(L)


def gd_gradient_norm(X: np.ndarray, y: np.ndarray, lr: float, C: float = 1.0, n_steps: int = 3000) -> float:
    r""":math:`\max_j|\nabla L(\theta_T)_j|` after ``n_steps`` of fixed-lr gradient descent from 0: about 1e-16 when
    lr < :math:`2/\lambda_{\max}(H^*)`, order 0.1 above it (a period-2 orbit; the logistic loss grows only linearly,
    so the iterates do not blow up)."""
    check_array("X", X, ndim=2)
    check_positive("lr", lr)
    check_steps("n_steps", n_steps)
    theta = np.zeros(X.shape[1] + 1, dtype=X.dtype)
    for _ in range(n_steps):
        theta -= lr * _logistic_step(X, y, theta, C)[1]
    return float(np.abs(_logistic_step(X, y, theta, C)[1]).max())


# --- Problem 6: clipping by value and by norm -----------------------------------------------------------------------

class ClippedRun(NamedTuple):
    trajectory: np.ndarray  # (n_steps + 1, n): x_0 ... x_T
    clipped: np.ndarray  # (n_steps,) bool: whether step t changed the gradient


def clip_grad_value(grads: list[np.ndarray], clip_value: float) -> None:
    r"""Clamp every gradient entry to :math:`[-c,c]` IN PLACE (``torch.nn.utils.clip_grad_value_``): coordinate-wise,
    so the direction changes; :math:`\|\text{clipped}\|_2\le c\sqrt n`."""
    check_positive("clip_value", clip_value)
    if isinstance(grads, np.ndarray) or not len(grads):
        raise ValueError("grads must be a non-empty list of arrays")
    for g in grads:
        np.clip(g, -clip_value, clip_value, out=g)


def clipped_descent(eigenvalues: np.ndarray, x0: np.ndarray, lr: float, n_steps: int, mode: str = "norm",
                    threshold: float = 1.0) -> ClippedRun:
    r"""Gradient descent on :math:`\tfrac12\sum_i\lambda_ix_i^2` with the gradient clipped by ``mode``: "norm"
    (:func:`clip_grad_norm`: :math:`g\min(1,c/\|g\|)`, direction kept, step :math:`\le\eta c`), "value"
    (:func:`clip_grad_value`) or "none". eigenvalues (n,) > 0, x0 (n,), ``threshold`` = c."""
    check_array("eigenvalues", eigenvalues, ndim=1)
    check_positive_array("eigenvalues", eigenvalues)
    check_array("x0", x0, ndim=1)
    if x0.shape != eigenvalues.shape:
        raise ValueError(f"x0 must have the shape of eigenvalues {eigenvalues.shape}, got {x0.shape}")
    check_positive("lr", lr)
    check_steps("n_steps", n_steps)
    check_choice("mode", mode, ("norm", "value", "none"))
    check_positive("threshold", threshold)
    xs = np.empty((n_steps + 1,) + x0.shape, dtype=x0.dtype)
    xs[0] = x0
    clipped = np.zeros(n_steps, dtype=bool)
    for t in range(n_steps):
        g = eigenvalues * xs[t]
        raw = g.copy()
        if mode == "norm":
            clip_grad_norm([g], threshold)
        elif mode == "value":
            clip_grad_value([g], threshold)
        clipped[t] = not np.array_equal(g, raw)
        xs[t + 1] = xs[t] - lr * g
    return ClippedRun(xs, clipped)


def clipped_step_count(eigenvalue: float, distance: float, lr: float, threshold: float) -> int:
    r"""Steps during which :math:`\tfrac\lambda2x^2` from :math:`|x_0|` = ``distance`` is clipped: while
    :math:`\lambda|x_t|>c` the step is :math:`\eta c` (a LINEAR decrease, not a geometric one), so the count is
    :math:`\lceil(|x_0|-c/\lambda)/(\eta c)\rceil` (0 if :math:`\lambda|x_0|\le c`). Value clipping: per coordinate.
    Norm clipping of an isotropic quadratic: x stays on its ray, so use :math:`\|x_0\|`. Assumes
    :math:`\eta\lambda\le1`."""
    for name, v in (("eigenvalue", eigenvalue), ("lr", lr), ("threshold", threshold)):
        check_positive(name, v)
    check_positive("distance", distance, allow_zero=True)
    return max(0, math.ceil((distance - threshold / eigenvalue) / (lr * threshold)))


# --- Problem 7: the lasso path with warm starts ---------------------------------------------------------------------

class LassoPath(NamedTuple):
    alphas: np.ndarray  # (k,): decreasing
    coefs: np.ndarray  # (d, k): scikit-learn's lasso_path layout
    n_iters: np.ndarray  # (k,): ISTA steps spent on each alpha


def lasso_alpha_max(X: np.ndarray, y: np.ndarray) -> float:
    r""":math:`\alpha_{\max}=\|X^\top y\|_\infty/N`: the smallest alpha with solution 0 (at w = 0 the subgradient
    condition :math:`|X_j^\top(y-Xw)|/N\le\alpha` holds for every j iff :math:`\alpha\ge\alpha_{\max}`)."""
    check_regression(X, y)
    check_array("y", y, ndim=1)
    return float(np.abs(X.T @ y).max() / X.shape[0])


def lasso_path_ista(X: np.ndarray, y: np.ndarray, alphas: np.ndarray | None = None, n_alphas: int = 20,
                    eps: float = 1e-3, tol: float = 1e-12, max_steps: int = 100_000,
                    warm_start: bool = True) -> LassoPath:
    r"""Lasso solutions :math:`\arg\min_w\frac1{2N}\|y-Xw\|^2+\alpha\|w\|_1` along decreasing alphas (default:
    ``n_alphas`` geometric from :math:`\alpha_{\max}` to ``eps`` :math:`\alpha_{\max}`, as scikit-learn), by ISTA
    :math:`w\leftarrow S_{\eta\alpha}(w-\eta\nabla g(w))`, :math:`\eta=1/\lambda_{\max}(X^\top X/N)`, each started
    from the previous solution (``warm_start``) or from 0, and stopped when :math:`\|\Delta w\|_\infty\le` tol.
    Neighbouring alphas have nearby solutions and mostly the same support, so warm starts save most iterations."""
    alpha_max = lasso_alpha_max(X, y)
    check_steps("max_steps", max_steps)
    check_positive("tol", tol)
    if alphas is None:
        check_steps("n_alphas", n_alphas)
        check_positive("eps", eps)
        alphas = alpha_max * np.geomspace(1.0, eps, n_alphas)
    else:
        check_array("alphas", alphas, ndim=1)
        check_positive_array("alphas", alphas)
    N = X.shape[0]
    lr = 1.0 / power_iteration(X.T @ X / N, num_iters=10_000, tol=1e-12).eigenvalue
    coefs = np.zeros((X.shape[1], alphas.shape[0]), dtype=X.dtype)
    n_iters = np.zeros(alphas.shape[0], dtype=np.int64)
    w = np.zeros(X.shape[1], dtype=X.dtype)
    for k, alpha in enumerate(alphas):
        w = w if warm_start else np.zeros_like(w)
        for step in range(1, max_steps + 1):
            w_new = soft_threshold(w + lr * (X.T @ (y - X @ w)) / N, lr * alpha)
            done = np.abs(w_new - w).max() <= tol
            w = w_new
            if done:
                break
        coefs[:, k], n_iters[k] = w, step
    return LassoPath(alphas, coefs, n_iters)


# --- Problem 8: SGD on a noisy quadratic ----------------------------------------------------------------------------

class InverseTimeLR(LRScheduler):
    r""":math:`\eta_t=\eta_0/(1+t/t_0)` (``decay_steps`` = :math:`t_0`): steps with :math:`\sum\eta_t=\infty`,
    :math:`\sum\eta_t^2<\infty` (Robbins-Monro), so the noise averages out. In torch:
    ``LambdaLR(lambda t: 1/(1+t/t0))``."""

    def __init__(self, optimizer: Any, decay_steps: float = 1.0) -> None:
        check_positive("decay_steps", decay_steps)
        self.decay_steps = decay_steps
        super().__init__(optimizer)

    def lr_at(self, t: int, base_lr: float) -> float:
        return base_lr / (1 + t / self.decay_steps)


class NoisyRun(NamedTuple):
    mean_sq_error: np.ndarray  # (n_steps + 1, n): the Monte Carlo mean of x_{t,i}^2 over the runs
    se: np.ndarray  # (n_steps + 1, n): its standard error


def _check_noisy(eigenvalues, x0, sigma) -> None:
    check_array("eigenvalues", eigenvalues, ndim=1)
    check_positive_array("eigenvalues", eigenvalues)
    check_array("x0", x0, ndim=1)
    if x0.shape != eigenvalues.shape:
        raise ValueError(f"x0 must have the shape of eigenvalues {eigenvalues.shape}, got {x0.shape}")
    check_positive("sigma", sigma, allow_zero=True)


def noisy_quadratic_sgd(eigenvalues: np.ndarray, x0: np.ndarray, sigma: float, lr: float, n_steps: int,
                        n_runs: int, rng: np.random.Generator, decay_steps: float | None = None) -> NoisyRun:
    r"""``n_runs`` independent runs of :class:`SGD` on :math:`\tfrac12\sum_i\lambda_ix_i^2` with gradients
    :math:`\lambda x+\sigma\xi`, :math:`\xi\sim\mathcal N(0,I)`, from x0 (n,); constant lr, or :class:`InverseTimeLR`
    when ``decay_steps`` is given. All runs are one (n_runs, n) parameter: SGD is elementwise."""
    _check_noisy(eigenvalues, x0, sigma)
    check_positive("lr", lr)
    check_steps("n_steps", n_steps)
    check_steps("n_runs", n_runs)
    if n_runs < 2:
        raise ValueError(f"n_runs must be >= 2 for a standard error, got {n_runs}")
    x = np.tile(x0, (n_runs, 1))  # (R, n)
    opt = SGD([x], lr=lr)
    sched = InverseTimeLR(opt, decay_steps) if decay_steps is not None else None
    sq = np.empty((n_steps + 1,) + x.shape, dtype=x0.dtype)
    sq[0] = x * x
    for t in range(n_steps):
        opt.step([eigenvalues * x + sigma * rng.standard_normal(x.shape)])
        if sched is not None:
            sched.step()
        sq[t + 1] = x * x
    return NoisyRun(sq.mean(axis=1), sq.std(axis=1, ddof=1) / math.sqrt(n_runs))


def expected_sq_error(eigenvalues: np.ndarray, x0: np.ndarray, sigma: float, lrs: np.ndarray) -> np.ndarray:
    r"""Exact :math:`\mathbb E[x_{t,i}^2]` (T + 1, n) for the steps lrs (T,): from
    :math:`x_{t+1}=(1-\eta_t\lambda)x_t-\eta_t\sigma\xi_t`, :math:`v_{t+1}=(1-\eta_t\lambda)^2v_t+\eta_t^2\sigma^2`.

    Constant :math:`\eta`: :math:`v_t=(1-\eta\lambda)^{2t}x_0^2+v_\infty(1-(1-\eta\lambda)^{2t})`, floor
    :math:`v_\infty=\frac{\eta\sigma^2}{\lambda(2-\eta\lambda)}`, loss floor
    :math:`\frac\lambda2v_\infty\approx\frac{\eta\sigma^2}4` for every :math:`\lambda`.
    :math:`\eta_t=\frac1{\lambda(t+1)}`: :math:`x_t` is minus :math:`\sigma/\lambda` times the mean of t noises, so
    :math:`v_t=\sigma^2/(\lambda^2t)` exactly, whatever x0."""
    _check_noisy(eigenvalues, x0, sigma)
    check_array("lrs", lrs, ndim=1)
    check_positive_array("lrs", lrs)
    v = np.empty((lrs.shape[0] + 1,) + x0.shape, dtype=x0.dtype)
    v[0] = x0 * x0
    for t, lr in enumerate(lrs):
        v[t + 1] = (1 - lr * eigenvalues) ** 2 * v[t] + lr * lr * sigma * sigma
    return v


def stationary_sq_error(eigenvalues: np.ndarray, sigma: float, lr: float) -> np.ndarray:
    r"""The noise floor :math:`v_\infty=\eta\sigma^2/(\lambda(2-\eta\lambda))` (n,) of constant-step SGD, for
    :math:`0<\eta\lambda<2`: proportional to :math:`\eta\sigma^2` for small :math:`\eta`."""
    check_array("eigenvalues", eigenvalues, ndim=1)
    check_positive_array("eigenvalues", eigenvalues)
    check_positive("sigma", sigma, allow_zero=True)
    check_positive("lr", lr)
    if not np.all(lr * eigenvalues < 2):
        raise ValueError(f"lr must satisfy lr * eigenvalue < 2 for a stationary state, got lr={lr!r}")
    return lr * sigma ** 2 / (eigenvalues * (2 - lr * eigenvalues))
