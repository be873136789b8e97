"""Lesson 4 - optimization, from scratch in NumPy. See ``lessons/04_optimization.md``.

Twin: :mod:`torch_versions.optimization` (same public names; ``*_backward`` exist only here).
"""
from inspect import ismodule as _ismodule

from .convergence import (COMPARISON_OBJECTIVES, COMPARISON_OPTIMIZERS, RATE_DECADES, RATE_METHODS, RateResult,
                          compare_optimizers, conditioned_quadratic, fit_rate, measure_rate, theoretical_rate)
from .optimizers import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
from .regularization import (ProximalResult, dropout, dropout_backward, elastic_net, ista, l2_penalty,
                             l2_penalty_backward, soft_threshold, soft_threshold_backward)
from .schedules import CosineAnnealingLR, ExponentialLR, LinearWarmupCosine, LRScheduler, StepLR, clip_grad_norm

__all__ = [name for name, obj in dict(globals()).items() if not name.startswith("_") and not _ismodule(obj)]
