r"""Eigenvalues with torch (lesson 1): power iteration in tensor operations and ``torch.linalg.eigh``.
Twin of :mod:`from_scratch.linear_algebra.eigen`."""
from __future__ import annotations

from typing import NamedTuple

import torch

from from_scratch.validation import check_array, check_matrix, check_steps, check_symmetric
from .signs import canonical_signs


class PowerIterationResult(NamedTuple):
    eigenvalue: torch.Tensor
    eigenvector: torch.Tensor
    iterations: int
    converged: bool


def power_iteration(A: torch.Tensor, num_iters: int = 1000, tol: float = 1e-10, v0: torch.Tensor | None = None) -> PowerIterationResult:
    r"""Dominant eigenpair by :math:`v\leftarrow Av/\|Av\|`, stopping when :math:`\|Av-\lambda v\|\le\mathrm{tol}|\lambda|`.
    Starts from the normalized all-ones vector unless ``v0`` is given (same path as the scratch version)."""
    check_matrix("A", A, square=True)
    check_steps("num_iters", num_iters)
    n = A.shape[0]
    if v0 is None:
        v = torch.ones(n, dtype=A.dtype, device=A.device)
    else:
        check_array("v0", v0, ndim=1)
        if v0.shape != (n,):
            raise ValueError(f"v0 must have shape ({n},) to match A {tuple(A.shape)}, got {tuple(v0.shape)}")
        v = v0.to(A)
    v = v / torch.linalg.vector_norm(v)
    lam, converged = v @ A @ v, False
    for it in range(1, num_iters + 1):
        w = A @ v
        v = w / torch.linalg.vector_norm(w)
        lam = v @ A @ v
        if torch.linalg.vector_norm(A @ v - lam * v) <= tol * lam.abs():
            converged = True
            break
    return PowerIterationResult(lam, v * canonical_signs(v[:, None]), it, converged)


def eigh(A: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Ascending eigenvalues (n,) and eigenvectors (n, n) of a symmetric A, signs fixed (``torch.linalg.eigh``)."""
    check_symmetric("A", A)
    w, V = torch.linalg.eigh(A)
    return w, V * canonical_signs(V)
