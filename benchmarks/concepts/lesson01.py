"""Lesson 1 (linear algebra) concept pairs: from_scratch.linear_algebra <-> torch_versions.linear_algebra."""
from __future__ import annotations

import numpy as np

import from_scratch.linear_algebra as S
import torch_versions.linear_algebra as T
from benchmarks.inputs import dims, orthogonal, spread_values, symmetric_with_spectrum, with_singular_values
from benchmarks.registry import Concept, Tolerance

# Eigen/singular-vector derivatives carry 1/(gap) factors: float32 gradients get a looser bound.
SPECTRAL = {"float64": Tolerance(1e-10, 1e-11), "float32": Tolerance(1e-3, 1e-4, grad_rtol=2e-3, grad_atol=5e-4)}


def _sym(X):
    """(X + X^T) / 2, for NumPy arrays and tensors: symmetric-input concepts are compared as functions of any X."""
    return 0.5 * (X + X.T)


# --- norms and projections ----------------------------------------------------------------------------------
def _norm_concepts() -> list[Concept]:
    out = []
    for label, ord in (("l1", 1), ("l2", 2), ("inf", np.inf)):
        out.append(Concept(
            f"vector_norm_{label}", 1, S.vector_norm, T.vector_norm,
            lambda rng, ord=ord: {"x": rng.standard_normal((dims(rng, 1, 4), dims(rng, 2, 12))), "ord": ord},
            outputs=("norm",), grad_wrt=("x",),
            scratch_backward=lambda i, o, u: {"x": S.vector_norm_backward(i["x"], u[0], i["ord"])},
            description=f"{label} norm over the last axis"))
    for label, ord in (("fro", "fro"), ("spectral", 2), ("nuclear", "nuc")):
        out.append(Concept(
            f"matrix_norm_{label}", 1, S.matrix_norm, T.matrix_norm,
            lambda rng, ord=ord: {"A": _spread_matrix(rng), "ord": ord},
            outputs=("norm",), grad_wrt=("A",),
            scratch_backward=lambda i, o, u: {"A": S.matrix_norm_backward(i["A"], u[0], i["ord"])},
            description=f"{label} matrix norm"))
    return out


def _spread_matrix(rng, square: bool = False):
    m = dims(rng, 2, 7)
    n = m if square else dims(rng, 2, 7)
    return with_singular_values(rng, m, n, spread_values(rng, min(m, n)))


def _projection_inputs(rng):
    n = dims(rng, 1, 4)
    m = n + dims(rng, 1, 5)
    b = rng.standard_normal(m) if rng.random() < 0.5 else rng.standard_normal((m, dims(rng, 1, 3)))
    return {"b": b, "A": rng.standard_normal((m, n))}


# --- QR, Cholesky, triangular solves ------------------------------------------------------------------------
def _tall(rng):
    n = dims(rng, 1, 6)
    return {"A": rng.standard_normal((n + dims(rng, 0, 5), n))}


def _qr_backward(i, o, u):
    return {"A": S.qr_backward(o[0], o[1], u[0], u[1])}


def _spd(rng):
    n = dims(rng, 1, 7)
    B = rng.standard_normal((n, n))
    return {"A": B @ B.T + n * np.eye(n)}


def _triangular(rng):
    n, lower = dims(rng, 1, 7), bool(rng.random() < 0.5)
    T_ = rng.standard_normal((n, n))
    T_ = (np.tril(T_, -1) if lower else np.triu(T_, 1)) + np.diag(rng.choice([-1, 1], n) * rng.uniform(1, 2, n))
    B = rng.standard_normal(n) if rng.random() < 0.5 else rng.standard_normal((n, dims(rng, 1, 3)))
    return {"T": T_, "B": B, "lower": lower}


def _triangular_backward(i, o, u):
    gT, gB = S.solve_triangular_backward(i["T"], o[0], u[0], i["lower"])
    return {"T": gT, "B": gB}


# --- eigen, SVD -----------------------------------------------------------------------------------------------
def _power_inputs(rng):
    n = dims(rng, 2, 8)
    lam = np.concatenate([[rng.uniform(3, 5)], rng.uniform(-1.5, 1.5, n - 1)]) * rng.choice([-1, 1])
    return {"A": symmetric_with_spectrum(rng, lam)}


def _power(lib):
    def run(A):
        r = lib.power_iteration(A, num_iters=200, tol=0.0)  # fixed iteration count: both follow the same path
        return r.eigenvalue, r.eigenvector
    return run


def _low_rank_inputs(rng):
    A = _spread_matrix(rng)
    return {"A": A, "k": dims(rng, 1, min(A.shape))}


def _regression_inputs(rng):
    d = dims(rng, 1, 5)
    N = d + dims(rng, 2, 10)
    y = rng.standard_normal(N) if rng.random() < 0.5 else rng.standard_normal((N, dims(rng, 1, 3)))
    return {"X": rng.standard_normal((N, d)), "y": y, "alpha": float(rng.choice([0.0, rng.uniform(0.1, 2.0)]))}


def _ridge_backward(i, o, u):
    gX, gy = S.ridge_backward(i["X"], i["y"], o[0], u[0], i["alpha"])
    return {"X": gX, "y": gy}


def _gd_inputs(rng):
    inputs = _regression_inputs(rng)
    return {**inputs, "lr": 0.05, "n_steps": 60}


# --- PCA and the linear layer ---------------------------------------------------------------------------------
def _pca_fit_inputs(rng):
    d = dims(rng, 2, 6)
    N = d + dims(rng, 3, 20)
    X = with_singular_values(rng, N, d, spread_values(rng, d)) + rng.standard_normal(d)
    return {"X": X, "n_components": dims(rng, 1, d - 1)}


def _pca_io(rng, inverse: bool):
    d = dims(rng, 2, 6)
    k, N = dims(rng, 1, d), dims(rng, 1, 8)
    comps = orthogonal(rng, d)[:k]
    first = ("Z", rng.standard_normal((N, k))) if inverse else ("X", rng.standard_normal((N, d)))
    return {first[0]: first[1], "mean": rng.standard_normal(d), "components": comps}


def _pca_transform_backward(i, o, u):
    gX, gC, _ = S.linear_backward(i["X"] - i["mean"], i["components"], u[0])  # Z = (X - mean) C^T
    return {"X": gX, "mean": -gX.sum(0), "components": gC}


def _pca_inverse_backward(i, o, u):
    gZ, gCt, gmean = S.linear_backward(i["Z"], i["components"].T, u[0])  # X = Z C + mean
    return {"Z": gZ, "mean": gmean, "components": gCt.T}


def _linear_inputs(rng):
    n_in, n_out = dims(rng, 1, 8), dims(rng, 1, 8)
    batch = tuple(dims(rng, 1, 5) for _ in range(dims(rng, 1, 2)))
    return {"x": rng.standard_normal(batch + (n_in,)), "weight": rng.standard_normal((n_out, n_in)),
            "bias": rng.standard_normal(n_out)}


def _linear_backward(i, o, u):
    gx, gw, gb = S.linear_backward(i["x"], i["weight"], u[0])
    return {"x": gx, "weight": gw, "bias": gb}


CONCEPTS: list[Concept] = _norm_concepts() + [
    Concept("project_onto_vector", 1, S.project_onto_vector, T.project_onto_vector,
            lambda rng: dict(zip(("b", "a"), rng.standard_normal((2, dims(rng, 2, 10))))),
            outputs=("p",), grad_wrt=("b", "a"),
            scratch_backward=lambda i, o, u: dict(zip(("b", "a"), S.project_onto_vector_backward(i["b"], i["a"], u[0]))),
            description="orthogonal projection onto a line"),
    Concept("project_onto_column_space", 1, S.project_onto_column_space, T.project_onto_column_space,
            _projection_inputs, outputs=("p",), grad_wrt=("b", "A"),
            scratch_backward=lambda i, o, u: dict(zip(("b", "A"), S.project_onto_column_space_backward(i["b"], i["A"], u[0]))),
            description="projection onto col(A), A = QR"),
    Concept("gram_schmidt", 1, S.gram_schmidt, T.gram_schmidt, _tall, outputs=("Q", "R"), grad_wrt=("A",),
            scratch_backward=_qr_backward, description="modified Gram-Schmidt QR (torch: autograd through the loop)"),
    Concept("householder_qr", 1, S.householder_qr, T.householder_qr, _tall, outputs=("Q", "R"), grad_wrt=("A",),
            scratch_backward=_qr_backward, description="Householder QR vs torch.linalg.qr, diag(R) > 0"),
    Concept("cholesky", 1, lambda A: S.cholesky(_sym(A)), lambda A: T.cholesky(_sym(A)), _spd, outputs=("L",),
            grad_wrt=("A",), scratch_backward=lambda i, o, u: {"A": S.cholesky_backward(o[0], u[0])},
            description="A = L L^T vs torch.linalg.cholesky"),
    Concept("solve_triangular", 1, S.solve_triangular, T.solve_triangular, _triangular, outputs=("X",),
            grad_wrt=("T", "B"), scratch_backward=_triangular_backward, description="substitution vs torch.linalg.solve_triangular"),
    Concept("power_iteration", 1, _power(S), _power(T), _power_inputs, outputs=("eigenvalue", "eigenvector"),
            description="dominant eigenpair, 200 iterations on both sides"),
    Concept("eigh", 1, lambda A: S.eigh(_sym(A)), lambda A: T.eigh(_sym(A)),
            lambda rng: {"A": symmetric_with_spectrum(rng, spread_values(rng, dims(rng, 2, 8), low=-4.0))},
            outputs=("eigenvalues", "eigenvectors"), grad_wrt=("A",),
            scratch_backward=lambda i, o, u: {"A": S.eigh_backward(o[0], o[1], u[0], u[1])},
            tolerances=SPECTRAL, description="parallel Jacobi vs torch.linalg.eigh"),
    Concept("svd", 1, S.svd, T.svd, lambda rng: {"A": _spread_matrix(rng)}, outputs=("U", "S", "Vh"), grad_wrt=("A",),
            scratch_backward=lambda i, o, u: {"A": S.svd_backward(*o, *u)},
            tolerances=SPECTRAL, description="one-sided Jacobi vs torch.linalg.svd"),
    Concept("low_rank_approximation", 1, S.low_rank_approximation, T.low_rank_approximation, _low_rank_inputs,
            outputs=("A_k",), grad_wrt=("A",),
            scratch_backward=lambda i, o, u: {"A": S.low_rank_approximation_backward(i["A"], i["k"], u[0])},
            tolerances=SPECTRAL, description="Eckart-Young truncated SVD"),
    Concept("normal_equations", 1, S.normal_equations, T.normal_equations, _regression_inputs, outputs=("w",),
            grad_wrt=("X", "y"), scratch_backward=_ridge_backward, description="(ridge) least squares by Cholesky"),
    Concept("least_squares_qr", 1, S.least_squares_qr, T.least_squares_qr, _regression_inputs, outputs=("w",),
            grad_wrt=("X", "y"), scratch_backward=_ridge_backward, description="(ridge) least squares: QR vs torch.linalg.lstsq"),
    Concept("gradient_descent_regression", 1, S.gradient_descent_regression, T.gradient_descent_regression, _gd_inputs,
            outputs=("weight", "bias", "losses"), description="60 GD steps vs nn.Linear + torch.optim.SGD"),
    Concept("pca_fit", 1, lambda X, n_components: S.pca_fit(X, n_components),
            lambda X, n_components: T.pca_fit(X, n_components), _pca_fit_inputs,
            outputs=("mean", "components", "explained_variance", "explained_variance_ratio", "singular_values"),
            tolerances=SPECTRAL, description="PCA via SVD of the centred data"),
    Concept("pca_transform", 1, S.pca_transform, T.pca_transform, lambda rng: _pca_io(rng, inverse=False),
            outputs=("Z",), grad_wrt=("X", "mean", "components"), scratch_backward=_pca_transform_backward,
            description="scores (X - mean) V_k"),
    Concept("pca_inverse_transform", 1, S.pca_inverse_transform, T.pca_inverse_transform,
            lambda rng: _pca_io(rng, inverse=True), outputs=("X_hat",), grad_wrt=("Z", "mean", "components"),
            scratch_backward=_pca_inverse_backward, description="reconstruction Z V_k^T + mean"),
    Concept("linear_forward", 1, S.linear_forward, T.linear_forward, _linear_inputs, outputs=("y",),
            grad_wrt=("x", "weight", "bias"), scratch_backward=_linear_backward,
            description="y = x W^T + b vs F.linear (nn.Linear)"),
]
