r"""Norms and projections (lesson 1, "Vectors and matrices").

Vector norms over the last axis, :math:`\|x\|_1=\sum|x_i|`, :math:`\|x\|_2=\sqrt{\sum x_i^2}`,
:math:`\|x\|_\infty=\max|x_i|`; matrix norms :math:`\|A\|_F`, the spectral norm :math:`\|A\|_2=\sigma_1` and the
nuclear norm :math:`\sum\sigma_i`; orthogonal projection onto a vector and onto the column space of a matrix.

See also: :mod:`torch_versions.linear_algebra.norms`, ``lessons/01_linear_algebra.md``.
"""
from __future__ import annotations

import numpy as np

from from_scratch.validation import check_array, check_choice, check_matrix, check_projection, check_regression
from .qr import householder_qr, solve_triangular
from .svd import svd

VECTOR_ORDS = (1, 2, np.inf)
MATRIX_ORDS = ("fro", 2, "nuc")


def vector_norm(x: np.ndarray, ord: float = 2) -> np.ndarray:
    r"""p-norm of ``x`` over its last axis: (..., n) -> (...).

    The 2-norm is computed as :math:`m\sqrt{\sum (x_i/m)^2}` with :math:`m=\max|x_i|`, so huge or tiny
    entries neither overflow nor underflow (the trick BLAS ``nrm2`` uses).
    """
    check_array("x", x)
    check_choice("ord", ord, VECTOR_ORDS)
    a = np.abs(x)
    if ord == 1:
        return a.sum(-1)
    m = a.max(-1)
    if ord == np.inf:
        return m
    safe = np.where(m > 0, m, 1.0)
    return m * np.sqrt(((a / safe[..., None]) ** 2).sum(-1))


def vector_norm_backward(x: np.ndarray, grad_out: np.ndarray, ord: float = 2) -> np.ndarray:
    r"""Gradient of :func:`vector_norm`: :math:`\partial\|x\|_1/\partial x=\operatorname{sign}x`,
    :math:`\partial\|x\|_2/\partial x=x/\|x\|_2`, and for :math:`\infty` the sign at the arg-max entries (shared
    equally between ties, as torch does). ``grad_out`` has the output's shape (...)."""
    g = np.asarray(grad_out)[..., None]
    if ord == 1:
        return g * np.sign(x)
    if ord == 2:
        n = vector_norm(x, 2)[..., None]
        return g * np.divide(x, n, out=np.zeros_like(x), where=n > 0)
    a = np.abs(x)
    hit = (a == a.max(-1, keepdims=True)).astype(x.dtype)
    return g * np.sign(x) * hit / hit.sum(-1, keepdims=True)


def matrix_norm(A: np.ndarray, ord: str | int = "fro") -> np.ndarray:
    r"""Frobenius (``"fro"``), spectral (``2``, the largest singular value) or nuclear (``"nuc"``) norm of A (m, n)."""
    check_matrix("A", A)
    check_choice("ord", ord, MATRIX_ORDS)
    if ord == "fro":
        return vector_norm(A.reshape(-1), 2)
    s = svd(A)[1]
    return s[0] if ord == 2 else s.sum()


def matrix_norm_backward(A: np.ndarray, grad_out: float, ord: str | int = "fro") -> np.ndarray:
    r"""Gradient of :func:`matrix_norm`: :math:`A/\|A\|_F`, :math:`u_1v_1^\top` (spectral) or :math:`UV^\top` (nuclear)."""
    if ord == "fro":
        return grad_out * A / matrix_norm(A, "fro")
    U, _, Vh = svd(A)
    if ord == 2:
        return grad_out * np.outer(U[:, 0], Vh[0])
    return grad_out * U @ Vh


def project_onto_vector(b: np.ndarray, a: np.ndarray) -> np.ndarray:
    r"""Orthogonal projection of b (n,) onto the line through a (n,): :math:`p=\frac{a^\top b}{a^\top a}a`."""
    check_projection(b, a)
    aa = a @ a
    return (a @ b) / aa * a


def project_onto_vector_backward(b: np.ndarray, a: np.ndarray, grad_out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Gradients (grad_b, grad_a) of :func:`project_onto_vector` for upstream g (n,).

    With :math:`c=a^\top b/a^\top a`: :math:`\bar b=\frac{g^\top a}{a^\top a}a` and
    :math:`\bar a=c\,g+\frac{g^\top a}{a^\top a}(b-2c\,a)`.
    """
    aa = a @ a
    c, ga = (a @ b) / aa, (grad_out @ a) / aa
    return ga * a, c * grad_out + ga * (b - 2 * c * a)


def _least_squares_parts(b: np.ndarray, A: np.ndarray):
    """QR of A (full column rank) and the least-squares coefficients x = R^{-1} Q^T b."""
    check_regression(A, b, "A", "b")
    return householder_qr(A)  # raises ValueError for m < n or a rank-deficient A


def project_onto_column_space(b: np.ndarray, A: np.ndarray) -> np.ndarray:
    r"""Projection of b (m,) or (m, k) onto the column space of A (m, n), full column rank:
    :math:`p=A(A^\top A)^{-1}A^\top b=QQ^\top b` with :math:`A=QR`."""
    Q, _ = _least_squares_parts(b, A)
    return Q @ (Q.T @ b)


def project_onto_column_space_backward(b: np.ndarray, A: np.ndarray, grad_out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Gradients (grad_b, grad_A) of :func:`project_onto_column_space` for upstream G of p's shape.

    With :math:`x=(A^\top A)^{-1}A^\top b`, residual :math:`r=b-Ax`, :math:`P=QQ^\top` and
    :math:`z=(A^\top A)^{-1}A^\top G`: :math:`\bar b=PG` and :math:`\bar A=(I-P)Gx^\top+rz^\top`.
    """
    Q, R = _least_squares_parts(b, A)
    vec = b.ndim == 1
    B, G = (b[:, None], grad_out[:, None]) if vec else (b, grad_out)
    X = solve_triangular(R, Q.T @ B, lower=False)
    Z = solve_triangular(R, Q.T @ G, lower=False)
    PG = Q @ (Q.T @ G)
    grad_A = (G - PG) @ X.T + (B - Q @ (Q.T @ B)) @ Z.T
    return (PG[:, 0] if vec else PG), grad_A
