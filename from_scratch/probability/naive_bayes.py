r"""Naive Bayes classifiers (lesson 3), everything in log space.

Bayes' rule with features independent given the class:
:math:`\log p(k\mid x)=\log\pi_k+\sum_j\log p(x_j\mid k)-\log Z(x)`.
The joint log-likelihood (JLL) :math:`\log\pi_k+\sum_j\log p(x_j\mid k)` (N, K) is normalized by log-sum-exp
(:func:`predict_log_proba`), never by exponentiating first, so products of hundreds of small likelihoods never
underflow.

* Gaussian: :math:`\log p(x_j\mid k)=-\tfrac12\log(2\pi\sigma^2_{kj})-\frac{(x_j-\theta_{kj})^2}{2\sigma^2_{kj}}`; the fit
  takes the per-class mean :math:`\theta` and biased variance, plus :math:`\epsilon=10^{-9}\max_j\operatorname{Var}(x_j)`
  (scikit-learn's ``var_smoothing``) so a constant feature never divides by zero. Prior: class frequencies.
* Multinomial (counts): :math:`\log p(x\mid k)=\sum_jx_j\log\phi_{kj}` + const, with Laplace/Lidstone smoothing
  :math:`\phi_{kj}=\frac{N_{kj}+\alpha}{\sum_jN_{kj}+\alpha d}`; the JLL is linear in x:
  :math:`XF^\top+\log\pi`, F = ``feature_log_prob`` (K, d) — a linear layer.

Gradients w.r.t. the inputs (``*_backward``), with upstream G (N, K) and
:math:`r_{nkj}=(x_{nj}-\theta_{kj})/\sigma^2_{kj}`:
:math:`\bar x_{nj}=-\sum_kG_{nk}r_{nkj}`, :math:`\bar\theta_{kj}=\sum_nG_{nk}r_{nkj}`,
:math:`\bar\sigma^2_{kj}=\tfrac12\sum_nG_{nk}(r_{nkj}^2-1/\sigma^2_{kj})`, :math:`\bar\pi_k=\sum_nG_{nk}/\pi_k`.

Attribute names follow scikit-learn (``class_count_``, ``class_prior_``, ``theta_``, ``var_``, ``epsilon_``,
``feature_count_``, ``class_log_prior_``, ``feature_log_prob_``, ``classes_``).

See also: :mod:`torch_versions.probability.naive_bayes`, ``lessons/03_probability_statistics.md``.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from from_scratch.calculus.two_layer_net import log_softmax
from from_scratch.linear_algebra.layer import linear_backward, linear_forward
from from_scratch.validation import (check_array, check_integer_labels, check_labels, check_linear, check_matrix,
                                     check_nonnegative_array, check_positive, check_positive_array, check_prior)

class GaussianNBParams(NamedTuple):
    class_count: np.ndarray  # (K,)
    class_prior: np.ndarray  # (K,)
    theta: np.ndarray  # (K, d) per-class means
    var: np.ndarray  # (K, d) per-class variances + epsilon
    epsilon: np.ndarray  # () the variance added to every entry


class MultinomialNBParams(NamedTuple):
    class_count: np.ndarray  # (K,)
    feature_count: np.ndarray  # (K, d)
    class_log_prior: np.ndarray  # (K,)
    feature_log_prob: np.ndarray  # (K, d)


def _class_counts(X, y, n_classes: int | None) -> int:
    """Validate X (N, d) and labels y (N,) in [0, K); K = n_classes or max(y) + 1, and every class must occur."""
    check_matrix("X", X)
    check_integer_labels("y", y, X.shape[0])
    K = int(y.max()) + 1 if n_classes is None else n_classes
    check_labels("y", y, K, X.shape[0])
    return K


def _require_every_class(count) -> None:
    if bool((count == 0).any()):
        empty = [int(k) for k in range(len(count)) if count[k] == 0]
        raise ValueError(f"every class needs at least one sample, got none for classes {empty}")


def gaussian_nb_fit(X: np.ndarray, y: np.ndarray, n_classes: int | None = None, var_smoothing: float = 1e-9,
                    priors: np.ndarray | None = None) -> GaussianNBParams:
    r"""Per-class means :math:`\theta` (K, d), biased variances + :math:`\epsilon`, and priors (class frequencies
    unless ``priors`` (K,) is given); X (N, d), y (N,) labels in [0, K)."""
    K = _class_counts(X, y, n_classes)
    check_positive("var_smoothing", var_smoothing, allow_zero=True)
    onehot = (y[:, None] == np.arange(K)).astype(X.dtype)  # (N, K)
    count = onehot.sum(0)
    _require_every_class(count)
    theta = onehot.T @ X / count[:, None]
    diff = X - theta[y]
    epsilon = var_smoothing * X.var(0).max()
    var = onehot.T @ (diff * diff) / count[:, None] + epsilon
    if priors is None:
        prior = count / X.shape[0]
    else:
        check_prior("priors", priors, K)
        check_positive_array("priors", priors)
        prior = priors
    return GaussianNBParams(count, prior, theta, var, epsilon)


def _check_gaussian_jll(X, theta, var, class_prior) -> None:
    check_matrix("X", X)
    check_array("theta", theta, ndim=2)
    check_positive_array("var", var)
    check_positive_array("class_prior", class_prior)
    K, d = theta.shape
    if X.shape[1] != d or tuple(var.shape) != (K, d) or tuple(class_prior.shape) != (K,):
        raise ValueError(f"X (N, d), theta (K, d), var (K, d) and class_prior (K,) must agree, got {tuple(X.shape)}, "
                         f"{tuple(theta.shape)}, {tuple(var.shape)}, {tuple(class_prior.shape)}")


def gaussian_nb_joint_log_likelihood(X: np.ndarray, theta: np.ndarray, var: np.ndarray,
                                     class_prior: np.ndarray) -> np.ndarray:
    r""":math:`\log\pi_k-\tfrac12\sum_j\log(2\pi\sigma^2_{kj})-\tfrac12\sum_j(x_{nj}-\theta_{kj})^2/\sigma^2_{kj}`:
    X (N, d), theta and var (K, d), class_prior (K,) -> (N, K)."""
    _check_gaussian_jll(X, theta, var, class_prior)
    diff = X[:, None, :] - theta  # (N, K, d)
    return np.log(class_prior) - 0.5 * np.log(2 * math.pi * var).sum(1) - 0.5 * (diff * diff / var).sum(-1)


def gaussian_nb_joint_log_likelihood_backward(X: np.ndarray, theta: np.ndarray, var: np.ndarray, class_prior: np.ndarray,
                                              grad_out: np.ndarray) -> tuple[np.ndarray, ...]:
    """(grad_X, grad_theta, grad_var, grad_class_prior) for upstream grad_out (N, K) (module docstring)."""
    r = (X[:, None, :] - theta) / var  # (N, K, d)
    g_theta = np.einsum("nk,nkd->kd", grad_out, r)
    g_var = 0.5 * (np.einsum("nk,nkd->kd", grad_out, r * r) - grad_out.sum(0)[:, None] / var)
    return -np.einsum("nk,nkd->nd", grad_out, r), g_theta, g_var, grad_out.sum(0) / class_prior


def multinomial_nb_fit(X: np.ndarray, y: np.ndarray, n_classes: int | None = None, alpha: float = 1.0,
                       fit_prior: bool = True, class_prior: np.ndarray | None = None) -> MultinomialNBParams:
    r"""Feature counts :math:`N_{kj}` (K, d), smoothed log-probabilities
    :math:`\log\frac{N_{kj}+\alpha}{\sum_jN_{kj}+\alpha d}` and log priors (given ``class_prior``; else class
    frequencies if ``fit_prior``, else uniform). X (N, d) counts >= 0, y (N,) labels in [0, K)."""
    K = _class_counts(X, y, n_classes)
    check_nonnegative_array("X", X)
    check_positive("alpha", alpha)
    onehot = (y[:, None] == np.arange(K)).astype(X.dtype)  # (N, K)
    class_count = onehot.sum(0)
    _require_every_class(class_count)
    feature_count = onehot.T @ X  # (K, d)
    smoothed = feature_count + alpha
    feature_log_prob = np.log(smoothed) - np.log(smoothed.sum(1, keepdims=True))
    if class_prior is not None:
        check_prior("class_prior", class_prior, K)
        check_positive_array("class_prior", class_prior)
        class_log_prior = np.log(class_prior)
    elif fit_prior:
        class_log_prior = np.log(class_count) - math.log(X.shape[0])
    else:
        class_log_prior = np.full(K, -math.log(K), dtype=X.dtype)
    return MultinomialNBParams(class_count, feature_count, class_log_prior, feature_log_prob)


def multinomial_nb_joint_log_likelihood(X: np.ndarray, feature_log_prob: np.ndarray,
                                        class_log_prior: np.ndarray) -> np.ndarray:
    r""":math:`XF^\top+\log\pi`: counts X (N, d) >= 0, feature_log_prob F (K, d), class_log_prior (K,) -> (N, K)."""
    check_matrix("X", X)
    check_nonnegative_array("X", X)
    check_linear(X, feature_log_prob, class_log_prior)
    return linear_forward(X, feature_log_prob, class_log_prior)


def multinomial_nb_joint_log_likelihood_backward(X: np.ndarray, feature_log_prob: np.ndarray, class_log_prior: np.ndarray,
                                                 grad_out: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(grad_X, grad_feature_log_prob, grad_class_log_prior): the linear layer's backward."""
    return linear_backward(X, feature_log_prob, grad_out)


def predict_log_proba(joint_log_likelihood: np.ndarray) -> np.ndarray:
    r"""Log posterior :math:`J_{nk}-\log\sum_{k'}e^{J_{nk'}}` (N, K) from the JLL, via the max-shifted log-softmax
    (its backward is ``log_softmax_backward``, lesson 2)."""
    check_matrix("joint_log_likelihood", joint_log_likelihood)
    return log_softmax(joint_log_likelihood)


class _NaiveBayes:
    """fit / predict / predict_log_proba / predict_proba / predict_joint_log_proba over the bound functions; labels
    are any integers (``classes_``, sorted). Subclasses bind ``_fit`` and ``_joint_log_likelihood``; the torch twins
    rebind everything with torch functions."""

    _unique = staticmethod(np.unique)
    _exp = staticmethod(np.exp)
    _normalize = staticmethod(predict_log_proba)

    def fit(self, X, y):
        check_matrix("X", X)
        check_integer_labels("y", y, X.shape[0])
        self.classes_, idx = self._unique(y, return_inverse=True)
        self._store(self._fit(X, idx, len(self.classes_), *self._knobs()))
        return self

    def predict_joint_log_proba(self, X):
        """(N, K) joint log-likelihood :math:`\\log\\pi_k+\\log p(x\\mid k)`, columns in the order of ``classes_``."""
        if not hasattr(self, "classes_"):
            raise RuntimeError(f"{type(self).__name__} must be fitted before predict / predict_proba")
        return self._jll(X)

    def predict_log_proba(self, X):
        return self._normalize(self.predict_joint_log_proba(X))

    def predict_proba(self, X):
        return self._exp(self.predict_log_proba(X))

    def predict(self, X):
        best = self.predict_joint_log_proba(X).argmax(1)
        return self.classes_[best]


class GaussianNB(_NaiveBayes):
    """Gaussian naive Bayes (scikit-learn's ``GaussianNB(priors, var_smoothing)``); after fit: ``class_count_``,
    ``class_prior_``, ``theta_`` (K, d), ``var_`` (K, d), ``epsilon_``, ``classes_``."""

    _fit = staticmethod(gaussian_nb_fit)
    _joint_log_likelihood = staticmethod(gaussian_nb_joint_log_likelihood)

    def __init__(self, priors=None, var_smoothing: float = 1e-9) -> None:
        check_positive("var_smoothing", var_smoothing, allow_zero=True)
        self.priors, self.var_smoothing = priors, var_smoothing

    def _knobs(self) -> tuple:
        return self.var_smoothing, self.priors

    def _store(self, p: GaussianNBParams) -> None:
        self.class_count_, self.class_prior_, self.theta_, self.var_, self.epsilon_ = p

    def _jll(self, X):
        return self._joint_log_likelihood(X, self.theta_, self.var_, self.class_prior_)


class MultinomialNB(_NaiveBayes):
    """Multinomial naive Bayes for counts (scikit-learn's ``MultinomialNB(alpha, fit_prior, class_prior)``); after
    fit: ``class_count_``, ``feature_count_``, ``class_log_prior_``, ``feature_log_prob_`` (K, d), ``classes_``."""

    _fit = staticmethod(multinomial_nb_fit)
    _joint_log_likelihood = staticmethod(multinomial_nb_joint_log_likelihood)

    def __init__(self, alpha: float = 1.0, fit_prior: bool = True, class_prior=None) -> None:
        check_positive("alpha", alpha)
        self.alpha, self.fit_prior, self.class_prior = alpha, fit_prior, class_prior

    def _knobs(self) -> tuple:
        return self.alpha, self.fit_prior, self.class_prior

    def _store(self, p: MultinomialNBParams) -> None:
        self.class_count_, self.feature_count_, self.class_log_prior_, self.feature_log_prob_ = p

    def _jll(self, X):
        return self._joint_log_likelihood(X, self.feature_log_prob_, self.class_log_prior_)
