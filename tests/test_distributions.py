"""Lesson 3: distributions and Bayes beyond the registry's twin agreement — sample moments within statistical
bounds for fixed seeds, references from scipy.stats, maximum likelihood, conjugate updates, bad input."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.stats as st
import torch
from numpy.testing import assert_allclose

import from_scratch.probability.bayes as SB
import from_scratch.probability.discrete as SD
import from_scratch.probability.distributions as S
import from_scratch.probability.gaussian as SG
import torch_versions.probability.bayes as TB
import torch_versions.probability.discrete as TD
import torch_versions.probability.distributions as T
import torch_versions.probability.gaussian as TG

N = 200_000  # samples for the moment checks: standard errors ~ sigma / 450


def _within(sample_stat, truth, std_err, k=5.0):
    assert abs(sample_stat - truth) <= k * std_err, f"{sample_stat} vs {truth} (> {k} standard errors of {std_err:.2e})"


def test_sample_moments_match_the_distribution() -> None:
    rng = np.random.default_rng(0)
    x = S.Normal(1.5, 2.0).sample((N,), rng)
    _within(x.mean(), 1.5, 2.0 / np.sqrt(N))
    _within(x.var(), 4.0, 4.0 * np.sqrt(2 / N))  # var of the sample variance of a Gaussian: 2 sigma^4 / n
    p = 0.3
    b = S.Bernoulli(probs=p).sample((N,), rng)
    _within(b.mean(), p, np.sqrt(p * (1 - p) / N))
    k = S.Poisson(4.0).sample((N,), rng)
    _within(k.mean(), 4.0, 2.0 / np.sqrt(N))
    probs = np.array([0.1, 0.6, 0.3])
    c = S.Categorical(probs=probs).sample((N,), rng)
    for j, pj in enumerate(probs):
        _within((c == j).mean(), pj, np.sqrt(pj * (1 - pj) / N))
    cov = np.array([[2.0, 0.6], [0.6, 1.0]])
    X = S.MultivariateNormal(np.array([1.0, -1.0]), covariance_matrix=cov).sample((N,), rng)
    _within(X.mean(0)[0], 1.0, np.sqrt(2.0 / N))
    emp = np.cov(X.T)
    for i in range(2):
        for j in range(2):  # Var(S_ij) = (C_ij^2 + C_ii C_jj) / n for Gaussian data
            _within(emp[i, j], cov[i, j], np.sqrt((cov[i, j] ** 2 + cov[i, i] * cov[j, j]) / N))


def test_torch_sampling_has_the_same_moments() -> None:
    torch.manual_seed(0)
    x = T.MultivariateNormal(torch.tensor([1.0, -1.0], dtype=torch.float64),
                             covariance_matrix=torch.tensor([[2.0, 0.6], [0.6, 1.0]], dtype=torch.float64)).sample((N,))
    _within(x[:, 1].mean().item(), -1.0, 1 / np.sqrt(N))
    _within(torch.cov(x.T)[0, 1].item(), 0.6, np.sqrt((0.36 + 2.0) / N))


def test_log_densities_and_entropies_match_scipy(rng) -> None:
    x, loc, scale = rng.standard_normal(7), rng.standard_normal(7), rng.uniform(0.5, 2, 7)
    assert_allclose(SG.normal_log_prob(x, loc, scale), st.norm.logpdf(x, loc, scale), rtol=1e-13)
    assert_allclose(SG.normal_entropy(scale), st.norm.entropy(loc, scale), rtol=1e-13)
    k, rate = rng.poisson(5, 9).astype(float), rng.uniform(1, 9, 9)
    assert_allclose(SD.poisson_log_prob(k, rate), st.poisson.logpmf(k, rate), rtol=1e-12)
    assert_allclose(SD.poisson_entropy(rate), [st.poisson.entropy(r) for r in rate], rtol=1e-10)
    cov = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 0.5]])
    L = np.linalg.cholesky(cov)
    X = rng.standard_normal((6, 3))
    assert_allclose(SG.mvn_log_prob(X, np.ones(3), L), st.multivariate_normal(np.ones(3), cov).logpdf(X), rtol=1e-12)
    assert_allclose(SG.mvn_entropy(L), st.multivariate_normal(np.ones(3), cov).entropy(), rtol=1e-12)
    a, b, theta = np.array([2.0, 0.7]), np.array([3.0, 4.5]), np.array([0.3, 0.8])
    assert_allclose(SB.beta_log_prob(theta, a, b), st.beta.logpdf(theta, a, b), rtol=1e-12)


def test_extreme_logits_stay_finite() -> None:
    logits = np.array([-1e4, -50.0, 0.0, 50.0, 1e4])
    value = np.array([1.0, 1.0, 0.0, 0.0, 0.0])
    lp = SD.bernoulli_log_prob(value, logits)
    assert np.isfinite(lp).all()
    assert_allclose(lp, TD.bernoulli_log_prob(torch.from_numpy(value), torch.from_numpy(logits)).numpy(), rtol=1e-15)
    assert_allclose(SD.softplus(logits), [0.0, np.exp(-50.0), np.log(2), 50.0, 1e4], rtol=1e-15, atol=0)


def test_maximum_likelihood_recovers_the_parameters() -> None:
    rng = np.random.default_rng(1)
    fit = S.Normal.fit(rng.normal(3.0, 0.5, N))
    _within(float(fit.loc), 3.0, 0.5 / np.sqrt(N))
    assert_allclose(S.Poisson.fit(rng.poisson(7.0, N).astype(float)).rate, 7.0, rtol=0.01)
    assert_allclose(S.Bernoulli.fit(rng.binomial(1, 0.2, N).astype(float)).probs, 0.2, rtol=0.02)
    X = rng.multivariate_normal([0, 1], [[1.0, 0.4], [0.4, 2.0]], N)
    assert_allclose(S.MultivariateNormal.fit(X).covariance_matrix, [[1.0, 0.4], [0.4, 2.0]], atol=0.03)
    # the MLE maximizes the likelihood: any perturbation lowers it
    x = rng.normal(0, 1, 50)
    mu, sigma = SG.normal_fit(x)
    best = SG.normal_log_prob(x, np.full(50, mu), np.full(50, sigma)).sum()
    for dm, ds in ((0.01, 0), (-0.01, 0), (0, 0.01), (0, -0.01)):
        assert SG.normal_log_prob(x, np.full(50, mu + dm), np.full(50, sigma + ds)).sum() < best


def test_discrete_posterior_is_bayes_theorem() -> None:
    """Which coin? Biases 0.2, 0.5, 0.8 with prior 0.25, 0.5, 0.25; data: 7 heads in 10 tosses."""
    bias, prior = np.array([0.2, 0.5, 0.8]), np.array([0.25, 0.5, 0.25])
    lik = bias ** 7 * (1 - bias) ** 3
    expected = lik * prior / (lik * prior).sum()
    for lib, conv in ((SB, np.asarray), (TB, torch.from_numpy)):
        post = lib.discrete_posterior(conv(np.log(prior)), conv(7 * np.log(bias) + 3 * np.log(1 - bias)))
        assert_allclose(np.exp(np.asarray(post)), expected, rtol=1e-13)
    # 20,000 tosses: the likelihoods underflow to 0 in linear space, the log-space posterior does not
    log_lik = 14_000 * np.log(bias) + 6_000 * np.log(1 - bias)
    assert (np.exp(log_lik) == 0).all()
    assert_allclose(np.exp(SB.discrete_posterior(np.log(prior), log_lik)), [0, 0, 1], atol=1e-300)


def test_beta_bernoulli_conjugate_update() -> None:
    obs = np.array([1, 0, 1, 1, 0, 1, 1, 1], dtype=float)
    a, b = SB.beta_bernoulli_update(2.0, 2.0, obs)
    assert (a, b) == (8.0, 4.0)
    assert TB.beta_bernoulli_update(2.0, 2.0, torch.from_numpy(obs)) == (8.0, 4.0)
    assert SB.beta_bernoulli_update(2.0, 2.0, np.array([])) == (2.0, 2.0)
    assert_allclose(S.Beta(2.0, 3.0).log_prob(np.array(0.3)), st.beta.logpdf(0.3, 2, 3), rtol=1e-13)  # 0-d inputs
    mean, var = SB.beta_mean_variance(a, b)
    assert_allclose((mean, var), (st.beta.mean(a, b), st.beta.var(a, b)), rtol=1e-14)
    assert_allclose(TB.beta_mean_variance(a, b), (mean, var), rtol=1e-14)
    # the posterior is the normalized prior x likelihood (checked on a grid)
    theta = np.linspace(0.001, 0.999, 999)
    unnorm = st.beta.pdf(theta, 2, 2) * theta ** 6 * (1 - theta) ** 2
    assert_allclose(unnorm / np.trapezoid(unnorm, theta), np.exp(S.Beta(2.0, 2.0).update(obs).log_prob(theta)), rtol=1e-3)


BAD = [
    (SD.bernoulli_log_prob, TD.bernoulli_log_prob, (np.array([0.0, 0.5]), np.zeros(2)), ValueError, ["value", "0 or 1"]),
    (SD.bernoulli_log_prob, TD.bernoulli_log_prob, (np.array([0.0, 1.0]), np.zeros(3)), ValueError, ["value", "logits", "(2,)", "(3,)"]),
    (SD.categorical_log_prob, TD.categorical_log_prob, (np.array([0, 3]), np.zeros((2, 3))), ValueError, ["value", "[0, 3)"]),
    (SD.categorical_log_prob, TD.categorical_log_prob, (np.array([0.0, 1.0]), np.zeros((2, 3))), TypeError, ["value", "integer"]),
    (SD.poisson_log_prob, TD.poisson_log_prob, (np.array([1.5]), np.ones(1)), ValueError, ["value", "integer"]),
    (SD.poisson_log_prob, TD.poisson_log_prob, (np.array([1.0]), np.array([-1.0])), ValueError, ["rate", "> 0"]),
    (SG.normal_log_prob, TG.normal_log_prob, (np.zeros(2), np.zeros(2), np.array([1.0, 0.0])), ValueError, ["scale", "> 0"]),
    (SG.normal_log_prob, TG.normal_log_prob, (np.zeros(2), np.zeros(3), np.ones(3)), ValueError, ["value", "loc", "scale"]),
    (SG.mvn_log_prob, TG.mvn_log_prob, (np.zeros(2), np.zeros(2), np.ones((2, 2))), ValueError, ["scale_tril", "lower triangular"]),
    (SG.mvn_log_prob, TG.mvn_log_prob, (np.zeros(3), np.zeros(2), np.eye(2)), ValueError, ["value", "(3,)", "(2, 2)"]),
    (SG.normal_fit, TG.normal_fit, (np.array([1.0, np.nan]),), ValueError, ["x", "finite"]),
    (SB.beta_log_prob, TB.beta_log_prob, (np.array([1.2]), np.ones(1), np.ones(1)), ValueError, ["value", "(0, 1)"]),
    (SB.discrete_posterior, TB.discrete_posterior, (np.zeros(3), np.zeros(4)), ValueError, ["log_prior", "log_likelihood"]),
]


@pytest.mark.parametrize("side", ["scratch", "torch"])
@pytest.mark.parametrize("case", BAD, ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(BAD)])
def test_bad_input_raises_a_clear_error(case, side) -> None:
    scratch_fn, torch_fn, args, exc, fragments = case
    fn = scratch_fn if side == "scratch" else torch_fn
    if side == "torch":
        args = tuple(torch.from_numpy(a) if isinstance(a, np.ndarray) else a for a in args)
    with pytest.raises(exc) as info:
        fn(*args)
    missing = [f for f in fragments if f not in str(info.value)]
    assert not missing, f"{side} {fn.__name__}: {str(info.value)!r} lacks {missing}"


def test_beta_update_rejects_bad_prior() -> None:
    with pytest.raises(ValueError, match="alpha and beta"):
        SB.beta_bernoulli_update(0.0, 1.0, np.array([1.0]))
    with pytest.raises(ValueError, match="observations"):
        SB.beta_bernoulli_update(1.0, 1.0, np.array([2.0]))
