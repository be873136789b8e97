"""Lesson 4 - optimization in idiomatic PyTorch: the same algorithms as ``torch.optim.Optimizer`` subclasses,
``torch.optim.lr_scheduler`` schedules, ``clip_grad_norm_``. Twin of :mod:`from_scratch.optimization`.
See ``lessons/04_optimization.md``."""
from inspect import ismodule as _ismodule

from .convergence import (COMPARISON_OBJECTIVES, COMPARISON_OPTIMIZERS, RATE_DECADES, RATE_METHODS, RateResult,
                          compare_optimizers, conditioned_quadratic, fit_rate, measure_rate, theoretical_rate)
from .optimizers import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
from .regularization import ProximalResult, dropout, elastic_net, ista, l2_penalty, soft_threshold
from .schedules import CosineAnnealingLR, ExponentialLR, LinearWarmupCosine, LRScheduler, StepLR, clip_grad_norm

__all__ = [name for name, obj in dict(globals()).items() if not name.startswith("_") and not _ismodule(obj)]
