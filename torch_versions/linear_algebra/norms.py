r"""Norms and projections with ``torch.linalg`` (lesson 1). Twin of :mod:`from_scratch.linear_algebra.norms`.

:math:`\|x\|_p` over the last axis, :math:`\|A\|_F`, :math:`\|A\|_2=\sigma_1`, :math:`\|A\|_*=\sum\sigma_i`;
projections :math:`p=\frac{a^\top b}{a^\top a}a` and :math:`p=QQ^\top b` with :math:`A=QR`.
"""
from __future__ import annotations

import math

import torch

from from_scratch.validation import check_array, check_choice, check_matrix, check_projection, check_regression
from .qr import householder_qr

VECTOR_ORDS = (1, 2, math.inf)
MATRIX_ORDS = ("fro", 2, "nuc")


def vector_norm(x: torch.Tensor, ord: float = 2) -> torch.Tensor:
    """p-norm over the last axis: (..., n) -> (...), via ``torch.linalg.vector_norm``."""
    check_array("x", x)
    check_choice("ord", ord, VECTOR_ORDS)
    return torch.linalg.vector_norm(x, ord=ord, dim=-1)


def matrix_norm(A: torch.Tensor, ord: str | int = "fro") -> torch.Tensor:
    """Frobenius, spectral (2) or nuclear norm of A (m, n), via ``torch.linalg.matrix_norm``."""
    check_matrix("A", A)
    check_choice("ord", ord, MATRIX_ORDS)
    return torch.linalg.matrix_norm(A, ord=ord)


def project_onto_vector(b: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    r"""Projection of b (n,) onto the line through a (n,): :math:`\frac{a^\top b}{a^\top a}a`."""
    check_projection(b, a)
    aa = a @ a
    return (a @ b) / aa * a


def project_onto_column_space(b: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
    r"""Projection of b (m,) or (m, k) onto the column space of a full-column-rank A (m, n): :math:`QQ^\top b`."""
    check_regression(A, b, "A", "b")
    Q, _ = householder_qr(A)
    return Q @ (Q.mT @ b)
