r"""Gaussians with ``torch.distributions`` (lesson 3): ``Normal`` and ``MultivariateNormal(scale_tril=L)``;
``rsample`` is the reparameterization :math:`\mu+L\varepsilon`, here with the noise passed in.
Twin of :mod:`from_scratch.probability.gaussian`."""
from __future__ import annotations

import torch
from torch.distributions import MultivariateNormal, Normal

from from_scratch.validation import check_array, check_cholesky_factor, check_matrix, check_mvn, check_positive_array


def normal_log_prob(value: torch.Tensor, loc: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    check_array("value", value)
    check_array("loc", loc)
    check_positive_array("scale", scale)
    if not value.shape == loc.shape == scale.shape:
        raise ValueError(f"value, loc and scale must have one shape, got {tuple(value.shape)}, {tuple(loc.shape)}, {tuple(scale.shape)}")
    return Normal(loc, scale).log_prob(value)


def normal_entropy(scale: torch.Tensor) -> torch.Tensor:
    check_positive_array("scale", scale)
    return Normal(torch.zeros_like(scale), scale).entropy()


def normal_rsample(loc: torch.Tensor, scale: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    check_array("loc", loc)
    check_positive_array("scale", scale)
    check_array("noise", noise)
    return loc + scale * noise


def normal_fit(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean, biased std) along dim 0."""
    check_array("x", x)
    return x.mean(0), x.std(0, correction=0)


def mvn_log_prob(value: torch.Tensor, loc: torch.Tensor, scale_tril: torch.Tensor) -> torch.Tensor:
    check_mvn(value, loc, scale_tril)
    return MultivariateNormal(loc, scale_tril=scale_tril).log_prob(value)


def mvn_entropy(scale_tril: torch.Tensor) -> torch.Tensor:
    check_cholesky_factor("scale_tril", scale_tril)
    return MultivariateNormal(scale_tril.new_zeros(scale_tril.shape[0]), scale_tril=scale_tril).entropy()


def mvn_rsample(loc: torch.Tensor, scale_tril: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    check_array("noise", noise, ndim=2)
    check_mvn(noise, loc, scale_tril)
    return loc + noise @ scale_tril.mT


def mvn_fit(X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean, MLE covariance with 1/n) via ``torch.cov(correction=0)``."""
    check_matrix("X", X)
    d = X.shape[1]
    return X.mean(0), torch.cov(X.mT, correction=0).reshape(d, d)  # torch.cov returns 0-d for one variable
