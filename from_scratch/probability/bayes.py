r"""Bayes' theorem as code (lesson 3).

* Discrete hypotheses: :math:`p(h\mid D)=\frac{p(D\mid h)p(h)}{\sum_{h'}p(D\mid h')p(h')}`, computed in log space
  as :math:`\log p(h)+\log p(D\mid h)-\operatorname{logsumexp}_{h'}(\cdot)` so that likelihoods of many
  observations (products of small numbers) never underflow.
* Conjugacy: a :math:`\mathrm{Beta}(\alpha,\beta)` prior on a coin's bias and Bernoulli observations give the
  posterior :math:`\mathrm{Beta}(\alpha+\#\text{heads},\ \beta+\#\text{tails})`; its density
  :math:`\log p(\theta)=(\alpha-1)\log\theta+(\beta-1)\log(1-\theta)-\log B(\alpha,\beta)`.

See also: :mod:`torch_versions.probability.bayes`, ``lessons/03_probability_statistics.md``.
"""
from __future__ import annotations

from math import lgamma

import numpy as np

from from_scratch.calculus.two_layer_net import log_softmax, log_softmax_backward
from from_scratch.validation import check_array, check_positive_array, check_probabilities, check_same_shape

_lgamma = np.frompyfunc(lgamma, 1, 1)


def discrete_posterior(log_prior: np.ndarray, log_likelihood: np.ndarray) -> np.ndarray:
    r"""Log posterior over the last axis (hypotheses): ``log_prior`` (H,) or (..., H), ``log_likelihood`` (..., H)
    — the log-likelihood of all the data under each hypothesis (e.g. a sum of per-observation log-probabilities)."""
    check_array("log_prior", log_prior)
    check_array("log_likelihood", log_likelihood)
    if log_prior.shape[-1] != log_likelihood.shape[-1]:
        raise ValueError(f"log_prior and log_likelihood must share the hypothesis axis, got {log_prior.shape} and {log_likelihood.shape}")
    return log_softmax(log_prior + log_likelihood)


def discrete_posterior_backward(log_prior, log_likelihood, grad_out) -> tuple[np.ndarray, np.ndarray]:
    r"""The log-softmax Jacobian applied to g, for both inputs (the prior's gradient summed over broadcast axes)."""
    g = log_softmax_backward(log_prior + log_likelihood, grad_out)
    g_prior = g.reshape(-1, *log_prior.shape).sum(0) if g.shape != log_prior.shape else g
    return g_prior, g


def beta_bernoulli_update(alpha: float, beta: float, observations: np.ndarray) -> tuple[float, float]:
    r"""Posterior parameters :math:`(\alpha+\sum x,\ \beta+n-\sum x)` after 0/1 ``observations``."""
    if not (alpha > 0 and beta > 0):
        raise ValueError(f"alpha and beta must be > 0, got {alpha!r} and {beta!r}")
    if int(np.prod(observations.shape)) == 0:
        return alpha, beta  # no data: the posterior is the prior
    check_probabilities("observations", observations, binary=True)
    heads = float(observations.sum())
    n = int(np.prod(observations.shape))  # works for arrays and tensors alike
    return alpha + heads, beta + n - heads


def beta_log_prob(value: np.ndarray, alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
    r"""Elementwise :math:`(\alpha-1)\log\theta+(\beta-1)\log(1-\theta)-\log B(\alpha,\beta)`, θ in (0, 1)."""
    check_array("value", value)
    check_positive_array("alpha", alpha)
    check_positive_array("beta", beta)
    check_same_shape("alpha", alpha, "beta", beta)
    if ((value <= 0) | (value >= 1)).any():
        raise ValueError("value must lie strictly inside (0, 1)")
    log_b = np.asarray(_lgamma(alpha) + _lgamma(beta) - _lgamma(alpha + beta), dtype=value.dtype)  # 0-d safe
    return (alpha - 1) * np.log(value) + (beta - 1) * np.log1p(-value) - log_b


def beta_log_prob_backward(value, alpha, beta, grad_out) -> np.ndarray:
    r"""Gradient w.r.t. the value: :math:`\frac{\alpha-1}\theta-\frac{\beta-1}{1-\theta}` (the parameters' gradients
    need the digamma function, which this NumPy-only side does not implement)."""
    return grad_out * ((alpha - 1) / value - (beta - 1) / (1 - value))


def beta_mean_variance(alpha: float, beta: float) -> tuple[float, float]:
    r""":math:`\frac{\alpha}{\alpha+\beta}` and :math:`\frac{\alpha\beta}{(\alpha+\beta)^2(\alpha+\beta+1)}`."""
    s = alpha + beta
    return alpha / s, alpha * beta / (s * s * (s + 1))
