"""Exercises of lesson 3, problems 5-8: MAP logistic regression and the Laplace approximation, calibration,
the focal loss's gradient and Poisson regression, checked against scikit-learn, scipy and torch autograd (float64)
with explicit tolerances. The problem sheet and problems 1-4: ``test_exercises_03.py``."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.optimize as so
import scipy.stats as st
import torch
import torch.nn.functional as F
from numpy.testing import assert_allclose
from sklearn.calibration import calibration_curve
from sklearn.linear_model import LogisticRegression as SkLogistic
from sklearn.linear_model import PoissonRegressor

from exercises.solutions import ex03_probability_statistics_applied as exa
from from_scratch.probability import focal_loss_backward

# ``rng`` is the seeded numpy.random.default_rng fixture of tests/conftest.py.


def _logistic_data(rng, n=300, w=(1.0, -2.0, 0.5, 0.0), b=0.3):
    X = rng.standard_normal((n, len(w)))
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ np.array(w) + b)))).astype(np.int64)
    return X, y


def _torch_neg_log_posterior(X, y, theta, prior_var):
    """-log Bernoulli likelihood - log N(w; 0, prior_var I), theta = [w b] a float64 tensor."""
    Xt = torch.from_numpy(X)
    logits = Xt @ theta[:-1] + theta[-1]
    lik = torch.distributions.Bernoulli(logits=logits).log_prob(torch.from_numpy(y).double()).sum()
    scale = torch.tensor(math.sqrt(prior_var), dtype=torch.float64)  # a Python float would make it float32
    prior = torch.distributions.Normal(torch.zeros((), dtype=torch.float64), scale).log_prob(theta[:-1]).sum()
    return -(lik + prior)


# --- Problem 5: MAP logistic regression ----------------------------------------------------------------------------

def test_neg_log_posterior_matches_torch_distributions(rng) -> None:
    X, y = _logistic_data(rng)
    w, b = rng.standard_normal((1, 4)), rng.standard_normal(1)
    for tau2 in (0.1, 2.0):
        ref = _torch_neg_log_posterior(X, y, torch.from_numpy(np.r_[w[0], b]), tau2).item()
        assert exa.neg_log_posterior(X, y, w, b, tau2) == pytest.approx(ref, rel=1e-13)


@pytest.mark.parametrize("prior_var", [0.05, 0.5, 5.0])
def test_map_estimate_is_sklearn_l2_logistic_regression_with_c_equal_tau2(rng, prior_var) -> None:
    X, y = _logistic_data(rng)
    fit = exa.map_logistic_regression(X, y, prior_var)
    sk = SkLogistic(C=prior_var, solver="newton-cholesky", tol=1e-12, max_iter=1000).fit(X, y)
    assert fit.weight.shape == (1, 4) and fit.bias.shape == (1,)
    assert_allclose(fit.weight, sk.coef_, rtol=1e-7, atol=1e-9, err_msg="MAP weight vs sklearn C = tau^2")
    assert_allclose(fit.bias, sk.intercept_, rtol=1e-7, atol=1e-9)
    theta = torch.tensor(np.r_[fit.weight[0], fit.bias], requires_grad=True)
    _torch_neg_log_posterior(X, y, theta, prior_var).backward()
    assert np.abs(theta.grad.numpy()).max() < 1e-8, "the MAP is a stationary point of the log-posterior"


def test_map_weights_shrink_with_the_prior_and_tend_to_the_mle(rng) -> None:
    X, y = _logistic_data(rng)
    norms = [np.linalg.norm(exa.map_logistic_regression(X, y, t).weight) for t in (1e-4, 1e-2, 0.1, 1.0, 10.0)]
    assert all(a < b for a, b in zip(norms, norms[1:])), norms
    assert norms[0] < 0.02 * norms[-1]
    mle = SkLogistic(C=np.inf, solver="newton-cholesky", tol=1e-12, max_iter=1000).fit(X, y)
    assert_allclose(exa.map_logistic_regression(X, y, 1e6).weight, mle.coef_, rtol=1e-4, atol=1e-5)


def test_laplace_covariance_is_the_inverse_hessian_from_torch(rng) -> None:
    X, y = _logistic_data(rng, n=120)
    fit = exa.map_logistic_regression(X, y, 0.7)
    cov = exa.laplace_covariance(X, y, fit.weight, fit.bias, 0.7)
    theta = torch.from_numpy(np.r_[fit.weight[0], fit.bias])
    H = torch.autograd.functional.hessian(lambda t: _torch_neg_log_posterior(X, y, t, 0.7), theta).numpy()
    assert cov.shape == (5, 5)
    assert_allclose(cov, np.linalg.inv(H), rtol=1e-10, atol=1e-13, err_msg="Laplace covariance")
    assert np.all(np.linalg.eigvalsh(cov) > 0)


def test_laplace_predictive_is_close_to_gauss_hermite_and_pulled_to_one_half(rng) -> None:
    X, y = _logistic_data(rng, n=40, w=(1.0, -1.0))
    fit = exa.map_logistic_regression(X, y, 1.0)
    cov = 30 * exa.laplace_covariance(X, y, fit.weight, fit.bias, 1.0)  # wide: a strong test of the probit step
    Xq = rng.standard_normal((200, 2)) * 3
    p = exa.laplace_predictive(Xq, fit.weight, fit.bias, cov)
    Xt = np.hstack([Xq, np.ones((200, 1))])
    mu, s = Xq @ fit.weight[0] + fit.bias[0], np.sqrt(np.einsum("na,ab,nb->n", Xt, cov, Xt))
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)  # E[sigma(a)], a ~ N(mu, s^2)
    ref = (weights / (1 + np.exp(-(mu[:, None] + s[:, None] * nodes)))).sum(1) / weights.sum()
    assert np.abs(p - ref).max() < 0.02, np.abs(p - ref).max()
    plug_in = 1 / (1 + np.exp(-mu))
    assert np.all(np.abs(p - 0.5) <= np.abs(plug_in - 0.5)) and np.all(np.sign(p - 0.5) == np.sign(plug_in - 0.5))
    assert_allclose(exa.laplace_predictive(Xq, fit.weight, fit.bias, np.zeros((3, 3))), plug_in, rtol=1e-14)


def test_map_functions_reject_bad_input(rng) -> None:
    X, y = _logistic_data(rng, n=20)
    with pytest.raises(ValueError, match="prior_var"):
        exa.map_logistic_regression(X, y, 0.0)
    with pytest.raises(ValueError, match="y"):
        exa.map_logistic_regression(X, np.zeros(20, dtype=np.int64), 1.0)
    with pytest.raises(ValueError, match="weight"):
        exa.laplace_covariance(X, y, np.zeros((2, 4)), np.zeros(2), 1.0)
    with pytest.raises(ValueError, match="covariance"):
        exa.laplace_predictive(X, np.zeros((1, 4)), np.zeros(1), np.eye(4))


# --- Problem 6: calibration ----------------------------------------------------------------------------------------

def _duplicated_feature_data(rng, n, k=5):
    y = rng.integers(0, 2, n)
    x = rng.standard_normal(n) + (2 * y - 1)
    return x[:, None] + 0.05 * rng.standard_normal((n, k)), y


def test_reliability_diagram_matches_sklearn_calibration_curve(rng) -> None:
    probs = rng.random(2000) ** 2
    labels = (rng.random(2000) < probs).astype(np.int64)
    conf, acc, counts = exa.reliability_diagram(probs, labels, n_bins=10)
    prob_true, prob_pred = calibration_curve(labels, probs, n_bins=10, strategy="uniform")
    keep = counts > 0
    assert counts.sum() == 2000 and keep.sum() == len(prob_true)
    assert_allclose(acc[keep], prob_true, rtol=1e-14)
    assert_allclose(conf[keep], prob_pred, rtol=1e-14)
    edge = exa.reliability_diagram(np.array([0.0, 0.1, 0.1000001, 1.0]), np.array([0, 1, 0, 1]), n_bins=10)
    assert edge.counts.tolist() == [2, 1, 0, 0, 0, 0, 0, 0, 0, 1], "bins [0, .1], (.1, .2], ... as scikit-learn"


def test_expected_calibration_error_reference_and_noise_floor(rng) -> None:
    p = rng.random(20_000)
    y_cal = (rng.random(20_000) < p).astype(np.int64)  # calibrated by construction
    conf, acc, counts = exa.reliability_diagram(p, y_cal, 10)
    floor = float((counts / counts.sum() * 4 * np.sqrt(conf * (1 - conf) / counts)).sum())  # 4 SE per bin
    assert exa.expected_calibration_error(p, y_cal) < floor, floor
    y_bad = (rng.random(20_000) < p ** 2).astype(np.int64)  # true P(y=1 | p) = p^2: ECE -> E[p - p^2] = 1/6
    prob_true, prob_pred = calibration_curve(y_bad, p, n_bins=10)
    weights = np.histogram(p, bins=np.linspace(0, 1, 11))[0] / 20_000
    ece = exa.expected_calibration_error(p, y_bad)
    assert ece == pytest.approx(float((weights * np.abs(prob_true - prob_pred)).sum()), rel=1e-12)
    assert ece == pytest.approx(1 / 6, abs=0.02)


def test_temperature_scale_minimizes_the_nll_like_scipy(rng) -> None:
    t = rng.standard_normal(20_000) * 2
    y = (rng.random(20_000) < 1 / (1 + np.exp(-t))).astype(np.int64)
    for k in (1.0, 4.0, 0.5):
        logits = k * t  # over- (k > 1) or under-confident (k < 1) logits of a calibrated model
        T = exa.temperature_scale(logits, y)
        nll = lambda T_: float(np.mean(np.logaddexp(0, logits / T_) - y * logits / T_))  # noqa: E731
        ref = so.minimize_scalar(nll, bounds=(0.05, 50), method="bounded", options={"xatol": 1e-10}).x
        assert T == pytest.approx(ref, rel=1e-6)
        assert T == pytest.approx(k, rel=0.05), "T recovers the over-confidence factor"


def test_naive_bayes_is_overconfident_and_temperature_scaling_repairs_it(rng) -> None:
    X_train, y_train = _duplicated_feature_data(rng, 4000)
    X_test, y_test = _duplicated_feature_data(rng, 4000)
    res = exa.calibration_comparison(X_train, y_train, X_test, y_test)
    assert res["naive_bayes"] > 0.08 and res["logistic"] < 0.03, res
    assert res["naive_bayes_temperature"] < 0.03 and 4.0 < res["temperature"] < 6.0, res


@pytest.mark.parametrize("call,name", [
    (lambda: exa.reliability_diagram(np.array([0.5, 1.5]), np.array([0, 1])), "probs"),
    (lambda: exa.expected_calibration_error(np.array([0.5, 0.2]), np.array([0, 2])), "labels"),
    (lambda: exa.reliability_diagram(np.array([0.5, 0.2]), np.array([0, 1]), n_bins=0), "n_bins"),
    (lambda: exa.temperature_scale(np.array([1.0, -1.0]), np.array([1, 1])), "labels"),
    (lambda: exa.calibration_comparison(np.ones((4, 2)), np.array([0, 1, 0, 1]), np.ones((4, 3)), np.array([0, 1, 0, 1])),
     "X_test")])
def test_calibration_functions_reject_bad_input(call, name) -> None:
    with pytest.raises(ValueError, match=name):
        call()


# --- Problem 7: the focal loss's gradient ------------------------------------------------------------------------

def _torch_focal(x, y, gamma, alpha):
    """torchvision.ops.sigmoid_focal_loss's formula, elementwise."""
    p = torch.sigmoid(x)
    ce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    p_t = p * y + (1 - p) * (1 - y)
    loss = ce * (1 - p_t) ** gamma
    return loss if alpha is None else (alpha * y + (1 - alpha) * (1 - y)) * loss


@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 2.0, 5.0])
@pytest.mark.parametrize("alpha", [None, 0.25])
def test_focal_gradient_matches_torch_and_the_library(rng, gamma, alpha) -> None:
    x = rng.standard_normal(50) * 4
    y = (rng.random(50) < 0.5).astype(np.float64)
    g = exa.focal_loss_grad(x, y, gamma, alpha)
    xt = torch.tensor(x, requires_grad=True)
    _torch_focal(xt, torch.from_numpy(y), gamma, alpha).sum().backward()
    assert g.shape == x.shape and g.dtype == np.float64
    assert_allclose(g, xt.grad.numpy(), rtol=1e-10, atol=1e-15, err_msg="focal gradient vs torch")
    lib = focal_loss_backward(x, y, np.ones_like(x), "none", gamma, alpha)["input"]
    assert_allclose(g, lib, rtol=1e-12, atol=1e-15, err_msg="focal gradient vs focal_loss_backward")
    if gamma == 0 and alpha is None:
        assert_allclose(g, 1 / (1 + np.exp(-x)) - y, rtol=1e-13, atol=1e-15, err_msg="gamma = 0 is BCE")


def test_focal_gradient_is_finite_and_right_for_extreme_logits() -> None:
    x = np.array([50.0, -50.0, 50.0, -50.0, 500.0])
    y = np.array([1.0, 0.0, 0.0, 1.0, 0.0])
    g = exa.focal_loss_grad(x, y, 2.0)
    assert np.all(np.isfinite(g))
    assert_allclose(g[2:], [1.0, -1.0, 1.0], rtol=1e-12), "confidently wrong: |gradient| -> 1"
    assert -1e-40 < g[0] <= 0 and 0 <= g[1] < 1e-40, "confidently right: gradient -> 0 from the right side"
    q = math.exp(-50) / (1 + math.exp(-50))  # 1 - p_t for the two right answers, to full precision
    exact = -3 * q ** 3  # -(1 + gamma) q^(gamma + 1): the series in q, whose next term is O(q) relatively (1e-22)
    assert_allclose(g[:2], [exact, -exact], rtol=1e-13, err_msg="no cancellation in 1 - p_t or log p_t")


def test_focal_gradient_ratio_limits(rng) -> None:
    x = rng.standard_normal(30) * 3
    y = np.ones(30)
    p_t = 1 / (1 + np.exp(-x))
    for gamma in (0.0, 1.0, 2.0, 3.5):
        direct = np.abs(exa.focal_loss_grad(x, y, gamma)) / np.abs(p_t - 1)
        assert_allclose(exa.focal_gradient_ratio(p_t, gamma), direct, rtol=1e-12)
    assert_allclose(exa.focal_gradient_ratio(p_t, 0.0), 1.0, rtol=1e-15)
    near = np.array([1 - 1e-4])
    assert exa.focal_gradient_ratio(near, 2.0)[0] / (3 * 1e-8) == pytest.approx(1.0, abs=2e-4)
    assert exa.focal_gradient_ratio(np.array([0.9]), 2.0)[0] == pytest.approx(0.1 * (0.1 - 1.8 * math.log(0.9)), rel=1e-14)
    assert exa.focal_gradient_ratio(np.array([0.9]), 2.0)[0] == pytest.approx(0.03, abs=0.002)
    with pytest.raises(ValueError, match="p_t"):
        exa.focal_gradient_ratio(np.array([0.5, 1.0]), 2.0)


@pytest.mark.parametrize("gamma,alpha", [(2.0, None), (2.0, 0.25), (0.5, 0.75), (1.0, None)])
def test_focal_gradcheck_passes_for_the_solution_and_the_library(rng, gamma, alpha) -> None:
    x = rng.standard_normal(12) * 3
    y = (rng.random(12) < 0.5).astype(np.float64)
    errors = exa.focal_gradcheck(x, y, gamma, alpha)
    assert set(errors) == {"solution", "library_input", "library_target"}
    assert max(errors.values()) < 1e-8, errors


@pytest.mark.parametrize("targets,kwargs,name", [(np.array([0.0, 0.5, 1.0]), {}, "targets"), (np.zeros(2), {}, "targets"),
                                                  (np.zeros(3), {"gamma": -1.0}, "gamma"),
                                                  (np.zeros(3), {"alpha": 1.5}, "alpha")])
def test_focal_functions_reject_bad_input(targets, kwargs, name) -> None:
    with pytest.raises(ValueError, match=name):
        exa.focal_loss_grad(np.zeros(3), targets, **kwargs)


# --- Problem 8: Poisson regression ---------------------------------------------------------------------------------

def _counts(rng, n=2000, w=(0.5, -0.3, 0.2), b=1.0, scale=0.5):
    X = rng.standard_normal((n, len(w))) * scale
    return X, rng.poisson(np.exp(X @ np.array(w) + b)).astype(np.float64)


def test_poisson_nll_matches_scipy(rng) -> None:
    X, y = _counts(rng, n=200)
    w, b = rng.standard_normal((1, 3)) * 0.3, np.array([0.7])
    ref = -st.poisson.logpmf(y, np.exp(X @ w[0] + b[0])).mean()
    assert exa.poisson_nll(X, y, w, b) == pytest.approx(ref, rel=1e-13)
    assert exa.poisson_nll(X, y, w, b, alpha=0.3) == pytest.approx(ref + 0.15 * (w ** 2).sum(), rel=1e-13)


@pytest.mark.parametrize("alpha", [0.0, 0.1])
def test_poisson_newton_matches_sklearn_and_converges_quadratically(rng, alpha) -> None:
    X, y = _counts(rng)
    fit = exa.poisson_regression_newton(X, y, alpha=alpha)
    sk = PoissonRegressor(alpha=alpha, solver="newton-cholesky", tol=1e-12, max_iter=1000).fit(X, y)
    assert fit.weight.shape == (1, 3) and fit.bias.shape == (1,)
    assert_allclose(fit.weight[0], sk.coef_, rtol=1e-7, atol=1e-9, err_msg="Poisson weight vs sklearn")
    assert fit.bias[0] == pytest.approx(sk.intercept_, rel=1e-8)
    g = fit.grad_norms
    assert g[-1] <= 1e-10 and len(g) <= 10, g
    tail = [(a, b) for a, b in zip(g, g[1:]) if a < 1e-2]
    assert tail and all(b <= 10 * a * a for a, b in tail), g  # quadratic: the error squares each step


def test_poisson_newton_survives_a_start_where_full_steps_overshoot(rng) -> None:
    X, y = _counts(rng, n=500, w=(1.5,), b=0.0, scale=2.0)  # mu spans e^{-9} ... e^{9}
    fit = exa.poisson_regression_newton(X, y)
    sk = PoissonRegressor(alpha=0.0, solver="newton-cholesky", tol=1e-12, max_iter=1000).fit(X, y)
    assert fit.grad_norms[-1] <= 1e-10 * max(1.0, y.mean())
    assert_allclose(fit.weight[0], sk.coef_, rtol=1e-7)


def test_poisson_standard_errors_cover_the_truth_and_match_the_spread(rng) -> None:
    w_true, b_true = np.array([0.5, -0.3, 0.2]), 1.0
    X, y = _counts(rng, w=tuple(w_true), b=b_true)
    fit = exa.poisson_regression_newton(X, y)
    se = exa.poisson_standard_errors(X, fit.weight, fit.bias)
    assert np.all(np.abs(np.r_[fit.weight[0], fit.bias] - np.r_[w_true, b_true]) < 4 * se), se
    R, X_fixed = 1000, X[:400]  # 4 SEs of the std ratio: 0.09, so a 10% error in the SEs is caught
    est = np.array([np.r_[f.weight[0], f.bias] for f in (exa.poisson_regression_newton(
        X_fixed, rng.poisson(np.exp(X_fixed @ w_true + b_true)).astype(float)) for _ in range(R))])
    se_fixed = exa.poisson_standard_errors(X_fixed, w_true[None], np.array([b_true]))
    assert_allclose(est.std(0, ddof=1) / se_fixed, 1.0, atol=4 / math.sqrt(2 * (R - 1)))  # 4 SEs of a std


def test_poisson_functions_reject_bad_input(rng) -> None:
    X, y = _counts(rng, n=10)
    for bad_y in (y - 50, y + 0.5, np.zeros(10)):  # negative, fractional, all zero
        with pytest.raises(ValueError, match="y"):
            exa.poisson_regression_newton(X, bad_y)
    with pytest.raises(ValueError, match="alpha"):
        exa.poisson_nll(X, y, np.zeros((1, 3)), np.zeros(1), alpha=-1.0)
    with pytest.raises(ValueError, match="n_iter"):
        exa.poisson_regression_newton(X, y, n_iter=0)
