"""Lesson 1 - linear algebra, from scratch in NumPy. See ``lessons/01_linear_algebra.md``.

Twin: :mod:`torch_versions.linear_algebra` (same public names; the ``*_backward`` functions exist only here).
"""
from inspect import ismodule as _ismodule

from .eigen import PowerIterationResult, eigh, eigh_backward, power_iteration
from .layer import Linear, linear_backward, linear_forward
from .norms import (matrix_norm, matrix_norm_backward, project_onto_column_space, project_onto_column_space_backward,
                    project_onto_vector, project_onto_vector_backward, vector_norm, vector_norm_backward)
from .pca import PCA, PCAResult, pca_fit, pca_inverse_transform, pca_transform
from .qr import (cholesky, cholesky_backward, gram_schmidt, householder_qr, qr_backward, solve_triangular,
                 solve_triangular_backward)
from .regression import (GDResult, LinearRegression, gradient_descent_regression, least_squares_qr, lipschitz_step,
                         normal_equations, ridge_backward)
from .svd import numerical_rank, low_rank_approximation, low_rank_approximation_backward, svd, svd_backward

__all__ = [name for name, obj in dict(globals()).items() if not name.startswith("_") and not _ismodule(obj)]
