r"""PCA with ``torch.linalg.svd`` (lesson 1). Twin of :mod:`from_scratch.linear_algebra.pca`.

:math:`X_c=USV^\top`; components = rows of :math:`V^\top` (largest-magnitude entry positive), explained variance
:math:`s^2/(N-1)`, scores :math:`X_cV_k`, reconstruction :math:`ZV_k^\top+\bar x`.
"""
from __future__ import annotations

from typing import NamedTuple

import torch

from from_scratch.linear_algebra import pca as scratch_pca
from from_scratch.validation import check_array, check_matrix, check_pca_data
from .signs import canonical_signs
from .svd import numerical_rank


class PCAResult(NamedTuple):
    mean: torch.Tensor
    components: torch.Tensor
    explained_variance: torch.Tensor
    explained_variance_ratio: torch.Tensor
    singular_values: torch.Tensor


def pca_fit(X: torch.Tensor, n_components: int) -> PCAResult:
    """Fit PCA with ``n_components`` on X (N, d); n_components may not exceed the rank of the centred data."""
    check_pca_data(X, n_components)
    mean = X.mean(0)
    Xc = X - mean
    s, Vh = torch.linalg.svd(Xc, full_matrices=False)[1:]
    rank = numerical_rank(s, tuple(Xc.shape))
    if n_components > rank:
        raise ValueError(f"n_components must not exceed the rank of the centred data, got {n_components} > rank {rank} (X {tuple(X.shape)})")
    k = n_components
    comps = Vh[:k] * canonical_signs(Vh[:k].mT)[:, None]
    var = s ** 2 / (X.shape[0] - 1)
    total = Xc.square().sum() / (X.shape[0] - 1)
    return PCAResult(mean, comps, var[:k], var[:k] / total, s[:k])


def _check_pca_input(name: str, X: torch.Tensor, mean: torch.Tensor, components: torch.Tensor, width: int) -> None:
    check_matrix(name, X)
    check_array("components", components, ndim=2)
    if X.shape[1] != width:
        raise ValueError(f"{name} must have {width} columns to match components {tuple(components.shape)}, got shape {tuple(X.shape)}")
    if tuple(mean.shape) != (components.shape[1],):
        raise ValueError(f"mean must have shape ({components.shape[1]},) to match components, got {tuple(mean.shape)}")


def pca_transform(X: torch.Tensor, mean: torch.Tensor, components: torch.Tensor) -> torch.Tensor:
    """Scores (X - mean) V_k: (N, d) -> (N, k)."""
    _check_pca_input("X", X, mean, components, components.shape[1])
    return (X - mean) @ components.mT


def pca_inverse_transform(Z: torch.Tensor, mean: torch.Tensor, components: torch.Tensor) -> torch.Tensor:
    """Reconstruction Z V_k^T + mean: (N, k) -> (N, d)."""
    _check_pca_input("Z", Z, mean, components, components.shape[0])
    return Z @ components + mean


class PCA(scratch_pca.PCA):
    """scikit-learn-style wrapper (``mean_``, ``components_``, ``explained_variance_``, ...) over the torch functions
    above; the method bodies are shared with :class:`from_scratch.linear_algebra.PCA`."""

    _fit = staticmethod(pca_fit)
    _transform = staticmethod(pca_transform)
    _inverse_transform = staticmethod(pca_inverse_transform)
