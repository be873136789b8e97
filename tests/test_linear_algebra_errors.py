"""Bad input gets a clear error on both sides: the same exception type, naming the argument and the shapes."""
from __future__ import annotations

import numpy as np
import pytest

LESSON_MODULE = "linear_algebra"  # `impl`: scratch, and torch on every device under test (conftest.py)
rng = np.random.default_rng(0)
M, V3, V4 = rng.standard_normal((5, 3)), rng.standard_normal(3), rng.standard_normal(4)
SQUARE = rng.standard_normal((4, 4))
SYM = SQUARE + SQUARE.T
NAN = M.copy()
NAN[1, 1] = np.nan
INF = M.copy()
INF[0, 2] = np.inf
RANK2 = rng.standard_normal((6, 2)) @ rng.standard_normal((2, 4))

# (function, args, kwargs, exception, fragments the message must contain)
CASES = [
    ("svd", (V3,), {}, ValueError, ["A", "2-D", "(3,)"]),
    ("svd", (NAN,), {}, ValueError, ["A", "finite", "NaN"]),
    ("eigh", (INF[:3, :3],), {}, ValueError, ["A", "finite"]),
    ("eigh", (M,), {}, ValueError, ["A", "square", "(5, 3)"]),
    ("eigh", (SQUARE,), {}, ValueError, ["A", "symmetric"]),
    ("householder_qr", (M.T,), {}, ValueError, ["A", "m >= n", "(3, 5)"]),
    ("gram_schmidt", (RANK2[:, :3],), {}, ValueError, ["A", "rank"]),
    ("cholesky", (-np.eye(3),), {}, ValueError, ["A", "positive definite"]),
    ("solve_triangular", (np.tril(SQUARE), V3), {"lower": True}, ValueError, ["T", "B", "(4, 4)", "(3,)"]),
    ("power_iteration", (M,), {}, ValueError, ["A", "square"]),
    ("power_iteration", (SYM,), {"num_iters": 0}, ValueError, ["num_iters"]),
    ("low_rank_approximation", (M, 4), {}, ValueError, ["k", "min(m, n)", "3"]),
    ("low_rank_approximation", (RANK2, 3), {}, ValueError, ["k", "rank", "2"]),
    ("low_rank_approximation", (M, 1.5), {}, TypeError, ["k", "int"]),
    ("normal_equations", (M, V4), {}, ValueError, ["X", "y", "(5, 3)", "(4,)"]),
    ("normal_equations", (M, rng.standard_normal(5)), {"alpha": -1.0}, ValueError, ["alpha"]),
    ("least_squares_qr", (M.T, V3), {}, ValueError, ["X", "(3, 5)"]),
    ("gradient_descent_regression", (M, rng.standard_normal(5)), {"lr": -0.1}, ValueError, ["lr"]),
    ("project_onto_vector", (V3, V4), {}, ValueError, ["a", "b", "(4,)", "(3,)"]),
    ("project_onto_vector", (V3, np.zeros(3)), {}, ValueError, ["a", "zero"]),
    ("project_onto_column_space", (V4, M), {}, ValueError, ["A", "b", "(5, 3)", "(4,)"]),
    ("project_onto_column_space", (rng.standard_normal(6), RANK2[:, :3]), {}, ValueError, ["A", "rank"]),
    ("vector_norm", (V3,), {"ord": 3}, ValueError, ["ord"]),
    ("matrix_norm", (M,), {"ord": "max"}, ValueError, ["ord"]),
    ("pca_fit", (M, 4), {}, ValueError, ["n_components", "3"]),
    ("pca_fit", (RANK2, 3), {}, ValueError, ["n_components", "rank"]),
    ("pca_fit", (M[:1], 1), {}, ValueError, ["X", "2 samples"]),
    ("pca_transform", (M, np.zeros(4), np.eye(4)[:2]), {}, ValueError, ["X", "4 columns", "(5, 3)"]),
    ("linear_forward", (M, rng.standard_normal((2, 4))), {}, ValueError, ["x", "in_features=4", "(5, 3)"]),
    ("linear_forward", (M, rng.standard_normal((2, 3)), V3), {}, ValueError, ["bias", "(2,)", "(3,)"]),
    ("svd", ([[1.0, 2.0]],), {}, TypeError, ["A", "array or tensor", "list"]),
    ("svd", (np.ones((2, 2), dtype=np.int64),), {}, TypeError, ["A", "floating-point", "int64"]),
]


@pytest.mark.parametrize("fn,args,kwargs,exc,fragments", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_bad_input_raises_a_clear_error(impl, fn, args, kwargs, exc, fragments) -> None:
    with pytest.raises(exc) as info:
        impl(fn, *args, **kwargs)
    message = str(info.value)
    missing = [f for f in fragments if f not in message]
    assert not missing, f"{impl.name}.{fn}: message {message!r} lacks {missing}"


def test_classes_reject_bad_settings_and_use_before_fit(impl) -> None:
    with pytest.raises(ValueError, match="method"):
        impl.module.LinearRegression("svd")
    with pytest.raises(RuntimeError, match="before fit"):
        impl.module.LinearRegression().predict(impl.to_input(M))
    with pytest.raises(RuntimeError, match="fitted"):
        impl.module.PCA(2).transform(impl.to_input(M))
