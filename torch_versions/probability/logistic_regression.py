r"""Logistic regression with torch (lesson 3): an ``nn.Linear`` model, ``F.binary_cross_entropy_with_logits`` /
``F.cross_entropy`` plus the L2 penalty, trained by ``torch.optim.SGD`` or by Newton's method with
``torch.autograd.functional.hessian`` and ``torch.linalg.solve``.
Twin of :mod:`from_scratch.probability.logistic_regression`.

Objective (scikit-learn's divided by CN): :math:`L=\frac1N\sum_i\ell_i+\frac{\|W\|_F^2}{2CN}`; weight (1, d) for
the binary model, (K, d) for softmax; softmax intercepts are returned with sum 0.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from from_scratch.probability import logistic_regression as scratch
from from_scratch.probability.logistic_regression import _check_logistic, _n_outputs
from from_scratch.validation import check_positive, check_steps
from torch_versions.linear_algebra.eigen import power_iteration

METHODS, MULTI_CLASS = scratch.METHODS, scratch.MULTI_CLASS
LogisticFit = scratch.LogisticFit  # a NamedTuple of (weight, bias, losses): here holding tensors


def _objective(Z: torch.Tensor, y: torch.Tensor, weight: torch.Tensor, C: float) -> torch.Tensor:
    """Mean cross-entropy of the logits Z (N, 1) or (N, K) plus ||W||^2 / (2CN); no checks (runs under torch.func)."""
    if Z.shape[1] == 1:
        ce = F.binary_cross_entropy_with_logits(Z[:, 0], y.to(Z.dtype))
    else:
        ce = F.cross_entropy(Z, y)
    return ce + weight.square().sum() / (2 * C * y.shape[0])


def logistic_loss(X: torch.Tensor, y: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, C: float) -> torch.Tensor:
    """scikit-learn's L2 logistic objective divided by CN, from ``F.linear`` and the built-in losses."""
    _check_logistic(X, y, weight, bias, C)
    return _objective(F.linear(X, weight, bias), y, weight, C)


def logistic_hessian(X: torch.Tensor, y: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                     C: float) -> torch.Tensor:
    """``torch.autograd.functional.hessian`` of :func:`logistic_loss` in theta = [W b] (K, d+1), flattened to
    (K(d+1), K(d+1))."""
    _check_logistic(X, y, weight, bias, C)
    theta = torch.cat([weight, bias[:, None]], dim=1)
    P = theta.numel()
    H = torch.autograd.functional.hessian(lambda th: _objective(F.linear(X, th[:, :-1], th[:, -1]), y, th[:, :-1], C),
                                          theta, vectorize=True)  # (K, d+1, K, d+1)
    return H.reshape(P, P)


def _default_lr(X: torch.Tensor, C: float, K: int) -> float:
    """1/L with L = c lambda_max([X 1]^T [X 1]) / N + 1/(CN), c = 1/4 (sigmoid) or 1/2 (softmax)."""
    Xt = torch.cat([X, X.new_ones(X.shape[0], 1)], dim=1)
    lam = power_iteration(Xt.mT @ Xt, num_iters=10_000, tol=1e-8).eigenvalue
    return float(1.0 / ((0.25 if K == 1 else 0.5) * lam / X.shape[0] + 1.0 / (C * X.shape[0])))


def _zero_linear(X: torch.Tensor, K: int) -> nn.Linear:
    model = nn.Linear(X.shape[1], K, dtype=X.dtype, device=X.device)
    nn.init.zeros_(model.weight)
    nn.init.zeros_(model.bias)
    return model


def fit_gradient_descent(X: torch.Tensor, y: torch.Tensor, C: float = 1.0, lr: float | None = None, n_steps: int = 1000,
                         n_classes: int | None = None, multi_class: str = "auto") -> LogisticFit:
    """Full-batch ``torch.optim.SGD`` on an ``nn.Linear`` from zero weights (the scratch version's path)."""
    K = _n_outputs(X, y, C, n_classes, multi_class)
    check_steps("n_steps", n_steps)
    lr = _default_lr(X, C, K) if lr is None else lr
    check_positive("lr", lr)
    model = _zero_linear(X, K)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    losses = torch.empty(n_steps, dtype=X.dtype, device=X.device)
    for t in range(n_steps):
        opt.zero_grad(set_to_none=True)
        loss = _objective(model(X), y, model.weight, C)
        loss.backward()
        opt.step()
        losses[t] = loss.detach()
    return LogisticFit(model.weight.detach(), model.bias.detach(), losses)


def fit_newton(X: torch.Tensor, y: torch.Tensor, C: float = 1.0, n_iter: int = 100, tol: float = 1e-10,
               n_classes: int | None = None, multi_class: str = "auto") -> LogisticFit:
    r"""Damped Newton on the ``nn.Linear`` model's parameters theta = [W b]: ``torch.autograd.grad`` and
    ``torch.autograd.functional.hessian`` (vectorized) of the objective through ``torch.func.functional_call``,
    ``torch.linalg.solve`` for the step, Armijo backtracking; the softmax intercepts' null direction is handled as
    in the scratch version."""
    K = _n_outputs(X, y, C, n_classes, multi_class)
    check_steps("n_iter", n_iter)
    check_positive("tol", tol, allow_zero=True)
    N, d = X.shape
    model = _zero_linear(X, K)

    def loss(theta: torch.Tensor) -> torch.Tensor:
        W = theta[:, :-1]
        return _objective(torch.func.functional_call(model, {"weight": W, "bias": theta[:, -1]}, (X,)), y, W, C)

    theta = torch.cat([model.weight, model.bias[:, None]], dim=1).detach()  # (K, d+1)
    null = torch.zeros_like(theta)
    null[:, -1] = 1
    null = null.flatten()
    losses = []
    for _ in range(n_iter):
        theta.requires_grad_(True)
        value = loss(theta)
        g = torch.autograd.grad(value, theta)[0].flatten()
        theta, value = theta.detach(), value.detach()
        losses.append(value)
        if g.abs().max() <= tol:
            break
        H = torch.autograd.functional.hessian(loss, theta, vectorize=True).reshape(g.numel(), g.numel())
        if K > 1:
            H = H + torch.outer(null, null) / N
        step = torch.linalg.solve(H, -g).reshape(theta.shape)
        t, slope = 1.0, g @ step.flatten()
        slack = 100 * torch.finfo(X.dtype).eps * value.abs()  # near the optimum the decrease is below round-off
        for _ in range(30):  # backtracking line search
            if loss(theta + t * step) <= value + 1e-4 * t * slope + slack:
                break
            t *= 0.5
        theta = theta + t * step
    if K > 1:
        theta[:, -1] -= theta[:, -1].mean()
    with torch.no_grad():
        model.weight.copy_(theta[:, :-1])
        model.bias.copy_(theta[:, -1])
    return LogisticFit(model.weight.detach(), model.bias.detach(), torch.stack(losses))


def _probabilities(scores: torch.Tensor) -> torch.Tensor:
    """(N, K) probabilities from logits (N, 1) (columns [1 - p, p]) or (N, K) (``torch.softmax``)."""
    if scores.shape[1] == 1:
        p = torch.sigmoid(scores[:, 0])
        return torch.stack([1 - p, p], dim=1)
    return torch.softmax(scores, dim=1)


class LogisticRegression(scratch.LogisticRegression):
    """scikit-learn-style classifier over the torch fitters above (``weight``, ``bias``, ``classes_`` are tensors);
    the method bodies are shared with :class:`from_scratch.probability.LogisticRegression`."""

    _fitters = {"newton": fit_newton, "gd": fit_gradient_descent}
    _unique = staticmethod(torch.unique)
    _probabilities = staticmethod(_probabilities)
