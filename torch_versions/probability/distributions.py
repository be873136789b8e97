"""``torch.distributions`` with the scratch side's maximum-likelihood ``fit`` (and Beta's conjugate ``update``).
Twin of :mod:`from_scratch.probability.distributions`."""
from __future__ import annotations

import torch
from torch import distributions as D

from . import bayes, discrete, gaussian


class Bernoulli(D.Bernoulli):
    @classmethod
    def fit(cls, x: torch.Tensor) -> "Bernoulli":
        return cls(logits=discrete.bernoulli_fit(x))


class Categorical(D.Categorical):
    @classmethod
    def fit(cls, x: torch.Tensor, num_classes: int) -> "Categorical":
        return cls(logits=discrete.categorical_fit(x, num_classes))


class Poisson(D.Poisson):
    def entropy(self) -> torch.Tensor:
        return discrete.poisson_entropy(self.rate)

    @classmethod
    def fit(cls, x: torch.Tensor) -> "Poisson":
        return cls(discrete.poisson_fit(x))


class Normal(D.Normal):
    @classmethod
    def fit(cls, x: torch.Tensor) -> "Normal":
        return cls(*gaussian.normal_fit(x))


class MultivariateNormal(D.MultivariateNormal):
    @classmethod
    def fit(cls, X: torch.Tensor) -> "MultivariateNormal":
        loc, cov = gaussian.mvn_fit(X)
        return cls(loc, covariance_matrix=cov)


class Beta(D.Beta):
    def update(self, observations: torch.Tensor) -> "Beta":
        a, b = bayes.beta_bernoulli_update(float(self.concentration1), float(self.concentration0), observations)
        return type(self)(self.concentration1.new_tensor(a), self.concentration0.new_tensor(b))  # same dtype, device
