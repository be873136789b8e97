r"""Convergence rates with ``torch.optim`` (lesson 4). Twin of :mod:`from_scratch.optimization.convergence` (the
theory and what is measured are stated there).

Gradient descent, heavy ball and Nesterov are all ``torch.optim.SGD``: ``momentum=β`` is Polyak's heavy ball
(:math:`b_t=\beta b_{t-1}+g_t`, :math:`x_{t+1}=x_t-\alpha b_t` unrolls to :math:`x_t-\alpha g_t+\beta(x_t-x_{t-1})`),
and ``nesterov=True`` is Nesterov's method written on the look-ahead point :math:`y_t`. The gradients come from
autograd on :math:`\tfrac12x^\top Ax`, lesson 2's ``rosenbrock`` and lesson 3's ``logistic_loss``.
"""
from __future__ import annotations

from typing import Mapping

import torch

from from_scratch.optimization.convergence import (COMPARISON_OBJECTIVES, COMPARISON_OPTIMIZERS, RATE_DECADES,
                                                   RATE_METHODS, RateResult, _check_comparison, _check_history,
                                                   _check_rate_problem, _hyperparameters, _window, theoretical_rate)
from from_scratch.validation import check_array, check_positive_array
from torch_versions.calculus.descent import rosenbrock
from torch_versions.probability.logistic_regression import logistic_loss



def fit_rate(errors: torch.Tensor, start: int | None = None, stop: int | None = None) -> torch.Tensor:
    r""":math:`\exp(s)`, s the slope of the least-squares line through :math:`(t,\log e_t)` (``torch.linalg.lstsq``)."""
    check_array("errors", errors, ndim=1)
    check_positive_array("errors", errors)
    start, stop = _window(errors.shape[0], start, stop)
    t = torch.arange(start, stop, dtype=errors.dtype, device=errors.device)
    t = t - t.mean()  # centred: the design [1, t] has orthogonal columns, so lstsq is well conditioned
    design = torch.stack([torch.ones_like(t), t], dim=1)  # (T, 2)
    coef = torch.linalg.lstsq(design, errors[start:stop].log()[:, None]).solution  # (2, 1)
    return coef[1, 0].exp()


def conditioned_quadratic(eigenvalues: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""A :math:`=Q\operatorname{diag}(\lambda)Q^\top` and :math:`x_0=Q\mathbf 1`, Q the orthonormal DCT-II basis."""
    check_array("eigenvalues", eigenvalues, ndim=1)
    check_positive_array("eigenvalues", eigenvalues)
    n = eigenvalues.shape[0]
    k = torch.arange(n, dtype=eigenvalues.dtype, device=eigenvalues.device)
    scale = torch.full_like(k, (2 / n) ** 0.5)
    scale[0] = (1 / n) ** 0.5
    Q = torch.cos(torch.pi * (2 * k[:, None] + 1) * k[None, :] / (2 * n)) * scale  # (n, n)
    A = (Q * eigenvalues) @ Q.mT
    return 0.5 * (A + A.mT), Q.sum(dim=1)


def measure_rate(method: str, A: torch.Tensor, x0: torch.Tensor, mu: float, L: float, n_steps: int | None = None,
                 start: int | None = None) -> RateResult:
    r"""``torch.optim.SGD`` (lr, momentum, nesterov set by ``method``) on :math:`\tfrac12x^\top Ax` from x0; the
    error history of the parameter and its fitted rate over ``[start, n_steps]`` (default: the second half)."""
    n_steps = _check_rate_problem(method, A, x0, mu, L, n_steps)
    lr, beta = _hyperparameters(method, mu, L)
    x = x0.detach().clone().requires_grad_(True)
    opt = torch.optim.SGD([x], lr=lr, momentum=beta, nesterov=method == "nesterov")
    errors = [torch.linalg.vector_norm(x.detach())]
    for _ in range(n_steps):
        opt.zero_grad(set_to_none=True)
        (0.5 * x @ A @ x).backward()
        opt.step()
        errors.append(torch.linalg.vector_norm(x.detach()))
    errors = torch.stack(errors)
    _check_history(errors, mu, L)
    return RateResult(errors, fit_rate(errors, start), theoretical_rate(method, L / mu))


def compare_optimizers(objective: str, x0: torch.Tensor, n_steps: int = 500,
                       optimizers: Mapping[str, tuple[str, dict]] | None = None, X: torch.Tensor | None = None,
                       y: torch.Tensor | None = None, C: float = 1.0) -> dict[str, torch.Tensor]:
    """Loss curves of the built-in ``torch.optim`` classes (``COMPARISON_OPTIMIZERS[objective]`` by default) from
    x0, with gradients by autograd; logistic: x0 is [weight, bias] flattened."""
    _check_comparison(objective, x0, n_steps, X, y, C)
    d = x0.shape[0] - 1

    def loss(x):
        return rosenbrock(x) if objective == "rosenbrock" else logistic_loss(X, y, x[None, :d], x[d:], C)

    curves = {}
    for name, (cls, kwargs) in (COMPARISON_OPTIMIZERS[objective] if optimizers is None else optimizers).items():
        x = x0.detach().clone().requires_grad_(True)
        opt = getattr(torch.optim, cls)([x], **kwargs)
        losses = []
        for _ in range(n_steps):
            opt.zero_grad(set_to_none=True)
            value = loss(x)
            value.backward()
            opt.step()
            losses.append(value.detach())
        with torch.no_grad():
            losses.append(loss(x))
        curves[name] = torch.stack(losses)
    return curves
