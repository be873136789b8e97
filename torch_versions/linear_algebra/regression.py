r"""Linear regression with torch (lesson 1): Cholesky normal equations, ``torch.linalg.lstsq``, and gradient
descent with ``nn.Linear`` + ``torch.optim.SGD``. Twin of :mod:`from_scratch.linear_algebra.regression`.

Shapes: X (N, d), y (N,) or (N, k); solutions w (d,) or (d, k); ``LinearRegression.weight`` (k, d).
"""
from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from from_scratch.linear_algebra import regression as scratch_regression
from from_scratch.validation import check_positive, check_regression, check_steps
from .eigen import power_iteration

METHODS = scratch_regression.METHODS


def normal_equations(X: torch.Tensor, y: torch.Tensor, alpha: float = 0.0) -> torch.Tensor:
    r"""Solve :math:`(X^\top X+\alpha I)w=X^\top y` with ``torch.linalg.cholesky_ex`` + ``torch.cholesky_solve``."""
    check_regression(X, y)
    check_positive("alpha", alpha, allow_zero=True)
    G = X.mT @ X + alpha * torch.eye(X.shape[1], dtype=X.dtype, device=X.device)
    L, info = torch.linalg.cholesky_ex(G)
    if info.item() != 0:
        raise ValueError(f"X^T X + alpha I must be positive definite: X {tuple(X.shape)} has dependent columns; use alpha > 0")
    rhs = X.mT @ y
    w = torch.cholesky_solve(rhs[:, None] if y.ndim == 1 else rhs, L)
    return w[:, 0] if y.ndim == 1 else w


def least_squares_qr(X: torch.Tensor, y: torch.Tensor, alpha: float = 0.0) -> torch.Tensor:
    r""":math:`\min_w\|y-Xw\|^2+\alpha\|w\|^2` with ``torch.linalg.lstsq`` (QR-based; ridge by stacking
    :math:`\sqrt\alpha I` under X)."""
    check_regression(X, y)
    check_positive("alpha", alpha, allow_zero=True)
    d = X.shape[1]
    if alpha > 0:
        X = torch.cat([X, alpha ** 0.5 * torch.eye(d, dtype=X.dtype, device=X.device)])
        y = torch.cat([y, y.new_zeros((d,) + tuple(y.shape[1:]))])
    elif X.shape[0] < d:
        raise ValueError(f"X must have at least as many rows as columns for least squares, got shape {tuple(X.shape)}; use alpha > 0")
    w = torch.linalg.lstsq(X, y[:, None] if y.ndim == 1 else y).solution
    return w[:, 0] if y.ndim == 1 else w


class GDResult(NamedTuple):
    weight: torch.Tensor  # (k, d)
    bias: torch.Tensor  # (k,)
    losses: torch.Tensor  # (n_steps,)


def lipschitz_step(X: torch.Tensor, alpha: float = 0.0, k: int = 1) -> float:
    r"""Step 1/L with :math:`L=\frac{2}{Nk}\lambda_{\max}(\tilde X^\top\tilde X+\alpha\,\mathrm{diag}(1,\dots,1,0))`, :math:`\tilde X=[X\;1]`."""
    Xt = torch.cat([X, X.new_ones(X.shape[0], 1)], dim=1)
    penalty = X.new_ones(Xt.shape[1])
    penalty[-1] = 0  # the bias is not penalized
    G = Xt.mT @ Xt + alpha * torch.diag(penalty)
    lam = power_iteration(G, num_iters=10_000, tol=1e-6).eigenvalue
    return float(X.shape[0] * k / (2 * lam))


def gradient_descent_regression(X: torch.Tensor, y: torch.Tensor, lr: float | None = None, n_steps: int = 1000,
                                alpha: float = 0.0) -> GDResult:
    r"""Full-batch ``torch.optim.SGD`` on an ``nn.Linear`` from zero weights, loss
    :math:`\mathrm{MSE}+\frac{\alpha}{Nk}\|W\|^2` (the same objective and path as the scratch version)."""
    check_regression(X, y)
    check_positive("alpha", alpha, allow_zero=True)
    check_steps("n_steps", n_steps)
    Y = y[:, None] if y.ndim == 1 else y
    N, k = Y.shape
    lr = lipschitz_step(X, alpha, k) if lr is None else lr
    check_positive("lr", lr)
    model = nn.Linear(X.shape[1], k, dtype=X.dtype, device=X.device)
    nn.init.zeros_(model.weight)
    nn.init.zeros_(model.bias)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    losses = torch.empty(n_steps, dtype=X.dtype, device=X.device)
    for t in range(n_steps):
        opt.zero_grad(set_to_none=True)
        loss = F.mse_loss(model(X), Y) + alpha / (N * k) * model.weight.square().sum()
        loss.backward()
        opt.step()
        losses[t] = loss.detach()
    return GDResult(model.weight.detach(), model.bias.detach(), losses)


class LinearRegression(scratch_regression.LinearRegression):
    """Least squares / ridge with an intercept, ``method`` in ("cholesky", "qr", "gd"); ``weight`` (k, d),
    ``bias`` (k,). The method bodies are shared with :class:`from_scratch.linear_algebra.LinearRegression`; only
    the solvers bound here differ."""

    _solvers = {"cholesky": normal_equations, "qr": least_squares_qr}
    _gradient_descent = staticmethod(gradient_descent_regression)
