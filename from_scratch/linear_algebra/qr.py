r"""Orthogonalization and triangular factorizations (lesson 1, "Gram-Schmidt / Householder QR").

:math:`A=QR` with :math:`Q^\top Q=I` and R upper triangular with a positive diagonal (which makes the reduced QR
of a full-column-rank matrix unique, so both implementations can be compared entry by entry); the Cholesky factor
:math:`A=LL^\top` of a symmetric positive definite matrix; triangular solves by substitution.

See also: :mod:`torch_versions.linear_algebra.qr`, ``lessons/01_linear_algebra.md``.
"""
from __future__ import annotations

import numpy as np

from from_scratch.validation import check_array, check_matrix, check_same_rows, check_tall, rank_error


def gram_schmidt(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Reduced QR of A (m, n), m >= n, by modified Gram-Schmidt: Q (m, n), R (n, n).

    Step j normalizes column j, :math:`r_{jj}=\|q_j\|`, then removes its direction from every later column at
    once, :math:`r_{j,j+1:}=q_j^\top A_{:,j+1:}`, :math:`A_{:,j+1:}\mathrel{-}=q_j r_{j,j+1:}` (one rank-1 update).
    """
    check_tall("A", A)
    Q = A.astype(A.dtype, copy=True)
    n = A.shape[1]
    R = np.zeros((n, n), dtype=A.dtype)
    tiny = np.finfo(A.dtype).eps * A.shape[0] * max(float(np.abs(A).max()), np.finfo(A.dtype).tiny)
    for j in range(n):
        R[j, j] = np.sqrt(Q[:, j] @ Q[:, j])
        if R[j, j] <= tiny:
            raise rank_error("A", A.shape)
        Q[:, j] /= R[j, j]
        R[j, j + 1:] = Q[:, j] @ Q[:, j + 1:]
        Q[:, j + 1:] -= np.outer(Q[:, j], R[j, j + 1:])
    return Q, R


def householder_qr(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Reduced QR of A (m, n), m >= n, by Householder reflections: Q (m, n), R (n, n), diag(R) > 0.

    Reflector j maps the column below the diagonal onto a multiple of :math:`e_1`:
    :math:`H_j=I-2v_jv_j^\top`, :math:`v\propto x+\operatorname{sign}(x_1)\|x\|e_1` (the sign avoids cancellation).
    Q is accumulated by applying the reflectors to the first n columns of I in reverse order.
    """
    check_tall("A", A)
    m, n = A.shape
    R = A.astype(A.dtype, copy=True)
    V = np.zeros((m, n), dtype=A.dtype)
    for j in range(n):
        x = R[j:, j]
        norm_x = np.sqrt(x @ x)
        v = x.copy()
        v[0] += (1.0 if x[0] >= 0 else -1.0) * norm_x
        norm_v = np.sqrt(v @ v)
        if norm_v == 0:
            continue
        v /= norm_v
        V[j:, j] = v
        R[j:, j:] -= 2.0 * np.outer(v, v @ R[j:, j:])
    R = np.triu(R[:n])
    Q = np.eye(m, n, dtype=A.dtype)
    for j in reversed(range(n)):
        v = V[j:, j]
        Q[j:, :] -= 2.0 * np.outer(v, v @ Q[j:, :])
    d = np.abs(np.diag(R))
    if d.min() <= np.finfo(A.dtype).eps * m * max(d.max(), np.finfo(A.dtype).tiny):
        raise rank_error("A", A.shape)
    sign = np.where(np.diag(R) < 0, -1.0, 1.0).astype(A.dtype)
    return Q * sign, R * sign[:, None]


def _copyltu(M: np.ndarray) -> np.ndarray:
    """Symmetric matrix built from the lower triangle of M."""
    low = np.tril(M, -1)
    return low + low.T + np.diag(np.diag(M))


def qr_backward(Q: np.ndarray, R: np.ndarray, grad_Q: np.ndarray, grad_R: np.ndarray) -> np.ndarray:
    r"""Gradient of the reduced QR (m >= n, full rank) with respect to A.

    :math:`M=R\bar R^\top-\bar Q^\top Q`, :math:`\bar A=(\bar Q+Q\,\mathrm{copyltu}(M))R^{-\top}`, where
    copyltu mirrors the lower triangle (Walter & Lehmann; Seeger et al. 2017).
    """
    M = R @ grad_R.T - grad_Q.T @ Q
    B = grad_Q + Q @ _copyltu(M)
    return solve_triangular(R, B.T, lower=False).T


def solve_triangular(T: np.ndarray, B: np.ndarray, lower: bool) -> np.ndarray:
    r"""Solve :math:`TX=B` for triangular T (n, n) by forward (lower) or back (upper) substitution; B (n,) or (n, k).

    Row i: :math:`x_i=(b_i-\sum_{j\ne i}t_{ij}x_j)/t_{ii}`, one vector operation over all right-hand sides.
    """
    check_matrix("T", T, square=True)
    check_array("B", B, ndim=(1, 2))
    check_same_rows("T", T, "B", B)
    if np.any(np.diag(T) == 0):
        raise ValueError(f"T must have a non-zero diagonal (be invertible), got a zero pivot in shape {T.shape}")
    n = T.shape[0]
    X = np.array(B, dtype=np.result_type(T, B), copy=True)
    order = range(n) if lower else reversed(range(n))
    for i in order:
        rest = slice(0, i) if lower else slice(i + 1, n)
        X[i] = (X[i] - T[i, rest] @ X[rest]) / T[i, i]
    return X


def solve_triangular_backward(T: np.ndarray, X: np.ndarray, grad_X: np.ndarray, lower: bool) -> tuple[np.ndarray, np.ndarray]:
    r"""Gradients (grad_T, grad_B) of :math:`X=T^{-1}B`: :math:`\bar B=T^{-\top}\bar X`,
    :math:`\bar T=-\bar B X^\top` restricted to T's triangle."""
    grad_B = solve_triangular(T.T, grad_X, lower=not lower)
    outer = -np.outer(grad_B, X) if X.ndim == 1 else -grad_B @ X.T
    return (np.tril(outer) if lower else np.triu(outer)), grad_B


def cholesky(A: np.ndarray) -> np.ndarray:
    r"""Lower-triangular L with :math:`A=LL^\top` for symmetric positive definite A (n, n).

    Column j: :math:`l_{jj}=\sqrt{a_{jj}-\sum_{k<j}l_{jk}^2}`,
    :math:`l_{ij}=(a_{ij}-\sum_{k<j}l_{ik}l_{jk})/l_{jj}` for all i > j at once. Only the lower triangle is read.
    """
    check_matrix("A", A, square=True)
    n = A.shape[0]
    L = np.zeros_like(A)
    for j in range(n):
        pivot = A[j, j] - L[j, :j] @ L[j, :j]
        if not pivot > 0:
            raise ValueError(f"A must be symmetric positive definite, got pivot {pivot:.3g} <= 0 at column {j} (shape {A.shape})")
        L[j, j] = np.sqrt(pivot)
        L[j + 1:, j] = (A[j + 1:, j] - L[j + 1:, :j] @ L[j, :j]) / L[j, j]
    return L


def cholesky_backward(L: np.ndarray, grad_L: np.ndarray) -> np.ndarray:
    r"""Gradient of :func:`cholesky` with respect to a symmetric A, returned symmetric:
    :math:`\bar A=\tfrac12(S+S^\top)`, :math:`S=L^{-\top}\Phi(L^\top\bar L)L^{-1}`, where :math:`\Phi` keeps the
    lower triangle and halves the diagonal (Murray 2016)."""
    P = L.T @ grad_L
    phi = np.tril(P) - 0.5 * np.diag(np.diag(P))
    S = solve_triangular(L.T, solve_triangular(L.T, phi.T, lower=False).T, lower=False)
    return 0.5 * (S + S.T)
