"""Exercises of lesson 3, problems 1-4 and the problem sheet: every worked solution is checked against an
independent reference (scipy.special, scipy.stats, scipy.integrate, torch.distributions, torch autograd, closed
forms) with explicit tolerances; Monte Carlo results within a stated number of standard errors. Problems 5-8:
``test_exercises_03_applied.py``."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import scipy.integrate as si
import scipy.special as ss
import scipy.stats as st
import torch
from numpy.testing import assert_allclose
from torch.distributions import MultivariateNormal, kl_divergence

from exercises.solutions import ex03_probability_statistics as ex
from exercises.solutions import ex03_probability_statistics_applied as exa
from tests.helpers import check_exercise_sheet

ROOT = Path(__file__).resolve().parents[1]
SHEET = ROOT / "exercises" / "03_probability_statistics.md"
# ``rng`` is the seeded numpy.random.default_rng fixture of tests/conftest.py.


def _tril(rng: np.random.Generator, d: int) -> np.ndarray:
    A = rng.standard_normal((d, d))
    return np.linalg.cholesky(A @ A.T + 0.5 * d * np.eye(d))


def _mvn(loc: np.ndarray, tril: np.ndarray) -> MultivariateNormal:
    return MultivariateNormal(torch.from_numpy(loc), scale_tril=torch.from_numpy(tril))


# --- the problem sheet ---------------------------------------------------------------------------------------------

def test_sheet_has_problems_and_every_referenced_solution_exists() -> None:
    check_exercise_sheet(SHEET, (ex, exa))


# --- Problem 1: log-sum-exp ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype,known_hi", [(np.float64, 709.782712893384), (np.float32, 88.72283905206835),
                                            (np.float16, 11.089866488461016)])
def test_exp_range_brackets_overflow_and_underflow(dtype, known_hi) -> None:
    lo, hi = ex.exp_range(dtype)
    assert hi == pytest.approx(known_hi, rel=1e-12)
    with np.errstate(over="ignore", under="ignore"):
        assert np.isfinite(np.exp(dtype(hi * (1 - 1e-3)))) and np.isinf(np.exp(dtype(hi * (1 + 1e-3))))
        assert np.exp(dtype(lo + 1)) > 0 and np.exp(dtype(lo - 1)) == 0
    with pytest.raises(ValueError, match="dtype"):
        ex.exp_range(np.int64)


def test_naive_logsumexp_overflows_and_underflows_where_the_shifted_one_does_not() -> None:
    for x, ref in (([1000.0, 1000.0], 1000 + math.log(2)), ([-1000.0, -1000.0], -1000 + math.log(2))):
        naive = ex.naive_logsumexp(np.array(x))
        stable = ex.logsumexp(np.array(x))
        assert np.isinf(naive) and np.sign(naive) == np.sign(x[0]), naive
        assert stable == pytest.approx(ref, rel=1e-15) and stable == pytest.approx(ss.logsumexp(x), rel=1e-15)
    x32 = np.array([89.0, 0.0], dtype=np.float32)  # above float32's 88.72
    assert np.isinf(ex.naive_logsumexp(x32)) and ex.logsumexp(x32).dtype == np.float32
    assert float(ex.logsumexp(x32)) == pytest.approx(89.0, rel=1e-6)
    moderate = np.array([0.5, -1.0, 2.0])
    assert ex.naive_logsumexp(moderate) == pytest.approx(ss.logsumexp(moderate), rel=1e-15)


@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-14), (np.float32, 2e-6)])
def test_logsumexp_and_softmax_match_scipy_and_torch(rng, dtype, rtol) -> None:
    for _ in range(4):
        shape = tuple(int(s) for s in rng.integers(1, 40, size=2))
        x = (rng.standard_normal(shape) * 30 + rng.choice([-800.0, 0.0, 800.0])).astype(dtype)
        for axis in (0, 1, -1):
            got = ex.logsumexp(x, axis=axis)
            assert got.shape == (shape[1 - axis % 2],)
            assert got.dtype == dtype
            assert_allclose(got, ss.logsumexp(x.astype(np.float64), axis=axis), rtol=rtol, err_msg=f"lse axis={axis}")
            assert_allclose(ex.logsumexp(x, axis=axis, keepdims=True),
                            torch.logsumexp(torch.from_numpy(x), axis, keepdim=True).numpy(), rtol=rtol)
            p = ex.softmax(x, axis=axis)
            assert p.shape == shape and p.dtype == dtype
            assert_allclose(p, torch.softmax(torch.from_numpy(x), axis).numpy(), rtol=10 * rtol, atol=1e-30)
            assert_allclose(p.sum(axis), 1.0, rtol=0, atol=50 * np.finfo(dtype).eps)
    big = rng.standard_normal(10_000) * 100
    assert ex.logsumexp(big) == pytest.approx(ss.logsumexp(big), rel=1e-14)


def test_logsumexp_lies_between_the_max_and_the_max_plus_log_n(rng) -> None:
    for n in (1, 2, 17, 1000):
        x = rng.standard_normal(n) * 50 + 5e3
        m, lse = x.max(), float(ex.logsumexp(x))
        assert m <= lse <= m + math.log(n) + 1e-12 * abs(m), (n, m, lse)
    assert float(ex.logsumexp(np.full(8, 3.0))) == pytest.approx(3 + math.log(8), rel=1e-15), "equal entries: the upper bound"


def test_logsumexp_gradient_is_softmax(rng) -> None:
    x = rng.standard_normal((3, 6)) * 4
    t = torch.tensor(x, requires_grad=True)
    g = torch.from_numpy(rng.standard_normal(3))  # a random upstream gradient per row
    (torch.logsumexp(t, -1) * g).sum().backward()
    assert_allclose(g.numpy()[:, None] * ex.softmax(x), t.grad.numpy(), rtol=1e-13, atol=1e-15)


def test_masked_logits_are_handled_like_scipy_and_torch() -> None:
    x = np.array([[0.0, -np.inf, 1.0], [-np.inf, -np.inf, -np.inf], [-np.inf, 2.0, -np.inf]])
    lse = ex.logsumexp(x)
    assert_allclose(lse, ss.logsumexp(x, axis=-1), rtol=1e-15)
    assert lse[1] == -np.inf and lse[2] == 2.0
    assert_allclose(lse, torch.logsumexp(torch.from_numpy(x), -1).numpy(), rtol=1e-15)
    p = ex.softmax(x)
    assert p[0, 1] == 0 and p[2].tolist() == [0.0, 1.0, 0.0]
    assert np.isnan(p[1]).all() and torch.softmax(torch.from_numpy(x), -1)[1].isnan().all(), "all masked: no distribution"
    assert_allclose(p[[0, 2]], torch.softmax(torch.from_numpy(x), -1).numpy()[[0, 2]], rtol=1e-15)


@pytest.mark.parametrize("bad", [np.array([1.0, np.nan]), np.array([np.inf, 0.0]), np.zeros(0), np.array(["a"])])
def test_logsumexp_rejects_bad_input(bad) -> None:
    for fn in (ex.logsumexp, ex.naive_logsumexp, ex.softmax):
        with pytest.raises(ValueError, match="x"):
            fn(bad)


# --- Problem 2: Gaussian maximum likelihood ----------------------------------------------------------------------

def test_gaussian_mle_matches_scipy_norm_fit(rng) -> None:
    x = rng.normal(3.0, 2.0, size=(50, 3))
    mu, var = ex.gaussian_mle(x)
    assert mu.shape == var.shape == (3,)
    for j in range(3):
        loc, scale = st.norm.fit(x[:, j])  # scipy's MLE: the biased (1/n) variance
        assert mu[j] == pytest.approx(loc, rel=1e-13) and var[j] == pytest.approx(scale ** 2, rel=1e-12)
    assert_allclose(var, x.var(0, ddof=0), rtol=1e-13)
    with pytest.raises(ValueError, match="x"):
        ex.gaussian_mle(np.ones((1, 2)))


@pytest.mark.parametrize("n", [2, 5, 30])
def test_variance_estimator_moments_follow_chi_square(n) -> None:
    sigma2 = 2.5
    chi2 = st.chi2(n - 1)
    for c in (n - 1, n, n + 1, 0.7 * n):
        mom = ex.variance_estimator_moments(n, c, sigma2)
        assert mom["mean"] == pytest.approx(chi2.mean() * sigma2 / c, rel=1e-14)
        assert mom["variance"] == pytest.approx(chi2.var() * sigma2 ** 2 / c ** 2, rel=1e-14)
        assert mom["mse"] == pytest.approx(mom["variance"] + mom["bias"] ** 2, rel=1e-14)
    assert ex.variance_estimator_moments(n, n, sigma2)["bias"] == pytest.approx(-sigma2 / n, rel=1e-13)
    assert ex.variance_estimator_moments(n, n - 1, sigma2)["bias"] == pytest.approx(0, abs=1e-14)
    grid = np.linspace(n - 1.5, n + 3.5, 501)
    best = grid[np.argmin([ex.variance_estimator_moments(n, c)["mse"] for c in grid])]
    assert best == pytest.approx(n + 1, abs=0.011), "the MSE-optimal divisor is n + 1"


def test_variance_mses_for_n5_are_the_stated_values() -> None:
    mses = [ex.variance_estimator_moments(5, c)["mse"] for c in (4, 5, 6)]
    assert_allclose(mses, [0.5, 0.36, 1 / 3], rtol=1e-14)


def test_simulated_variance_estimators_agree_with_the_closed_form_within_4_se(rng) -> None:
    n, sigma2 = 5, 2.0
    sim = ex.simulate_variance_estimators(n, (n - 1, n, n + 1), 200_000, rng, sigma2)
    for c, s in sim.items():
        mom = ex.variance_estimator_moments(n, c, sigma2)
        assert abs(s["mean"] - mom["mean"]) < 4 * s["mean_se"], (c, s, mom)
        assert abs(s["mse"] - mom["mse"]) < 4 * s["mse_se"], (c, s, mom)
    assert sigma2 - sim[n]["mean"] > 20 * sim[n]["mean_se"], "the MLE's bias -sigma^2/n is resolved"
    assert sim[n + 1]["mse"] < sim[n]["mse"] < sim[n - 1]["mse"]


def test_variance_estimators_reject_bad_input(rng) -> None:
    with pytest.raises(ValueError, match="n"):
        ex.variance_estimator_moments(1, 1.0)
    with pytest.raises(ValueError, match="divisor"):
        ex.variance_estimator_moments(5, 0.0)
    with pytest.raises(ValueError, match="n_trials"):
        ex.simulate_variance_estimators(5, (4,), 1, rng)
    with pytest.raises(ValueError, match="divisors"):
        ex.simulate_variance_estimators(5, (-1.0,), 10, rng)


# --- Problem 3: Bayesian A/B test ----------------------------------------------------------------------------------

def _scipy_prob_b_beats_a(post_a, post_b) -> float:
    f = lambda x: st.beta.pdf(x, *post_b) * st.beta.cdf(x, *post_a)  # noqa: E731
    mode = (post_b[0] - 1) / max(post_b[0] + post_b[1] - 2, 1)
    return si.quad(f, 0, 1, points=[mode], epsabs=1e-14, epsrel=1e-13, limit=500)[0]


def test_ab_posteriors_are_the_conjugate_update() -> None:
    assert ex.ab_posteriors(120, 1000, 140, 1000) == ((121.0, 881.0), (141.0, 861.0))
    assert ex.ab_posteriors(0, 3, 3, 3, prior=(2.0, 0.5)) == ((2.0, 3.5), (5.0, 0.5))


@pytest.mark.parametrize("post_a,post_b", [((121.0, 881.0), (141.0, 861.0)), ((3.0, 7.0), (2.0, 5.0)),
                                           ((10.5, 3.2), (4.0, 2.0)), ((1.0, 1.0), (1.0, 1.0))])
def test_prob_b_beats_a_three_ways_against_scipy(rng, post_a, post_b) -> None:
    ref = _scipy_prob_b_beats_a(post_a, post_b)
    assert ex.prob_b_beats_a_exact(post_a, post_b) == pytest.approx(ref, abs=1e-12)
    assert ex.prob_b_beats_a_quadrature(post_a, post_b) == pytest.approx(ref, abs=1e-6)
    p, se = ex.prob_b_beats_a_mc(post_a, post_b, 200_000, rng)
    assert se == pytest.approx(math.sqrt(p * (1 - p) / 200_000), rel=1e-12)
    assert abs(p - ref) < 4 * se, (p, ref, se)


def test_the_ab_example_and_symmetry() -> None:
    a, b = ex.ab_posteriors(120, 1000, 140, 1000)
    assert ex.prob_b_beats_a_exact(a, b) == pytest.approx(0.9079, abs=5e-5)
    assert ex.prob_b_beats_a_exact(a, b) + ex.prob_b_beats_a_exact(b, a) == pytest.approx(1.0, abs=1e-12)
    assert ex.prob_b_beats_a_exact(a, a) == pytest.approx(0.5, abs=1e-12)
    coarse = abs(ex.prob_b_beats_a_quadrature(a, b, n_grid=500) - ex.prob_b_beats_a_exact(a, b))
    fine = abs(ex.prob_b_beats_a_quadrature(a, b, n_grid=4000) - ex.prob_b_beats_a_exact(a, b))
    assert fine < coarse / 20, (coarse, fine)  # O(h^2): 8x finer grid, ~64x smaller error


def test_ab_functions_reject_bad_input(rng) -> None:
    with pytest.raises(ValueError, match="successes_a"):
        ex.ab_posteriors(11, 10, 1, 10)
    with pytest.raises(ValueError, match="successes_b"):
        ex.ab_posteriors(1, 10, True, 10)
    with pytest.raises(ValueError, match="prior"):
        ex.ab_posteriors(1, 10, 1, 10, prior=(0.0, 1.0))
    with pytest.raises(ValueError, match="post_b"):
        ex.prob_b_beats_a_exact((2.0, 3.0), (2.5, 3.0))
    with pytest.raises(ValueError, match="post_a"):
        ex.prob_b_beats_a_mc((1.0,), (2.0, 3.0), 10, rng)


# --- Problem 4: KL divergence between Gaussians ------------------------------------------------------------------

@pytest.mark.parametrize("d", [1, 2, 5])
def test_gaussian_kl_matches_torch_distributions(rng, d) -> None:
    for _ in range(3):
        mq, mp, Lq, Lp = rng.standard_normal(d), rng.standard_normal(d), _tril(rng, d), _tril(rng, d)
        ref = kl_divergence(_mvn(mq, Lq), _mvn(mp, Lp)).item()
        assert ex.gaussian_kl(mq, Lq, mp, Lp) == pytest.approx(ref, rel=1e-12, abs=1e-14)
    assert ex.gaussian_kl(mq, Lq, mq, Lq) == pytest.approx(0.0, abs=1e-13)
    if d > 1:
        assert abs(ex.gaussian_kl(mq, Lq, mp, Lp) - ex.gaussian_kl(mp, Lp, mq, Lq)) > 1e-3, "KL is not symmetric"


def test_gaussian_kl_univariate_formula() -> None:
    mq, sq, mp, sp = 0.3, 0.5, -1.0, 2.0
    ref = math.log(sp / sq) + (sq ** 2 + (mq - mp) ** 2) / (2 * sp ** 2) - 0.5
    got = ex.gaussian_kl(np.array([mq]), np.array([[sq]]), np.array([mp]), np.array([[sp]]))
    assert got == pytest.approx(ref, rel=1e-14)


def test_gaussian_kl_monte_carlo_within_4_se(rng) -> None:
    d = 3
    mq, mp, Lq, Lp = rng.standard_normal(d), rng.standard_normal(d), _tril(rng, d), _tril(rng, d)
    est, se = ex.gaussian_kl_mc(mq, Lq, mp, Lp, 100_000, rng)
    assert 0 < se < 0.05 and abs(est - ex.gaussian_kl(mq, Lq, mp, Lp)) < 4 * se, (est, se)


def test_pathwise_gradient_matches_torch_autograd_on_the_same_noise(rng) -> None:
    d = 4
    mq, mp, Lq, Lp = rng.standard_normal(d), rng.standard_normal(d), _tril(rng, d), _tril(rng, d)
    noise = rng.standard_normal((64, d))
    g_loc, g_tril = ex.gaussian_kl_mc_gradient(mq, Lq, mp, Lp, noise)
    tm, tL = torch.tensor(mq, requires_grad=True), torch.tensor(Lq, requires_grad=True)
    x = tm + torch.from_numpy(noise) @ tL.T
    q, p = MultivariateNormal(tm, scale_tril=tL), _mvn(mp, Lp)
    (q.log_prob(x) - p.log_prob(x)).mean().backward()
    assert g_loc.shape == (d,) and g_tril.shape == (d, d)
    assert_allclose(g_loc, tm.grad.numpy(), rtol=1e-11, atol=1e-12, err_msg="grad loc_q")
    assert_allclose(g_tril, torch.tril(tL.grad).numpy(), rtol=1e-11, atol=1e-12, err_msg="grad scale_tril_q")
    Sp_inv = np.linalg.inv(Lp @ Lp.T)
    assert_allclose(g_loc, Sp_inv @ (mq - mp + Lq @ noise.mean(0)), rtol=1e-11, atol=1e-12,
                    err_msg="the log q term adds exactly 0 to the loc gradient")


def test_pathwise_gradient_is_unbiased_within_4_5_se(rng) -> None:
    d, chunks = 3, 20
    mq, mp, Lq, Lp = rng.standard_normal(d), rng.standard_normal(d), _tril(rng, d), _tril(rng, d)
    grads = [ex.gaussian_kl_mc_gradient(mq, Lq, mp, Lp, rng.standard_normal((4000, d))) for _ in range(chunks)]
    est = np.array([np.r_[g[0], g[1][np.tril_indices(d)]] for g in grads])  # (chunks, d + d(d+1)/2)
    tm, tL = torch.tensor(mq, requires_grad=True), torch.tensor(Lq, requires_grad=True)
    kl_divergence(MultivariateNormal(tm, scale_tril=tL), _mvn(mp, Lp)).backward()
    exact = np.r_[tm.grad.numpy(), torch.tril(tL.grad).numpy()[np.tril_indices(d)]]
    se = est.std(0, ddof=1) / math.sqrt(chunks)
    assert np.all(np.abs(est.mean(0) - exact) < 4.5 * se), (est.mean(0), exact, se)
    Sp_inv = np.linalg.inv(Lp @ Lp.T)
    assert_allclose(exact[d:], (np.tril(Sp_inv @ Lq) - np.diag(1 / np.diag(Lq)))[np.tril_indices(d)], rtol=1e-12,
                    atol=1e-13, err_msg="closed-form gradient in L_q")


def test_kl_functions_reject_bad_input(rng) -> None:
    m, L = np.zeros(2), np.eye(2)
    with pytest.raises(ValueError, match="scale_tril_q"):
        ex.gaussian_kl(m, np.array([[1.0, 0.5], [0.0, 1.0]]), m, L)
    with pytest.raises(ValueError, match="loc_p"):
        ex.gaussian_kl(m, L, np.zeros(3), np.eye(3))
    with pytest.raises(ValueError, match="noise"):
        ex.gaussian_kl_mc_gradient(m, L, m, L, np.zeros((5, 3)))
    with pytest.raises(ValueError, match="n_samples"):
        ex.gaussian_kl_mc(m, L, m, L, 1, rng)
