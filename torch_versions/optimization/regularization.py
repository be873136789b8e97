r"""Regularization in PyTorch (lesson 4): the L2 penalty over ``model.parameters()``, ``F.softshrink`` as the L1
prox, ISTA / elastic net as ``torch.optim.SGD`` steps followed by the prox under ``torch.no_grad()``, and inverted
dropout with an explicit mask. Twin of :mod:`from_scratch.optimization.regularization` (the math is stated there).

``F.dropout`` draws its own mask and cannot take one; :func:`dropout` writes the same inverted-dropout formula
``x * mask / (1 - p)`` so both implementations can be compared on one mask (``tests/test_regularization.py``
checks that ``F.dropout``'s statistics match: fraction zeroed ~ p, mean preserved).
"""
from __future__ import annotations

from typing import Iterable

import torch
import torch.nn.functional as F

from from_scratch.optimization.regularization import (ProximalResult, _as_list, _check_dropout, _check_elastic_net,
                                                      _check_l2, _check_threshold)
from torch_versions.linear_algebra.eigen import power_iteration


def l2_penalty(params: torch.Tensor | Iterable[torch.Tensor], weight_decay: float) -> torch.Tensor:
    r""":math:`\tfrac\lambda2\sum_k\|\theta_k\|^2` over a tensor or an iterable of tensors
    (e.g. ``model.parameters()``)."""
    params = _as_list(params)
    _check_l2(params, weight_decay)
    return 0.5 * weight_decay * sum(p.square().sum() for p in params)


def soft_threshold(x: torch.Tensor, threshold: float) -> torch.Tensor:
    r"""``F.softshrink``: :math:`\operatorname{sign}(x)\max(|x|-t,0)`, exact zeros on :math:`|x|\le t`."""
    _check_threshold(x, threshold)
    return F.softshrink(x, float(threshold))


def _objective(X: torch.Tensor, y: torch.Tensor, w: torch.Tensor, l1: float, l2: float) -> torch.Tensor:
    """Smooth part (differentiable) + the L1 term; the caller decides whether autograd records it."""
    return 0.5 * (y - X @ w).square().sum() / X.shape[0] + l1 * w.abs().sum() + l2_penalty(w, l2)


def elastic_net(X: torch.Tensor, y: torch.Tensor, alpha: float, l1_ratio: float = 0.5, lr: float | None = None,
                n_steps: int = 1000) -> ProximalResult:
    r"""Proximal gradient from :math:`w_0=0`: ``torch.optim.SGD`` on the smooth part
    :math:`\frac1{2N}\|y-Xw\|^2` with ``weight_decay`` :math:`=\alpha(1-\rho)` (SGD's weight decay IS the L2
    gradient), then ``F.softshrink`` with :math:`\eta\alpha\rho` under ``no_grad``. ``lr=None``: 1/L."""
    _check_elastic_net(X, y, alpha, l1_ratio, lr, n_steps)
    l1, l2 = alpha * l1_ratio, alpha * (1 - l1_ratio)
    if lr is None:
        lr = 1.0 / (float(power_iteration(X.mT @ X / X.shape[0], num_iters=10_000, tol=1e-10).eigenvalue) + l2)
    w = X.new_zeros(X.shape[1], requires_grad=True)
    opt = torch.optim.SGD([w], lr=lr, weight_decay=l2)
    objective = []
    for t in range(n_steps):
        opt.zero_grad(set_to_none=True)
        smooth = 0.5 * (y - X @ w).square().sum() / X.shape[0]
        smooth.backward()
        with torch.no_grad():
            objective.append(smooth + l1 * w.abs().sum() + l2_penalty(w, l2))
        opt.step()
        if not torch.isfinite(w).all():
            raise FloatingPointError(f"proximal gradient diverged at step {t + 1} (lr={lr}); use lr <= 1/L")
        with torch.no_grad():
            w.copy_(F.softshrink(w, lr * l1))
    with torch.no_grad():
        objective.append(_objective(X, y, w, l1, l2))
    return ProximalResult(w.detach(), torch.stack(objective))


def ista(X: torch.Tensor, y: torch.Tensor, alpha: float, lr: float | None = None,
         n_steps: int = 1000) -> ProximalResult:
    """The lasso (scikit-learn's ``Lasso(alpha)``): :func:`elastic_net` with ``l1_ratio=1``."""
    return elastic_net(X, y, alpha, 1.0, lr, n_steps)


def dropout(x: torch.Tensor, p: float, mask: torch.Tensor) -> torch.Tensor:
    r"""Inverted dropout with a given keep-mask, :math:`x\odot m/(1-p)` -- what ``F.dropout(x, p, training=True)``
    computes with a mask it draws itself."""
    _check_dropout(x, p, mask)
    return x * mask / (1 - p)
