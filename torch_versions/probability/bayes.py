r"""Bayes' theorem with torch (lesson 3): the log posterior is ``log_softmax(log prior + log likelihood)``; the
Beta-Bernoulli posterior and ``torch.distributions.Beta``. Twin of :mod:`from_scratch.probability.bayes`."""
from __future__ import annotations

import torch
from torch.distributions import Beta

from from_scratch.probability.bayes import beta_bernoulli_update as _update
from from_scratch.validation import check_array, check_positive_array, check_same_shape


def discrete_posterior(log_prior: torch.Tensor, log_likelihood: torch.Tensor) -> torch.Tensor:
    check_array("log_prior", log_prior)
    check_array("log_likelihood", log_likelihood)
    if log_prior.shape[-1] != log_likelihood.shape[-1]:
        raise ValueError(f"log_prior and log_likelihood must share the hypothesis axis, got {tuple(log_prior.shape)} "
                         f"and {tuple(log_likelihood.shape)}")
    return torch.log_softmax(log_prior + log_likelihood, dim=-1)


def beta_bernoulli_update(alpha: float, beta: float, observations: torch.Tensor) -> tuple[float, float]:
    """(alpha + heads, beta + tails): plain arithmetic, shared with the scratch side."""
    return _update(alpha, beta, observations)


def beta_log_prob(value: torch.Tensor, alpha: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    check_array("value", value)
    check_positive_array("alpha", alpha)
    check_positive_array("beta", beta)
    check_same_shape("alpha", alpha, "beta", beta)
    if ((value <= 0) | (value >= 1)).any():
        raise ValueError("value must lie strictly inside (0, 1)")
    return Beta(alpha, beta).log_prob(value)


def beta_mean_variance(alpha: float, beta: float) -> tuple[float, float]:
    """Mean and variance of Beta(alpha, beta) (read from ``torch.distributions.Beta``)."""
    d = Beta(torch.tensor(float(alpha), dtype=torch.float64), torch.tensor(float(beta), dtype=torch.float64))
    return float(d.mean), float(d.variance)
