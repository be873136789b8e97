r"""Learning-rate schedules and gradient clipping in PyTorch (lesson 4). Twin of
:mod:`from_scratch.optimization.schedules` (formulas stated there).

``StepLR``, ``ExponentialLR`` and ``CosineAnnealingLR`` are the built-in ``torch.optim.lr_scheduler`` classes
(their chainable recursions) with the twin's argument checks; ``LinearWarmupCosine`` is an ``LRScheduler``
subclass with the closed form (torch has no single built-in for it; it equals ``SequentialLR(LinearLR,
CosineAnnealingLR)`` up to ``total_steps``); :func:`clip_grad_norm` calls ``torch.nn.utils.clip_grad_norm_``.
"""
from __future__ import annotations

import math

import torch
from torch.optim import lr_scheduler

from from_scratch.validation import check_clip_norm, check_positive, check_steps, check_warmup_schedule

LRScheduler = lr_scheduler.LRScheduler


class StepLR(lr_scheduler.StepLR):
    r""":math:`\eta_t=\eta_0\gamma^{\lfloor t/s\rfloor}` (``torch.optim.lr_scheduler.StepLR``)."""

    def __init__(self, optimizer: torch.optim.Optimizer, step_size: int, gamma: float = 0.1) -> None:
        check_steps("step_size", step_size)
        check_positive("gamma", gamma)
        super().__init__(optimizer, step_size, gamma)


class ExponentialLR(lr_scheduler.ExponentialLR):
    r""":math:`\eta_t=\eta_0\gamma^t` (``torch.optim.lr_scheduler.ExponentialLR``)."""

    def __init__(self, optimizer: torch.optim.Optimizer, gamma: float) -> None:
        check_positive("gamma", gamma)
        super().__init__(optimizer, gamma)


class CosineAnnealingLR(lr_scheduler.CosineAnnealingLR):
    r""":math:`\eta_{\min}+\tfrac12(\eta_0-\eta_{\min})(1+\cos(\pi t/T_{\max}))`
    (``torch.optim.lr_scheduler.CosineAnnealingLR``)."""

    def __init__(self, optimizer: torch.optim.Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        check_steps("T_max", T_max)
        check_positive("eta_min", eta_min, allow_zero=True)
        super().__init__(optimizer, T_max, eta_min)


class LinearWarmupCosine(lr_scheduler.LRScheduler):
    r"""Linear warm-up :math:`\eta_0\frac{t+1}{W+1}` for t < W, then cosine from :math:`\eta_0` (t = W) to
    ``eta_min`` (t = T), held afterwards."""

    def __init__(self, optimizer: torch.optim.Optimizer, warmup_steps: int, total_steps: int,
                 eta_min: float = 0.0) -> None:
        check_warmup_schedule(warmup_steps, total_steps, eta_min)
        self.warmup_steps, self.total_steps, self.eta_min = warmup_steps, total_steps, eta_min
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        t, W, T = self.last_epoch, self.warmup_steps, self.total_steps
        if t < W:
            return [base * (t + 1) / (W + 1) for base in self.base_lrs]
        cos = math.cos(math.pi * (min(t, T) - W) / (T - W))
        return [self.eta_min + (base - self.eta_min) * (1 + cos) / 2 for base in self.base_lrs]


def clip_grad_norm(grads: list[torch.Tensor], max_norm: float, norm_type: float = 2.0) -> torch.Tensor:
    """``torch.nn.utils.clip_grad_norm_`` on the gradient tensors themselves: scales them in place, returns the
    total norm before clipping. (clip_grad_norm_ reads ``p.grad`` of parameters; each gradient is attached to a
    zero-stride placeholder of its shape, so no parameter-sized memory is allocated.)"""
    check_clip_norm(max_norm, norm_type)
    if isinstance(grads, torch.Tensor) or not len(grads):
        raise ValueError("grads must be a non-empty list of tensors")
    holders = []
    for g in grads:
        holder = torch.empty((), dtype=g.dtype, device=g.device).expand_as(g)
        holder.grad = g
        holders.append(holder)
    return torch.nn.utils.clip_grad_norm_(holders, max_norm, norm_type)
