"""Lesson 1 - linear algebra in idiomatic PyTorch. Twin of :mod:`from_scratch.linear_algebra` (same public names;
gradients come from autograd). See ``lessons/01_linear_algebra.md``."""
from inspect import ismodule as _ismodule

from .eigen import PowerIterationResult, eigh, power_iteration
from .layer import Linear, linear_forward
from .norms import matrix_norm, project_onto_column_space, project_onto_vector, vector_norm
from .pca import PCA, PCAResult, pca_fit, pca_inverse_transform, pca_transform
from .qr import cholesky, gram_schmidt, householder_qr, solve_triangular
from .regression import (GDResult, LinearRegression, gradient_descent_regression, least_squares_qr, lipschitz_step,
                         normal_equations)
from .svd import low_rank_approximation, numerical_rank, svd

__all__ = [name for name, obj in dict(globals()).items() if not name.startswith("_") and not _ismodule(obj)]
