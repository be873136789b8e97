r"""Worked solutions to ``exercises/01_linear_algebra.md``, problems 5-8 (compression, ridge, whitening, conditioning).

NumPy only, built on :mod:`from_scratch.linear_algebra`. Problems 1-4 are in
:mod:`exercises.solutions.ex01_linear_algebra`. Checked against numpy.linalg, scipy and scikit-learn by
``tests/test_exercises_01.py``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from benchmarks.inputs import with_singular_values
from from_scratch.linear_algebra import least_squares_qr, normal_equations, numerical_rank, pca_fit, svd
from from_scratch.validation import check_array, check_matrix, check_positive, check_rank_k, check_regression

# --- Problem 5: Eckart-Young image compression -------------------------------------------------------------------


class Compression(NamedTuple):
    approx: np.ndarray  # (m, n), the rank-k reconstruction
    storage_ratio: float  # k (m + n + 1) / (m n): numbers kept / numbers in the image
    error: float  # ||A - A_k||_F, measured
    predicted_error: float  # sqrt(sum_{i>k} s_i^2), from the singular values alone
    relative_error: float  # error / ||A||_F


def compress_image(image: np.ndarray, k: int) -> Compression:
    r"""Rank-k compression of a grey-scale image A (m, n) by the truncated SVD :math:`A_k=U_kS_kV_k^\top`.

    Storing :math:`U_k, s_k, V_k` costs :math:`k(m+n+1)` numbers instead of :math:`mn`. Eckart-Young: :math:`A_k`
    is the best rank-k approximation and :math:`\|A-A_k\|_F=\sqrt{\sum_{i>k}s_i^2}`, :math:`\|A-A_k\|_2=s_{k+1}`.
    """
    check_matrix("image", image)
    check_rank_k("k", k, min(image.shape))
    U, s, Vh = svd(image)
    rank = numerical_rank(s, image.shape)
    if k > rank:
        raise ValueError(f"k must not exceed the numerical rank of image, got k={k} > rank {rank} ({image.shape})")
    approx = (U[:, :k] * s[:k]) @ Vh[:k]  # (m, k) (k, n)
    m, n = image.shape
    error = float(np.sqrt(((image - approx) ** 2).sum()))
    return Compression(approx, k * (m + n + 1) / (m * n), error, float(np.sqrt((s[k:] ** 2).sum())),
                       error / float(np.sqrt((s ** 2).sum())))


def rank_for_energy(s: np.ndarray, energy: float) -> int:
    r"""Smallest k whose leading singular values keep a fraction ``energy`` of :math:`\|A\|_F^2`:
    :math:`\sum_{i\le k}s_i^2\ge\mathrm{energy}\sum_i s_i^2`, i.e. relative error
    :math:`\le\sqrt{1-\mathrm{energy}}`."""
    check_array("s", s, ndim=1)
    if not 0 < energy <= 1:
        raise ValueError(f"energy must be in (0, 1], got {energy!r}")
    if np.any(s < 0) or s.sum() == 0:
        raise ValueError("s must be non-negative singular values, not all zero")
    kept = np.cumsum(np.sort(s)[::-1] ** 2) / (s ** 2).sum()
    return int(np.searchsorted(kept, energy * (1 - 1e-12)) + 1)  # the 1e-12 absorbs round-off at energy = 1


# --- Problem 6: ridge regression through the SVD -----------------------------------------------------------------

def ridge_svd(X: np.ndarray, y: np.ndarray, alpha: float) -> np.ndarray:
    r"""Ridge solution :math:`w=\arg\min_w\|y-Xw\|^2+\alpha\|w\|^2=V\operatorname{diag}(\frac{s}{s^2+\alpha})U^\top y`.

    X (N, d), y (N,) or (N, k) -> w (d,) or (d, k). Each singular direction is shrunk by the filter factor
    :math:`s_i^2/(s_i^2+\alpha)`. Singular values that are numerically zero are dropped, so alpha = 0 gives the
    minimum-norm least-squares solution :math:`X^+y` even when X is wide or rank-deficient.
    """
    return ridge_path(X, y, np.array([alpha], dtype=float))[0]


def ridge_path(X: np.ndarray, y: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """Ridge solutions for many alphas (A,) from one SVD: (A, d) or (A, d, k)."""
    check_regression(X, y)
    alphas = np.asarray(alphas, dtype=X.dtype)
    check_array("alphas", alphas, ndim=1)
    for a in alphas:
        check_positive("alpha", float(a), allow_zero=True)
    U, s, Vh = svd(X)
    r = numerical_rank(s, X.shape)
    U, s, Vh = U[:, :r], s[:r], Vh[:r]
    Uty = U.T @ y  # (r,) or (r, k)
    filt = s / (s ** 2 + alphas[:, None])  # (A, r)
    coef = filt * Uty.T[..., None, :] if y.ndim == 2 else filt * Uty  # (k, A, r) or (A, r)
    w = coef @ Vh  # (k, A, d) or (A, d)
    return np.moveaxis(w, 0, -1) if y.ndim == 2 else w


def ridge_effective_dof(X: np.ndarray, alpha: float) -> float:
    r"""Effective degrees of freedom :math:`\mathrm{df}(\alpha)=\sum_i s_i^2/(s_i^2+\alpha)=\operatorname{tr}H`,
    :math:`H=X(X^\top X+\alpha I)^{-1}X^\top` the hat matrix; it falls from rank(X) at alpha = 0 towards 0."""
    check_matrix("X", X)
    check_positive("alpha", alpha, allow_zero=True)
    s = svd(X)[1]
    s = s[:numerical_rank(s, X.shape)]
    return float((s ** 2 / (s ** 2 + alpha)).sum())


# --- Problem 7: PCA and ZCA whitening ----------------------------------------------------------------------------

class Whitening(NamedTuple):
    Z: np.ndarray  # (N, k), whitened data (X - mean) W^T
    weight: np.ndarray  # (k, d): PCA, or (d, d) symmetric: ZCA
    mean: np.ndarray  # (d,)


def pca_whiten(X: np.ndarray, n_components: int | None = None, eps: float = 0.0, zca: bool = False) -> Whitening:
    r"""Whiten X (N, d): :math:`Z=(X-\bar x)W^\top` with sample covariance :math:`\frac{1}{N-1}Z^\top Z=I`.

    With :math:`\Sigma=V\Lambda V^\top` (from :func:`pca_fit`, :math:`\lambda_i=s_i^2/(N-1)`):
    PCA whitening :math:`W=\Lambda_k^{-1/2}V_k^\top` (k, d) rotates onto the principal axes and rescales;
    ZCA whitening :math:`W=V\Lambda^{-1/2}V^\top=\Sigma^{-1/2}` (d, d) rotates back, giving the whitened data
    closest to the original. ``eps`` > 0 regularizes (:math:`\lambda+\varepsilon`; the covariance is then only
    near I). ZCA needs all d components.
    """
    check_matrix("X", X)
    check_positive("eps", eps, allow_zero=True)
    k = min(X.shape) if n_components is None else n_components
    if zca and k != X.shape[1]:
        raise ValueError(f"zca=True needs all d = {X.shape[1]} components (N >= d), got n_components={k}")
    fit = pca_fit(X, k)  # raises ValueError when k exceeds the rank of the centred data
    W = fit.components / np.sqrt(fit.explained_variance + eps)[:, None]  # (k, d)
    if zca:
        W = fit.components.T @ W  # (d, d) = V Lambda^{-1/2} V^T
    return Whitening((X - fit.mean) @ W.T, W, fit.mean)


# --- Problem 8: condition number, normal equations vs QR ---------------------------------------------------------

def ill_conditioned_problem(rng: np.random.Generator, kappa: float, m: int = 60,
                            n: int = 12) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""A consistent least-squares problem (X, y, w_true) with :math:`\kappa_2(X)=\kappa`: X (m, n) has singular
    values geometrically spaced from 1 down to :math:`1/\kappa`, and :math:`y=Xw_{\rm true}` exactly (zero residual)."""
    if not (np.isfinite(kappa) and kappa >= 1):
        raise ValueError(f"kappa must be a finite number >= 1, got {kappa!r}")
    if not 1 <= n <= m:
        raise ValueError(f"need 1 <= n <= m for a tall least-squares problem, got m={m}, n={n}")
    X = with_singular_values(rng, m, n, np.geomspace(1.0, 1.0 / kappa, n))
    w = rng.standard_normal(n)
    return X, X @ w, w


def solver_errors(kappas: np.ndarray, rng: np.random.Generator, trials: int = 5, m: int = 60,
                  n: int = 12) -> dict[str, np.ndarray]:
    r"""Median relative forward error :math:`\|\hat w-w\|/\|w\|` per kappa (K,) for the normal equations (Cholesky
    of :math:`X^\top X`, error :math:`\sim\kappa^2\varepsilon`) and Householder QR (:math:`\sim\kappa\varepsilon`
    for a zero-residual problem). Keep :math:`\kappa\lesssim10^7`: beyond :math:`\kappa^2\varepsilon\approx1` the
    Cholesky factorization of :math:`X^\top X` breaks down."""
    kappas = np.asarray(kappas, dtype=float)
    check_array("kappas", kappas, ndim=1)
    errors = {"normal_equations": np.empty((len(kappas), trials)), "qr": np.empty((len(kappas), trials))}
    for i, kappa in enumerate(kappas):
        for t in range(trials):
            X, y, w = ill_conditioned_problem(rng, kappa, m, n)
            for name, solve in (("normal_equations", normal_equations), ("qr", least_squares_qr)):
                errors[name][i, t] = np.linalg.norm(solve(X, y) - w) / np.linalg.norm(w)
    return {name: np.median(e, axis=1) for name, e in errors.items()}
