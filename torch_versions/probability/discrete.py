r"""Discrete distributions with ``torch.distributions`` (lesson 3): Bernoulli, categorical, Poisson.
Twin of :mod:`from_scratch.probability.discrete`; autograd differentiates log-probabilities and entropies."""
from __future__ import annotations

import torch
from torch.distributions import Bernoulli, Categorical, Poisson

from from_scratch.validation import check_array, check_positive_array, check_probabilities, check_same_shape


def softplus(x: torch.Tensor) -> torch.Tensor:
    """log(1 + e^x) as ``torch.logaddexp(x, 0)``: exact everywhere, whereas ``F.softplus`` returns x itself above
    its threshold of 20 (an error of up to 2e-9, visible in float64)."""
    check_array("x", x)
    return torch.logaddexp(x, torch.zeros_like(x))


def bernoulli_log_prob(value: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    check_array("logits", logits)
    check_probabilities("value", value, binary=True)
    check_same_shape("value", value, "logits", logits)
    return Bernoulli(logits=logits).log_prob(value)


def bernoulli_entropy(logits: torch.Tensor) -> torch.Tensor:
    check_array("logits", logits)
    return Bernoulli(logits=logits).entropy()


def bernoulli_fit(x: torch.Tensor) -> torch.Tensor:
    """Maximum-likelihood logit of 0/1 samples along dim 0 (``torch.logit`` of the mean)."""
    check_probabilities("x", x, binary=True)
    return torch.logit(x.mean(0))


def _check_classes(value: torch.Tensor, logits: torch.Tensor) -> None:
    check_array("logits", logits)
    if not isinstance(value, torch.Tensor) or value.is_floating_point() or value.dtype == torch.bool:
        raise TypeError(f"value must hold integer class indices, got {getattr(value, 'dtype', type(value).__name__)}")
    if tuple(value.shape) != tuple(logits.shape[:-1]):
        raise ValueError(f"value must have the batch shape of logits {tuple(logits.shape[:-1])}, got {tuple(value.shape)}")
    if value.numel() and (value.min() < 0 or value.max() >= logits.shape[-1]):
        raise ValueError(f"value must lie in [0, {logits.shape[-1]}), got values in [{int(value.min())}, {int(value.max())}]")


def categorical_log_prob(value: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    _check_classes(value, logits)
    return Categorical(logits=logits).log_prob(value)


def categorical_entropy(logits: torch.Tensor) -> torch.Tensor:
    check_array("logits", logits)
    return Categorical(logits=logits).entropy()


def categorical_fit(x: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Maximum-likelihood logits log(n_k / n) (``torch.bincount``)."""
    _check_classes(x, torch.zeros(len(x), num_classes))
    return torch.log(torch.bincount(x, minlength=num_classes).double() / len(x))


def log_factorial(k: torch.Tensor) -> torch.Tensor:
    """log k! = lgamma(k + 1)."""
    return torch.lgamma(k + 1)


def _check_poisson(value: torch.Tensor, rate: torch.Tensor) -> None:
    check_positive_array("rate", rate)
    check_array("value", value)
    if (value < 0).any() or (value != value.round()).any():
        raise ValueError("value must hold non-negative integer counts")


def poisson_log_prob(value: torch.Tensor, rate: torch.Tensor) -> torch.Tensor:
    _check_poisson(value, rate)
    return Poisson(rate).log_prob(value)


def poisson_entropy(rate: torch.Tensor) -> torch.Tensor:
    r""":math:`-\sum_kp(k)\log p(k)` over :math:`k\le\lambda+12\sqrt\lambda+40` (``torch.distributions.Poisson`` has no
    closed-form entropy)."""
    check_positive_array("rate", rate)
    top = float(rate.detach().max())
    k = torch.arange(int(torch.tensor(top + 12 * top ** 0.5 + 40).ceil()), dtype=rate.dtype, device=rate.device)
    logp = Poisson(rate.reshape(-1)).log_prob(k[:, None])
    return -(logp.exp() * logp).sum(0).reshape(rate.shape)


def poisson_fit(x: torch.Tensor) -> torch.Tensor:
    _check_poisson(x, torch.ones(1))
    return x.mean(0)
