r"""Eigenvalues (lesson 1): power iteration and a full symmetric eigensolver (parallel cyclic Jacobi).

Power iteration :math:`v_{t+1}=Av_t/\|Av_t\|` converges to the dominant eigenvector with error shrinking like
:math:`|\lambda_2/\lambda_1|^t`. Jacobi's method applies rotations :math:`A\leftarrow J^\top AJ` that zero one
off-diagonal pair each; sweeps over all pairs drive :math:`\mathrm{off}(A)` to zero quadratically.

See also: :mod:`torch_versions.linear_algebra.eigen` (``torch.linalg.eigh``), ``lessons/01_linear_algebra.md``.
"""
from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

from from_scratch.validation import check_array, check_matrix, check_steps, check_symmetric
from .jacobi import canonical_signs, jacobi_rotation, rotate_columns, round_robin_pairs


class PowerIterationResult(NamedTuple):
    eigenvalue: np.ndarray  # scalar Rayleigh quotient v^T A v
    eigenvector: np.ndarray  # (n,), unit norm, largest-magnitude entry positive
    iterations: int
    converged: bool


def power_iteration(A: np.ndarray, num_iters: int = 1000, tol: float = 1e-10, v0: np.ndarray | None = None) -> PowerIterationResult:
    r"""Dominant eigenpair of a square A (n, n) (largest :math:`|\lambda|`; A symmetric for the Rayleigh quotient).

    Starts from ``v0`` (default: the normalized all-ones vector, so both implementations follow the same path)
    and stops when the residual :math:`\|Av-\lambda v\|\le \mathrm{tol}\cdot|\lambda|` or after ``num_iters``.
    """
    check_matrix("A", A, square=True)
    check_steps("num_iters", num_iters)
    n = A.shape[0]
    v = np.ones(n, dtype=A.dtype) if v0 is None else np.array(v0, dtype=A.dtype)
    if v0 is not None:
        check_array("v0", v, ndim=1)
        if v.shape != (n,):
            raise ValueError(f"v0 must have shape ({n},) to match A {A.shape}, got {v.shape}")
    v = v / np.sqrt(v @ v)
    lam, converged = v @ A @ v, False
    for it in range(1, num_iters + 1):
        w = A @ v
        v = w / np.sqrt(w @ w)
        lam = v @ A @ v
        if np.sqrt(((A @ v - lam * v) ** 2).sum()) <= tol * abs(lam):
            converged = True
            break
    return PowerIterationResult(lam, v * canonical_signs(v[:, None])[0], it, converged)


def eigh(A: np.ndarray, tol: float | None = None, max_sweeps: int = 30) -> tuple[np.ndarray, np.ndarray]:
    r"""Eigen-decomposition :math:`A=V\operatorname{diag}(\lambda)V^\top` of a symmetric A (n, n).

    Returns eigenvalues (n,) in ascending order and orthonormal eigenvectors V (n, n) as columns, each with its
    largest-magnitude entry positive. Parallel cyclic Jacobi: each round rotates n/2 disjoint pairs at once;
    stops when :math:`\|A-\operatorname{diag}A\|_F\le\mathrm{tol}\,\|A\|_F`; tol defaults to n times the dtype's
    eps, the round-off floor of the n^2 off-diagonal entries.
    """
    check_symmetric("A", A)
    n = A.shape[0]
    tol = n * np.finfo(A.dtype).eps if tol is None else tol
    D = 0.5 * (A + A.T)
    V = np.eye(n, dtype=A.dtype)
    scale = np.sqrt((D * D).sum())
    rounds = round_robin_pairs(n)
    for _ in range(max_sweeps):
        off = D - np.diag(np.diag(D))
        if np.sqrt((off * off).sum()) <= tol * scale:
            break
        for p, q in rounds:
            c, s = jacobi_rotation(D[p, p], D[q, q], D[p, q])
            rotate_columns(D, p, q, c, s)
            rotate_columns(D.T, p, q, c, s)  # rows: D <- J^T D
            rotate_columns(V, p, q, c, s)
    else:
        warnings.warn(f"eigh: Jacobi did not converge in {max_sweeps} sweeps", RuntimeWarning, stacklevel=2)
    w = np.diag(D).copy()
    order = np.argsort(w, kind="stable")
    V = V[:, order]
    return w[order], V * canonical_signs(V)


def eigh_backward(eigenvalues: np.ndarray, eigenvectors: np.ndarray, grad_eigenvalues: np.ndarray,
                  grad_eigenvectors: np.ndarray) -> np.ndarray:
    r"""Gradient of :func:`eigh` with respect to a symmetric A (distinct eigenvalues), returned symmetric.

    :math:`\bar A=V\big(\operatorname{diag}(\bar\lambda)+F\circ(V^\top\bar V)\big)V^\top`, symmetrized, with
    :math:`F_{ij}=1/(\lambda_j-\lambda_i)` for :math:`i\ne j` and 0 on the diagonal (first-order perturbation theory:
    :math:`d\lambda_i=v_i^\top dA\,v_i`, :math:`dv_j=\sum_{i\ne j}\frac{v_i^\top dA\,v_j}{\lambda_j-\lambda_i}v_i`).
    """
    lam, V = eigenvalues, eigenvectors
    diff = lam[None, :] - lam[:, None]
    F = np.divide(1.0, diff, out=np.zeros_like(diff), where=~np.eye(len(lam), dtype=bool))
    inner = np.diag(grad_eigenvalues) + F * (V.T @ grad_eigenvectors)
    G = V @ inner @ V.T
    return 0.5 * (G + G.T)
