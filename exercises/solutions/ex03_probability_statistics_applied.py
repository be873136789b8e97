r"""Worked solutions to ``exercises/03_probability_statistics.md``, problems 5-8 (models and losses).

NumPy only, built on :mod:`from_scratch.probability` (``logistic_loss``, ``logistic_hessian``, ``fit_newton``,
``LogisticRegression``, ``GaussianNB``, ``focal_loss`` and ``focal_loss_backward``, ``log_factorial``),
:mod:`from_scratch.linear_algebra.qr` and :mod:`from_scratch.gradcheck`. Problems 1-4 are in
:mod:`exercises.solutions.ex03_probability_statistics`. Checked against scikit-learn, scipy and torch autograd by
``tests/test_exercises_03_applied.py``.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from from_scratch.calculus.activations import sigmoid
from from_scratch.gradcheck import gradient_error, numerical_gradient
from from_scratch.linear_algebra.qr import cholesky, solve_triangular
from from_scratch.probability import (GaussianNB, LogisticFit, LogisticRegression, fit_newton, focal_loss,
                                      focal_loss_backward, log_factorial, logistic_hessian, logistic_loss, softplus)
from from_scratch.validation import (check_array, check_labels, check_linear, check_matrix, check_positive,
                                     check_probabilities, check_regression, check_steps)


def _spd_inverse(H: np.ndarray) -> np.ndarray:
    """:math:`H^{-1}=L^{-\\top}L^{-1}` for symmetric positive definite H, by Cholesky and two triangular solves."""
    L = cholesky(H)
    return solve_triangular(L.T, solve_triangular(L, np.eye(H.shape[0], dtype=H.dtype), lower=True), lower=False)


def _binary_labels(name: str, y: np.ndarray, n_rows: int) -> None:
    check_labels(name, y, 2, n_rows)
    if np.unique(y).size < 2:
        raise ValueError(f"{name} must contain both classes 0 and 1, got only {np.unique(y).tolist()}")


# --- Problem 5: MAP logistic regression is L2-regularized maximum likelihood ----------------------------------------

def neg_log_posterior(X: np.ndarray, y: np.ndarray, weight: np.ndarray, bias: np.ndarray, prior_var: float) -> float:
    r""":math:`-\log p(y\mid X,w,b)-\log\mathcal N(w;0,\tau^2I)` (flat prior on b), i.e.

    .. math:: \sum_i\ell_i+\frac{\|w\|^2}{2\tau^2}+\frac d2\log(2\pi\tau^2)
              =N\cdot\texttt{logistic\_loss}(X,y,w,b,C=\tau^2)+\text{const}:

    the log-posterior differs from scikit-learn's objective :math:`\tfrac12\|w\|^2+C\sum_i\ell_i` by the factor C and
    a constant, so the MAP estimate is the L2-regularized fit with :math:`C=\tau^2`. weight (1, d), bias (1,)."""
    check_positive("prior_var", prior_var)
    nll = X.shape[0] * logistic_loss(X, y, weight, bias, prior_var)  # validates X, y, weight and bias
    return float(nll + 0.5 * X.shape[1] * math.log(2 * math.pi * prior_var))


def map_logistic_regression(X: np.ndarray, y: np.ndarray, prior_var: float, tol: float = 1e-12) -> LogisticFit:
    r"""The MAP estimate under :math:`w\sim\mathcal N(0,\tau^2I)`: :func:`~from_scratch.probability.fit_newton`
    with :math:`C=\tau^2` (binary, y in {0, 1}). A wide prior (:math:`\tau^2\to\infty`) approaches the MLE, a
    narrow one shrinks w to 0."""
    check_positive("prior_var", prior_var)
    check_matrix("X", X)
    _binary_labels("y", y, X.shape[0])
    return fit_newton(X, y, C=prior_var, tol=tol, n_classes=2)


def laplace_covariance(X: np.ndarray, y: np.ndarray, weight: np.ndarray, bias: np.ndarray,
                       prior_var: float) -> np.ndarray:
    r"""Laplace approximation :math:`p(\theta\mid D)\approx\mathcal N(\theta_{MAP},H^{-1})` in :math:`\theta=[w\ b]`:
    H is the Hessian of :func:`neg_log_posterior`, :math:`\tilde X^\top\operatorname{diag}(p_i(1-p_i))\tilde X
    +\operatorname{diag}(1/\tau^2,\dots,1/\tau^2,0)` = N · ``logistic_hessian``. Returns :math:`H^{-1}` (d+1, d+1)."""
    check_positive("prior_var", prior_var)
    check_array("weight", weight, ndim=2)
    if weight.shape[0] != 1:
        raise ValueError(f"weight must be (1, d) (the binary model), got shape {weight.shape}")
    return _spd_inverse(X.shape[0] * logistic_hessian(X, y, weight, bias, prior_var))


def laplace_predictive(X: np.ndarray, weight: np.ndarray, bias: np.ndarray, covariance: np.ndarray) -> np.ndarray:
    r"""Posterior predictive
    :math:`\int\sigma(a)\,\mathcal N(a;\mu_a,s_a^2)\,da\approx\sigma\big(\mu_a/\sqrt{1+\pi s_a^2/8}\big)`
    (MacKay's probit approximation, :math:`\sigma(a)\approx\Phi(a\sqrt{\pi/8})`) with :math:`\mu_a=w^\top x+b`
    and :math:`s_a^2=\tilde x^\top\Sigma\tilde x`: X (N, d) -> (N,). Uncertain points are pulled towards 1/2."""
    check_matrix("X", X)
    check_linear(X, weight, bias)
    check_matrix("covariance", covariance, square=True)
    if covariance.shape[0] != X.shape[1] + 1:
        raise ValueError(f"covariance must be ({X.shape[1] + 1}, {X.shape[1] + 1}) for [w b], got {covariance.shape}")
    Xt = np.hstack([X, np.ones((X.shape[0], 1))])  # (N, d+1)
    mu = X @ weight[0] + bias[0]
    s2 = np.einsum("na,ab,nb->n", Xt, covariance, Xt)
    return sigmoid(mu / np.sqrt(1 + math.pi * s2 / 8))


# --- Problem 6: calibration ----------------------------------------------------------------------------------------

class ReliabilityDiagram(NamedTuple):
    confidence: np.ndarray  # (n_bins,) mean predicted probability per bin (NaN where empty)
    accuracy: np.ndarray  # (n_bins,) fraction of positives per bin (NaN where empty)
    counts: np.ndarray  # (n_bins,) samples per bin


def reliability_diagram(probs: np.ndarray, labels: np.ndarray, n_bins: int = 10) -> ReliabilityDiagram:
    r"""Bin the predicted probabilities of class 1 into ``n_bins`` equal bins :math:`[0,\frac1B],(\frac1B,\frac2B],\dots`
    (scikit-learn's ``calibration_curve(strategy="uniform")``) and compare, per bin, the mean prediction with the
    observed frequency of class 1. A calibrated model has :math:`P(y=1\mid\hat p=p)=p`: points on the diagonal."""
    check_probabilities("probs", probs)
    check_array("probs", probs, ndim=1)
    check_labels("labels", labels, 2, probs.shape[0])
    check_steps("n_bins", n_bins)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    idx = np.searchsorted(edges[1:-1], probs)  # bin of each sample, (N,)
    counts = np.bincount(idx, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        conf = np.bincount(idx, weights=probs, minlength=n_bins) / counts
        acc = np.bincount(idx, weights=labels.astype(float), minlength=n_bins) / counts
    return ReliabilityDiagram(conf, acc, counts)


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, n_bins: int = 10) -> float:
    r""":math:`\mathrm{ECE}=\sum_b\frac{n_b}N\,|\mathrm{acc}_b-\mathrm{conf}_b|` over the non-empty bins of
    :func:`reliability_diagram`. Even a calibrated model has ECE > 0 on finite data (the per-bin noise
    :math:`\approx\sqrt{p(1-p)/n_b}`), so compare models on one test set and one binning."""
    conf, acc, counts = reliability_diagram(probs, labels, n_bins)
    keep = counts > 0
    return float((counts[keep] * np.abs(acc[keep] - conf[keep])).sum() / counts.sum())


def temperature_scale(logits: np.ndarray, labels: np.ndarray, n_iter: int = 100, tol: float = 1e-12) -> float:
    r"""The temperature T minimizing the mean BCE of :math:`\sigma(z/T)` (Guo et al. 2017). In :math:`s=1/T` the
    loss :math:`f(s)=\frac1N\sum_i\operatorname{softplus}(sz_i)-y_isz_i` is convex, with
    :math:`f'(s)=\frac1N\sum_i(\sigma(sz_i)-y_i)z_i` and :math:`f''(s)=\frac1N\sum_i\sigma(1-\sigma)z_i^2>0`:
    Newton's method from s = 1, halving a step that does not decrease f. T > 1 softens an overconfident model."""
    check_array("logits", logits, ndim=1)
    _binary_labels("labels", labels, logits.shape[0])
    check_steps("n_iter", n_iter)
    y = labels.astype(float)
    f = lambda s: float(np.mean(softplus(s * logits) - y * s * logits))  # noqa: E731
    s = 1.0
    for _ in range(n_iter):
        p = sigmoid(s * logits)
        g, h = float(np.mean((p - y) * logits)), float(np.mean(p * (1 - p) * logits ** 2))
        if abs(g) <= tol or h <= 0:
            break
        step, fs = -g / h, f(s)
        while f(s + step) > fs + 1e-15 * abs(fs) and abs(step) > 1e-300:
            step /= 2
        s += step
    if not s > 0:
        raise ValueError("logits must be positively associated with labels (the optimal 1/T is <= 0)")
    return 1.0 / s


def calibration_comparison(X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray, y_test: np.ndarray,
                           n_bins: int = 10) -> dict[str, float]:
    r"""Test-set ECE of binary logistic regression (C = 1), Gaussian naive Bayes, and naive Bayes after temperature
    scaling fitted on the training set (key ``"temperature"`` holds that T). Naive Bayes adds one log-likelihood
    ratio per feature; with k correlated copies of one feature it counts the same evidence k times, so its
    log-odds are about k times too large: overconfident, and T ≈ k repairs it."""
    check_matrix("X_train", X_train)
    check_matrix("X_test", X_test)
    if X_test.shape[1] != X_train.shape[1]:
        raise ValueError(f"X_test must have {X_train.shape[1]} features like X_train, got shape {X_test.shape}")
    _binary_labels("y_train", y_train, X_train.shape[0])
    check_labels("y_test", y_test, 2, X_test.shape[0])
    lr = LogisticRegression(C=1.0).fit(X_train, y_train)
    nb = GaussianNB().fit(X_train, y_train)
    nb_logit = lambda X: np.diff(nb.predict_log_proba(X), axis=1)[:, 0]  # noqa: E731  log p1 - log p0
    T = temperature_scale(nb_logit(X_train), y_train)
    return {"logistic": expected_calibration_error(lr.predict_proba(X_test)[:, 1], y_test, n_bins),
            "naive_bayes": expected_calibration_error(sigmoid(nb_logit(X_test)), y_test, n_bins),
            "naive_bayes_temperature": expected_calibration_error(sigmoid(nb_logit(X_test) / T), y_test, n_bins),
            "temperature": T}


# --- Problem 7: the focal loss's gradient --------------------------------------------------------------------------

def focal_loss_grad(logits: np.ndarray, targets: np.ndarray, gamma: float = 2.0, alpha: float | None = None) -> np.ndarray:
    r"""Elementwise :math:`\partial\ell_i/\partial x_i` of :math:`\ell=-\alpha_t(1-p_t)^\gamma\log p_t` for hard
    targets y in {0, 1}. With :math:`s=2y-1`, :math:`p_t=\sigma(sx)` and :math:`dp_t/dx=s\,p_t(1-p_t)`:

    .. math:: \frac{\partial\ell}{\partial x}=s\,\alpha_t(1-p_t)^\gamma\big(\gamma\,p_t\log p_t-(1-p_t)\big),

    evaluated stably as :math:`\log p_t=-\operatorname{softplus}(-sx)`, :math:`1-p_t=\sigma(-sx)`. For
    :math:`\gamma=0`, :math:`\alpha_t=1` it is :math:`\sigma(x)-y`, the BCE gradient."""
    check_array("logits", logits)
    check_probabilities("targets", targets, binary=True)
    if targets.shape != logits.shape:
        raise ValueError(f"targets must have the shape of logits {logits.shape}, got {targets.shape}")
    check_positive("gamma", gamma, allow_zero=True)
    if alpha is not None and not 0 <= alpha <= 1:
        raise ValueError(f"alpha must lie in [0, 1] or be None, got {alpha!r}")
    s = 2 * targets - 1
    p_t, q = sigmoid(s * logits), sigmoid(-s * logits)  # q = 1 - p_t without cancellation
    log_p_t = -softplus(-s * logits)
    alpha_t = 1.0 if alpha is None else alpha * targets + (1 - alpha) * (1 - targets)
    return s * alpha_t * q ** gamma * (gamma * p_t * log_p_t - q)


def focal_gradient_ratio(p_t: np.ndarray, gamma: float) -> np.ndarray:
    r""":math:`|\partial_x\ell_{focal}|/|\partial_x\ell_{CE}|=(1-p_t)^{\gamma-1}\big((1-p_t)-\gamma\,p_t\log p_t\big)`
    for p_t in (0, 1). Near :math:`p_t=1`, :math:`-\log p_t\approx1-p_t`, so the ratio is
    :math:`\approx(1+\gamma)(1-p_t)^\gamma`: easy examples are down-weighted polynomially."""
    check_array("p_t", p_t)
    if ((p_t <= 0) | (p_t >= 1)).any():
        raise ValueError("p_t must lie strictly inside (0, 1)")
    check_positive("gamma", gamma, allow_zero=True)
    q = 1 - p_t
    return q ** (gamma - 1) * (q - gamma * p_t * np.log(p_t))


def focal_gradcheck(logits: np.ndarray, targets: np.ndarray, gamma: float = 2.0,
                    alpha: float | None = None) -> dict[str, float]:
    r"""``gradient_error`` against :func:`~from_scratch.gradcheck.numerical_gradient` of ``focal_loss(...,
    reduction="sum")``: for :func:`focal_loss_grad` (``"solution"``) and for the library's
    ``focal_loss_backward`` in the logits and in the (soft) targets (``"library_input"``, ``"library_target"``;
    the targets are moved to [0.05, 0.95] so that the central difference stays inside [0, 1])."""
    analytic = focal_loss_grad(logits, targets, gamma, alpha)
    soft = 0.05 + 0.9 * targets
    loss = lambda input, target: focal_loss(input, target, "sum", gamma, alpha)  # noqa: E731
    num = lambda t, wrt: numerical_gradient(loss, {"input": logits, "target": t}, wrt, (1.0,))  # noqa: E731
    lib = focal_loss_backward(logits, soft, 1.0, "sum", gamma, alpha)
    return {"solution": gradient_error(analytic, num(targets, "input")),
            "library_input": gradient_error(lib["input"], num(soft, "input")),
            "library_target": gradient_error(lib["target"], num(soft, "target"))}


# --- Problem 8: Poisson regression by Newton's method -------------------------------------------------------------

class PoissonFit(NamedTuple):
    weight: np.ndarray  # (1, d)
    bias: np.ndarray  # (1,)
    grad_norms: np.ndarray  # (iterations,) max |gradient| at each iterate, the last one at the returned fit


def _check_counts(X: np.ndarray, y: np.ndarray) -> None:
    check_regression(X, y)
    if y.ndim != 1 or (y < 0).any() or (y != np.round(y)).any():
        raise ValueError("y must be a 1-D array of non-negative integer counts")


def poisson_nll(X: np.ndarray, y: np.ndarray, weight: np.ndarray, bias: np.ndarray, alpha: float = 0.0) -> float:
    r"""Mean negative log-likelihood of the GLM :math:`y_i\sim\mathrm{Poisson}(\mu_i)`, :math:`\log\mu_i=\eta_i=w^\top x_i+b`
    (the log link), plus the ridge term: :math:`\frac1N\sum_i(e^{\eta_i}-y_i\eta_i+\log y_i!)+\frac\alpha2\|w\|^2`.
    weight (1, d), bias (1,)."""
    _check_counts(X, y)
    check_linear(X, weight, bias)
    check_positive("alpha", alpha, allow_zero=True)
    eta = X @ weight[0] + bias[0]
    with np.errstate(over="ignore"):
        return float(np.mean(np.exp(eta) - y * eta + log_factorial(y)) + 0.5 * alpha * (weight * weight).sum())


def poisson_regression_newton(X: np.ndarray, y: np.ndarray, alpha: float = 0.0, n_iter: int = 50,
                              tol: float = 1e-10) -> PoissonFit:
    r"""Damped Newton on :func:`poisson_nll` in :math:`\theta=[w\ b]`, with :math:`\tilde X=[X\ 1]`:
    :math:`\nabla=\frac1N\tilde X^\top(\mu-y)+\alpha[w;0]`, :math:`H=\frac1N\tilde X^\top\operatorname{diag}(\mu)
    \tilde X+\alpha\operatorname{diag}(1,\dots,1,0)`. As for logistic regression each step is a weighted least
    squares (IRLS, weights :math:`\mu_i`, working response :math:`\eta+(y-\mu)/\mu`). Start at w = 0,
    :math:`b=\log\bar y` (the intercept-only MLE); halve a step until the objective decreases (:math:`e^\eta`
    can overshoot); stop when :math:`\max|\nabla|\le` ``tol``. Converges quadratically near the optimum."""
    _check_counts(X, y)
    check_positive("alpha", alpha, allow_zero=True)
    check_steps("n_iter", n_iter)
    if y.sum() == 0:
        raise ValueError("y must contain at least one positive count (else the MLE is at log mu = -inf)")
    N, d = X.shape
    Xt = np.hstack([X, np.ones((N, 1))])  # (N, d+1)
    penalty = alpha * np.r_[np.ones(d), 0.0]
    theta = np.r_[np.zeros(d), math.log(y.mean())]
    obj = lambda th: poisson_nll(X, y, th[None, :d], th[d:], alpha)  # noqa: E731
    norms = []
    for _ in range(n_iter):
        mu = np.exp(Xt @ theta)
        g = Xt.T @ (mu - y) / N + penalty * theta
        norms.append(float(np.abs(g).max()))
        if norms[-1] <= tol:
            break
        H = (Xt * mu[:, None]).T @ Xt / N + np.diag(penalty)
        L = cholesky(H)
        step = solve_triangular(L.T, solve_triangular(L, -g, lower=True), lower=False)
        f0, t = obj(theta), 1.0
        while not obj(theta + t * step) <= f0 + 1e-4 * t * float(g @ step) + 1e-15 * abs(f0) and t > 1e-10:
            t /= 2
        theta = theta + t * step
    else:  # the loop ran out: record the gradient at the returned iterate
        mu = np.exp(Xt @ theta)
        norms.append(float(np.abs(Xt.T @ (mu - y) / N + penalty * theta).max()))
    return PoissonFit(theta[None, :d].copy(), theta[d:].copy(), np.array(norms))


def poisson_standard_errors(X: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    r"""Asymptotic standard errors of the unregularized MLE :math:`[w\ b]` (d+1,): the square roots of the diagonal
    of the inverse Fisher information :math:`(\tilde X^\top\operatorname{diag}(\mu)\tilde X)^{-1}` (for the
    canonical log link the observed and expected information coincide)."""
    check_matrix("X", X)
    check_linear(X, weight, bias)
    Xt = np.hstack([X, np.ones((X.shape[0], 1))])
    mu = np.exp(Xt @ np.r_[weight[0], bias])
    return np.sqrt(np.diag(_spd_inverse((Xt * mu[:, None]).T @ Xt)))
