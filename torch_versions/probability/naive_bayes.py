r"""Naive Bayes with tensors (lesson 3): class statistics by ``index_add_`` / ``bincount``, the Gaussian
log-likelihood by ``torch.distributions.Normal``, the multinomial one by ``F.linear``, normalization by
``torch.logsumexp``. Twin of :mod:`from_scratch.probability.naive_bayes` (the classes subclass the scratch ones
and bind the functions below)."""
from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch.distributions import Normal

from from_scratch.probability import naive_bayes as scratch
from from_scratch.probability.naive_bayes import _check_gaussian_jll, _class_counts, _require_every_class
from from_scratch.validation import (check_linear, check_matrix, check_nonnegative_array, check_positive,
                                     check_positive_array, check_prior)


class GaussianNBParams(NamedTuple):
    class_count: torch.Tensor  # (K,)
    class_prior: torch.Tensor  # (K,)
    theta: torch.Tensor  # (K, d)
    var: torch.Tensor  # (K, d)
    epsilon: torch.Tensor  # ()


class MultinomialNBParams(NamedTuple):
    class_count: torch.Tensor  # (K,)
    feature_count: torch.Tensor  # (K, d)
    class_log_prior: torch.Tensor  # (K,)
    feature_log_prob: torch.Tensor  # (K, d)


def _per_class_sum(X: torch.Tensor, y: torch.Tensor, K: int) -> torch.Tensor:
    """(K, d): row k sums the rows of X (N, d) labelled k."""
    return X.new_zeros(K, X.shape[1]).index_add_(0, y, X)


def gaussian_nb_fit(X: torch.Tensor, y: torch.Tensor, n_classes: int | None = None, var_smoothing: float = 1e-9,
                    priors: torch.Tensor | None = None) -> GaussianNBParams:
    """Per-class means, biased variances + var_smoothing * max feature variance, and class priors."""
    K = _class_counts(X, y, n_classes)
    check_positive("var_smoothing", var_smoothing, allow_zero=True)
    count = torch.bincount(y, minlength=K).to(X.dtype)
    _require_every_class(count)
    theta = _per_class_sum(X, y, K) / count[:, None]
    epsilon = var_smoothing * X.var(0, correction=0).max()
    var = _per_class_sum((X - theta[y]).square(), y, K) / count[:, None] + epsilon
    if priors is None:
        prior = count / X.shape[0]
    else:
        check_prior("priors", priors, K)
        check_positive_array("priors", priors)
        prior = priors
    return GaussianNBParams(count, prior, theta, var, epsilon)


def gaussian_nb_joint_log_likelihood(X: torch.Tensor, theta: torch.Tensor, var: torch.Tensor,
                                     class_prior: torch.Tensor) -> torch.Tensor:
    """log prior + sum_j Normal(theta, sqrt(var)).log_prob(x_j): (N, d) -> (N, K), broadcast over (N, K, d)."""
    _check_gaussian_jll(X, theta, var, class_prior)
    return class_prior.log() + Normal(theta, var.sqrt()).log_prob(X[:, None, :]).sum(-1)


def multinomial_nb_fit(X: torch.Tensor, y: torch.Tensor, n_classes: int | None = None, alpha: float = 1.0,
                       fit_prior: bool = True, class_prior: torch.Tensor | None = None) -> MultinomialNBParams:
    """Feature counts, Lidstone-smoothed log-probabilities log(N_kj + alpha) - log(sum_j (N_kj + alpha)), log priors."""
    K = _class_counts(X, y, n_classes)
    check_nonnegative_array("X", X)
    check_positive("alpha", alpha)
    class_count = torch.bincount(y, minlength=K).to(X.dtype)
    _require_every_class(class_count)
    feature_count = _per_class_sum(X, y, K)
    smoothed = feature_count + alpha
    feature_log_prob = smoothed.log() - smoothed.sum(1, keepdim=True).log()
    if class_prior is not None:
        check_prior("class_prior", class_prior, K)
        check_positive_array("class_prior", class_prior)
        class_log_prior = class_prior.log()
    elif fit_prior:
        class_log_prior = class_count.log() - math.log(X.shape[0])
    else:
        class_log_prior = X.new_full((K,), -math.log(K))
    return MultinomialNBParams(class_count, feature_count, class_log_prior, feature_log_prob)


def multinomial_nb_joint_log_likelihood(X: torch.Tensor, feature_log_prob: torch.Tensor,
                                        class_log_prior: torch.Tensor) -> torch.Tensor:
    """``F.linear(X, feature_log_prob, class_log_prior)``: counts (N, d) -> (N, K)."""
    check_matrix("X", X)
    check_nonnegative_array("X", X)
    check_linear(X, feature_log_prob, class_log_prior)
    return F.linear(X, feature_log_prob, class_log_prior)


def predict_log_proba(joint_log_likelihood: torch.Tensor) -> torch.Tensor:
    """J - logsumexp(J) over the classes."""
    check_matrix("joint_log_likelihood", joint_log_likelihood)
    return joint_log_likelihood - torch.logsumexp(joint_log_likelihood, dim=1, keepdim=True)


class _TorchOps:
    _unique = staticmethod(torch.unique)
    _exp = staticmethod(torch.exp)
    _normalize = staticmethod(predict_log_proba)


class GaussianNB(_TorchOps, scratch.GaussianNB):
    """Gaussian naive Bayes over tensors; method bodies shared with :class:`from_scratch.probability.GaussianNB`."""

    _fit = staticmethod(gaussian_nb_fit)
    _joint_log_likelihood = staticmethod(gaussian_nb_joint_log_likelihood)


class MultinomialNB(_TorchOps, scratch.MultinomialNB):
    """Multinomial naive Bayes over tensors; method bodies shared with :class:`from_scratch.probability.MultinomialNB`."""

    _fit = staticmethod(multinomial_nb_fit)
    _joint_log_likelihood = staticmethod(multinomial_nb_joint_log_likelihood)
