r"""Worked solutions to ``exercises/04_optimization.md``, problems 1-4 (optimizers and their step sizes).

NumPy only, built on :mod:`from_scratch.optimization.optimizers` (the :class:`Optimizer` base with torch.optim's
param groups and state) and lesson 2's :mod:`from_scratch.calculus.descent` (``quadratic``,
``quadratic_backward``). Problems 5-8 (training loops and regularization paths) are in
:mod:`exercises.solutions.ex04_optimization_applied`. Checked against ``torch.optim``, closed forms and theory by
``tests/test_exercises_04.py``.
"""
from __future__ import annotations

import math
from typing import Any, Iterable, NamedTuple

import numpy as np

from from_scratch.calculus.descent import quadratic, quadratic_backward
from from_scratch.optimization.optimizers import Optimizer
from from_scratch.validation import check_array, check_positive, check_steps, check_symmetric


def _lerp(avg: np.ndarray, x: np.ndarray, weight: float) -> None:
    """In place ``avg <- avg + weight (x - avg)``, as ``torch.lerp`` writes it (from x for weight >= 1/2)."""
    if weight < 0.5:
        avg += weight * (x - avg)
    else:
        avg[...] = x - (x - avg) * (1 - weight)


# --- Problem 1: two more optimizers on the Optimizer base ------------------------------------------------------------

class Adamax(Optimizer):
    r"""Adamax (Kingma & Ba 2015, sec. 7.1), as ``torch.optim.Adamax``: Adam with the :math:`\ell_2` norm of the past
    gradients replaced by a decaying :math:`\ell_\infty` norm,

    .. math::
        m_t=\beta_1m_{t-1}+(1-\beta_1)g_t,\qquad u_t=\max(\beta_2u_{t-1},\ |g_t|+\epsilon),\qquad
        \theta_t=\theta_{t-1}-\frac{\eta}{1-\beta_1^t}\,\frac{m_t}{u_t}.

    :math:`u_t` needs no bias correction: a max is not pulled towards its zero start. :math:`\epsilon` sits inside
    the max (torch's choice), ``weight_decay`` is an L2 term added to :math:`g_t`. State: ``step``, ``exp_avg``,
    ``exp_inf``.
    """

    def __init__(self, params: Iterable[Any], lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0) -> None:
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay))

    def _update(self, p, g, state, group):
        beta1, beta2 = group["betas"]
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(p), exp_inf=np.zeros_like(p))
        state["step"] += 1
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p
        _lerp(state["exp_avg"], g, 1 - beta1)
        np.maximum(state["exp_inf"] * beta2, np.abs(g) + group["eps"], out=state["exp_inf"])
        p -= group["lr"] / (1 - beta1 ** state["step"]) * (state["exp_avg"] / state["exp_inf"])


class NAdam(Optimizer):
    r"""NAdam (Dozat 2016), as ``torch.optim.NAdam``: Adam with a Nesterov look-ahead on the first moment and a
    momentum schedule :math:`\mu_t=\beta_1\bigl(1-\tfrac12\,0.96^{t\psi}\bigr)` (:math:`\psi` = ``momentum_decay``):

    .. math::
        \Pi_t=\prod_{s\le t}\mu_s,\qquad d_t=\sqrt{v_t/(1-\beta_2^t)}+\epsilon,\qquad
        \theta_t=\theta_{t-1}-\eta\frac{1-\mu_t}{1-\Pi_t}\frac{g_t}{d_t}
        -\eta\frac{\mu_{t+1}}{1-\Pi_t\mu_{t+1}}\frac{m_t}{d_t}

    with Adam's :math:`m_t, v_t`. The two terms are the bias-corrected mix of the current gradient and the NEXT
    step's momentum (the look-ahead). ``decoupled_weight_decay=True`` shrinks :math:`\theta` by :math:`1-\eta\lambda`
    first (as AdamW). State: ``step``, ``mu_product`` (:math:`\Pi_t`, a Python float here; torch keeps it as a
    0-d tensor of the default dtype, float32 unless ``torch.set_default_dtype(torch.float64)``), ``exp_avg``,
    ``exp_avg_sq``.
    """

    def __init__(self, params: Iterable[Any], lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False) -> None:
        check_positive("momentum_decay", momentum_decay, allow_zero=True)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay))

    def _update(self, p, g, state, group):
        (beta1, beta2), lr, wd, psi = group["betas"], group["lr"], group["weight_decay"], group["momentum_decay"]
        if not state:
            state.update(step=0, mu_product=1.0, exp_avg=np.zeros_like(p), exp_avg_sq=np.zeros_like(p))
        state["step"] += 1
        t = float(state["step"])
        if wd != 0:
            if group["decoupled_weight_decay"]:
                p *= 1 - lr * wd
            else:
                g = g + wd * p
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        state["mu_product"] *= mu
        m, v = state["exp_avg"], state["exp_avg_sq"]
        _lerp(m, g, 1 - beta1)
        v *= beta2
        v += (1 - beta2) * (g * g)
        denom = np.sqrt(v / (1 - beta2 ** t)) + group["eps"]
        p += (-lr * (1 - mu) / (1 - state["mu_product"])) * (g / denom)
        p += (-lr * mu_next / (1 - state["mu_product"] * mu_next)) * (m / denom)


# --- Problem 2: Adam's bias correction ------------------------------------------------------------------------------

class AdamTrace(NamedTuple):
    updates: np.ndarray  # (T, *shape): theta_t - theta_{t-1}
    exp_avg: np.ndarray  # (T, *shape): m_t (uncorrected)
    exp_avg_sq: np.ndarray  # (T, *shape): v_t (uncorrected)


def adam_updates(grads: np.ndarray, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 correct_first: bool = True, correct_second: bool = True) -> AdamTrace:
    r"""Adam's updates :math:`\Delta\theta_t=-\eta\,\hat m_t/(\sqrt{\hat v_t}+\epsilon)` for a gradient sequence
    grads (T, \*shape), with either bias correction switched off (:math:`\hat m_t=m_t/(1-\beta_1^t)` or
    :math:`m_t`; :math:`\hat v_t=v_t/(1-\beta_2^t)` or :math:`v_t`). Elementwise, so each entry is one independent run.

    From :math:`m_0=0`: :math:`m_t=(1-\beta_1)\sum_{s\le t}\beta_1^{t-s}g_s`, hence
    :math:`\mathbb E[m_t]=(1-\beta_1^t)\,\mathbb E[g]` for stationary gradients (and
    :math:`\mathbb E[v_t]=(1-\beta_2^t)\,\mathbb E[g^2]`). With both corrections on this is ``torch.optim.Adam``.
    """
    check_array("grads", grads)
    if grads.ndim < 1:
        raise ValueError(f"grads must be (T, *shape), one gradient per step, got shape {grads.shape}")
    check_positive("lr", lr)
    check_positive("eps", eps, allow_zero=True)
    beta1, beta2 = betas
    for i, beta in enumerate(betas):
        if not 0 <= beta < 1:
            raise ValueError(f"betas[{i}] must lie in [0, 1), got {beta!r}")
    m, v = np.zeros_like(grads[0]), np.zeros_like(grads[0])
    out = AdamTrace(np.empty_like(grads), np.empty_like(grads), np.empty_like(grads))
    for t, g in enumerate(grads, start=1):
        _lerp(m, g, 1 - beta1)
        v *= beta2
        v += (1 - beta2) * (g * g)
        m_hat = m / (1 - beta1 ** t) if correct_first else m
        v_hat = v / (1 - beta2 ** t) if correct_second else v
        out.updates[t - 1] = -lr * m_hat / (np.sqrt(v_hat) + eps)
        out.exp_avg[t - 1], out.exp_avg_sq[t - 1] = m, v
    return out


def bias_correction_ratio(t: np.ndarray, betas: tuple[float, float] = (0.9, 0.999), correct_first: bool = False,
                          correct_second: bool = False) -> np.ndarray:
    r"""For a constant gradient and :math:`\epsilon=0`: the step without the chosen corrections over Adam's step,

    .. math:: r_t=\frac{(1-\beta_1^t)^{[\text{first off}]}}{\sqrt{1-\beta_2^t}^{\,[\text{second off}]}}.

    First moment uncorrected: steps too SMALL by :math:`1-\beta_1^t` (0.1 at t = 1). Both uncorrected: too LARGE
    while :math:`1-\beta_1^t<\sqrt{1-\beta_2^t}` (:math:`0.1/\sqrt{0.001}\approx3.16` at t = 1 for the defaults) --
    the reason Kingma & Ba correct :math:`v_t` too. t: step numbers >= 1."""
    t = np.asarray(t, dtype=np.float64)
    if t.size == 0 or not np.all(t >= 1):
        raise ValueError(f"t must hold step numbers >= 1, got {t!r}")
    beta1, beta2 = betas
    first = 1.0 if correct_first else 1 - beta1 ** t
    second = 1.0 if correct_second else np.sqrt(1 - beta2 ** t)
    return first / second


# --- Problem 3: optimal heavy-ball parameters -----------------------------------------------------------------------

def heavy_ball_iteration_matrix(A: np.ndarray, lr: float, momentum: float) -> np.ndarray:
    r"""The (2n, 2n) matrix M of heavy ball on :math:`\tfrac12x^\top Ax`:
    :math:`\begin{pmatrix}x_{t+1}\\x_t\end{pmatrix}=\begin{pmatrix}(1+\beta)I-\alpha A&-\beta I\\I&0\end{pmatrix}
    \begin{pmatrix}x_t\\x_{t-1}\end{pmatrix}`; the error decays like :math:`\rho(M)^t` (spectral radius)."""
    check_symmetric("A", A)
    check_positive("lr", lr)
    check_positive("momentum", momentum, allow_zero=True)
    n = A.shape[0]
    eye = np.eye(n, dtype=A.dtype)
    return np.block([[(1 + momentum) * eye - lr * A, -momentum * eye], [eye, np.zeros_like(eye)]])


def heavy_ball_roots(eigenvalues: np.ndarray, lr: float, momentum: float) -> np.ndarray:
    r"""Roots (n, 2) (complex) of :math:`z^2-(1+\beta-\alpha\lambda)z+\beta` for each eigenvalue :math:`\lambda` of A:
    the eigenvalues of M, two per eigenvalue of A. They are complex, of modulus exactly :math:`\sqrt\beta`, iff
    :math:`(1-\sqrt\beta)^2\le\alpha\lambda\le(1+\sqrt\beta)^2`."""
    check_array("eigenvalues", eigenvalues, ndim=1)
    check_positive("lr", lr)
    check_positive("momentum", momentum, allow_zero=True)
    tau = 1 + momentum - lr * eigenvalues
    root = np.sqrt((tau * tau - 4 * momentum).astype(complex))
    return np.stack([(tau + root) / 2, (tau - root) / 2], axis=1)


def optimal_heavy_ball(mu: float, L: float) -> tuple[float, float, float]:
    r"""(lr, momentum, rate) minimizing :math:`\max_{\lambda\in[\mu,L]}\rho`: put the two ends of the complex band on
    the spectrum, :math:`(1-\sqrt\beta)^2=\alpha\mu` and :math:`(1+\sqrt\beta)^2=\alpha L`, so

    .. math:: \alpha=\frac4{(\sqrt L+\sqrt\mu)^2},\qquad\sqrt\beta=\frac{\sqrt\kappa-1}{\sqrt\kappa+1}=\text{rate}.

    Any smaller :math:`\beta` leaves :math:`\mu` or L outside the band, where the larger real root exceeds it."""
    check_positive("mu", mu)
    check_positive("L", L)
    if L < mu:
        raise ValueError(f"L must be >= mu, got mu={mu!r}, L={L!r}")
    s = math.sqrt(L / mu)
    rate = (s - 1) / (s + 1)
    return 4 / (math.sqrt(L) + math.sqrt(mu)) ** 2, rate * rate, rate


# --- Problem 4: the Polyak step size --------------------------------------------------------------------------------

class PolyakResult(NamedTuple):
    trajectory: np.ndarray  # (n_steps + 1, n): x_0 ... x_T
    values: np.ndarray  # (n_steps + 1,): f(x_t) - f*
    lrs: np.ndarray  # (n_steps,): the step sizes used


def polyak_descent(A: np.ndarray, b: np.ndarray, x0: np.ndarray, n_steps: int, gamma: float = 1.0) -> PolyakResult:
    r"""Gradient descent on :math:`f=\tfrac12x^\top Ax-b^\top x` with the Polyak step
    :math:`\eta_t=\gamma\,(f(x_t)-f^*)/\|\nabla f(x_t)\|^2` (:math:`f^*=-\tfrac12b^\top A^{-1}b` known).

    On a quadratic :math:`\langle\nabla f,x-x^*\rangle=2(f-f^*)`, so exactly
    :math:`\|e_{t+1}\|^2=\|e_t\|^2-(4\gamma-\gamma^2)\frac{(f-f^*)^2}{\|\nabla f\|^2}`: the distance falls for
    :math:`0<\gamma<4` (:math:`0<\gamma<2` for general convex f). With :math:`\frac{(f-f^*)^2}{\|\nabla f\|^2}\ge
    \frac{\mu}{4L}\|e_t\|^2` this gives :math:`\|e_{t+1}\|^2\le\bigl(1-\frac{4\gamma-\gamma^2}{4\kappa}\bigr)\|e_t\|^2`;
    :math:`\gamma\eta_t\in[\frac\gamma{2L},\frac\gamma{2\mu}]`. A zero gradient (at :math:`x^*`) gives step 0."""
    check_array("x0", x0, ndim=1)
    check_steps("n_steps", n_steps)
    if not 0 < gamma < 4:
        raise ValueError(f"gamma must lie in (0, 4) for the distance to decrease, got {gamma!r}")
    quadratic(x0, A, b)  # validates A (symmetric), b and the sizes
    if np.linalg.eigvalsh(A)[0] <= 0:
        raise ValueError("A must be positive definite (f must have a unique minimizer)")
    x_star = np.linalg.solve(A, b)
    f_star = float(quadratic(x_star, A, b))
    xs = np.empty((n_steps + 1, x0.shape[0]), dtype=x0.dtype)
    values, lrs = np.empty(n_steps + 1, dtype=x0.dtype), np.zeros(n_steps, dtype=x0.dtype)
    xs[0] = x0
    for t in range(n_steps):
        values[t] = quadratic(xs[t], A, b) - f_star
        g = quadratic_backward(xs[t], A, b, 1.0)[0]
        gg = float(g @ g)
        lrs[t] = gamma * max(values[t], 0.0) / gg if gg > 0 else 0.0
        xs[t + 1] = xs[t] - lrs[t] * g
    values[n_steps] = quadratic(xs[n_steps], A, b) - f_star
    return PolyakResult(xs, values, lrs)
