r"""Worked solutions to ``exercises/01_linear_algebra.md``, problems 1-4 (projections, orthogonality, eigenvalues).

NumPy only, built on :mod:`from_scratch.linear_algebra`. Problems 5-8 (compression, ridge, whitening,
conditioning) are in :mod:`exercises.solutions.ex01_linear_algebra_applied`.
Checked against numpy.linalg / scipy by ``tests/test_exercises_01.py``.
"""
from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

from from_scratch.linear_algebra import gram_schmidt, householder_qr, numerical_rank, power_iteration, svd
from from_scratch.linear_algebra.jacobi import canonical_signs
from from_scratch.validation import check_array, check_matrix, check_steps, check_symmetric, check_tall, rank_error

# --- Problem 1: projection matrices ------------------------------------------------------------------------------


class ProjectionDefects(NamedTuple):
    idempotence: float  # ||P^2 - P||_F
    symmetry: float  # ||P - P^T||_F
    trace: float  # = rank of the projector


def projection_matrix(A: np.ndarray) -> np.ndarray:
    r"""Orthogonal projector (m, m) onto the column space of A (m, n), any shape or rank.

    :math:`P=A(A^\top A)^{-1}A^\top` when A has full column rank; in general :math:`P=U_rU_r^\top` with
    :math:`U_r` the left singular vectors of the r non-zero singular values (r = numerical rank), which equals
    :math:`AA^+` and never forms :math:`(A^\top A)^{-1}`. A zero matrix gives P = 0.
    """
    check_matrix("A", A)
    U, s, _ = svd(A)
    Ur = U[:, :numerical_rank(s, A.shape)]  # (m, r)
    return Ur @ Ur.T


def projection_defects(P: np.ndarray) -> ProjectionDefects:
    r"""How far a square P is from an orthogonal projector: :math:`\|P^2-P\|_F`, :math:`\|P-P^\top\|_F`, tr P.

    An orthogonal projector has both defects at round-off level and :math:`\operatorname{tr}P=\operatorname{rank}P`
    (its eigenvalues are 0 and 1); an oblique projector is idempotent but not symmetric.
    """
    check_matrix("P", P, square=True)
    return ProjectionDefects(float(np.linalg.norm(P @ P - P)), float(np.linalg.norm(P - P.T)), float(np.trace(P)))


# --- Problem 2: classical vs modified Gram-Schmidt vs Householder ------------------------------------------------

def classical_gram_schmidt(A: np.ndarray, reorthogonalize: bool = False) -> tuple[np.ndarray, np.ndarray]:
    r"""Reduced QR of A (m, n), m >= n, by classical Gram-Schmidt: Q (m, n), R (n, n).

    Column j: :math:`r_{:j,j}=Q_{:j}^\top a_j` (all coefficients from the *original* column, unlike modified GS),
    :math:`v=a_j-Q_{:j}r_{:j,j}`, :math:`r_{jj}=\|v\|`, :math:`q_j=v/r_{jj}`. The loss of orthogonality
    :math:`\|Q^\top Q-I\|` grows like :math:`\kappa(A)^2\varepsilon`; ``reorthogonalize=True`` repeats the
    projection once (CGS2, "twice is enough"), which brings it down to :math:`O(\varepsilon)`.
    """
    check_tall("A", A)
    m, n = A.shape
    Q = np.zeros_like(A)
    R = np.zeros((n, n), dtype=A.dtype)
    tiny = np.finfo(A.dtype).eps * m * max(float(np.abs(A).max()), np.finfo(A.dtype).tiny)
    for j in range(n):
        v = A[:, j].copy()
        for _ in range(2 if reorthogonalize else 1):
            c = Q[:, :j].T @ v  # (j,)
            v -= Q[:, :j] @ c
            R[:j, j] += c
        R[j, j] = np.sqrt(v @ v)
        if R[j, j] <= tiny:
            raise rank_error("A", A.shape)
        Q[:, j] = v / R[j, j]
    return Q, R


def orthogonality_loss(Q: np.ndarray) -> float:
    r""":math:`\|Q^\top Q-I\|_F` for Q (m, n): 0 for orthonormal columns."""
    check_matrix("Q", Q)
    return float(np.linalg.norm(Q.T @ Q - np.eye(Q.shape[1], dtype=Q.dtype)))


def compare_orthogonality(A: np.ndarray) -> dict[str, float]:
    """:func:`orthogonality_loss` of the Q factor of A from four algorithms (A must have full column rank)."""
    methods = {"classical": classical_gram_schmidt, "classical_twice": lambda M: classical_gram_schmidt(M, True),
               "modified": gram_schmidt, "householder": householder_qr}
    return {name: orthogonality_loss(qr(A)[0]) for name, qr in methods.items()}


# --- Problem 3: inverse iteration and Rayleigh quotient iteration ----------------------------------------------

class ShiftedIterationResult(NamedTuple):
    eigenvalue: float  # Rayleigh quotient v^T A v
    eigenvector: np.ndarray  # (n,), unit norm, largest-magnitude entry positive
    iterations: int
    converged: bool
    residuals: np.ndarray  # (iterations,), ||A v - lambda v|| after each step


def _shifted_iteration(A: np.ndarray, v0: np.ndarray | None, shift: float | None, num_iters: int,
                       tol: float) -> ShiftedIterationResult:
    """Shared loop: v <- (A - sigma I)^{-1} v / ||.||, sigma fixed (``shift``) or the current Rayleigh quotient."""
    check_symmetric("A", A)
    check_steps("num_iters", num_iters)
    n = A.shape[0]
    v = np.ones(n, dtype=A.dtype) if v0 is None else np.array(v0, dtype=A.dtype)
    check_array("v0", v, ndim=1)
    if v.shape != (n,) or not np.any(v):
        raise ValueError(f"v0 must be a non-zero vector of shape ({n},) to match A {A.shape}, got shape {v.shape}")
    v /= np.linalg.norm(v)
    lam, scale, eye = float(v @ A @ v), float(np.linalg.norm(A)), np.eye(n, dtype=A.dtype)
    residuals, converged = [], False
    for _ in range(num_iters):
        sigma = lam if shift is None else shift
        try:
            w = np.linalg.solve(A - sigma * eye, v)
        except np.linalg.LinAlgError:  # sigma is an eigenvalue to machine precision: nudge it off
            w = np.linalg.solve(A - (sigma + 10 * np.finfo(A.dtype).eps * scale) * eye, v)
        v = w / np.linalg.norm(w)
        lam = float(v @ A @ v)
        residuals.append(float(np.linalg.norm(A @ v - lam * v)))
        if residuals[-1] <= tol * scale:
            converged = True
            break
    v = v * canonical_signs(v[:, None])[0]
    return ShiftedIterationResult(lam, v, len(residuals), converged, np.array(residuals))


def inverse_iteration(A: np.ndarray, shift: float, v0: np.ndarray | None = None, num_iters: int = 500,
                      tol: float = 1e-12) -> ShiftedIterationResult:
    r"""Eigenpair of a symmetric A (n, n) whose eigenvalue is closest to ``shift`` (sigma).

    :math:`v_{t+1}=(A-\sigma I)^{-1}v_t/\|\cdot\|` is power iteration on :math:`(A-\sigma I)^{-1}`, whose dominant
    eigenvalue is :math:`1/(\lambda_j-\sigma)` for the :math:`\lambda_j` nearest sigma; the error shrinks like
    :math:`|\lambda_j-\sigma|/|\lambda_k-\sigma|` per step (:math:`\lambda_k` the next nearest). Stops when
    :math:`\|Av-\lambda v\|\le\mathrm{tol}\,\|A\|_F`.
    """
    if not np.isfinite(shift):
        raise ValueError(f"shift must be a finite number, got {shift!r}")
    return _shifted_iteration(A, v0, float(shift), num_iters, tol)


def rayleigh_quotient_iteration(A: np.ndarray, v0: np.ndarray | None = None, num_iters: int = 50,
                                tol: float = 1e-12) -> ShiftedIterationResult:
    r"""Inverse iteration whose shift is updated to the Rayleigh quotient :math:`\rho(v)=v^\top Av` every step.

    For symmetric A the convergence is cubic: :math:`\|e_{t+1}\|=O(\|e_t\|^3)`, so a handful of steps reach machine
    precision. It converges to *an* eigenpair (usually the one v0 leans towards), not necessarily the dominant one.
    """
    return _shifted_iteration(A, v0, None, num_iters, tol)


def iteration_counts(A: np.ndarray, shift: float, v0: np.ndarray | None = None, tol: float = 1e-12) -> dict[str, int]:
    """Steps needed by power iteration, inverse iteration at ``shift`` and RQI, all from v0 (default all-ones).

    The stopping rules differ only by the scale factor (|lambda| for power iteration, ||A||_F for the others).
    """
    return {"power": power_iteration(A, num_iters=100_000, tol=tol, v0=v0).iterations,
            "inverse": inverse_iteration(A, shift, v0, tol=tol).iterations,
            "rayleigh": rayleigh_quotient_iteration(A, v0, tol=tol).iterations}


# --- Problem 4: top-k eigenpairs by deflation --------------------------------------------------------------------

def deflated_power_iteration(A: np.ndarray, k: int, num_iters: int = 10_000,
                             tol: float = 1e-11) -> tuple[np.ndarray, np.ndarray]:
    r"""The k eigenpairs of largest :math:`|\lambda|` of a symmetric A (n, n) by power iteration + Hotelling deflation.

    After finding :math:`(\lambda_1,v_1)`, :math:`A_2=A-\lambda_1v_1v_1^\top` has the same eigenvectors with
    :math:`\lambda_1` replaced by 0 (orthogonality of eigenvectors of a symmetric matrix), so power iteration on
    :math:`A_2` finds :math:`(\lambda_2,v_2)`, and so on. Returns eigenvalues (k,) in the order found (decreasing
    :math:`|\lambda|`) and eigenvectors (n, k) as columns. Warns if a step does not converge (tied :math:`|\lambda|`).
    """
    check_symmetric("A", A)
    n = A.shape[0]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n:
        raise ValueError(f"k must be an int with 1 <= k <= n = {n}, got {k!r}")
    B = 0.5 * (A + A.T)
    values, vectors = np.empty(k, dtype=A.dtype), np.empty((n, k), dtype=A.dtype)
    for i in range(k):
        res = power_iteration(B, num_iters=num_iters, tol=tol)
        if not res.converged:
            warnings.warn(f"deflated_power_iteration: eigenpair {i + 1} did not converge in {num_iters} steps "
                          "(two eigenvalues of equal magnitude?)", RuntimeWarning, stacklevel=2)
        values[i], vectors[:, i] = res.eigenvalue, res.eigenvector
        B = B - res.eigenvalue * np.outer(res.eigenvector, res.eigenvector)  # Hotelling deflation
    return values, vectors
