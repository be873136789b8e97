r"""Loss functions in idiomatic PyTorch (lesson 3): ``torch.nn.functional`` calls, autograd for gradients.

Twin of :mod:`from_scratch.probability.losses`: same names, same leading parameters, same input checks (from
:mod:`from_scratch.validation`, run before torch sees the tensors, so both sides raise the same ``ValueError`` /
``TypeError``). The focal loss has no ``F.*``; it follows torchvision's ``sigmoid_focal_loss`` formula (without
importing torchvision) with ``alpha=None`` meaning no class weighting.

See also: ``lessons/03_probability_statistics.md``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from from_scratch.validation import (check_binary_loss, check_class_loss, check_fraction, check_kl_div,
                                     check_loss_pair, check_positive)


def mse_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Squared error, ``F.mse_loss``."""
    check_loss_pair(input, target, reduction)
    return F.mse_loss(input, target, reduction=reduction)


def l1_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Absolute error (MAE), ``F.l1_loss``."""
    check_loss_pair(input, target, reduction)
    return F.l1_loss(input, target, reduction=reduction)


def huber_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean", delta: float = 1.0) -> torch.Tensor:
    """Huber loss, ``F.huber_loss``."""
    check_loss_pair(input, target, reduction)
    check_positive("delta", delta)
    return F.huber_loss(input, target, reduction=reduction, delta=float(delta))


def binary_cross_entropy_with_logits(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
                                     pos_weight: torch.Tensor | None = None) -> torch.Tensor:
    """BCE on logits, ``F.binary_cross_entropy_with_logits`` (stable for any finite logit)."""
    check_binary_loss(input, target, reduction, pos_weight)
    return F.binary_cross_entropy_with_logits(input, target, reduction=reduction, pos_weight=pos_weight)


def focal_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean", gamma: float = 2.0,
               alpha: float | None = None) -> torch.Tensor:
    r""":math:`\alpha_t(1-p_t)^\gamma\,\mathrm{BCE}(x, y)` as torchvision's ``sigmoid_focal_loss``."""
    check_binary_loss(input, target, reduction)
    check_positive("gamma", gamma, allow_zero=True)
    if alpha is not None:
        check_fraction("alpha", alpha)
    p = torch.sigmoid(input)
    ce = F.binary_cross_entropy_with_logits(input, target, reduction="none")  # -log p_t, stable
    p_t = p * target + (1 - p) * (1 - target)
    loss = ce * (1 - p_t) ** float(gamma)
    if alpha is not None:
        loss = (alpha * target + (1 - alpha) * (1 - target)) * loss
    return {"mean": torch.mean, "sum": torch.sum, "none": lambda t: t}[reduction](loss)


def cross_entropy(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean", ignore_index: int = -100,
                  label_smoothing: float = 0.0) -> torch.Tensor:
    """Softmax cross-entropy with class-index targets, ``F.cross_entropy``."""
    check_class_loss(input, target, reduction, ignore_index)
    check_fraction("label_smoothing", label_smoothing)
    return F.cross_entropy(input, target, reduction=reduction, ignore_index=int(ignore_index),
                           label_smoothing=float(label_smoothing))


def nll_loss(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean", ignore_index: int = -100) -> torch.Tensor:
    """Negative log-likelihood of log-probabilities, ``F.nll_loss``."""
    check_class_loss(input, target, reduction, ignore_index)
    return F.nll_loss(input, target, reduction=reduction, ignore_index=int(ignore_index))


def kl_div(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean", log_target: bool = False) -> torch.Tensor:
    """KL divergence with log-probability ``input``, ``F.kl_div`` (``"batchmean"`` is the per-sample KL)."""
    check_kl_div(input, target, reduction, log_target)
    if reduction == "mean":  # same value; F.kl_div(reduction="mean") warns that it is not the KL per sample
        return F.kl_div(input, target, reduction="none", log_target=log_target).mean()
    return F.kl_div(input, target, reduction=reduction, log_target=log_target)
