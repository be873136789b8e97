"""Lesson 1: properties and references beyond the twin agreement (numpy.linalg, torch.linalg, scikit-learn),
and clear errors on bad input, for both implementations."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from sklearn.datasets import load_diabetes, load_digits, load_iris
from sklearn.decomposition import PCA as SkPCA
from sklearn.linear_model import LinearRegression as SkLinearRegression, Ridge

from benchmarks.inputs import spread_values, symmetric_with_spectrum, with_singular_values
from tests.helpers import align_signs, to_numpy

LESSON_MODULE = "linear_algebra"  # `impl`: scratch, and torch on every device under test (conftest.py)


# --- decompositions against the references ----------------------------------------------------------------------
def test_qr_is_orthonormal_upper_triangular(impl, rng) -> None:
    A = rng.standard_normal((9, 5))
    for fn in ("householder_qr", "gram_schmidt"):
        Q, R = to_numpy(impl(fn, A))
        assert_allclose(Q.T @ Q, np.eye(5), atol=1e-13, err_msg=f"{fn}: Q^T Q")
        assert_allclose(np.tril(R, -1), 0, atol=0, err_msg=f"{fn}: R lower part")
        assert (np.diag(R) > 0).all(), f"{fn}: diag(R) must be positive"
        assert_allclose(Q @ R, A, atol=1e-13, err_msg=f"{fn}: QR = A")


def test_eigh_matches_numpy_up_to_sign(impl, rng) -> None:
    A = rng.standard_normal((8, 8))
    A = A + A.T
    w, V = to_numpy(impl("eigh", A))
    w_ref, V_ref = np.linalg.eigh(A)
    assert_allclose(w, w_ref, rtol=1e-12, atol=1e-12, err_msg="eigenvalues")
    assert_allclose(align_signs(V, V_ref, axis=1), V_ref, atol=1e-10, err_msg="eigenvectors up to sign")


def test_power_iteration_finds_dominant_pair_at_the_predicted_rate(impl, rng) -> None:
    ratio = 0.5
    A = symmetric_with_spectrum(rng, np.array([4.0, 4.0 * ratio, 1.0, -0.5, 0.1]))
    res = impl("power_iteration", A, num_iters=500, tol=1e-12)
    lam, v = to_numpy(res.eigenvalue), to_numpy(res.eigenvector)
    w_ref, V_ref = np.linalg.eigh(A)
    assert res.converged
    assert_allclose(lam, 4.0, rtol=1e-12)
    assert_allclose(abs(v @ V_ref[:, -1]), 1.0, atol=1e-12)
    # residual ~ |l2/l1|^t: reaching 1e-12 should take about log(1e-12)/log(0.5) ~ 40 steps, not 10 or 100
    predicted = np.log(1e-12) / np.log(ratio)
    assert 0.6 * predicted <= res.iterations <= 1.4 * predicted, (res.iterations, predicted)


def test_power_iteration_reports_non_convergence(impl, rng) -> None:
    A = symmetric_with_spectrum(rng, np.array([1.0, 0.999, 0.1]))
    res = impl("power_iteration", A, num_iters=5, tol=1e-12)
    assert not res.converged and res.iterations == 5


@pytest.mark.parametrize("shape", [(7, 4), (4, 7), (5, 5)])
def test_svd_matches_lapack_and_reconstructs(impl, rng, shape) -> None:
    A = rng.standard_normal(shape)
    U, s, Vh = to_numpy(impl("svd", A))
    k = min(shape)
    assert U.shape == (shape[0], k) and s.shape == (k,) and Vh.shape == (k, shape[1])
    assert_allclose(s, np.linalg.svd(A, compute_uv=False), rtol=1e-12)
    assert_allclose((U * s) @ Vh, A, atol=1e-13)
    assert_allclose(U.T @ U, np.eye(k), atol=1e-13)
    assert_allclose(Vh @ Vh.T, np.eye(k), atol=1e-13)


def test_svd_of_rank_deficient_matrix_keeps_orthonormal_factors(impl, rng) -> None:
    A = with_singular_values(rng, 6, 5, np.array([3.0, 2.0, 1.0, 0.0, 0.0]))
    U, s, Vh = to_numpy(impl("svd", A))
    assert_allclose(s[3:], 0, atol=1e-14)
    assert_allclose(U.T @ U, np.eye(5), atol=1e-12)
    assert_allclose((U * s) @ Vh, A, atol=1e-13)


def test_eckart_young_error_equals_tail_singular_values(impl, rng) -> None:
    s_true = spread_values(rng, 6)
    A = with_singular_values(rng, 9, 6, s_true)
    for k in range(1, 6):
        err = A - to_numpy(impl("low_rank_approximation", A, k))
        assert_allclose(np.linalg.norm(err, "fro"), np.sqrt((s_true[k:] ** 2).sum()), rtol=1e-12)
        assert_allclose(np.linalg.norm(err, 2), s_true[k], rtol=1e-12)
        assert np.linalg.matrix_rank(A - err) == k


def test_projections_are_idempotent_and_orthogonal(impl, rng) -> None:
    A, b = rng.standard_normal((8, 3)), rng.standard_normal(8)
    p = to_numpy(impl("project_onto_column_space", b, A))
    assert_allclose(to_numpy(impl("project_onto_column_space", p, A)), p, atol=1e-13)
    assert_allclose(A.T @ (b - p), 0, atol=1e-13)
    q = to_numpy(impl("project_onto_vector", b, A[:, 0]))
    assert_allclose(A[:, 0] @ (b - q), 0, atol=1e-13)


def test_norms_match_numpy(impl, rng) -> None:
    x, A = rng.standard_normal(11), rng.standard_normal((5, 4))
    for ord in (1, 2, np.inf):
        assert_allclose(to_numpy(impl("vector_norm", x, ord)), np.linalg.norm(x, ord), rtol=1e-14)
    for ord in ("fro", 2, "nuc"):
        assert_allclose(to_numpy(impl("matrix_norm", A, ord)), np.linalg.norm(A, ord), rtol=1e-13)


def test_scratch_l2_norm_does_not_overflow() -> None:
    from from_scratch.linear_algebra import vector_norm

    assert_allclose(vector_norm(np.array([3e200, 4e200])), 5e200, rtol=1e-15)
    assert_allclose(vector_norm(np.array([3e-200, 4e-200])), 5e-200, rtol=1e-15)


def test_cholesky_and_triangular_solve(impl, rng) -> None:
    B = rng.standard_normal((6, 6))
    A = B @ B.T + 6 * np.eye(6)
    L = to_numpy(impl("cholesky", A))
    assert_allclose(L, np.linalg.cholesky(A), rtol=1e-13, atol=1e-14)
    b = rng.standard_normal(6)
    x = to_numpy(impl("solve_triangular", L, b, lower=True))
    assert_allclose(L @ x, b, atol=1e-13)


# --- regression and PCA against scikit-learn ----------------------------------------------------------------------
@pytest.mark.parametrize("method", ["cholesky", "qr", "gd"])
@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_linear_regression_agrees_with_sklearn_on_diabetes(impl, method, alpha) -> None:
    X, y = load_diabetes(return_X_y=True)
    if method == "gd":  # standardize so gradient descent converges in a few thousand steps
        X = (X - X.mean(0)) / X.std(0)
    ref = (Ridge(alpha=alpha) if alpha else SkLinearRegression()).fit(X, y)
    n_steps = 6000
    if method == "gd":  # GD minimizes (|r|^2 + a|w|^2)/N, the same minimizer as Ridge(alpha=a)
        model = impl.module.LinearRegression(method, alpha=alpha, n_steps=n_steps)
    else:
        model = impl.module.LinearRegression(method, alpha=alpha)
    model.fit(*(impl.to_input(a) for a in (X, y)))
    tol = dict(rtol=1e-9, atol=1e-8) if method != "gd" else dict(rtol=1e-6, atol=1e-4)
    assert_allclose(to_numpy(model.weight)[0], ref.coef_, **tol, err_msg=f"{method} weight")
    assert_allclose(to_numpy(model.bias)[0], ref.intercept_, **tol, err_msg=f"{method} bias")
    assert_allclose(to_numpy(model.predict(impl.to_input(X))), ref.predict(X), rtol=1e-6, atol=1e-4)


def test_regression_methods_agree_with_each_other(impl, rng) -> None:
    X, y = rng.standard_normal((40, 4)), rng.standard_normal((40, 2))
    w_chol = to_numpy(impl("normal_equations", X, y, alpha=0.3))
    w_qr = to_numpy(impl("least_squares_qr", X, y, alpha=0.3))
    assert w_chol.shape == (4, 2)
    assert_allclose(w_chol, w_qr, rtol=1e-12, atol=1e-13)


def test_gradient_descent_loss_decreases_monotonically(impl, rng) -> None:
    X, y = rng.standard_normal((50, 3)), rng.standard_normal(50)
    losses = to_numpy(impl("gradient_descent_regression", X, y, n_steps=100).losses)
    assert (np.diff(losses) <= 1e-15).all(), "step 1/L must never increase the loss"


@pytest.mark.parametrize("dataset,k", [(load_iris, 2), (load_iris, 4), (load_digits, 10)])
def test_pca_agrees_with_sklearn(impl, dataset, k) -> None:
    X = dataset().data.astype(np.float64)
    ref = SkPCA(n_components=k, svd_solver="full").fit(X)
    pca = impl.module.PCA(k).fit(impl.to_input(X))
    comps = to_numpy(pca.components_)
    assert_allclose(align_signs(comps, ref.components_), ref.components_, atol=1e-9, err_msg="components")
    assert_allclose(to_numpy(pca.explained_variance_), ref.explained_variance_, rtol=1e-10)
    assert_allclose(to_numpy(pca.explained_variance_ratio_), ref.explained_variance_ratio_, rtol=1e-10)
    assert_allclose(to_numpy(pca.singular_values_), ref.singular_values_, rtol=1e-10)
    Z = to_numpy(pca.transform(impl.to_input(X)))
    Z_ref = ref.transform(X)
    assert_allclose(align_signs(Z.T, Z_ref.T), Z_ref.T, atol=1e-8, err_msg="transform")
    X_hat = to_numpy(pca.inverse_transform(impl.to_input(Z)))
    assert_allclose(X_hat, ref.inverse_transform(Z_ref), atol=1e-8, err_msg="inverse_transform")


def test_pca_with_all_components_reconstructs_exactly(impl) -> None:
    X = load_iris().data
    pca = impl.module.PCA(4)
    X_hat = to_numpy(pca.inverse_transform(pca.fit_transform(impl.to_input(X))))
    assert_allclose(X_hat, X, atol=1e-12)


def test_linear_layer_state_dict_bridge(rng) -> None:
    """The scratch Linear loads an nn.Linear state dict and computes the same forward and backward."""
    from from_scratch.linear_algebra import Linear as ScratchLinear

    torch_layer = torch.nn.Linear(5, 3, dtype=torch.float64)
    layer = ScratchLinear(5, 3, rng=rng)
    layer.load_state_dict({k: v.detach().numpy() for k, v in torch_layer.state_dict().items()})
    x = rng.standard_normal((4, 5))
    g = rng.standard_normal((4, 3))
    xt = torch.from_numpy(x).requires_grad_(True)
    yt = torch_layer(xt)
    yt.backward(torch.from_numpy(g))
    assert_allclose(layer(x), yt.detach().numpy(), rtol=1e-14)
    assert_allclose(layer.backward(g), xt.grad.numpy(), rtol=1e-14)
    assert_allclose(layer.grad_weight, torch_layer.weight.grad.numpy(), rtol=1e-14)
    assert_allclose(layer.grad_bias, torch_layer.bias.grad.numpy(), rtol=1e-14)
