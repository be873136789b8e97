r"""Learning-rate schedules and gradient-norm clipping (lesson 4), with ``torch.optim.lr_scheduler``'s protocol.

A scheduler wraps an optimizer (anything with ``param_groups``): creating it records each group's
``initial_lr`` (the base lr :math:`\eta_0`) and sets step 0's lr; every ``step()`` advances ``last_epoch`` by
one and writes :math:`\eta_t` into every group. Call it after ``optimizer.step``. ``get_last_lr()`` returns the
lrs it set last; ``state_dict()`` is everything but the optimizer.

Each schedule here is a CLOSED FORM :math:`\eta_t = f(t, \eta_0)`; torch's built-ins update the current lr
recursively (so that they chain), which produces the same numbers up to round-off (a few ulps after hundreds of
steps; see ``tests/test_schedules.py``):

* :class:`StepLR`: :math:`\eta_t=\eta_0\gamma^{\lfloor t/s\rfloor}`;
* :class:`ExponentialLR`: :math:`\eta_t=\eta_0\gamma^t`;
* :class:`CosineAnnealingLR`: :math:`\eta_t=\eta_{\min}+\tfrac12(\eta_0-\eta_{\min})(1+\cos(\pi t/T_{\max}))`
  (for :math:`t>T_{\max}` the cosine rises again, as torch's recursion does);
* :class:`LinearWarmupCosine`: :math:`\eta_t=\eta_0\frac{t+1}{W+1}` for :math:`t<W`, then the cosine from
  :math:`\eta_0` at :math:`t=W` to :math:`\eta_{\min}` at :math:`t=T` (held there afterwards).

:func:`clip_grad_norm` rescales gradients so that their joint norm is at most ``max_norm``.

See also: :mod:`torch_versions.optimization.schedules`, ``lessons/04_optimization.md``.
"""
from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np

from from_scratch.validation import check_clip_norm, check_positive, check_steps, check_warmup_schedule


class LRScheduler:
    """Base class: ``base_lrs`` from the groups' ``initial_lr``, ``last_epoch`` from -1, one step at creation.

    Subclasses implement ``lr_at(t, base_lr)``, the closed form.
    """

    def __init__(self, optimizer: Any) -> None:
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = -1
        self.step()

    def lr_at(self, t: int, base_lr: float) -> float:
        raise NotImplementedError

    def get_lr(self) -> list[float]:
        """The lr of every group at step ``last_epoch``."""
        return [self.lr_at(self.last_epoch, base) for base in self.base_lrs]

    def step(self) -> None:
        """Advance one step and write the new lr into every param group."""
        self.last_epoch += 1
        self._last_lr = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, self._last_lr):
            group["lr"] = lr

    def get_last_lr(self) -> list[float]:
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        return {k: copy.deepcopy(v) for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(copy.deepcopy(state_dict))


class StepLR(LRScheduler):
    r"""Multiply the lr by ``gamma`` every ``step_size`` steps: :math:`\eta_t=\eta_0\gamma^{\lfloor t/s\rfloor}`."""

    def __init__(self, optimizer: Any, step_size: int, gamma: float = 0.1) -> None:
        check_steps("step_size", step_size)
        check_positive("gamma", gamma)
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer)

    def lr_at(self, t: int, base_lr: float) -> float:
        return base_lr * self.gamma ** (t // self.step_size)


class ExponentialLR(LRScheduler):
    r"""Multiply the lr by ``gamma`` every step: :math:`\eta_t=\eta_0\gamma^t`."""

    def __init__(self, optimizer: Any, gamma: float) -> None:
        check_positive("gamma", gamma)
        self.gamma = gamma
        super().__init__(optimizer)

    def lr_at(self, t: int, base_lr: float) -> float:
        return base_lr * self.gamma ** t


def _cosine(t: float, T: int, base_lr: float, eta_min: float) -> float:
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * t / T)) / 2


class CosineAnnealingLR(LRScheduler):
    r"""Half a cosine from :math:`\eta_0` down to ``eta_min`` over ``T_max`` steps (SGDR without restarts):
    :math:`\eta_t=\eta_{\min}+\tfrac12(\eta_0-\eta_{\min})(1+\cos(\pi t/T_{\max}))`.

    Torch's ``get_lr`` reaches the same values through the recursion
    :math:`\eta_t=\eta_{\min}+(\eta_{t-1}-\eta_{\min})\frac{1+\cos(\pi t/T)}{1+\cos(\pi(t-1)/T)}` (the closed form's
    ratio of consecutive terms), with a special case at the 0/0 point :math:`t=T+1 \pmod{2T}`.
    """

    def __init__(self, optimizer: Any, T_max: int, eta_min: float = 0.0) -> None:
        check_steps("T_max", T_max)
        check_positive("eta_min", eta_min, allow_zero=True)
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer)

    def lr_at(self, t: int, base_lr: float) -> float:
        return _cosine(t, self.T_max, base_lr, self.eta_min)


class LinearWarmupCosine(LRScheduler):
    r"""Linear warm-up for ``warmup_steps`` = W steps, then cosine decay to ``eta_min`` at ``total_steps`` = T:

    .. math::
        \eta_t = \begin{cases} \eta_0\,\frac{t+1}{W+1} & t < W\\
        \eta_{\min}+\tfrac12(\eta_0-\eta_{\min})\bigl(1+\cos\bigl(\pi\frac{t-W}{T-W}\bigr)\bigr) & W\le t\le T\\
        \eta_{\min} & t > T\end{cases}

    The first step already moves (lr :math:`\eta_0/(W+1)`, not 0); the peak :math:`\eta_0` is reached at t = W.
    For t <= T this equals torch's ``SequentialLR([LinearLR(start_factor=1/(W+1), total_iters=W),
    CosineAnnealingLR(T_max=T-W, eta_min)], milestones=[W])``.
    """

    def __init__(self, optimizer: Any, warmup_steps: int, total_steps: int, eta_min: float = 0.0) -> None:
        check_warmup_schedule(warmup_steps, total_steps, eta_min)
        self.warmup_steps, self.total_steps, self.eta_min = warmup_steps, total_steps, eta_min
        super().__init__(optimizer)

    def lr_at(self, t: int, base_lr: float) -> float:
        W, T = self.warmup_steps, self.total_steps
        if t < W:
            return base_lr * (t + 1) / (W + 1)
        return _cosine(min(t, T) - W, T - W, base_lr, self.eta_min)


def clip_grad_norm(grads: list[np.ndarray], max_norm: float, norm_type: float = 2.0) -> np.ndarray:
    r"""Scale ``grads`` IN PLACE so that their joint p-norm is at most ``max_norm``; return the norm before clipping.

    .. math::
        \|g\|_p = \Bigl(\sum_i \|g_i\|_p^p\Bigr)^{1/p} = \bigl\|(\|g_1\|_p,\dots,\|g_k\|_p)\bigr\|_p,\qquad
        g_i \leftarrow g_i\cdot\min\Bigl(1, \frac{\text{max\_norm}}{\|g\|_p + 10^{-6}}\Bigr)

    (``norm_type=inf``: the largest :math:`|g_{ij}|`.) As ``torch.nn.utils.clip_grad_norm_``: the norm of the
    per-array norms, the 1e-6 guard against a zero norm, every gradient multiplied (by 1 when below the bound), the
    direction kept. Returns a 0-d array of the gradients' dtype. A NaN/inf norm is not an error (torch's default
    ``error_if_nonfinite=False``): the gradients then become NaN.
    """
    check_clip_norm(max_norm, norm_type)
    if isinstance(grads, np.ndarray) or not len(grads):
        raise ValueError("grads must be a non-empty list of arrays")
    norms = np.stack([np.linalg.norm(g.ravel(), ord=norm_type) for g in grads])
    total = np.linalg.norm(norms, ord=norm_type)
    coef = np.minimum(max_norm / (total + 1e-6), 1.0)
    for g in grads:
        g *= coef
    return np.asarray(total)
