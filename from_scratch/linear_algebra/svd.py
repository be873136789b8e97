r"""Singular value decomposition (lesson 1): one-sided Jacobi, its backward pass, and Eckart-Young.

:math:`A=U\operatorname{diag}(s)V^\top` with :math:`s_1\ge\dots\ge s_k\ge0`, k = min(m, n). One-sided Jacobi
(Hestenes) rotates pairs of columns of :math:`W=AV` until they are mutually orthogonal; then :math:`s_j=\|w_j\|`,
:math:`u_j=w_j/s_j`. It never forms :math:`A^\top A` (which squares the condition number), so a singular value
is accurate to about :math:`\varepsilon s_1` in absolute terms, and to high relative accuracy when A is
well-conditioned after scaling its columns.
Eckart-Young: the best rank-k approximation in the Frobenius and spectral norms is the truncated SVD, with errors
:math:`\sqrt{\sum_{i>k}s_i^2}` and :math:`s_{k+1}`.

See also: :mod:`torch_versions.linear_algebra.svd` (``torch.linalg.svd``), ``lessons/01_linear_algebra.md``.
"""
from __future__ import annotations

import warnings

import numpy as np

from from_scratch.validation import check_matrix, check_rank_k
from .jacobi import canonical_signs, jacobi_rotation, rotate_columns, round_robin_pairs


def _complete_basis(U: np.ndarray, missing: np.ndarray) -> None:
    """In place: replace the columns flagged ``missing`` (zero singular values) with an orthonormal completion."""
    missing = missing.copy()
    for j in np.flatnonzero(missing):
        basis = U[:, ~missing]
        residual = np.eye(U.shape[0], dtype=U.dtype) - basis @ basis.T
        col = residual[:, np.argmax((residual ** 2).sum(0))]
        col -= basis @ (basis.T @ col)  # second pass for orthogonality
        U[:, j] = col / np.sqrt(col @ col)
        missing[j] = False


def svd(A: np.ndarray, tol: float | None = None, max_sweeps: int = 30) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Thin SVD of A (m, n): U (m, k), s (k,) descending, Vh (k, n), k = min(m, n).

    Signs: each column of U has its largest-magnitude entry positive (Vh's rows flip with it).
    Parallel one-sided Jacobi; a sweep ends the loop when every pair satisfies
    :math:`|w_p^\top w_q|\le\mathrm{tol}\,\|w_p\|\|w_q\|` (tol defaults to m times the dtype's eps).
    """
    check_matrix("A", A)
    if A.shape[0] < A.shape[1]:
        V, s, Uh = svd(A.T, tol, max_sweeps)
        U = Uh.T
        sign = canonical_signs(U)  # the convention is on U's columns, so re-fix after swapping the factors
        return U * sign, s, (V * sign).T.copy()
    m, n = A.shape
    tol = m * np.finfo(A.dtype).eps if tol is None else tol
    W = A.astype(A.dtype, copy=True)
    V = np.eye(n, dtype=A.dtype)
    rounds = round_robin_pairs(n)
    for _ in range(max_sweeps):
        worst = 0.0
        for p, q in rounds:
            alpha, beta = (W[:, p] ** 2).sum(0), (W[:, q] ** 2).sum(0)
            gamma = (W[:, p] * W[:, q]).sum(0)
            scale = np.sqrt(alpha * beta)
            ratio = np.abs(gamma) / np.where(scale > 0, scale, 1)
            worst = max(worst, float(ratio.max(initial=0.0)))
            # Jacobi on the 2x2 Gram block [[alpha, gamma], [gamma, beta]]; skip pairs already orthogonal.
            c, s = jacobi_rotation(alpha, beta, np.where(ratio > tol, gamma, 0))
            rotate_columns(W, p, q, c, s)
            rotate_columns(V, p, q, c, s)
        if worst <= tol:
            break
    else:
        warnings.warn(f"svd: one-sided Jacobi did not converge in {max_sweeps} sweeps", RuntimeWarning, stacklevel=2)
    s = np.sqrt((W ** 2).sum(0))
    order = np.argsort(-s, kind="stable")
    s, W, V = s[order], W[:, order], V[:, order]
    zero = s <= s[0] * max(m, n) * np.finfo(A.dtype).eps if s[0] > 0 else np.ones_like(s, dtype=bool)
    U = W / np.where(zero, 1, s)
    if zero.any():
        _complete_basis(U, zero)
    sign = canonical_signs(U)
    return U * sign, s, (V * sign).T.copy()


def svd_backward(U: np.ndarray, s: np.ndarray, Vh: np.ndarray, grad_U: np.ndarray | None, grad_s: np.ndarray | None,
                 grad_Vh: np.ndarray | None) -> np.ndarray:
    r"""Gradient of the thin SVD with respect to A (m, n), for distinct, non-zero singular values.

    With :math:`F_{ij}=1/(s_j^2-s_i^2)` (0 on the diagonal), :math:`S=\operatorname{diag}(s)`, :math:`V=Vh^\top`:

    .. math:: \bar A=U\big[(F\circ(U^\top\bar U-\bar U^\top U))S+\operatorname{diag}(\bar s)
              +S(F\circ(V^\top\bar V-\bar V^\top V))\big]V^\top
              +(I-UU^\top)\bar US^{-1}V^\top+US^{-1}\bar V^\top(I-VV^\top)

    (Townsend 2016). The last two terms vanish for square A. Missing upstream gradients count as zero.
    """
    V = Vh.T
    k = s.shape[0]
    gU = np.zeros_like(U) if grad_U is None else grad_U
    gs = np.zeros_like(s) if grad_s is None else grad_s
    gV = np.zeros_like(V) if grad_Vh is None else grad_Vh.T
    s2 = s * s
    diff = s2[None, :] - s2[:, None]
    F = np.divide(1.0, diff, out=np.zeros_like(diff), where=~np.eye(k, dtype=bool))
    J = F * (U.T @ gU - gU.T @ U)
    K = F * (V.T @ gV - gV.T @ V)
    inner = J * s[None, :] + np.diag(gs) + s[:, None] * K
    gA = U @ inner @ Vh
    gA += (gU - U @ (U.T @ gU)) / s[None, :] @ Vh
    gA += U @ ((gV - V @ (V.T @ gV)) / s[None, :]).T
    return gA


def numerical_rank(s: np.ndarray, shape: tuple[int, int]) -> int:
    """Number of singular values above max(m, n) * eps * s_1 (NumPy's ``matrix_rank`` rule)."""
    dtype = s.dtype
    return int((s > s[0] * max(shape) * np.finfo(dtype).eps).sum()) if s[0] > 0 else 0


def low_rank_approximation(A: np.ndarray, k: int) -> np.ndarray:
    r"""Best rank-k approximation :math:`A_k=\sum_{i\le k}s_iu_iv_i^\top` of A (m, n) (Eckart-Young).

    Raises ``ValueError`` if k exceeds min(m, n) or the numerical rank of A (the extra singular vectors would be
    arbitrary).
    """
    check_matrix("A", A)
    check_rank_k("k", k, min(A.shape))
    U, s, Vh = svd(A)
    rank = numerical_rank(s, A.shape)
    if k > rank:
        raise ValueError(f"k must not exceed the numerical rank of A, got k={k} but rank(A)={rank} for shape {A.shape}")
    return (U[:, :k] * s[:k]) @ Vh[:k]


def low_rank_approximation_backward(A: np.ndarray, k: int, grad_out: np.ndarray) -> np.ndarray:
    r"""Gradient of :func:`low_rank_approximation` by the chain rule through :func:`svd_backward`:
    :math:`\bar U_{:k}=GV_kS_k`, :math:`\bar s_{:k}=\operatorname{diag}(U_k^\top GV_k)`, :math:`\bar{Vh}_{:k}=S_kU_k^\top G`."""
    U, s, Vh = svd(A)
    gU, gs, gVh = np.zeros_like(U), np.zeros_like(s), np.zeros_like(Vh)
    Uk, sk, Vk = U[:, :k], s[:k], Vh[:k].T
    gU[:, :k] = grad_out @ Vk * sk
    gs[:k] = np.einsum("ik,ij,jk->k", Uk, grad_out, Vk)
    gVh[:k] = sk[:, None] * (Uk.T @ grad_out)
    return svd_backward(U, s, Vh, gU, gs, gVh)
