r"""Logistic regression (lesson 3): binary (sigmoid) and multinomial (softmax), L2-regularized as scikit-learn.

Model, for X (N, d) and labels y (N,) in [0, K): logits :math:`Z=XW^\top+b` in ``nn.Linear``'s layout, with
weight (1, d) and :math:`p=\sigma(z)` for two classes, or weight (K, d) and :math:`P=\operatorname{softmax}(Z)`.
scikit-learn's ``LogisticRegression(C)`` minimizes :math:`\tfrac12\|W\|_F^2+C\sum_i\ell_i` with the
cross-entropy :math:`\ell_i=-\log p_{i,y_i}` and an unpenalized intercept. We minimize the same objective divided
by :math:`CN` (same minimizer, O(1) gradients, so one learning rate fits any N):

.. math:: L(W,b)=\frac1N\sum_i\ell_i+\frac{\|W\|_F^2}{2CN}.

With the residual :math:`G=P-Y` (N, K) (binary: :math:`p-y`, (N, 1)):
:math:`\nabla_WL=\frac1N(G^\top X+W/C)`, :math:`\nabla_bL=\frac1N\sum_iG_i`, :math:`\nabla_XL=\frac1NGW`.
The Hessian in :math:`\theta=[W\ b]` (K, d+1), flattened row by row, with :math:`\tilde X=[X\ 1]`, is
:math:`\frac1N\sum_i(\operatorname{diag}p_i-p_ip_i^\top)\otimes\tilde x_i\tilde x_i^\top
+\frac1{CN}\operatorname{diag}(1,\dots,1,0)`
(binary: :math:`\frac1N\tilde X^\top S\tilde X+\dots`, :math:`S=\operatorname{diag}(p_i(1-p_i))`). Newton's step
:math:`\theta\leftarrow\theta-H^{-1}\nabla L` is, for two classes, iteratively reweighted least squares:
:math:`\theta_{new}=(\tilde X^\top S\tilde X+\Lambda/C)^{-1}\tilde X^\top Sz` with the working response
:math:`z=\tilde X\theta+S^{-1}(y-p)`.

Identifiability: softmax logits are unchanged by adding one vector to every row of :math:`[W\ b]`. The penalty
pins W (its minimizer has :math:`\sum_kw_k=0`), so with C finite the objective is strictly convex in W; the
intercepts stay free along :math:`b+c\mathbf 1`, a null direction of H. Newton adds :math:`\frac1N\mathbf u\mathbf u^\top`
(u = 1 on every intercept) to H — the gradient is orthogonal to u, so this is the pseudo-inverse step — and the
fit returns the symmetric intercepts :math:`\sum_kb_k=0`, scikit-learn's convention.

See also: :mod:`torch_versions.probability.logistic_regression`, ``lessons/03_probability_statistics.md``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from from_scratch.calculus.activations import sigmoid
from from_scratch.calculus.two_layer_net import log_softmax
from from_scratch.linear_algebra.eigen import power_iteration
from from_scratch.linear_algebra.layer import linear_backward, linear_forward
from from_scratch.linear_algebra.qr import cholesky, solve_triangular
from from_scratch.validation import (check_array, check_choice, check_integer_labels, check_labels, check_linear,
                                     check_matrix, check_positive, check_steps)

METHODS = ("newton", "gd")
MULTI_CLASS = ("auto", "multinomial")


class LogisticFit(NamedTuple):
    weight: np.ndarray  # (K, d); (1, d) for the binary model
    bias: np.ndarray  # (K,); (1,)
    losses: np.ndarray  # (iterations,): the objective at each iterate before its step


def _check_logistic(X, y, weight, bias, C: float) -> None:
    """Shapes and values shared by both implementations: X (N, d), weight (K, d) (K = 1: binary), bias (K,),
    y (N,) integer labels in [0, max(K, 2)), C > 0."""
    check_matrix("X", X)
    check_array("weight", weight, ndim=2)
    check_linear(X, weight, bias)
    check_labels("y", y, max(weight.shape[0], 2), X.shape[0])
    check_positive("C", C)


def _n_outputs(X, y, C: float, n_classes: int | None, multi_class: str) -> int:
    """Validate a fitting problem and return the number of logits: 1 for the binary model, else K."""
    check_matrix("X", X)
    check_integer_labels("y", y, X.shape[0])
    check_positive("C", C)
    check_choice("multi_class", multi_class, MULTI_CLASS)
    K = int(y.max()) + 1 if n_classes is None else n_classes
    if isinstance(K, bool) or not isinstance(K, (int, np.integer)) or K < 2:
        raise ValueError(f"n_classes must be an int >= 2 (logistic regression needs two classes), got {K!r}")
    check_labels("y", y, K, X.shape[0])
    return 1 if K == 2 and multi_class == "auto" else K


def _residual(Z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """:math:`G=P-Y` (N, K): the gradient of the summed cross-entropy w.r.t. the logits Z (N, K)."""
    if Z.shape[1] == 1:
        return sigmoid(Z) - y[:, None].astype(Z.dtype)
    G = np.exp(log_softmax(Z))
    G[np.arange(len(y)), y] -= 1
    return G


def _objective(Z: np.ndarray, y: np.ndarray, weight: np.ndarray, C: float) -> np.ndarray:
    r""":math:`\frac1N\sum_i\ell_i+\|W\|^2/(2CN)` from the logits; binary :math:`\ell=\log(1+e^z)-yz` without overflow."""
    if Z.shape[1] == 1:
        z = Z[:, 0]
        ce = np.logaddexp(0, z) - y.astype(Z.dtype) * z
    else:
        ce = -log_softmax(Z)[np.arange(len(y)), y]
    return ce.mean() + (weight * weight).sum() / (2 * C * len(y))


def logistic_loss(X: np.ndarray, y: np.ndarray, weight: np.ndarray, bias: np.ndarray, C: float) -> np.ndarray:
    r"""scikit-learn's objective divided by :math:`CN`: :math:`\frac1N\sum_i\ell_i+\frac{\|W\|_F^2}{2CN}`.

    X (N, d); y (N,) integer labels; weight (1, d) (sigmoid, y in {0, 1}) or (K, d) (softmax); bias (1,) or (K,).
    """
    _check_logistic(X, y, weight, bias, C)
    return _objective(linear_forward(X, weight, bias), y, weight, C)


def logistic_loss_backward(X: np.ndarray, y: np.ndarray, weight: np.ndarray, bias: np.ndarray, C: float,
                           grad_out: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""(grad_X, grad_weight, grad_bias) of :func:`logistic_loss`: the linear layer's backward of
    :math:`\bar Z=\frac{\bar L}N(P-Y)`, plus :math:`\bar L\,W/(CN)` on the weight."""
    N = X.shape[0]
    G = _residual(linear_forward(X, weight, bias), y) * (grad_out / N)  # (N, K)
    gX, gW, gb = linear_backward(X, weight, G)
    return gX, gW + grad_out * weight / (C * N), gb


def logistic_hessian(X: np.ndarray, y: np.ndarray, weight: np.ndarray, bias: np.ndarray, C: float) -> np.ndarray:
    r"""Hessian (K(d+1), K(d+1)) of :func:`logistic_loss` in :math:`\theta=[W\ b]` flattened row by row (module
    docstring); it does not depend on y. Multinomial: block-diagonal :math:`\tilde X^\top\operatorname{diag}(p_k)\tilde X`
    minus :math:`M^\top M` with :math:`M_{i,(k,a)}=p_{ik}\tilde x_{ia}`."""
    _check_logistic(X, y, weight, bias, C)
    N, d = X.shape
    K, D = weight.shape[0], d + 1
    Xt = np.hstack([X, np.ones((N, 1), dtype=X.dtype)])  # (N, D)
    Z = linear_forward(X, weight, bias)
    if K == 1:
        p = sigmoid(Z)  # (N, 1)
        H = (Xt * (p * (1 - p))).T @ Xt
    else:
        P = np.exp(log_softmax(Z))  # (N, K)
        M = (P[:, :, None] * Xt[:, None, :]).reshape(N, K * D)
        H = -(M.T @ M)
        for k in range(K):
            H[k * D:(k + 1) * D, k * D:(k + 1) * D] += (Xt * P[:, k:k + 1]).T @ Xt
    penalty = np.tile(np.r_[np.ones(d), 0.0], K).astype(X.dtype)  # the intercepts are not penalized
    return (H + np.diag(penalty / C)) / N


def _default_lr(X: np.ndarray, C: float, K: int) -> float:
    r"""1/L for the gradient's Lipschitz constant :math:`L\le c\,\lambda_{\max}(\tilde X^\top\tilde X)/N+1/(CN)`,
    c = 1/4 (sigmoid: :math:`p(1-p)\le\frac14`) or 1/2 (softmax: :math:`\operatorname{diag}p-pp^\top\preceq\frac12I`)."""
    Xt = np.hstack([X, np.ones((X.shape[0], 1), dtype=X.dtype)])
    lam = power_iteration(Xt.T @ Xt, num_iters=10_000, tol=1e-8).eigenvalue
    return float(1.0 / ((0.25 if K == 1 else 0.5) * lam / X.shape[0] + 1.0 / (C * X.shape[0])))


def fit_gradient_descent(X: np.ndarray, y: np.ndarray, C: float = 1.0, lr: float | None = None, n_steps: int = 1000,
                         n_classes: int | None = None, multi_class: str = "auto") -> LogisticFit:
    """Full-batch gradient descent on :func:`logistic_loss` from W = 0, b = 0 (``lr=None``: :func:`_default_lr`).

    ``n_classes`` defaults to max(y) + 1; two classes give the binary (sigmoid) model unless
    ``multi_class="multinomial"``. Converges linearly at rate about 1 - lr/(CN): standardize X."""
    K = _n_outputs(X, y, C, n_classes, multi_class)
    check_steps("n_steps", n_steps)
    lr = _default_lr(X, C, K) if lr is None else lr
    check_positive("lr", lr)
    W = np.zeros((K, X.shape[1]), dtype=X.dtype)
    b = np.zeros(K, dtype=X.dtype)
    losses = np.empty(n_steps, dtype=X.dtype)
    N = X.shape[0]
    for t in range(n_steps):
        Z = X @ W.T + b  # (N, K)
        losses[t] = _objective(Z, y, W, C)
        G = _residual(Z, y) / N
        W -= lr * (G.T @ X + W / (C * N))
        b -= lr * G.sum(0)
    return LogisticFit(W, b, losses)


def fit_newton(X: np.ndarray, y: np.ndarray, C: float = 1.0, n_iter: int = 100, tol: float = 1e-10,
               n_classes: int | None = None, multi_class: str = "auto") -> LogisticFit:
    r"""Damped Newton (IRLS for two classes) on :func:`logistic_loss` from zero: solve :math:`H\delta=-\nabla L` by
    Cholesky, halve the step until the Armijo condition :math:`L(\theta+t\delta)\le L+10^{-4}t\,\nabla L\cdot\delta`
    holds up to 100 ulps of L (near the optimum the decrease drowns in round-off), stop when
    :math:`\max|\nabla L|\le` ``tol``. The softmax model's intercepts are returned with sum 0."""
    K = _n_outputs(X, y, C, n_classes, multi_class)
    check_steps("n_iter", n_iter)
    check_positive("tol", tol, allow_zero=True)
    N, d = X.shape
    theta = np.zeros((K, d + 1), dtype=X.dtype)  # [W b]
    null = np.zeros((K, d + 1), dtype=X.dtype)
    null[:, -1] = 1  # the softmax intercepts' free direction
    null = null.ravel()
    loss = lambda th: _objective(X @ th[:, :-1].T + th[:, -1], y, th[:, :-1], C)  # noqa: E731
    losses = []
    for _ in range(n_iter):
        W, b = theta[:, :-1], theta[:, -1]
        losses.append(loss(theta))
        _, gW, gb = logistic_loss_backward(X, y, W, b, C)
        g = np.hstack([gW, gb[:, None]]).ravel()
        if np.abs(g).max() <= tol:
            break
        H = logistic_hessian(X, y, W, b, C)
        if K > 1:
            H += np.outer(null, null) / N
        L = cholesky(H)
        step = solve_triangular(L.T, solve_triangular(L, -g, lower=True), lower=False).reshape(K, d + 1)
        t, slope = 1.0, float(g @ step.ravel())
        slack = 100 * np.finfo(X.dtype).eps * abs(losses[-1])  # near the optimum the decrease is below round-off
        for _ in range(30):  # backtracking line search
            if loss(theta + t * step) <= losses[-1] + 1e-4 * t * slope + slack:
                break
            t *= 0.5
        theta = theta + t * step
    if K > 1:
        theta[:, -1] -= theta[:, -1].mean()
    return LogisticFit(theta[:, :-1].copy(), theta[:, -1].copy(), np.array(losses, dtype=X.dtype))


def _probabilities(scores: np.ndarray) -> np.ndarray:
    """Class probabilities (N, K) from logits (N, 1) (columns [1 - p, p]) or (N, K) (softmax)."""
    if scores.shape[1] == 1:
        p = sigmoid(scores[:, 0])
        return np.stack([1 - p, p], axis=1)
    return np.exp(log_softmax(scores))


class LogisticRegression:
    r"""scikit-learn-style classifier: ``fit``, ``decision_function``, ``predict_proba``, ``predict``.

    ``method`` "newton" (:func:`fit_newton`) or "gd" (:func:`fit_gradient_descent`); ``multi_class="auto"`` fits
    the sigmoid model for two classes and the softmax model otherwise. Labels are any integers (``classes_``,
    sorted). After :meth:`fit`: ``weight`` (1 or K, d), ``bias``, ``losses_``, ``n_iter_``; ``coef_`` and
    ``intercept_`` are scikit-learn's names for weight and bias. The torch twin subclasses this class and binds
    its own functions below.
    """

    _fitters = {"newton": fit_newton, "gd": fit_gradient_descent}
    _unique = staticmethod(np.unique)
    _probabilities = staticmethod(_probabilities)

    def __init__(self, C: float = 1.0, method: str = "newton", multi_class: str = "auto", n_iter: int = 100,
                 tol: float = 1e-10, lr: float | None = None, n_steps: int = 10_000) -> None:
        check_positive("C", C)
        check_choice("method", method, METHODS)
        check_choice("multi_class", multi_class, MULTI_CLASS)
        self.C, self.method, self.multi_class = C, method, multi_class
        self.n_iter, self.tol, self.lr, self.n_steps = n_iter, tol, lr, n_steps

    def fit(self, X, y):
        check_matrix("X", X)
        check_integer_labels("y", y, X.shape[0])
        self.classes_, idx = self._unique(y, return_inverse=True)
        K = len(self.classes_)
        if K < 2:
            raise ValueError(f"y must hold at least two classes, got only {self.classes_.tolist()}")
        fitter = self._fitters[self.method]
        knobs = (self.n_iter, self.tol) if self.method == "newton" else (self.lr, self.n_steps)
        self.weight, self.bias, self.losses_ = fitter(X, idx, self.C, *knobs, n_classes=K, multi_class=self.multi_class)
        self.n_iter_ = len(self.losses_)
        return self

    coef_ = property(lambda self: self.weight)
    intercept_ = property(lambda self: self.bias)

    def _logits(self, X):
        if not hasattr(self, "weight"):
            raise RuntimeError("LogisticRegression must be fitted before decision_function / predict_proba / predict")
        check_matrix("X", X)
        check_linear(X, self.weight, self.bias)
        return X @ self.weight.T + self.bias  # (N, 1) or (N, K)

    def decision_function(self, X):
        """Logits: (N,) for the binary model (the log-odds of ``classes_[1]``), else (N, K)."""
        Z = self._logits(X)
        return Z[:, 0] if Z.shape[1] == 1 else Z

    def predict_proba(self, X):
        """(N, K) class probabilities, columns in the order of ``classes_``."""
        return self._probabilities(self._logits(X))

    def predict(self, X):
        Z = self._logits(X)
        return self.classes_[(Z[:, 0] > 0) * 1 if Z.shape[1] == 1 else Z.argmax(1)]
