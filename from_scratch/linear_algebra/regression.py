r"""Linear regression (lesson 1): normal equations, QR least squares, ridge and gradient descent.

Model :math:`\hat y=Xw+b`. Least squares minimizes :math:`\|y-Xw\|^2`; setting the gradient
:math:`-2X^\top(y-Xw)` to zero gives the normal equations :math:`X^\top Xw=X^\top y`, solved by Cholesky.
QR solves the same problem without squaring the condition number: :math:`X=QR\Rightarrow Rw=Q^\top y`. Ridge adds
:math:`\alpha\|w\|^2`: :math:`(X^\top X+\alpha I)w=X^\top y`. Gradient descent minimizes the mean squared error
iteratively with step :math:`1/L`, L the gradient's Lipschitz constant.

Shapes: X (N, d), y (N,) or (N, k); solutions w (d,) or (d, k). :class:`LinearRegression` stores ``weight``
(k, d) and ``bias`` (k,) in ``nn.Linear``'s convention.

See also: :mod:`torch_versions.linear_algebra.regression`, ``lessons/01_linear_algebra.md``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from from_scratch.validation import check_matrix, check_positive, check_regression, check_steps
from .eigen import power_iteration
from .qr import cholesky, householder_qr, solve_triangular

METHODS = ("cholesky", "qr", "gd")


def normal_equations(X: np.ndarray, y: np.ndarray, alpha: float = 0.0) -> np.ndarray:
    r"""Solve :math:`(X^\top X+\alpha I)w=X^\top y` by Cholesky :math:`LL^\top` and two triangular solves."""
    check_regression(X, y)
    check_positive("alpha", alpha, allow_zero=True)
    G = X.T @ X + alpha * np.eye(X.shape[1], dtype=X.dtype)
    try:
        L = cholesky(G)
    except ValueError as err:
        raise ValueError(f"X^T X + alpha I must be positive definite: X {X.shape} has dependent columns; use alpha > 0 ({err})") from None
    return solve_triangular(L.T, solve_triangular(L, X.T @ y, lower=True), lower=False)


def least_squares_qr(X: np.ndarray, y: np.ndarray, alpha: float = 0.0) -> np.ndarray:
    r"""Solve :math:`\min_w\|y-Xw\|^2+\alpha\|w\|^2` by QR of :math:`X` (stacked on :math:`\sqrt\alpha I` for ridge)."""
    check_regression(X, y)
    check_positive("alpha", alpha, allow_zero=True)
    if alpha > 0:
        d = X.shape[1]
        X = np.vstack([X, np.sqrt(X.dtype.type(alpha)) * np.eye(d, dtype=X.dtype)])
        y = np.concatenate([y, np.zeros((d,) + y.shape[1:], dtype=y.dtype)])
    elif X.shape[0] < X.shape[1]:
        raise ValueError(f"X must have at least as many rows as columns for least squares, got shape {X.shape}; use alpha > 0")
    Q, R = householder_qr(X)
    return solve_triangular(R, Q.T @ y, lower=False)


def ridge_backward(X: np.ndarray, y: np.ndarray, w: np.ndarray, grad_w: np.ndarray, alpha: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    r"""Gradients (grad_X, grad_y) of the (ridge) least-squares solution w; alpha = 0 is ordinary least squares.

    Differentiating :math:`(X^\top X+\alpha I)w=X^\top y` gives, with :math:`z=(X^\top X+\alpha I)^{-1}\bar w` and
    residual :math:`r=y-Xw`: :math:`\bar y=Xz`, :math:`\bar X=rz^\top-Xzw^\top`.
    """
    L = cholesky(X.T @ X + alpha * np.eye(X.shape[1], dtype=X.dtype))
    z = solve_triangular(L.T, solve_triangular(L, grad_w, lower=True), lower=False)
    r = y - X @ w
    outer = np.outer if w.ndim == 1 else (lambda a, b: a @ b.T)
    return outer(r, z) - X @ outer(z, w), X @ z


class GDResult(NamedTuple):
    weight: np.ndarray  # (k, d)
    bias: np.ndarray  # (k,)
    losses: np.ndarray  # (n_steps,), loss before each step


def lipschitz_step(X: np.ndarray, alpha: float = 0.0, k: int = 1) -> float:
    r"""Step 1/L for the loss :math:`\frac{1}{Nk}(\|XW^\top+b-Y\|^2+\alpha\|W\|^2)`:
    :math:`L=\frac{2}{Nk}\lambda_{\max}(\tilde X^\top\tilde X+\alpha\,\mathrm{diag}(1,\dots,1,0))` with :math:`\tilde X=[X\;1]`, the top
    eigenvalue found by :func:`power_iteration`."""
    Xt = np.hstack([X, np.ones((X.shape[0], 1), dtype=X.dtype)])
    penalty = np.ones(Xt.shape[1], dtype=X.dtype)
    penalty[-1] = 0  # the bias is not penalized
    G = Xt.T @ Xt + alpha * np.diag(penalty)
    lam = power_iteration(G, num_iters=10_000, tol=1e-6).eigenvalue
    return float(X.shape[0] * k / (2 * lam))


def gradient_descent_regression(X: np.ndarray, y: np.ndarray, lr: float | None = None, n_steps: int = 1000,
                                alpha: float = 0.0) -> GDResult:
    r"""Full-batch gradient descent on :math:`\ell=\frac{1}{Nk}(\|XW^\top+b-Y\|^2+\alpha\|W\|^2)` from W = 0, b = 0.

    :math:`\nabla_W\ell=\frac{2}{Nk}(R^\top X+\alpha W)`, :math:`\nabla_b\ell=\frac{2}{Nk}\sum_nR_n`, R = prediction
    minus target. Its minimizer is the ridge solution with intercept. ``lr=None`` uses :func:`lipschitz_step`.
    """
    check_regression(X, y)
    check_positive("alpha", alpha, allow_zero=True)
    check_steps("n_steps", n_steps)
    Y = y[:, None] if y.ndim == 1 else y
    N, k = Y.shape
    lr = lipschitz_step(X, alpha, k) if lr is None else lr
    check_positive("lr", lr)
    W = np.zeros((k, X.shape[1]), dtype=X.dtype)
    b = np.zeros(k, dtype=X.dtype)
    losses = np.empty(n_steps, dtype=X.dtype)
    scale = 2.0 / (N * k)
    for t in range(n_steps):
        R = X @ W.T + b - Y
        losses[t] = ((R * R).sum() + alpha * (W * W).sum()) / (N * k)
        W -= lr * scale * (R.T @ X + alpha * W)
        b -= lr * scale * R.sum(0)
    return GDResult(W, b, losses)


class LinearRegression:
    r"""Least squares / ridge with an intercept, fitted by ``method`` in ("cholesky", "qr", "gd").

    Closed-form methods centre X and y so the intercept is not penalized (as scikit-learn's ``Ridge`` does);
    "gd" runs :func:`gradient_descent_regression`, which needs standardized features to converge in a few
    thousand steps (its rate is set by the condition number of :math:`[X\ 1]`). After :meth:`fit`: ``weight``
    (k, d), ``bias`` (k,). The torch twin subclasses this class and binds its own solvers below.
    """

    _solvers = {"cholesky": normal_equations, "qr": least_squares_qr}
    _gradient_descent = staticmethod(gradient_descent_regression)

    def __init__(self, method: str = "cholesky", alpha: float = 0.0, fit_intercept: bool = True,
                 lr: float | None = None, n_steps: int = 5000) -> None:
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        check_positive("alpha", alpha, allow_zero=True)
        self.method, self.alpha, self.fit_intercept, self.lr, self.n_steps = method, alpha, fit_intercept, lr, n_steps

    def fit(self, X, y):
        check_regression(X, y)
        self._vector_target = y.ndim == 1
        Y = y[:, None] if y.ndim == 1 else y
        if self.method == "gd":
            self.weight, self.bias, self.losses = self._gradient_descent(X, Y, self.lr, self.n_steps, self.alpha)
            return self
        x_mean, y_mean = X.mean(0), Y.mean(0)
        if not self.fit_intercept:
            x_mean, y_mean = 0 * x_mean, 0 * y_mean
        solve = self._solvers[self.method]
        self.weight = solve(X - x_mean, Y - y_mean, self.alpha).T
        self.bias = y_mean - self.weight @ x_mean
        return self

    def predict(self, X):
        if not hasattr(self, "weight"):
            raise RuntimeError("LinearRegression.predict called before fit")
        check_matrix("X", X)
        out = X @ self.weight.T + self.bias
        return out[:, 0] if self._vector_target else out
