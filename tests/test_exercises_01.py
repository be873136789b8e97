"""Exercises of lesson 1: every worked solution is run and checked against an independent reference (numpy.linalg,
scipy, scikit-learn) or a theoretical rate, with explicit tolerances; the problem sheet and the solutions agree."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.linalg as sla
from numpy.testing import assert_allclose
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA as SkPCA
from sklearn.linear_model import Ridge

from benchmarks.inputs import orthogonal, symmetric_with_spectrum, with_singular_values
from exercises.solutions import ex01_linear_algebra as ex
from exercises.solutions import ex01_linear_algebra_applied as exa
from tests.helpers import align_signs, check_exercise_sheet

ROOT = Path(__file__).resolve().parents[1]
SHEET = ROOT / "exercises" / "01_linear_algebra.md"
EPS = np.finfo(np.float64).eps
# ``rng`` is the seeded numpy.random.default_rng fixture of tests/conftest.py.


def _slope(x: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of log10 y against log10 x."""
    return float(np.polyfit(np.log10(x), np.log10(y), 1)[0])


# --- the problem sheet ---------------------------------------------------------------------------------------------

def test_sheet_has_problems_and_every_referenced_solution_exists() -> None:
    check_exercise_sheet(SHEET, (ex, exa))


# --- Problem 1: projections ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape,rank", [((9, 4), 4), ((9, 5), 2), ((4, 7), 4), ((6, 6), 6)])
def test_projection_matrix_is_the_orthogonal_projector(rng, shape, rank) -> None:
    A = rng.standard_normal((shape[0], rank)) @ rng.standard_normal((rank, shape[1]))
    P = ex.projection_matrix(A)
    assert P.shape == (shape[0], shape[0]) and P.dtype == np.float64
    Q = sla.orth(A)  # LAPACK SVD basis of col(A)
    assert Q.shape[1] == rank
    assert_allclose(P, Q @ Q.T, atol=1e-13, err_msg="P vs orth(A) orth(A)^T")
    assert_allclose(P, A @ np.linalg.pinv(A), atol=1e-10, err_msg="P vs A A^+")  # pinv is less accurate here
    idem, sym, trace = ex.projection_defects(P)
    assert idem < 1e-13 and sym < 1e-13, (idem, sym)
    assert trace == pytest.approx(np.linalg.matrix_rank(A), abs=1e-12)
    assert_allclose(np.linalg.eigvalsh(P), [0.0] * (shape[0] - rank) + [1.0] * rank, atol=1e-12)
    b = rng.standard_normal(shape[0])
    assert abs((b - P @ b) @ (A @ rng.standard_normal(shape[1]))) < 1e-12, "residual must be orthogonal to col(A)"


def test_projection_defects_detect_non_projectors(rng) -> None:
    A, B = rng.standard_normal((7, 3)), rng.standard_normal((7, 3))
    oblique = A @ np.linalg.solve(B.T @ A, B.T)  # idempotent, not symmetric
    idem, sym, trace = ex.projection_defects(oblique)
    assert idem < 1e-10 and sym > 0.1 and trace == pytest.approx(3, abs=1e-10)
    idem, sym, _ = ex.projection_defects(rng.standard_normal((5, 5)))
    assert idem > 0.1 and sym > 0.1
    assert_allclose(ex.projection_matrix(np.zeros((4, 2))), np.zeros((4, 4)))


# --- Problem 2: loss of orthogonality -----------------------------------------------------------------------------

def test_classical_gram_schmidt_matches_numpy_qr(rng) -> None:
    A = rng.standard_normal((10, 6))
    Qn, Rn = np.linalg.qr(A)
    sign = np.sign(np.diag(Rn))
    for reorth in (False, True):
        Q, R = ex.classical_gram_schmidt(A, reorth)
        assert Q.shape == (10, 6) and R.shape == (6, 6)
        assert_allclose(Q, Qn * sign, atol=1e-12, err_msg=f"Q (reorthogonalize={reorth})")
        assert_allclose(R, Rn * sign[:, None], atol=1e-12, err_msg=f"R (reorthogonalize={reorth})")


def test_orthogonality_loss_follows_kappa_laws(rng) -> None:
    kappas = np.logspace(2, 6, 5)
    losses = {k: [] for k in ("classical", "classical_twice", "modified", "householder")}
    for kappa in kappas:
        trials = [ex.compare_orthogonality(with_singular_values(rng, 40, 12, np.geomspace(1, 1 / kappa, 12)))
                  for _ in range(3)]
        for name in losses:
            losses[name].append(np.median([d[name] for d in trials]) if name in ("classical", "modified")
                                else max(d[name] for d in trials))
    cgs, mgs = np.array(losses["classical"]), np.array(losses["modified"])  # medians over 3 matrices
    assert np.all((cgs > 1e-4 * kappas ** 2 * EPS) & (cgs < 10 * kappas ** 2 * EPS)), cgs / (kappas ** 2 * EPS)
    assert np.all((mgs > 1e-2 * kappas * EPS) & (mgs < 10 * kappas * EPS)), mgs / (kappas * EPS)
    assert 1.6 < _slope(kappas, cgs) < 2.4 and 0.6 < _slope(kappas, mgs) < 1.4
    assert max(losses["householder"] + losses["classical_twice"]) < 100 * EPS


def test_hilbert_matrix_breaks_classical_gram_schmidt() -> None:
    H = sla.hilbert(8)  # kappa ~ 1.5e10
    d = ex.compare_orthogonality(H)
    assert d["classical"] > 0.1 and 1e-10 < d["modified"] < 1e-5, d
    assert d["householder"] < 1e-14 and d["classical_twice"] < 1e-14, d
    Q, R = ex.classical_gram_schmidt(H)
    assert np.linalg.norm(Q @ R - H) < 1e-14 * np.linalg.norm(H), "CGS still reproduces A = QR"
    assert ex.orthogonality_loss(orthogonal(np.random.default_rng(0), 5)[:, :3]) < 1e-14


# --- Problem 3: shifted iterations --------------------------------------------------------------------------------

LAMBDAS = np.array([10.0, 9.5, 5.0, 3.0, 1.0, 0.5, -2.0, -4.0])


@pytest.mark.parametrize("shift", [10.3, 4.5, -3.2, 0.9])
def test_inverse_iteration_finds_nearest_eigenpair_at_the_predicted_rate(rng, shift) -> None:
    A = symmetric_with_spectrum(rng, LAMBDAS)
    w, V = np.linalg.eigh(A)
    res = ex.inverse_iteration(A, shift)
    j = np.argmin(np.abs(w - shift))
    assert res.converged and res.eigenvalue == pytest.approx(w[j], abs=1e-11)
    assert_allclose(align_signs(res.eigenvector[None], V[:, j][None])[0], V[:, j], atol=1e-11, err_msg="eigenvector")
    near = np.sort(np.abs(LAMBDAS - shift))
    r = res.residuals / np.linalg.norm(A)
    late = np.flatnonzero(r[1:] > 1e-10)[-3:]  # the last steps above round-off: transients have died out
    assert late.size == 3, r
    assert_allclose(r[late + 1] / r[late], near[0] / near[1], rtol=0.01, err_msg="contraction per step")


def test_rayleigh_quotient_iteration_finds_an_eigenpair(rng) -> None:
    A = symmetric_with_spectrum(rng, LAMBDAS)
    w = np.linalg.eigvalsh(A)
    for _ in range(5):
        res = ex.rayleigh_quotient_iteration(A, rng.standard_normal(8))
        assert res.converged and res.iterations <= 10, res.residuals
        assert np.min(np.abs(w - res.eigenvalue)) < 1e-12
        assert np.linalg.norm(A @ res.eigenvector - res.eigenvalue * res.eigenvector) < 1e-12 * np.linalg.norm(A)


def test_rayleigh_quotient_iteration_is_exactly_cubic_in_a_two_dimensional_subspace(rng) -> None:
    # Start in span{v_j, v_i}: then rho = lambda_j cos^2 + lambda_i sin^2 and tan(theta') = tan(theta)^3 exactly,
    # while the residual is |lambda_j - lambda_i| sin(theta) cos(theta).
    A = symmetric_with_spectrum(rng, LAMBDAS)
    w, V = np.linalg.eigh(A)
    for j, i in ((7, 0), (3, 4), (2, 6)):
        theta0 = np.arctan(0.3)
        res = ex.rayleigh_quotient_iteration(A, np.cos(theta0) * V[:, j] + np.sin(theta0) * V[:, i])
        assert res.eigenvalue == pytest.approx(w[j], abs=1e-12)
        theta = np.concatenate([[theta0], np.arcsin(2 * res.residuals / abs(w[j] - w[i])) / 2])
        ok = np.tan(theta[1:]) > 1e-9  # above round-off
        assert ok.sum() >= 2, theta
        assert_allclose(np.tan(theta[1:][ok]), np.tan(theta[:-1][ok]) ** 3, rtol=1e-6, err_msg="tan theta")


def test_shifts_need_far_fewer_steps_than_power_iteration(rng) -> None:
    A = symmetric_with_spectrum(rng, LAMBDAS)  # |lambda_2 / lambda_1| = 0.95
    counts = ex.iteration_counts(A, shift=10.3)
    assert counts["power"] >= np.log(1e-12) / np.log(0.95) * 0.7, counts
    assert counts["rayleigh"] < counts["inverse"] < counts["power"] / 10, counts


# --- Problem 4: deflation ------------------------------------------------------------------------------------------

def test_deflation_finds_top_eigenpairs_by_magnitude(rng) -> None:
    lam = np.array([10.0, -7.0, 5.0, -4.0, 3.0, 1.0, 0.5])
    A = symmetric_with_spectrum(rng, lam)
    w, V = np.linalg.eigh(A)
    order = np.argsort(-np.abs(w))[:3]
    values, vectors = ex.deflated_power_iteration(A, 3)
    assert values.shape == (3,) and vectors.shape == (7, 3)
    assert_allclose(values, w[order], rtol=1e-9, err_msg="eigenvalues")
    assert_allclose(align_signs(vectors, V[:, order], axis=1), V[:, order], atol=1e-8, err_msg="eigenvectors")
    assert_allclose(vectors.T @ vectors, np.eye(3), atol=1e-8)
    lam[-1] = 2e-3  # all n pairs, down to a tiny one that an inexact deflation would hide
    A = symmetric_with_spectrum(rng, lam)
    values, vectors = ex.deflated_power_iteration(A, 7)
    assert_allclose(values, lam, atol=1e-9, err_msg="all eigenvalues")
    assert_allclose((vectors * values) @ vectors.T, A, atol=1e-9, err_msg="V diag(lambda) V^T")


def test_deflation_on_a_covariance_matches_scipy_subset(rng) -> None:
    X = rng.standard_normal((200, 6)) * np.array([5.0, 3.0, 2.0, 1.0, 0.5, 0.2])
    C = np.cov(X.T)
    w, V = sla.eigh(C, subset_by_index=[3, 5])  # top 3, ascending
    values, vectors = ex.deflated_power_iteration(C, 3)
    assert_allclose(values, w[::-1], rtol=1e-9)
    assert_allclose(np.abs(vectors.T @ V[:, ::-1]), np.eye(3), atol=1e-7)


def test_deflation_warns_on_tied_magnitudes(rng) -> None:
    A = symmetric_with_spectrum(rng, np.array([5.0, -5.0, 1.0]))
    with pytest.warns(RuntimeWarning, match="converge"):
        ex.deflated_power_iteration(A, 1, num_iters=200)


# --- Problem 5: Eckart-Young compression ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mosaic() -> np.ndarray:
    """48 digits from scikit-learn tiled into a (48, 64) grey-scale image."""
    return load_digits().images[:48].reshape(6, 8, 8, 8).transpose(0, 2, 1, 3).reshape(48, 64)


def test_compression_error_is_the_singular_value_tail(mosaic) -> None:
    U, s, Vh = np.linalg.svd(mosaic, full_matrices=False)
    for k in (1, 5, 15):
        c = exa.compress_image(mosaic, k)
        assert_allclose(c.approx, (U[:, :k] * s[:k]) @ Vh[:k], atol=1e-9 * s[0], err_msg=f"A_{k}")
        assert c.error == pytest.approx(np.sqrt((s[k:] ** 2).sum()), rel=1e-10)
        assert c.predicted_error == pytest.approx(c.error, rel=1e-10)
        assert c.relative_error == pytest.approx(c.error / np.linalg.norm(mosaic), rel=1e-12)
        assert np.linalg.norm(mosaic - c.approx, 2) == pytest.approx(s[k], rel=1e-9)
        assert c.storage_ratio == pytest.approx(k * (48 + 64 + 1) / (48 * 64))
        Q = np.linalg.qr(mosaic[:, np.argsort(-np.linalg.norm(mosaic, axis=0))[:k]])[0]
        assert c.error < np.linalg.norm(mosaic - Q @ (Q.T @ mosaic)), "another rank-k approximation beat A_k"


def test_rank_for_energy_matches_brute_force(mosaic) -> None:
    s = np.linalg.svd(mosaic, compute_uv=False)
    for energy in (0.5, 0.9, 0.99):
        k = exa.rank_for_energy(s, energy)
        kept = np.array([(s[:j] ** 2).sum() / (s ** 2).sum() for j in range(len(s) + 1)])
        assert k == np.argmax(kept >= energy), energy
    assert exa.rank_for_energy(s, 1.0) == np.linalg.matrix_rank(mosaic)


def test_compression_stops_at_the_numerical_rank(rng) -> None:
    rank2 = rng.standard_normal((20, 2)) @ rng.standard_normal((2, 30))
    assert exa.compress_image(rank2, 2).error < 1e-12 * np.linalg.norm(rank2)
    with pytest.raises(ValueError, match="rank"):
        exa.compress_image(rank2, 3)


# --- Problem 6: ridge through the SVD ------------------------------------------------------------------------------

def test_ridge_svd_matches_normal_equations_and_sklearn(rng) -> None:
    from from_scratch.linear_algebra import normal_equations

    X, y, Y = rng.standard_normal((50, 8)), rng.standard_normal(50), rng.standard_normal((50, 3))
    for alpha in (0.0, 0.1, 10.0):
        assert_allclose(exa.ridge_svd(X, y, alpha), normal_equations(X, y, alpha), atol=1e-12)
        assert_allclose(exa.ridge_svd(X, Y, alpha), normal_equations(X, Y, alpha), atol=1e-12)
    alphas = np.array([0.01, 1.0, 100.0])
    ref = np.stack([Ridge(alpha=a, fit_intercept=False, solver="svd").fit(X, Y).coef_.T for a in alphas])
    path = exa.ridge_path(X, Y, alphas)
    assert path.shape == (3, 8, 3)
    assert_allclose(path, ref, atol=1e-10)


def test_ridge_svd_alpha_zero_is_the_pseudo_inverse(rng) -> None:
    X, y = rng.standard_normal((5, 9)), rng.standard_normal(5)  # wide: infinitely many exact fits
    assert_allclose(exa.ridge_svd(X, y, 0.0), np.linalg.lstsq(X, y, rcond=None)[0], atol=1e-12)
    Xd, yd = np.hstack([X.T, X.T[:, :1]]), rng.standard_normal(9)  # tall (9, 6) but rank 5
    assert_allclose(exa.ridge_svd(Xd, yd, 0.0), np.linalg.pinv(Xd) @ yd, atol=1e-12)


def test_ridge_effective_dof_is_the_hat_matrix_trace(rng) -> None:
    X = rng.standard_normal((40, 6)) @ np.diag([10.0, 3.0, 1.0, 0.3, 0.1, 0.03])
    dofs = [exa.ridge_effective_dof(X, a) for a in (0.0, 0.01, 1.0, 100.0, 1e12)]
    assert dofs[0] == pytest.approx(6.0, abs=1e-12) and dofs[-1] < 1e-8
    assert all(a > b for a, b in zip(dofs, dofs[1:])), dofs
    for alpha, dof in zip((0.01, 1.0, 100.0), dofs[1:4]):
        H = X @ np.linalg.solve(X.T @ X + alpha * np.eye(6), X.T)
        assert dof == pytest.approx(np.trace(H), rel=1e-10)


# --- Problem 7: whitening ------------------------------------------------------------------------------------------

@pytest.fixture
def correlated(rng) -> np.ndarray:
    return rng.standard_normal((300, 5)) @ rng.standard_normal((5, 5)) + rng.standard_normal(5) * 3


def test_pca_whitening_gives_identity_covariance_and_matches_sklearn(correlated) -> None:
    for k in (5, 3):
        res = exa.pca_whiten(correlated, n_components=k)
        assert res.Z.shape == (300, k) and res.weight.shape == (k, 5)
        assert_allclose(np.cov(res.Z.T), np.eye(k), atol=1e-12, err_msg="cov(Z)")
        ref = SkPCA(n_components=k, whiten=True, svd_solver="full").fit(correlated).transform(correlated)
        assert_allclose(align_signs(res.Z, ref, axis=1), ref, atol=1e-10, err_msg="Z vs sklearn")
        assert_allclose(res.mean, correlated.mean(0), atol=1e-12)


def test_zca_whitening_is_the_inverse_square_root_of_the_covariance(correlated) -> None:
    res = exa.pca_whiten(correlated, zca=True)
    C = np.cov(correlated.T)
    assert_allclose(res.weight, res.weight.T, atol=1e-12)
    assert_allclose(res.weight, np.linalg.inv(sla.sqrtm(C).real), rtol=1e-9, atol=1e-12, err_msg="W = C^{-1/2}")
    assert_allclose(np.cov(res.Z.T), np.eye(5), atol=1e-12)
    pca = exa.pca_whiten(correlated)
    assert np.linalg.norm(res.Z - (correlated - res.mean)) < np.linalg.norm(pca.Z - (correlated - res.mean))


def test_regularized_whitening_shrinks_small_directions(correlated) -> None:
    eps = 0.5
    res = exa.pca_whiten(correlated, eps=eps)
    lam = np.linalg.eigvalsh(np.cov(correlated.T))[::-1]
    assert_allclose(np.cov(res.Z.T), np.diag(lam / (lam + eps)), atol=1e-12)


# --- Problem 8: conditioning --------------------------------------------------------------------------------------

def test_ill_conditioned_problem_has_the_requested_condition_number(rng) -> None:
    X, y, w = exa.ill_conditioned_problem(rng, 1e5, 30, 7)
    assert X.shape == (30, 7) and np.linalg.cond(X) == pytest.approx(1e5, rel=1e-6)
    assert_allclose(y, X @ w, atol=0)


def test_normal_equations_error_grows_like_kappa_squared_qr_like_kappa(rng) -> None:
    kappas = np.logspace(1, 7, 7)
    err = exa.solver_errors(kappas, rng)
    ne, qr = err["normal_equations"], err["qr"]
    assert 1.7 < _slope(kappas, ne) < 2.3, ne
    assert 0.7 < _slope(kappas, qr) < 1.3, qr
    assert np.all(ne < 10 * kappas ** 2 * EPS) and np.all(qr < 10 * kappas * EPS)
    assert np.all(ne[-3:] > 1e3 * qr[-3:]), (ne, qr)


# --- bad input: every solution raises a ValueError that names the problem --------------------------------------

_G = np.random.default_rng(0)
_S = symmetric_with_spectrum(_G, np.array([4.0, 2.0, 1.0, -1.0]))
_X, _Y = _G.standard_normal((10, 3)), _G.standard_normal(10)
_C = _G.standard_normal((50, 3)) @ _G.standard_normal((3, 3))
BAD_INPUT = {
    "projection of a vector": (lambda: ex.projection_matrix(np.ones(3)), "2-D"),
    "projection of NaN": (lambda: ex.projection_matrix(np.array([[1.0, np.nan], [0.0, 1.0]])), "finite"),
    "defects of a non-square P": (lambda: ex.projection_defects(np.ones((3, 2))), "square"),
    "CGS of a wide matrix": (lambda: ex.classical_gram_schmidt(np.ones((2, 3))), "rows"),
    "CGS of a rank-1 matrix": (lambda: ex.classical_gram_schmidt(np.ones((4, 2))), "rank"),
    "inverse iteration, non-symmetric": (lambda: ex.inverse_iteration(_S + np.triu(_S, 1), 1.0), "symmetric"),
    "inverse iteration, infinite shift": (lambda: ex.inverse_iteration(_S, np.inf), "shift"),
    "RQI, v0 of the wrong shape": (lambda: ex.rayleigh_quotient_iteration(_S, np.ones(3)), "v0"),
    "RQI, zero v0": (lambda: ex.rayleigh_quotient_iteration(_S, np.zeros(4)), "v0"),
    "deflation, k = 0": (lambda: ex.deflated_power_iteration(_S, 0), "k"),
    "deflation, k > n": (lambda: ex.deflated_power_iteration(_S, 5), "k"),
    "deflation, float k": (lambda: ex.deflated_power_iteration(_S, 1.5), "k"),
    "compression, k = 0": (lambda: exa.compress_image(_X, 0), "k"),
    "compression, k > min(m, n)": (lambda: exa.compress_image(_X, 4), "k"),
    "energy 0": (lambda: exa.rank_for_energy(np.array([2.0, 1.0]), 0.0), "energy"),
    "energy > 1": (lambda: exa.rank_for_energy(np.array([2.0, 1.0]), 1.5), "energy"),
    "ridge, negative alpha": (lambda: exa.ridge_svd(_X, _Y, -1.0), "alpha"),
    "ridge, mismatched rows": (lambda: exa.ridge_svd(_X, _Y[:9], 1.0), "rows"),
    "dof, NaN alpha": (lambda: exa.ridge_effective_dof(_X, np.nan), "alpha"),
    "ZCA with fewer components": (lambda: exa.pca_whiten(_C, n_components=2, zca=True), "zca"),
    "whitening, negative eps": (lambda: exa.pca_whiten(_C, eps=-1.0), "eps"),
    "whitening, singular covariance": (lambda: exa.pca_whiten(np.hstack([_C, _C[:, :1]])), "rank"),
    "kappa < 1": (lambda: exa.ill_conditioned_problem(_G, 0.5), "kappa"),
    "wide conditioning problem": (lambda: exa.ill_conditioned_problem(_G, 10.0, m=3, n=5), "m="),
}


@pytest.mark.parametrize("case", BAD_INPUT, ids=list(BAD_INPUT))
def test_bad_input_raises_value_error(case: str) -> None:
    call, match = BAD_INPUT[case]
    with pytest.raises(ValueError, match=match):
        call()
