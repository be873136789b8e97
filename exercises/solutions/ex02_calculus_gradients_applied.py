r"""Worked solutions to ``exercises/02_calculus_gradients.md``, problems 5-8 (gradients at work).

NumPy only, built on :mod:`from_scratch.calculus` (linear layers and activations with their backward passes,
``log_softmax``, ``gradient_descent``, ``hessian_vector_product``) and :mod:`from_scratch.gradcheck`.
Problems 1-4 are in :mod:`exercises.solutions.ex02_calculus_gradients`. Checked against torch autograd,
``torch.autograd.functional.hessian`` and closed forms by ``tests/test_exercises_02.py``.
"""
from __future__ import annotations

import math
import re
from typing import Callable, NamedTuple

import numpy as np

from from_scratch.calculus import activation as get_activation
from from_scratch.calculus import gradient_descent, hessian_vector_product, log_softmax, rosenbrock_backward
from from_scratch.gradcheck import gradient_error, numerical_gradient
from from_scratch.linear_algebra.layer import linear_backward, linear_forward
from from_scratch.validation import (check_array, check_labels, check_matrix, check_positive, check_steps,
                                     check_symmetric)

# --- Problem 5: backprop through a deeper network with a squared-error loss ----------------------------------------


def _layers(params: dict[str, np.ndarray]) -> int:
    """Number L of layers fc1 ... fcL in a state-dict-like mapping, each with (out, in) weight and (out,) bias."""
    names = {m.group(1) for k in params if (m := re.fullmatch(r"fc(\d+)\.(weight|bias)", k))}
    L = len(names)
    expected = {f"fc{i}.{p}" for i in range(1, L + 1) for p in ("weight", "bias")}
    if L == 0 or set(params) != expected:
        raise ValueError(f"params must hold exactly fc1.weight, fc1.bias, ..., fcL.bias, got {sorted(params)}")
    return L


def mse_loss(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    r""":math:`\ell=\frac1{NK}\sum_{n,k}(\hat y_{nk}-y_{nk})^2` for pred and target (N, K) (``F.mse_loss``'s mean)."""
    check_array("pred", pred)
    check_array("target", target)
    if pred.shape != target.shape:
        raise ValueError(f"target must have the shape of pred {pred.shape}, got {target.shape}")
    return np.mean((pred - target) ** 2)


def mse_loss_backward(pred: np.ndarray, target: np.ndarray, grad_out: float = 1.0) -> np.ndarray:
    r""":math:`\bar{\hat y}=\frac{2\bar\ell}{NK}(\hat y-y)`."""
    return 2.0 * grad_out * (pred - target) / pred.size


def mlp_mse_loss(x: np.ndarray, target: np.ndarray, params: dict[str, np.ndarray], activation: str = "tanh") -> np.ndarray:
    r"""MSE of an L-layer perceptron :math:`a_0=x`, :math:`z_l=a_{l-1}W_l^\top+b_l`, :math:`a_l=\phi(z_l)` for
    l < L, output :math:`z_L` (no activation); x (N, D), target (N, K), params ``fc{l}.weight`` (out, in) and
    ``fc{l}.bias`` (out,), the state dict of a torch module with attributes fc1 ... fcL."""
    return _forward(x, target, params, activation)[0]


def _forward(x, target, params, activation):
    check_matrix("x", x)
    L = _layers(params)
    act = get_activation(activation)[0]
    zs, a = [], x
    for l in range(1, L + 1):
        zs.append(linear_forward(a, params[f"fc{l}.weight"], params[f"fc{l}.bias"]))  # (N, out_l)
        a = act(zs[-1]) if l < L else zs[-1]
    return mse_loss(a, target), zs


def mlp_mse_backward(x: np.ndarray, target: np.ndarray, params: dict[str, np.ndarray], activation: str = "tanh",
                     grad_out: float = 1.0) -> dict[str, np.ndarray]:
    r"""Gradients of :func:`mlp_mse_loss` for x and every parameter, keys as in ``params`` plus ``"x"``.

    From the top: :math:`\bar z_L=\frac{2\bar\ell}{NK}(z_L-y)`; for l = L ... 1:
    :math:`\bar W_l=\bar z_l^\top a_{l-1}`, :math:`\bar b_l=\sum_n\bar z_l`, :math:`\bar a_{l-1}=\bar z_lW_l`, and
    below the top :math:`\bar z_{l-1}=\bar a_{l-1}\odot\phi'(z_{l-1})`. Only the first line depends on the loss.
    """
    _, zs = _forward(x, target, params, activation)
    act, act_backward = get_activation(activation)
    L = len(zs)
    grads: dict[str, np.ndarray] = {}
    g = mse_loss_backward(zs[-1], target, grad_out)  # d loss / d z_L, (N, K)
    for l in range(L, 0, -1):
        a_prev = x if l == 1 else act(zs[l - 2])
        g_a, grads[f"fc{l}.weight"], grads[f"fc{l}.bias"] = linear_backward(a_prev, params[f"fc{l}.weight"], g)
        g = g_a if l == 1 else act_backward(zs[l - 2], g_a)
    grads["x"] = g
    return grads


def mlp_gradcheck(x: np.ndarray, target: np.ndarray, params: dict[str, np.ndarray], activation: str = "tanh") -> dict[str, float]:
    """gradient_error of every hand-written gradient against :func:`from_scratch.gradcheck.numerical_gradient`."""
    analytic = mlp_mse_backward(x, target, params, activation)
    inputs = {"x": x, **{k.replace(".", "_"): v for k, v in params.items()}}
    loss = lambda **kw: mlp_mse_loss(kw["x"], target, {k: kw[k.replace(".", "_")] for k in params}, activation)  # noqa: E731
    return {k: gradient_error(g, numerical_gradient(loss, inputs, k.replace(".", "_"), (1.0,))) for k, g in analytic.items()}


# --- Problem 6: the step size on a quadratic -------------------------------------------------------------------------

def _spd_eigenvalues(A: np.ndarray) -> np.ndarray:
    check_symmetric("A", A)
    lam = np.linalg.eigvalsh(A)
    if lam[0] <= 0:
        raise ValueError(f"A must be positive definite, got smallest eigenvalue {lam[0]:.3g}")
    return lam


def lr_contraction(A: np.ndarray, lr: float) -> float:
    r"""Predicted worst-case contraction of gradient descent on :math:`\tfrac12x^\top Ax-b^\top x`:
    :math:`e_{t+1}=(I-\eta A)e_t`, so :math:`\|e_t\|\le\rho^t\|e_0\|` with :math:`\rho(\eta)=\max_i|1-\eta\lambda_i|
    =\max(|1-\eta\lambda_{\min}|,|1-\eta\lambda_{\max}|)`; :math:`\rho<1` iff :math:`0<\eta<2/\lambda_{\max}`."""
    lam = _spd_eigenvalues(A)
    check_positive("lr", lr)
    return float(max(abs(1 - lr * lam[0]), abs(1 - lr * lam[-1])))


def optimal_lr(A: np.ndarray) -> tuple[float, float]:
    r"""(:math:`\eta^\ast`, :math:`\rho^\ast`): :math:`\rho(\eta)` is smallest where the two ends balance,
    :math:`1-\eta\lambda_{\min}=\eta\lambda_{\max}-1`, i.e. :math:`\eta^\ast=\frac2{\lambda_{\min}+\lambda_{\max}}`,
    :math:`\rho^\ast=\frac{\kappa-1}{\kappa+1}` with :math:`\kappa=\lambda_{\max}/\lambda_{\min}`."""
    lam = _spd_eigenvalues(A)
    kappa = lam[-1] / lam[0]
    return float(2 / (lam[0] + lam[-1])), float((kappa - 1) / (kappa + 1))


def measured_contraction(A: np.ndarray, b: np.ndarray, x0: np.ndarray, lr: float, n_steps: int = 200) -> float:
    r"""The contraction per step of :func:`~from_scratch.calculus.gradient_descent` on the quadratic, measured
    as :math:`(\|e_T\|/\|e_{T/2}\|)^{2/T}` with :math:`e_t=x_t-A^{-1}b`, over the steps whose error is still
    above round-off (``x0`` should have a component along the slowest eigenvector, as a random one does)."""
    _spd_eigenvalues(A)
    x_star = np.linalg.solve(A, b)
    errors = np.linalg.norm(gradient_descent("quadratic", x0, lr, n_steps, A=A, b=b).trajectory - x_star, axis=1)
    above = np.flatnonzero(errors > 1e-11 * max(1.0, float(np.linalg.norm(x_star))))
    last = above[-1] if above.size else 0
    if last < 4:
        raise ValueError(f"the error reached round-off within {last} steps; use a smaller lr or a farther x0")
    first = last // 2
    return float((errors[last] / errors[first]) ** (1 / (last - first)))


# --- Problem 7: softmax cross-entropy and label smoothing ----------------------------------------------------------

def _targets(logits: np.ndarray, labels: np.ndarray, label_smoothing: float) -> np.ndarray:
    check_matrix("logits", logits)
    check_labels("labels", labels, logits.shape[1], logits.shape[0])
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must lie in [0, 1], got {label_smoothing!r}")
    N, C = logits.shape
    q = np.full((N, C), label_smoothing / C, dtype=logits.dtype)
    q[np.arange(N), labels] += 1.0 - label_smoothing
    return q  # (N, C), rows sum to 1


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray, label_smoothing: float = 0.0) -> np.ndarray:
    r""":math:`\ell=-\frac1N\sum_n\sum_cq_{nc}\log p_{nc}` with :math:`p=\operatorname{softmax}(z)` and the smoothed
    target :math:`q=(1-\alpha)\,\mathrm{onehot}(y)+\alpha/C` (``F.cross_entropy(..., label_smoothing=alpha)``)."""
    q = _targets(logits, labels, label_smoothing)
    return -(q * log_softmax(logits)).sum() / logits.shape[0]


def softmax_cross_entropy_backward(logits: np.ndarray, labels: np.ndarray, label_smoothing: float = 0.0,
                                   grad_out: float = 1.0) -> np.ndarray:
    r""":math:`\partial\ell/\partial z_{nc}=\frac1N(p_{nc}-q_{nc})`: from :math:`\partial\log p_{nj}/\partial z_{nc}
    =\delta_{jc}-p_{nc}` and :math:`\sum_jq_{nj}=1`. Each row sums to zero; it vanishes only where p = q, which
    for :math:`\alpha=0` needs infinite logits."""
    q = _targets(logits, labels, label_smoothing)
    return grad_out * (np.exp(log_softmax(logits)) - q) / logits.shape[0]


def softmax_cross_entropy_hessian(logits: np.ndarray) -> np.ndarray:
    r"""Hessian of :func:`softmax_cross_entropy` in the logits, block-diagonal over samples: blocks (N, C, C)
    :math:`\frac1N(\operatorname{diag}p_n-p_np_n^\top)`. Positive semi-definite (the loss is convex in z), with
    :math:`\mathbf 1` in its null space, and independent of the labels and of :math:`\alpha`."""
    check_matrix("logits", logits)
    p = np.exp(log_softmax(logits))  # (N, C)
    return (p[:, :, None] * np.eye(logits.shape[1]) - p[:, :, None] * p[:, None, :]) / logits.shape[0]


def smoothed_logit_gap(label_smoothing: float, n_classes: int) -> float:
    r"""The logit margin :math:`z_y-z_{c\ne y}` at which the smoothed loss is stationary (p = q):
    :math:`e^g/(e^g+C-1)=1-\alpha+\alpha/C` gives :math:`g=\log\big(1+\frac{C(1-\alpha)}{\alpha}\big)`;
    :math:`+\infty` for :math:`\alpha=0` (hard labels push the logits apart for ever)."""
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must lie in [0, 1], got {label_smoothing!r}")
    check_steps("n_classes", n_classes)
    if n_classes < 2:
        raise ValueError(f"n_classes must be >= 2, got {n_classes}")
    return math.inf if label_smoothing == 0 else math.log1p(n_classes * (1 - label_smoothing) / label_smoothing)


# --- Problem 8: curvature of the Rosenbrock valley; Newton vs gradient descent ---------------------------------------

def hessian_from_hvps(f: Callable[[np.ndarray], float] | None, x: np.ndarray,
                      grad: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    r"""The n x n Hessian as n Hessian-vector products :math:`He_j` (:func:`~from_scratch.calculus.hessian_vector_product`),
    symmetrized :math:`\tfrac12(H+H^\top)`. With an exact ``grad`` each column is a central difference of it."""
    check_array("x", x, ndim=1)
    if f is None and grad is None:
        raise ValueError("give f or grad (the exact gradient)")
    eye = np.eye(x.shape[0], dtype=x.dtype)
    H = np.stack([hessian_vector_product(f, x, e, grad=grad) for e in eye], axis=1)
    return (H + H.T) / 2


class Curvature(NamedTuple):
    hessian: np.ndarray  # (n, n)
    eigenvalues: np.ndarray  # (n,), ascending
    condition_number: float


def rosenbrock_curvature(x: np.ndarray, a: float = 1.0, b: float = 100.0) -> Curvature:
    r"""Hessian of :func:`~from_scratch.calculus.rosenbrock` at x, its eigenvalues and :math:`\kappa=\lambda_{\max}/\lambda_{\min}`.
    At the 2-D minimum :math:`(a,a^2)`: :math:`H=\begin{pmatrix}2+8a^2b&-4ab\\-4ab&2b\end{pmatrix}`, for a=1, b=100
    eigenvalues 0.3994 and 1001.6, :math:`\kappa\approx2508`."""
    H = hessian_from_hvps(None, x, grad=lambda z: rosenbrock_backward(z, 1.0, a, b))
    lam = np.linalg.eigvalsh(H)
    return Curvature(H, lam, float(lam[-1] / lam[0]) if lam[0] > 0 else math.inf)


def newton_method(grad: Callable[[np.ndarray], np.ndarray], hess: Callable[[np.ndarray], np.ndarray], x0: np.ndarray,
                  tol: float = 1e-12, max_steps: int = 100) -> np.ndarray:
    r"""Pure Newton :math:`x_{k+1}=x_k-H(x_k)^{-1}\nabla f(x_k)` (solve, never invert) until the step is below
    ``tol`` times :math:`\max(1,\|x\|)`; returns the trajectory (k + 1, n). Quadratic convergence near a minimum
    with H positive definite; no line search, so far from it the steps may go anywhere."""
    check_array("x0", x0, ndim=1)
    check_positive("tol", tol)
    check_steps("max_steps", max_steps)
    xs = [x0.astype(np.float64)]
    for _ in range(max_steps):
        step = np.linalg.solve(hess(xs[-1]), grad(xs[-1]))
        xs.append(xs[-1] - step)
        if np.linalg.norm(step) <= tol * max(1.0, float(np.linalg.norm(xs[-1]))):
            break
    return np.array(xs)


class NewtonVsDescent(NamedTuple):
    newton_steps: int | None  # first k with ||x_k - x*|| <= tol (None: never, within the budget)
    descent_steps: int | None
    descent_rate: float  # measured ||e_{t+1}|| / ||e_t|| at the end of the descent run
    predicted_rate: float  # 1 - lr * lambda_min(H(x*)), the slow mode near the minimum


def newton_vs_gradient_descent(x0: np.ndarray, lr: float = 1e-3, tol: float = 1e-4, max_steps: int = 30000) -> NewtonVsDescent:
    r"""Steps to reach :math:`\|x-x^\ast\|\le` ``tol`` on the Rosenbrock function (a=1, b=100, :math:`x^\ast=\mathbf 1`)
    for Newton's method and for gradient descent with step ``lr``. Near :math:`x^\ast` descent contracts by
    :math:`1-\eta\lambda_{\min}` per step, so it needs about :math:`\kappa\log(1/\mathrm{tol})` steps at
    :math:`\eta\approx1/\lambda_{\max}`; Newton rescales every direction by its curvature."""
    check_array("x0", x0, ndim=1)
    check_positive("tol", tol)
    check_positive("lr", lr)
    check_steps("max_steps", max_steps)
    grad = lambda z: rosenbrock_backward(z, 1.0)  # noqa: E731
    x_star = np.ones_like(x0)
    first = lambda errs: int(np.argmax(errs <= tol)) if (errs <= tol).any() else None  # noqa: E731
    newton = newton_method(grad, lambda z: hessian_from_hvps(None, z, grad=grad), x0, max_steps=100)
    descent = gradient_descent("rosenbrock", x0, lr, max_steps).trajectory
    errs = np.linalg.norm(descent - x_star, axis=1)
    lam_min = rosenbrock_curvature(x_star).eigenvalues[0]
    return NewtonVsDescent(first(np.linalg.norm(newton - x_star, axis=1)), first(errs), float(errs[-1] / errs[-2]),
                           float(1 - lr * lam_min))
