r"""QR, Cholesky and triangular solves with ``torch.linalg`` (lesson 1). Twin of :mod:`from_scratch.linear_algebra.qr`.

``torch.linalg.qr`` is LAPACK's Householder QR (geqrf); the signs are normalized so that diag(R) > 0, which makes
the factorization unique and comparable with the scratch version. :func:`gram_schmidt` is written with tensor
operations so that autograd differentiates the algorithm itself.
"""
from __future__ import annotations

import torch

from from_scratch.validation import check_array, check_matrix, check_same_rows, check_tall, rank_error


def _full_rank(A: torch.Tensor, R: torch.Tensor) -> None:
    d = R.detach().diagonal().abs()
    if d.min() <= torch.finfo(A.dtype).eps * A.shape[0] * d.max().clamp_min(torch.finfo(A.dtype).tiny):
        raise rank_error("A", A.shape)


def householder_qr(A: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Reduced QR of A (m, n), m >= n: Q (m, n), R (n, n) with a positive diagonal (``torch.linalg.qr``)."""
    check_tall("A", A)
    Q, R = torch.linalg.qr(A, mode="reduced")
    _full_rank(A, R)
    sign = torch.where(R.detach().diagonal() < 0, -1.0, 1.0).to(A.dtype)
    return Q * sign, R * sign[:, None]


def gram_schmidt(A: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Reduced QR by modified Gram-Schmidt in tensor operations (autograd-friendly: no in-place updates)."""
    check_tall("A", A)
    n = A.shape[1]
    tiny = torch.finfo(A.dtype).eps * A.shape[0] * A.detach().abs().max().clamp_min(torch.finfo(A.dtype).tiny)
    cols = list(A.unbind(dim=1))
    q, rows = [], []
    for j in range(n):
        r_jj = torch.linalg.vector_norm(cols[j])
        if r_jj <= tiny:
            raise rank_error("A", A.shape)
        qj = cols[j] / r_jj
        rest = [qj @ c for c in cols[j + 1:]]
        cols[j + 1:] = [c - r * qj for c, r in zip(cols[j + 1:], rest)]
        q.append(qj)
        rows.append(torch.stack([A.new_zeros(())] * j + [r_jj] + rest))
    return torch.stack(q, dim=1), torch.stack(rows)


def solve_triangular(T: torch.Tensor, B: torch.Tensor, lower: bool) -> torch.Tensor:
    """Solve T X = B for triangular T (n, n); B (n,) or (n, k) (``torch.linalg.solve_triangular``)."""
    check_matrix("T", T, square=True)
    check_array("B", B, ndim=(1, 2))
    check_same_rows("T", T, "B", B)
    if (T.detach().diagonal() == 0).any():
        raise ValueError(f"T must have a non-zero diagonal (be invertible), got a zero pivot in shape {tuple(T.shape)}")
    vec = B.ndim == 1
    X = torch.linalg.solve_triangular(T, B[:, None] if vec else B, upper=not lower)
    return X[:, 0] if vec else X


def cholesky(A: torch.Tensor) -> torch.Tensor:
    """Lower-triangular L with A = L L^T for symmetric positive definite A (``torch.linalg.cholesky_ex``)."""
    check_matrix("A", A, square=True)
    L, info = torch.linalg.cholesky_ex(A)
    if info.item() != 0:
        raise ValueError(f"A must be symmetric positive definite, got a non-positive pivot at column {info.item() - 1} (shape {tuple(A.shape)})")
    return L
