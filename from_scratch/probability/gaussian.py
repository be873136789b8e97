r"""Gaussian distributions (lesson 3): univariate and multivariate normal, log-density, entropy, sampling by
reparameterization and maximum likelihood.

* :math:`\log\mathcal N(x;\mu,\sigma)=-\frac{(x-\mu)^2}{2\sigma^2}-\log\sigma-\tfrac12\log2\pi`,
  :math:`H=\tfrac12+\tfrac12\log2\pi+\log\sigma`; MLE :math:`\hat\mu=\bar x`, :math:`\hat\sigma^2=\frac1n\sum(x-\bar x)^2`.
* Multivariate, with the Cholesky factor :math:`\Sigma=LL^\top`: :math:`z=L^{-1}(x-\mu)` (one triangular solve),
  :math:`\log p(x)=-\tfrac12\|z\|^2-\sum_i\log L_{ii}-\tfrac d2\log2\pi` — never an explicit inverse or
  determinant; :math:`H=\tfrac d2(1+\log2\pi)+\sum_i\log L_{ii}`.
* Reparameterization: :math:`x=\mu+\sigma\varepsilon` (:math:`x=\mu+L\varepsilon`) with
  :math:`\varepsilon\sim\mathcal N(0,I)` makes a sample a differentiable function of the parameters.

See also: :mod:`torch_versions.probability.gaussian`, ``lessons/03_probability_statistics.md``.
"""
from __future__ import annotations

import math

import numpy as np

from from_scratch.linear_algebra.qr import solve_triangular
from from_scratch.validation import check_array, check_cholesky_factor, check_matrix, check_mvn, check_positive_array

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)  # a Python float, so float32 arrays stay float32


def normal_log_prob(value: np.ndarray, loc: np.ndarray, scale: np.ndarray) -> np.ndarray:
    r"""Elementwise :math:`\log\mathcal N(x;\mu,\sigma)`; value, loc and scale share one shape."""
    check_array("value", value)
    check_array("loc", loc)
    check_positive_array("scale", scale)
    if not value.shape == loc.shape == scale.shape:
        raise ValueError(f"value, loc and scale must have one shape, got {value.shape}, {loc.shape}, {scale.shape}")
    z = (value - loc) / scale
    return -0.5 * z * z - np.log(scale) - HALF_LOG_2PI


def normal_log_prob_backward(value, loc, scale, grad_out) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""(grad_value, grad_loc, grad_scale): :math:`-\frac{x-\mu}{\sigma^2}`, :math:`\frac{x-\mu}{\sigma^2}`,
    :math:`\frac{(x-\mu)^2}{\sigma^3}-\frac1\sigma`, each times the upstream g."""
    d = (value - loc) / scale ** 2
    return -grad_out * d, grad_out * d, grad_out * ((value - loc) ** 2 / scale ** 3 - 1 / scale)


def normal_entropy(scale: np.ndarray) -> np.ndarray:
    r""":math:`\tfrac12+\tfrac12\log2\pi+\log\sigma`."""
    check_positive_array("scale", scale)
    return 0.5 + HALF_LOG_2PI + np.log(scale)


def normal_entropy_backward(scale: np.ndarray, grad_out: np.ndarray) -> np.ndarray:
    return grad_out / scale


def normal_rsample(loc: np.ndarray, scale: np.ndarray, noise: np.ndarray) -> np.ndarray:
    r""":math:`\mu+\sigma\varepsilon` for standard-normal noise of shape (..., *loc.shape)."""
    check_array("loc", loc)
    check_positive_array("scale", scale)
    check_array("noise", noise)
    return loc + scale * noise


def normal_rsample_backward(loc, scale, noise, grad_out) -> tuple[np.ndarray, np.ndarray]:
    r"""(grad_loc, grad_scale) = :math:`(\sum g,\ \sum g\varepsilon)` over the sample axes."""
    lead = tuple(range(grad_out.ndim - loc.ndim))
    return grad_out.sum(lead), (grad_out * noise).sum(lead)


def normal_fit(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Maximum likelihood along axis 0: :math:`(\bar x,\ \sqrt{\tfrac1n\sum(x-\bar x)^2})` (the biased std)."""
    check_array("x", x)
    return x.mean(0), x.std(0)


# --- multivariate --------------------------------------------------------------------------------------------------
def mvn_log_prob(value: np.ndarray, loc: np.ndarray, scale_tril: np.ndarray) -> np.ndarray:
    r""":math:`-\tfrac12\|L^{-1}(x-\mu)\|^2-\sum\log L_{ii}-\tfrac d2\log2\pi`: value (d,) or (n, d) -> () or (n,)."""
    check_mvn(value, loc, scale_tril)
    z = solve_triangular(scale_tril, (value - loc).T, lower=True)  # (d,) or (d, n)
    return -0.5 * (z * z).sum(0) - np.log(np.diag(scale_tril)).sum() - loc.shape[0] * HALF_LOG_2PI


def mvn_log_prob_backward(value, loc, scale_tril, grad_out) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""(grad_value, grad_loc, grad_scale_tril). With :math:`z=L^{-1}(x-\mu)` and :math:`w=L^{-\top}z`:
    :math:`\bar x=-gw`, :math:`\bar\mu=\sum gw`, :math:`\bar L=\operatorname{tril}\big(\sum g\,wz^\top\big)-(\sum g)\operatorname{diag}(1/L_{ii})`."""
    L = scale_tril
    Z = solve_triangular(L, np.atleast_2d(value - loc).T, lower=True)  # (d, n)
    W = solve_triangular(L.T, Z, lower=False)  # (d, n)
    g = np.atleast_1d(grad_out)
    grad_L = np.tril((W * g) @ Z.T) - g.sum() * np.diag(1 / np.diag(L))
    grad_value = -(W * g).T
    return grad_value.reshape(value.shape), (W * g).sum(1), grad_L


def mvn_entropy(scale_tril: np.ndarray) -> np.ndarray:
    r""":math:`\tfrac d2(1+\log2\pi)+\sum_i\log L_{ii}`."""
    check_cholesky_factor("scale_tril", scale_tril)
    d = scale_tril.shape[0]
    return d * (0.5 + HALF_LOG_2PI) + np.log(np.diag(scale_tril)).sum()


def mvn_entropy_backward(scale_tril: np.ndarray, grad_out: np.ndarray) -> np.ndarray:
    return grad_out * np.diag(1 / np.diag(scale_tril))


def mvn_rsample(loc: np.ndarray, scale_tril: np.ndarray, noise: np.ndarray) -> np.ndarray:
    r""":math:`\mu+L\varepsilon` for noise (n, d): returns (n, d)."""
    check_array("noise", noise, ndim=2)
    check_mvn(noise, loc, scale_tril)
    return loc + noise @ scale_tril.T


def mvn_rsample_backward(loc, scale_tril, noise, grad_out) -> tuple[np.ndarray, np.ndarray]:
    r"""(grad_loc, grad_scale_tril) = :math:`(\sum_n g_n,\ \operatorname{tril}(G^\top\varepsilon))`."""
    return grad_out.sum(0), np.tril(grad_out.T @ noise)


def mvn_fit(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Maximum likelihood from samples X (n, d): :math:`\bar x` and :math:`\hat\Sigma=\frac1n\sum(x-\bar x)(x-\bar x)^\top`."""
    check_matrix("X", X)
    Xc = X - X.mean(0)
    return X.mean(0), Xc.T @ Xc / X.shape[0]
