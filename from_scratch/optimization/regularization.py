r"""Regularization (lesson 4): the L2 penalty, the L1 proximal operator, ISTA for the lasso and the elastic net,
and inverted dropout.

* L2 penalty (ridge, "weight decay" when added to the gradient): :math:`R(\theta)=\tfrac\lambda2\sum_k\|\theta_k\|^2`,
  :math:`\nabla R=\lambda\theta`. Added to the loss of an adaptive optimizer (``Adam(weight_decay=λ)``) it is
  rescaled by the preconditioner; decoupled decay (``AdamW``) is not -- the two coincide only for plain SGD.
* Soft thresholding, the proximal operator of :math:`t\|\cdot\|_1`:
  :math:`\operatorname{prox}_{t\|\cdot\|_1}(x)=\arg\min_z\tfrac12\|z-x\|^2+t\|z\|_1
  =\operatorname{sign}(x)\max(|x|-t,0)`,
  exactly 0 on :math:`|x|\le t`; derivative :math:`\mathbb 1[|x|>t]` (a subgradient choice at :math:`|x|=t`).
* Proximal gradient (ISTA) for :math:`F(w)=g(w)+h(w)` with smooth g and :math:`h=\alpha\rho\|w\|_1`:
  :math:`w_{t+1}=\operatorname{prox}_{\eta h}(w_t-\eta\nabla g(w_t))`. With
  :math:`g(w)=\frac1{2N}\|y-Xw\|^2+\frac{\alpha(1-\rho)}2\|w\|^2`, F is scikit-learn's ``ElasticNet(alpha,
  l1_ratio=ρ)`` objective (``Lasso(alpha)`` for ρ = 1). For :math:`\eta\le1/L`,
  :math:`L=\lambda_{\max}(X^\top X)/N+\alpha(1-\rho)`, F decreases monotonically and
  :math:`F(w_t)-F^*\le\|w_0-w^*\|^2/(2\eta t)`; linearly when g is strongly convex.
* Inverted dropout with an explicit keep-mask :math:`m\in\{0,1\}`: :math:`y=x\odot m/(1-p)`, so
  :math:`\mathbb E[y]=x` when :math:`P(m=1)=1-p`; :math:`\bar x=\bar y\odot m/(1-p)`.

See also: :mod:`torch_versions.optimization.regularization`, ``lessons/04_optimization.md``.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np

from from_scratch.linear_algebra.eigen import power_iteration
from from_scratch.validation import (check_array, check_fraction, check_positive, check_probabilities,
                                     check_regression, check_same_shape, check_steps)


class ProximalResult(NamedTuple):
    weight: np.ndarray  # (d,): the last iterate w_T
    objective: np.ndarray  # (n_steps + 1,): F(w_0) ... F(w_T)


def _as_list(params) -> list:
    """One array or an iterable of arrays -> a list (shared with the torch twin)."""
    return [params] if hasattr(params, "shape") else list(params)


def _check_l2(params: list, weight_decay: float) -> None:
    if not params:
        raise ValueError("params must hold at least one array, got an empty sequence")
    for i, p in enumerate(params):
        check_array(f"params[{i}]", p)
    check_positive("weight_decay", weight_decay, allow_zero=True)


def l2_penalty(params: np.ndarray | Sequence[np.ndarray], weight_decay: float) -> np.ndarray:
    r""":math:`\tfrac\lambda2\sum_k\|\theta_k\|^2` (a 0-d array) over one array or a sequence of arrays (any shapes)."""
    params = _as_list(params)
    _check_l2(params, weight_decay)
    return 0.5 * weight_decay * sum((p * p).sum() for p in params)


def l2_penalty_backward(params: np.ndarray | Sequence[np.ndarray], weight_decay: float,
                        grad_out: float = 1.0) -> list[np.ndarray]:
    r"""Gradients :math:`\bar\theta_k=\bar R\,\lambda\theta_k`, one per parameter (a list, even for one array)."""
    return [grad_out * weight_decay * p for p in _as_list(params)]


def _check_threshold(x, threshold: float) -> None:
    check_array("x", x)
    check_positive("threshold", threshold, allow_zero=True)


def soft_threshold(x: np.ndarray, threshold: float) -> np.ndarray:
    r""":math:`\operatorname{sign}(x)\max(|x|-t,0)` elementwise, for x of any shape and t >= 0 (exact zeros)."""
    _check_threshold(x, threshold)
    return np.where(x > threshold, x - threshold, np.where(x < -threshold, x + threshold, 0.0)).astype(x.dtype)


def soft_threshold_backward(x: np.ndarray, threshold: float, grad_out: np.ndarray) -> np.ndarray:
    r""":math:`\bar x=\bar y\,\mathbb 1[|x|>t]` (0 inside the dead zone, including its edges)."""
    return grad_out * (np.abs(x) > threshold)


def _check_elastic_net(X, y, alpha: float, l1_ratio: float, lr: float | None, n_steps: int) -> None:
    """X (N, d), y (N,), alpha >= 0, l1_ratio in [0, 1], lr > 0 (or None), n_steps >= 1 (shared with the twin)."""
    check_regression(X, y)
    check_array("y", y, ndim=1)
    check_positive("alpha", alpha, allow_zero=True)
    check_fraction("l1_ratio", l1_ratio)
    if lr is not None:
        check_positive("lr", lr)
    check_steps("n_steps", n_steps)


def _lipschitz(X: np.ndarray, l2: float) -> float:
    r""":math:`L=\lambda_{\max}(X^\top X)/N+\lambda_2`, the smooth part's gradient Lipschitz constant (lesson 1's
    power iteration)."""
    return float(power_iteration(X.T @ X / X.shape[0], num_iters=10_000, tol=1e-10).eigenvalue) + l2


def _objective(X, y, w, l1: float, l2: float):
    r = y - X @ w
    return 0.5 * (r @ r) / X.shape[0] + l1 * np.abs(w).sum() + l2_penalty(w, l2)


def elastic_net(X: np.ndarray, y: np.ndarray, alpha: float, l1_ratio: float = 0.5, lr: float | None = None,
                n_steps: int = 1000) -> ProximalResult:
    r"""Proximal gradient descent (ISTA) from :math:`w_0=0` on scikit-learn's ElasticNet objective

    .. math:: F(w)=\frac1{2N}\|y-Xw\|^2+\alpha\rho\|w\|_1+\frac{\alpha(1-\rho)}2\|w\|^2,

    X (N, d), y (N,); no intercept (scikit-learn's ``fit_intercept=False``). Each step is a gradient step on the
    smooth part (least squares + the L2 penalty, :func:`l2_penalty_backward`) then :func:`soft_threshold` with
    :math:`\eta\alpha\rho`. ``lr=None``: :math:`\eta=1/L`, :math:`L=\lambda_{\max}(X^\top X)/N+\alpha(1-\rho)`.
    """
    _check_elastic_net(X, y, alpha, l1_ratio, lr, n_steps)
    l1, l2 = alpha * l1_ratio, alpha * (1 - l1_ratio)
    lr = 1.0 / _lipschitz(X, l2) if lr is None else lr
    N = X.shape[0]
    w = np.zeros(X.shape[1], dtype=X.dtype)
    objective = np.empty(n_steps + 1, dtype=X.dtype)
    for t in range(n_steps):
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported below, once
            objective[t] = _objective(X, y, w, l1, l2)
            grad = -(X.T @ (y - X @ w)) / N + l2_penalty_backward(w, l2)[0]  # (d,): nabla g(w_t)
            z = w - lr * grad
        if not np.isfinite(z).all():
            raise FloatingPointError(f"proximal gradient diverged at step {t + 1} (lr={lr}); use lr <= 1/L")
        w = soft_threshold(z, lr * l1)
    objective[n_steps] = _objective(X, y, w, l1, l2)
    return ProximalResult(w, objective)


def ista(X: np.ndarray, y: np.ndarray, alpha: float, lr: float | None = None, n_steps: int = 1000) -> ProximalResult:
    r"""ISTA for the lasso :math:`\frac1{2N}\|y-Xw\|^2+\alpha\|w\|_1` (scikit-learn's ``Lasso(alpha)``):
    :func:`elastic_net` with ``l1_ratio=1``. ``lr=None``: :math:`1/\lambda_{\max}(X^\top X/N)`."""
    return elastic_net(X, y, alpha, 1.0, lr, n_steps)


def _check_dropout(x, p: float, mask) -> None:
    """x any shape; p in [0, 1); mask of x's shape holding 0/1 (shared with the twin)."""
    check_array("x", x)
    check_fraction("p", p)
    if p >= 1:
        raise ValueError(f"p must lie in [0, 1) (p = 1 drops everything and 1/(1-p) is infinite), got {p!r}")
    check_probabilities("mask", mask, binary=True)
    check_same_shape("mask", mask, "x", x)


def dropout(x: np.ndarray, p: float, mask: np.ndarray) -> np.ndarray:
    r"""Inverted dropout with a given keep-mask: :math:`y=x\odot m/(1-p)` (m = 1 keeps, 0 drops); drawing
    :math:`m\sim\mathrm{Bernoulli}(1-p)` gives :math:`\mathbb E[y]=x`, so evaluation needs no rescaling."""
    _check_dropout(x, p, mask)
    return x * mask / (1 - p)


def dropout_backward(x: np.ndarray, p: float, mask: np.ndarray, grad_out: np.ndarray) -> np.ndarray:
    r""":math:`\bar x=\bar y\odot m/(1-p)`: dropped units pass no gradient."""
    return grad_out * mask / (1 - p)
