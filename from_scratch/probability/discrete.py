r"""Discrete distributions (lesson 3): Bernoulli, categorical and Poisson, in log space.

* Bernoulli with logit :math:`\ell` (:math:`p=\sigma(\ell)`): :math:`\log p(x)=x\ell-\operatorname{softplus}(\ell)`,
  :math:`H=\operatorname{softplus}(\ell)-\ell\sigma(\ell)`; MLE :math:`\hat p=\bar x`.
* Categorical with logits z: :math:`\log p(k)=z_k-\operatorname{logsumexp}(z)`,
  :math:`H=-\sum_kp_k\log p_k`; MLE :math:`\hat p_k=n_k/n`.
* Poisson with rate :math:`\lambda`: :math:`\log p(k)=k\log\lambda-\lambda-\log k!`, mean = variance =
  :math:`\lambda`; MLE :math:`\hat\lambda=\bar k`. Its entropy has no closed form: the series is summed to a
  tail mass below 1e-17.

Distributions are parameterized like ``torch.distributions`` (logits for Bernoulli/categorical); every
log-probability and entropy has a hand-written gradient with respect to its parameters.

See also: :mod:`torch_versions.probability.discrete`, ``lessons/03_probability_statistics.md``.
"""
from __future__ import annotations

import numpy as np

from from_scratch.calculus.activations import sigmoid
from from_scratch.calculus.two_layer_net import log_softmax
from from_scratch.validation import check_array, check_positive_array, check_probabilities, check_same_shape


def softplus(x: np.ndarray) -> np.ndarray:
    r""":math:`\log(1+e^x)=\max(x,0)+\log(1+e^{-|x|})`, finite for any finite x."""
    check_array("x", x)
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def softplus_backward(x: np.ndarray, grad_out: np.ndarray) -> np.ndarray:
    r""":math:`\operatorname{softplus}'(x)=\sigma(x)`."""
    return grad_out * sigmoid(x)


# --- Bernoulli ---------------------------------------------------------------------------------------------------
def bernoulli_log_prob(value: np.ndarray, logits: np.ndarray) -> np.ndarray:
    r""":math:`x\ell-\operatorname{softplus}(\ell)` elementwise; value in {0, 1} (float), same shape as logits."""
    check_array("logits", logits)
    check_probabilities("value", value, binary=True)
    check_same_shape("value", value, "logits", logits)
    return value * logits - softplus(logits)


def bernoulli_log_prob_backward(value: np.ndarray, logits: np.ndarray, grad_out: np.ndarray) -> np.ndarray:
    r"""Gradient w.r.t. logits: :math:`\bar\ell=g\,(x-\sigma(\ell))`."""
    return grad_out * (value - sigmoid(logits))


def bernoulli_entropy(logits: np.ndarray) -> np.ndarray:
    r""":math:`\operatorname{softplus}(\ell)-\ell\sigma(\ell)`."""
    check_array("logits", logits)
    return softplus(logits) - logits * sigmoid(logits)


def bernoulli_entropy_backward(logits: np.ndarray, grad_out: np.ndarray) -> np.ndarray:
    r""":math:`\partial H/\partial\ell=-\ell\,\sigma(\ell)(1-\sigma(\ell))`."""
    s = sigmoid(logits)
    return grad_out * -logits * s * (1 - s)


def bernoulli_fit(x: np.ndarray) -> np.ndarray:
    r"""Maximum-likelihood logit of 0/1 samples along axis 0: :math:`\log\frac{\hat p}{1-\hat p}`, :math:`\hat p=\bar x`
    (infinite when every sample agrees, as the MLE is then p = 0 or 1)."""
    check_probabilities("x", x, binary=True)
    p = x.mean(0)
    with np.errstate(divide="ignore"):
        return np.log(p) - np.log1p(-p)


# --- categorical -------------------------------------------------------------------------------------------------
def _check_classes(value: np.ndarray, logits: np.ndarray) -> None:
    check_array("logits", logits)
    if not (hasattr(value, "dtype") and np.issubdtype(np.asarray(value).dtype, np.integer)):
        raise TypeError(f"value must hold integer class indices, got {getattr(value, 'dtype', type(value).__name__)}")
    if tuple(value.shape) != tuple(logits.shape[:-1]):
        raise ValueError(f"value must have the batch shape of logits {tuple(logits.shape[:-1])}, got {tuple(value.shape)}")
    if value.size and (value.min() < 0 or value.max() >= logits.shape[-1]):
        raise ValueError(f"value must lie in [0, {logits.shape[-1]}), got values in [{value.min()}, {value.max()}]")


def categorical_log_prob(value: np.ndarray, logits: np.ndarray) -> np.ndarray:
    r""":math:`z_k-\operatorname{logsumexp}(z)`: logits (..., K), integer value (...)."""
    _check_classes(value, logits)
    return np.take_along_axis(log_softmax(logits), value[..., None], -1)[..., 0]


def categorical_log_prob_backward(value: np.ndarray, logits: np.ndarray, grad_out: np.ndarray) -> np.ndarray:
    r""":math:`\bar z=g\,(\mathrm{onehot}(k)-p)`."""
    g = -np.exp(log_softmax(logits))
    np.put_along_axis(g, value[..., None], np.take_along_axis(g, value[..., None], -1) + 1, -1)
    return grad_out[..., None] * g


def categorical_entropy(logits: np.ndarray) -> np.ndarray:
    r""":math:`-\sum_kp_k\log p_k` over the last axis."""
    check_array("logits", logits)
    logp = log_softmax(logits)
    return -(np.exp(logp) * logp).sum(-1)


def categorical_entropy_backward(logits: np.ndarray, grad_out: np.ndarray) -> np.ndarray:
    r""":math:`\partial H/\partial z_j=-p_j(\log p_j+H)`."""
    logp = log_softmax(logits)
    p = np.exp(logp)
    H = -(p * logp).sum(-1, keepdims=True)
    return grad_out[..., None] * -p * (logp + H)


def categorical_fit(x: np.ndarray, num_classes: int) -> np.ndarray:
    r"""Maximum-likelihood logits :math:`\log(n_k/n)` of integer samples x (n,) (``-inf`` for unseen classes)."""
    _check_classes(x, np.zeros((len(x), num_classes)))
    with np.errstate(divide="ignore"):
        return np.log(np.bincount(x, minlength=num_classes) / len(x))


# --- Poisson -----------------------------------------------------------------------------------------------------
def log_factorial(k: np.ndarray) -> np.ndarray:
    r""":math:`\log k!=\sum_{i\le k}\log i` for non-negative integer-valued k, by one cumulative sum."""
    k_int = np.asarray(k).astype(np.int64)
    table = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, max(int(k_int.max(initial=0)), 1) + 1)))])
    return table[k_int].astype(np.result_type(k, np.float32))


def _check_poisson(value: np.ndarray, rate: np.ndarray) -> None:
    check_positive_array("rate", rate)
    check_array("value", value)
    if (value < 0).any() or (value != np.round(value)).any():
        raise ValueError("value must hold non-negative integer counts")


def poisson_log_prob(value: np.ndarray, rate: np.ndarray) -> np.ndarray:
    r""":math:`k\log\lambda-\lambda-\log k!` (broadcasting value against rate)."""
    _check_poisson(value, rate)
    return value * np.log(rate) - rate - log_factorial(value)


def poisson_log_prob_backward(value: np.ndarray, rate: np.ndarray, grad_out: np.ndarray) -> np.ndarray:
    r""":math:`\bar\lambda=g\,(k/\lambda-1)` (summed over broadcast axes)."""
    g = grad_out * (value / rate - 1)
    return g.reshape(-1, *rate.shape).sum(0) if g.shape != rate.shape else g


def poisson_entropy(rate: np.ndarray) -> np.ndarray:
    r""":math:`-\sum_kp(k)\log p(k)`, summed over :math:`k\le\lambda+12\sqrt\lambda+40` (tail below 1e-17)."""
    check_positive_array("rate", rate)
    k = np.arange(int(np.ceil(rate.max() + 12 * np.sqrt(rate.max()) + 40)), dtype=rate.dtype)
    logp = k[:, None] * np.log(rate.reshape(-1)) - rate.reshape(-1) - log_factorial(k)[:, None]
    return -(np.exp(logp) * logp).sum(0).reshape(rate.shape)


def poisson_fit(x: np.ndarray) -> np.ndarray:
    r"""Maximum-likelihood rate :math:`\bar k` of counts along axis 0."""
    _check_poisson(x, np.ones(1))
    return x.mean(0)
