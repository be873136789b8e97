r"""Principal component analysis (lesson 1) via the SVD of the centred data.

With :math:`X_c=X-\bar x=USV^\top` (N samples, d features), the principal directions are the rows of
:math:`V^\top` (maximum-variance directions), the explained variances are :math:`s_i^2/(N-1)`, the scores are
:math:`Z=X_cV_k=U_kS_k` and the reconstruction is :math:`\hat X=ZV_k^\top+\bar x`. Sign convention: each
component's largest-magnitude entry is positive (what scikit-learn's ``svd_flip`` does on the rows of
:math:`V^\top`).

See also: :mod:`torch_versions.linear_algebra.pca`, ``lessons/01_linear_algebra.md``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from from_scratch.validation import check_array, check_matrix, check_pca_data
from .jacobi import canonical_signs
from .svd import numerical_rank, svd


class PCAResult(NamedTuple):
    mean: np.ndarray  # (d,)
    components: np.ndarray  # (k, d), orthonormal rows
    explained_variance: np.ndarray  # (k,)
    explained_variance_ratio: np.ndarray  # (k,)
    singular_values: np.ndarray  # (k,)


def pca_fit(X: np.ndarray, n_components: int) -> PCAResult:
    """Fit PCA with ``n_components`` on X (N, d); n_components may not exceed the rank of the centred data."""
    check_pca_data(X, n_components)
    mean = X.mean(0)
    Xc = X - mean
    _, s, Vh = svd(Xc)
    rank = numerical_rank(s, Xc.shape)
    if n_components > rank:
        raise ValueError(f"n_components must not exceed the rank of the centred data, got {n_components} > rank {rank} (X {X.shape})")
    k = n_components
    comps = Vh[:k] * canonical_signs(Vh[:k].T)[:, None]
    var = s ** 2 / (X.shape[0] - 1)
    total = (Xc * Xc).sum() / (X.shape[0] - 1)
    return PCAResult(mean, comps, var[:k], var[:k] / total, s[:k])


def _check_pca_input(name: str, X: np.ndarray, mean: np.ndarray, components: np.ndarray, width: int) -> None:
    check_matrix(name, X)
    check_array("components", components, ndim=2)
    if X.shape[1] != width:
        raise ValueError(f"{name} must have {width} columns to match components {components.shape}, got shape {X.shape}")
    if mean.shape != (components.shape[1],):
        raise ValueError(f"mean must have shape ({components.shape[1]},) to match components, got {mean.shape}")


def pca_transform(X: np.ndarray, mean: np.ndarray, components: np.ndarray) -> np.ndarray:
    r"""Scores :math:`Z=(X-\bar x)V_k`: X (N, d), components (k, d) -> (N, k)."""
    _check_pca_input("X", X, mean, components, components.shape[1])
    return (X - mean) @ components.T


def pca_inverse_transform(Z: np.ndarray, mean: np.ndarray, components: np.ndarray) -> np.ndarray:
    r"""Reconstruction :math:`\hat X=ZV_k^\top+\bar x`: Z (N, k) -> (N, d)."""
    _check_pca_input("Z", Z, mean, components, components.shape[0])
    return Z @ components + mean


class PCA:
    """scikit-learn-style wrapper: ``fit``, ``transform``, ``inverse_transform``, ``fit_transform`` and the
    fitted ``mean_``, ``components_``, ``explained_variance_``, ``explained_variance_ratio_``, ``singular_values_``.

    The methods call the functions bound below; the torch twin subclasses this class and binds its own.
    """

    _fit = staticmethod(pca_fit)
    _transform = staticmethod(pca_transform)
    _inverse_transform = staticmethod(pca_inverse_transform)

    def __init__(self, n_components: int) -> None:
        self.n_components = n_components

    def fit(self, X):
        r = self._fit(X, self.n_components)
        self.mean_, self.components_ = r.mean, r.components
        self.explained_variance_, self.explained_variance_ratio_, self.singular_values_ = r[2:]
        return self

    def _fitted(self) -> None:
        if not hasattr(self, "components_"):
            raise RuntimeError("PCA must be fitted before transform / inverse_transform")

    def transform(self, X):
        self._fitted()
        return self._transform(X, self.mean_, self.components_)

    def inverse_transform(self, Z):
        self._fitted()
        return self._inverse_transform(Z, self.mean_, self.components_)

    def fit_transform(self, X):
        return self.fit(X).transform(X)
