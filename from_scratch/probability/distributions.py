r"""Distribution objects (lesson 3), named and parameterized like ``torch.distributions``: thin classes over the
functions of :mod:`.discrete`, :mod:`.gaussian` and :mod:`.bayes`, with ``mean``, ``variance``, ``log_prob``,
``entropy``, ``sample`` (from a ``numpy.random.Generator``) and a maximum-likelihood ``fit`` classmethod.

See also: :mod:`torch_versions.probability.distributions` (``torch.distributions`` plus the same ``fit``).
"""
from __future__ import annotations

import numpy as np

from from_scratch.linear_algebra.qr import cholesky
from from_scratch.validation import check_positive_array
from . import bayes, discrete, gaussian


def _logits(probs, logits):
    if (probs is None) == (logits is None):
        raise ValueError("pass exactly one of probs and logits")
    if logits is not None:
        return np.asarray(logits, dtype=float)
    p = np.asarray(probs, dtype=float)
    with np.errstate(divide="ignore"):
        return np.log(p) - np.log1p(-p)


class Bernoulli:
    def __init__(self, probs=None, logits=None) -> None:
        self.logits = _logits(probs, logits)
        self.probs = 1 / (1 + np.exp(-self.logits))
        self.mean, self.variance = self.probs, self.probs * (1 - self.probs)

    def log_prob(self, value):
        return discrete.bernoulli_log_prob(value, self.logits)

    def entropy(self):
        return discrete.bernoulli_entropy(self.logits)

    def sample(self, shape: tuple = (), rng: np.random.Generator | None = None):
        rng = np.random.default_rng() if rng is None else rng
        return (rng.random(tuple(shape) + self.probs.shape) < self.probs).astype(float)

    @classmethod
    def fit(cls, x):
        return cls(logits=discrete.bernoulli_fit(x))


class Categorical:
    def __init__(self, probs=None, logits=None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("pass exactly one of probs and logits")
        z = np.log(np.asarray(probs, dtype=float)) if logits is None else np.asarray(logits, dtype=float)
        self.logits = z - np.log(np.exp(z - z.max(-1, keepdims=True)).sum(-1, keepdims=True)) - z.max(-1, keepdims=True)
        self.probs = np.exp(self.logits)

    def log_prob(self, value):
        return discrete.categorical_log_prob(value, self.logits)

    def entropy(self):
        return discrete.categorical_entropy(self.logits)

    def sample(self, shape: tuple = (), rng: np.random.Generator | None = None):
        """Inverse-CDF sampling: the first class whose cumulative probability exceeds a uniform draw."""
        rng = np.random.default_rng() if rng is None else rng
        u = rng.random(tuple(shape) + self.probs.shape[:-1] + (1,))
        return np.minimum((np.cumsum(self.probs, -1) < u).sum(-1), self.probs.shape[-1] - 1)

    @classmethod
    def fit(cls, x, num_classes: int):
        return cls(logits=discrete.categorical_fit(x, num_classes))


class Poisson:
    def __init__(self, rate) -> None:
        self.rate = np.asarray(rate, dtype=float)
        check_positive_array("rate", self.rate)
        self.mean = self.variance = self.rate

    def log_prob(self, value):
        return discrete.poisson_log_prob(value, self.rate)

    def entropy(self):
        return discrete.poisson_entropy(self.rate)

    def sample(self, shape: tuple = (), rng: np.random.Generator | None = None):
        rng = np.random.default_rng() if rng is None else rng
        return rng.poisson(self.rate, tuple(shape) + self.rate.shape).astype(float)

    @classmethod
    def fit(cls, x):
        return cls(discrete.poisson_fit(x))


class Normal:
    def __init__(self, loc, scale) -> None:
        self.loc, self.scale = np.broadcast_arrays(np.asarray(loc, dtype=float), np.asarray(scale, dtype=float))
        check_positive_array("scale", self.scale)
        self.mean, self.stddev, self.variance = self.loc, self.scale, self.scale ** 2

    def log_prob(self, value):
        return gaussian.normal_log_prob(*np.broadcast_arrays(value, self.loc, self.scale))

    def entropy(self):
        return gaussian.normal_entropy(self.scale)

    def rsample(self, shape: tuple = (), rng: np.random.Generator | None = None):
        rng = np.random.default_rng() if rng is None else rng
        return gaussian.normal_rsample(self.loc, self.scale, rng.standard_normal(tuple(shape) + self.loc.shape))

    sample = rsample

    @classmethod
    def fit(cls, x):
        return cls(*gaussian.normal_fit(x))


class MultivariateNormal:
    def __init__(self, loc, covariance_matrix=None, scale_tril=None) -> None:
        if (covariance_matrix is None) == (scale_tril is None):
            raise ValueError("pass exactly one of covariance_matrix and scale_tril")
        self.loc = np.asarray(loc, dtype=float)
        self.scale_tril = cholesky(np.asarray(covariance_matrix, dtype=float)) if scale_tril is None else np.asarray(scale_tril, dtype=float)
        self.mean = self.loc
        self.covariance_matrix = self.scale_tril @ self.scale_tril.T
        self.variance = np.diag(self.covariance_matrix)

    def log_prob(self, value):
        return gaussian.mvn_log_prob(value, self.loc, self.scale_tril)

    def entropy(self):
        return gaussian.mvn_entropy(self.scale_tril)

    def rsample(self, shape: tuple = (), rng: np.random.Generator | None = None):
        """Samples of shape (*shape, d), like torch's ``sample(sample_shape)``."""
        rng = np.random.default_rng() if rng is None else rng
        d, n = self.loc.shape[0], int(np.prod(shape))
        return gaussian.mvn_rsample(self.loc, self.scale_tril, rng.standard_normal((n, d))).reshape(tuple(shape) + (d,))

    sample = rsample

    @classmethod
    def fit(cls, X):
        loc, cov = gaussian.mvn_fit(X)
        return cls(loc, covariance_matrix=cov)


class Beta:
    """Beta(concentration1 = alpha, concentration0 = beta), torch's names; :meth:`update` is the conjugate step."""

    def __init__(self, concentration1, concentration0) -> None:
        self.concentration1 = np.asarray(concentration1, dtype=float)
        self.concentration0 = np.asarray(concentration0, dtype=float)
        self.mean, self.variance = bayes.beta_mean_variance(self.concentration1, self.concentration0)

    def log_prob(self, value):
        a, b = np.broadcast_arrays(self.concentration1, self.concentration0)
        shape = np.broadcast_shapes(np.shape(value), a.shape)
        return bayes.beta_log_prob(np.broadcast_to(value, shape), np.broadcast_to(a, shape), np.broadcast_to(b, shape))

    def update(self, observations) -> "Beta":
        return type(self)(*bayes.beta_bernoulli_update(float(self.concentration1), float(self.concentration0), observations))
