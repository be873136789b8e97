r"""SVD with ``torch.linalg.svd`` (lesson 1) and the Eckart-Young low-rank approximation.
Twin of :mod:`from_scratch.linear_algebra.svd`; autograd provides the backward pass."""
from __future__ import annotations

import torch

from from_scratch.validation import check_matrix, check_rank_k
from .signs import canonical_signs


def svd(A: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Thin SVD of A (m, n): U (m, k), s (k,) descending, Vh (k, n); U's columns' largest entries positive."""
    check_matrix("A", A)
    U, s, Vh = torch.linalg.svd(A, full_matrices=False)
    sign = canonical_signs(U)
    return U * sign, s, Vh * sign[:, None]


def numerical_rank(s: torch.Tensor, shape: tuple[int, int]) -> int:
    """Number of singular values above max(m, n) * eps * s_1 (NumPy's ``matrix_rank`` rule)."""
    s = s.detach()
    return int((s > s[0] * max(shape) * torch.finfo(s.dtype).eps).sum()) if s[0] > 0 else 0


def low_rank_approximation(A: torch.Tensor, k: int) -> torch.Tensor:
    r"""Best rank-k approximation :math:`U_kS_kV_k^\top`; ``ValueError`` if k exceeds min(m, n) or rank(A)."""
    check_matrix("A", A)
    check_rank_k("k", k, min(A.shape))
    U, s, Vh = svd(A)
    rank = numerical_rank(s, tuple(A.shape))
    if k > rank:
        raise ValueError(f"k must not exceed the numerical rank of A, got k={k} but rank(A)={rank} for shape {tuple(A.shape)}")
    return (U[:, :k] * s[:k]) @ Vh[:k]
