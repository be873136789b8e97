r"""Worked solutions to ``exercises/03_probability_statistics.md``, problems 1-4 (computing with distributions).

NumPy and the standard library only, built on :mod:`from_scratch.probability` (``normal_fit``,
``beta_bernoulli_update``, ``beta_log_prob``, ``mvn_rsample``, ``mvn_log_prob`` and their backward passes) and
:mod:`from_scratch.linear_algebra.qr` (``cholesky``, ``solve_triangular``). Problems 5-8 (models and losses) are in
:mod:`exercises.solutions.ex03_probability_statistics_applied`. Checked against scipy, scipy.stats and torch by
``tests/test_exercises_03.py``.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from from_scratch.linear_algebra.qr import solve_triangular
from from_scratch.probability import (beta_bernoulli_update, beta_log_prob, mvn_log_prob, mvn_log_prob_backward,
                                      mvn_rsample, mvn_rsample_backward, normal_fit)
from from_scratch.validation import check_array, check_cholesky_factor, check_positive, check_steps


def _check_logits(name: str, x: Any) -> np.ndarray:
    """A non-empty floating array with no NaN and no +inf; -inf (a masked logit) is allowed. Integers -> float64."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
            raise ValueError(f"{name} must hold real numbers, got dtype {x.dtype}")
        x = x.astype(np.float64)
    if x.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {x.shape}")
    if np.isnan(x).any() or (x == np.inf).any():
        raise ValueError(f"{name} must not contain NaN or +inf (-inf, a masked entry, is allowed)")
    return x


# --- Problem 1: log-sum-exp and the stable softmax ------------------------------------------------------------------

def naive_logsumexp(x: Any, axis: int = -1) -> np.ndarray:
    r""":math:`\log\sum_ie^{x_i}` exactly as written: overflows to ``inf`` once some :math:`x_i>\log(\text{max})`
    (709.78 in float64, 88.72 in float32) and underflows to ``-inf`` once every :math:`e^{x_i}` rounds to 0."""
    x = _check_logits("x", x)
    with np.errstate(over="ignore", divide="ignore"):
        return np.log(np.exp(x).sum(axis))


def logsumexp(x: Any, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    r"""Stable :math:`\operatorname{lse}(x)=m+\log\sum_ie^{x_i-m}` with :math:`m=\max_ix_i`.

    The identity holds for any shift m because :math:`\sum e^{x_i}=e^m\sum e^{x_i-m}`; with m the maximum every
    exponent is :math:`\le0` (no overflow) and one term equals 1 (no underflow of the sum), so
    :math:`m\le\operatorname{lse}(x)\le m+\log n`. A slice of all ``-inf`` (every entry masked) gives ``-inf``, as
    ``scipy.special.logsumexp`` and ``torch.logsumexp`` do: its shift is taken as 0 instead of :math:`-\infty`.
    """
    x = _check_logits("x", x)
    m = x.max(axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0).astype(x.dtype)  # all -inf: shift by 0, exp gives 0, log gives -inf
    with np.errstate(divide="ignore"):
        out = m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def softmax(x: Any, axis: int = -1) -> np.ndarray:
    r""":math:`\operatorname{softmax}(x)_i=e^{x_i-\operatorname{lse}(x)}=e^{x_i-m}/\sum_je^{x_j-m}` — the gradient of
    :func:`logsumexp`. Computed in the second form: every exponent is :math:`\le0`, so nothing overflows, and
    unlike :math:`x_i-\operatorname{lse}(x)` the difference :math:`x_i-m` carries no rounding error of size
    :math:`\varepsilon|m|` (which at :math:`|x|\approx10^3` would cost three digits). Masked (``-inf``) entries
    get probability 0; a slice with every entry masked has no distribution and gives NaN, as ``torch.softmax``."""
    x = _check_logits("x", x)
    m = x.max(axis=axis, keepdims=True)
    with np.errstate(invalid="ignore"):
        e = np.exp(x - m)
        return e / e.sum(axis=axis, keepdims=True)


def exp_range(dtype: Any = np.float64) -> tuple[float, float]:
    r"""(lo, hi) for a float dtype: :math:`e^x` overflows to ``inf`` for :math:`x>\mathrm{hi}=\log(\text{max})` and
    is 0 or a subnormal with no correct digits for :math:`x<\mathrm{lo}=\log(\text{smallest subnormal})`.
    float64: (-744.44, 709.78); float32: (-103.28, 88.72); float16: (-16.64, 11.09)."""
    dt = np.dtype(dtype)
    if not np.issubdtype(dt, np.floating):
        raise ValueError(f"dtype must be a floating-point dtype, got {dt}")
    info = np.finfo(dt)
    return math.log(float(info.smallest_subnormal)), math.log(float(info.max))


# --- Problem 2: maximum likelihood for a Gaussian, and the bias of the variance -------------------------------------

def gaussian_mle(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Maximum-likelihood :math:`(\hat\mu,\hat\sigma^2)` along axis 0: :math:`\hat\mu=\bar x`,
    :math:`\hat\sigma^2=\frac1n\sum_i(x_i-\bar x)^2`. From :math:`\partial_\mu\log L=\sum(x_i-\mu)/\sigma^2=0` and
    :math:`\partial_{\sigma^2}\log L=-\frac n{2\sigma^2}+\frac{\sum(x_i-\mu)^2}{2\sigma^4}=0`."""
    check_array("x", x)
    if x.shape[0] < 2:
        raise ValueError(f"x must hold at least 2 samples along axis 0, got shape {x.shape}")
    loc, scale = normal_fit(x)
    return loc, scale ** 2


def variance_estimator_moments(n: int, divisor: float, sigma2: float = 1.0) -> dict[str, float]:
    r"""Closed-form mean, variance, bias and MSE of :math:`S/c` with :math:`S=\sum_i(x_i-\bar x)^2`, n Gaussian
    samples and divisor c. :math:`S/\sigma^2\sim\chi^2_{n-1}` (mean n - 1, variance 2(n - 1)), so
    :math:`\mathbb E=\frac{n-1}c\sigma^2`, :math:`\operatorname{Var}=\frac{2(n-1)}{c^2}\sigma^4` and
    :math:`\mathrm{MSE}=\frac{2(n-1)+(n-1-c)^2}{c^2}\sigma^4`. c = n - 1 is unbiased, c = n is the MLE (bias
    :math:`-\sigma^2/n`), and c = n + 1 minimizes the MSE."""
    check_steps("n", n)
    if n < 2:
        raise ValueError(f"n must be >= 2 (one sample has no spread), got {n}")
    check_positive("divisor", divisor)
    check_positive("sigma2", sigma2)
    k = n - 1
    mean, var = k / divisor * sigma2, 2 * k / divisor ** 2 * sigma2 ** 2
    return {"mean": mean, "variance": var, "bias": mean - sigma2, "mse": var + (mean - sigma2) ** 2}


def simulate_variance_estimators(n: int, divisors: tuple[float, ...], n_trials: int, rng: np.random.Generator,
                                 sigma2: float = 1.0) -> dict[float, dict[str, float]]:
    r"""Monte Carlo of :math:`S/c` over ``n_trials`` samples of size n from :math:`\mathcal N(0,\sigma^2)`: for each
    divisor the mean and MSE of the estimates, each with its standard error (sample std / :math:`\sqrt T`)."""
    variance_estimator_moments(n, 1.0, sigma2)  # validates n and sigma2
    check_steps("n_trials", n_trials)
    if n_trials < 2:
        raise ValueError(f"n_trials must be >= 2 for a standard error, got {n_trials}")
    for c in divisors:
        check_positive("divisors", c)
    x = rng.standard_normal((n_trials, n)) * math.sqrt(sigma2)
    S = n * gaussian_mle(x.T)[1]  # (T,) sums of squared deviations
    out = {}
    for c in divisors:
        est = S / c
        sq = (est - sigma2) ** 2
        root_t = math.sqrt(n_trials)
        out[c] = {"mean": float(est.mean()), "mean_se": float(est.std(ddof=1) / root_t),
                  "mse": float(sq.mean()), "mse_se": float(sq.std(ddof=1) / root_t)}
    return out


# --- Problem 3: a Bayesian A/B test ----------------------------------------------------------------------------------

Posterior = tuple[float, float]


def _check_posterior(name: str, post: Any) -> tuple[float, float]:
    try:
        a, b = (float(v) for v in post)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (alpha, beta), got {post!r}") from None
    if not (a > 0 and b > 0 and math.isfinite(a) and math.isfinite(b)):
        raise ValueError(f"{name} must have finite alpha > 0 and beta > 0, got {post!r}")
    return a, b


def ab_posteriors(successes_a: int, trials_a: int, successes_b: int, trials_b: int,
                  prior: Posterior = (1.0, 1.0)) -> tuple[Posterior, Posterior]:
    r"""The conjugate update :math:`\mathrm{Beta}(\alpha_0+s,\ \beta_0+n-s)` for each arm from a shared Beta prior
    (:func:`from_scratch.probability.beta_bernoulli_update` on the 0/1 outcomes)."""
    a0, b0 = _check_posterior("prior", prior)
    posts = []
    for arm, s, n in (("a", successes_a, trials_a), ("b", successes_b, trials_b)):
        check_steps(f"trials_{arm}", n)
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or not 0 <= s <= n:
            raise ValueError(f"successes_{arm} must be an int in [0, trials_{arm}={n}], got {s!r}")
        outcomes = np.r_[np.ones(s), np.zeros(n - s)]
        posts.append(beta_bernoulli_update(a0, b0, outcomes))
    return posts[0], posts[1]


def prob_b_beats_a_mc(post_a: Posterior, post_b: Posterior, n_samples: int,
                      rng: np.random.Generator) -> tuple[float, float]:
    r"""Monte Carlo :math:`P(\theta_B>\theta_A)` from independent posterior draws, and its standard error
    :math:`\sqrt{\hat P(1-\hat P)/n}`. (``rng.beta`` draws :math:`X/(X+Y)` with :math:`X\sim\Gamma(\alpha)`,
    :math:`Y\sim\Gamma(\beta)`.)"""
    a = _check_posterior("post_a", post_a)
    b = _check_posterior("post_b", post_b)
    check_steps("n_samples", n_samples)
    wins = rng.beta(*b, n_samples) > rng.beta(*a, n_samples)
    p = float(wins.mean())
    return p, math.sqrt(p * (1 - p) / n_samples)


def prob_b_beats_a_quadrature(post_a: Posterior, post_b: Posterior, n_grid: int = 20_000) -> float:
    r""":math:`P(\theta_B>\theta_A)=\int_0^1f_B(x)F_A(x)\,dx` by the midpoint rule on ``n_grid`` cells, with the CDF
    :math:`F_A(x_i)=h\big(\sum_{j<i}f_A(x_j)+\tfrac12f_A(x_i)\big)` accumulated on the same grid (error
    :math:`O(h^2)` for :math:`\alpha,\beta\ge1`). Densities from :func:`from_scratch.probability.beta_log_prob`;
    both are renormalized on the grid so that the discretization cannot leak probability."""
    a = _check_posterior("post_a", post_a)
    b = _check_posterior("post_b", post_b)
    check_steps("n_grid", n_grid)
    h = 1.0 / n_grid
    x = (np.arange(n_grid) + 0.5) * h  # midpoints, strictly inside (0, 1)
    f_a = np.exp(beta_log_prob(x, np.full(n_grid, a[0]), np.full(n_grid, a[1])))
    f_b = np.exp(beta_log_prob(x, np.full(n_grid, b[0]), np.full(n_grid, b[1])))
    f_a, f_b = f_a / (h * f_a.sum()), f_b / (h * f_b.sum())
    F_a = h * (np.cumsum(f_a) - 0.5 * f_a)
    return float(h * (f_b * F_a).sum())


def prob_b_beats_a_exact(post_a: Posterior, post_b: Posterior) -> float:
    r"""Closed form for an integer :math:`\alpha_B` (Evan Miller's sum):

    .. math:: P(\theta_B>\theta_A)=\sum_{i=0}^{\alpha_B-1}\frac{B(\alpha_A+i,\ \beta_A+\beta_B)}
              {(\beta_B+i)\,B(1+i,\ \beta_B)\,B(\alpha_A,\ \beta_A)},

    from :math:`P(\theta_B>x)=\sum_{i<\alpha_B}\binom{\beta_B+i-1}{i}x^i(1-x)^{\beta_B}` integrated against
    :math:`f_A`. Each term is formed in log space with ``lgamma``; the sum has :math:`\alpha_B` positive terms."""
    a = _check_posterior("post_a", post_a)
    b = _check_posterior("post_b", post_b)
    if b[0] != round(b[0]):
        raise ValueError(f"post_b's alpha must be an integer for the closed form, got {b[0]!r}")
    lbeta = lambda p, q: math.lgamma(p) + math.lgamma(q) - math.lgamma(p + q)  # noqa: E731
    i = np.arange(int(b[0]))
    terms = [lbeta(a[0] + k, a[1] + b[1]) - math.log(b[1] + k) - lbeta(1 + k, b[1]) - lbeta(*a) for k in i]
    return float(np.exp(terms).sum())


# --- Problem 4: KL divergence between Gaussians --------------------------------------------------------------------

def _check_pair(loc, scale_tril, which: str) -> None:
    check_array(f"loc_{which}", loc, ndim=1)
    check_cholesky_factor(f"scale_tril_{which}", scale_tril)
    if scale_tril.shape[0] != loc.shape[0]:
        raise ValueError(f"scale_tril_{which} must be ({loc.shape[0]}, {loc.shape[0]}) to match loc_{which}, "
                         f"got {scale_tril.shape}")


def _check_kl(loc_q, scale_tril_q, loc_p, scale_tril_p) -> None:
    _check_pair(loc_q, scale_tril_q, "q")
    _check_pair(loc_p, scale_tril_p, "p")
    if loc_q.shape != loc_p.shape:
        raise ValueError(f"loc_q and loc_p must have one dimension d, got {loc_q.shape} and {loc_p.shape}")


def gaussian_kl(loc_q: np.ndarray, scale_tril_q: np.ndarray, loc_p: np.ndarray, scale_tril_p: np.ndarray) -> float:
    r""":math:`\mathrm{KL}(q\,\|\,p)` for :math:`q=\mathcal N(\mu_q,L_qL_q^\top)`, :math:`p=\mathcal N(\mu_p,L_pL_p^\top)`:

    .. math:: \tfrac12\Big[\operatorname{tr}(\Sigma_p^{-1}\Sigma_q)+(\mu_p-\mu_q)^\top\Sigma_p^{-1}(\mu_p-\mu_q)-d
              +\log\frac{\det\Sigma_p}{\det\Sigma_q}\Big],

    with :math:`M=L_p^{-1}L_q`: the trace is :math:`\|M\|_F^2`, the quadratic form :math:`\|L_p^{-1}(\mu_p-\mu_q)\|^2`
    and the log-determinant ratio :math:`2\sum_i(\log L_{p,ii}-\log L_{q,ii})` — triangular solves only."""
    _check_kl(loc_q, scale_tril_q, loc_p, scale_tril_p)
    M = solve_triangular(scale_tril_p, scale_tril_q, lower=True)  # (d, d)
    z = solve_triangular(scale_tril_p, loc_p - loc_q, lower=True)  # (d,)
    log_det = 2 * (np.log(np.diag(scale_tril_p)).sum() - np.log(np.diag(scale_tril_q)).sum())
    return float(0.5 * ((M * M).sum() + z @ z - loc_q.shape[0] + log_det))


def gaussian_kl_mc(loc_q: np.ndarray, scale_tril_q: np.ndarray, loc_p: np.ndarray, scale_tril_p: np.ndarray,
                   n_samples: int, rng: np.random.Generator) -> tuple[float, float]:
    r"""Monte Carlo :math:`\mathbb E_{x\sim q}[\log q(x)-\log p(x)]` with reparameterized samples
    :math:`x=\mu_q+L_q\varepsilon` (:func:`~from_scratch.probability.mvn_rsample`), and its standard error."""
    _check_kl(loc_q, scale_tril_q, loc_p, scale_tril_p)
    check_steps("n_samples", n_samples)
    if n_samples < 2:
        raise ValueError(f"n_samples must be >= 2 for a standard error, got {n_samples}")
    x = mvn_rsample(loc_q, scale_tril_q, rng.standard_normal((n_samples, loc_q.shape[0])))  # (n, d)
    r = mvn_log_prob(x, loc_q, scale_tril_q) - mvn_log_prob(x, loc_p, scale_tril_p)  # (n,)
    return float(r.mean()), float(r.std(ddof=1) / math.sqrt(n_samples))


def gaussian_kl_mc_gradient(loc_q: np.ndarray, scale_tril_q: np.ndarray, loc_p: np.ndarray, scale_tril_p: np.ndarray,
                            noise: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Pathwise gradient (grad_loc_q (d,), grad_scale_tril_q (d, d)) of the estimate
    :math:`\frac1n\sum_n[\log q(x_n)-\log p(x_n)]`, :math:`x_n=\mu_q+L_q\varepsilon_n`, for fixed noise (n, d).

    The chain rule through the library's backward passes: ``mvn_log_prob_backward`` gives :math:`\bar x` and q's
    direct parameter gradients, ``mvn_rsample_backward`` carries :math:`\bar x` to :math:`(\mu_q,L_q)`. In
    expectation it equals the closed form :math:`\nabla_{\mu_q}\mathrm{KL}=\Sigma_p^{-1}(\mu_q-\mu_p)`,
    :math:`\nabla_{L_q}\mathrm{KL}=\operatorname{tril}(\Sigma_p^{-1}L_q)-\operatorname{diag}(1/L_{q,ii})`; the
    :math:`\log q` term contributes exactly 0 to :math:`\nabla_{\mu_q}` for every sample.
    """
    _check_kl(loc_q, scale_tril_q, loc_p, scale_tril_p)
    check_array("noise", noise, ndim=2)
    if noise.shape[1] != loc_q.shape[0]:
        raise ValueError(f"noise must have shape (n, {loc_q.shape[0]}), got {noise.shape}")
    x = mvn_rsample(loc_q, scale_tril_q, noise)
    g = np.full(noise.shape[0], 1.0 / noise.shape[0])  # d(mean)/d(each term)
    gx_q, gloc_direct, gtril_direct = mvn_log_prob_backward(x, loc_q, scale_tril_q, g)
    gx_p, _, _ = mvn_log_prob_backward(x, loc_p, scale_tril_p, -g)
    gloc_path, gtril_path = mvn_rsample_backward(loc_q, scale_tril_q, noise, gx_q + gx_p)
    return gloc_direct + gloc_path, gtril_direct + gtril_path
