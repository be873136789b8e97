"""Lesson 4 regularization: ISTA / elastic net against scikit-learn, the prox, L2 penalty vs decoupled weight decay,
dropout's expectation (and F.dropout's statistics), and bad input on both implementations."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.linear_model import ElasticNet, Lasso

import from_scratch.optimization.optimizers as SO
import from_scratch.optimization.regularization as S
import torch_versions.optimization.regularization as T
from tests.helpers import to_numpy

LESSON_MODULE = "optimization.regularization"


def _sparse_regression(rng, N=120, d=12):
    X = rng.standard_normal((N, d))
    w = np.where(rng.random(d) < 0.5, rng.standard_normal(d) * 2, 0.0)
    return X, X @ w + 0.5 * rng.standard_normal(N)


# --- ISTA and elastic net vs scikit-learn -----------------------------------------------------------------------------
@pytest.mark.parametrize("alpha", [0.05, 0.3])
def test_ista_matches_sklearn_lasso(impl, rng, alpha) -> None:
    X, y = _sparse_regression(rng)
    ref = Lasso(alpha=alpha, fit_intercept=False, tol=1e-14, max_iter=100_000).fit(X, y).coef_
    w, objective = map(to_numpy, impl("ista", X, y, alpha, n_steps=400))
    np.testing.assert_allclose(w, ref, rtol=0, atol=1e-9, err_msg=f"{impl.name}: lasso coefficients")
    assert 0 < (ref == 0).sum() < len(ref), "the test needs some, not all, coefficients at zero"
    np.testing.assert_array_equal(np.flatnonzero(w == 0), np.flatnonzero(ref == 0), err_msg="exact zeros")
    assert np.all(np.diff(objective) <= 1e-14 * objective[1:]), "ISTA (lr = 1/L) must decrease the objective"
    r = y - X @ ref
    sk_objective = r @ r / (2 * len(y)) + alpha * np.abs(ref).sum()  # scikit-learn's Lasso objective
    assert abs(objective[-1] - sk_objective) <= 1e-12 * sk_objective


@pytest.mark.parametrize("l1_ratio", [0.2, 0.7])
def test_elastic_net_matches_sklearn(impl, rng, l1_ratio) -> None:
    X, y = _sparse_regression(rng)
    alpha = 0.4
    ref = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=False, tol=1e-14, max_iter=100_000).fit(X, y).coef_
    w, objective = map(to_numpy, impl("elastic_net", X, y, alpha, l1_ratio, n_steps=400))
    np.testing.assert_allclose(w, ref, rtol=0, atol=1e-9, err_msg=f"{impl.name}: elastic-net coefficients")
    assert 0 < (ref == 0).sum() < len(ref)
    np.testing.assert_array_equal(np.flatnonzero(w == 0), np.flatnonzero(ref == 0))
    assert np.all(np.diff(objective) <= 1e-14 * objective[1:])  # monotone, up to round-off at the optimum


def test_ista_is_elastic_net_with_l1_ratio_one(rng) -> None:
    X, y = _sparse_regression(rng, 30, 5)
    a, b = S.ista(X, y, 0.1, 0.05, 30), S.elastic_net(X, y, 0.1, 1.0, 0.05, 30)
    np.testing.assert_array_equal(a.weight, b.weight)
    np.testing.assert_array_equal(a.objective, b.objective)


# --- the prox and the L2 penalty --------------------------------------------------------------------------------------
def test_soft_threshold_is_the_l1_prox(impl, rng) -> None:
    x, t = rng.standard_normal(200) * 2, 0.7
    z = to_numpy(impl("soft_threshold", x, t))
    np.testing.assert_array_equal(z == 0, np.abs(x) <= t)  # exact zeros, exactly on the dead zone
    # z minimizes 1/2 (z - x)^2 + t |z| coordinate-wise: no point of a fine grid does better
    grid = np.linspace(-6, 6, 24_001)[:, None]
    best = (0.5 * (grid - x) ** 2 + t * np.abs(grid)).min(0)
    assert np.all(0.5 * (z - x) ** 2 + t * np.abs(z) <= best + 1e-12)


def test_l2_penalty_takes_one_array_or_several(impl) -> None:
    w, b = np.arange(6.0).reshape(2, 3), np.array([1.0, -2.0])
    assert float(to_numpy(impl("l2_penalty", w, 0.1))) == pytest.approx(0.05 * 55)
    both = impl.module.l2_penalty([impl.to_input(w), impl.to_input(b)], 0.1)
    assert float(to_numpy(both)) == pytest.approx(0.05 * 60)
    grads = S.l2_penalty_backward([w, b], 0.1, 2.0)
    np.testing.assert_allclose(grads[0], 0.2 * w)
    np.testing.assert_allclose(grads[1], 0.2 * b)


# --- L2 penalty vs decoupled weight decay -----------------------------------------------------------------------------
def _quadratic_grad(theta, curvature, target):
    return curvature * (theta - target)  # f = 1/2 sum c_i (theta_i - a_i)^2 with curvatures over 4 decades


@pytest.mark.parametrize("side", ["scratch", "torch"])
def test_l2_penalty_equals_weight_decay_for_sgd_and_adam_but_not_adamw(side, rng) -> None:
    """SGD(weight_decay) and Adam(weight_decay) add lambda theta to the gradient: exactly the gradient of
    l2_penalty. AdamW shrinks theta outside the adaptive step, so it lands elsewhere (Loshchilov & Hutter)."""
    c, a, lam = np.logspace(-2, 2, 6), rng.standard_normal(6), 0.1

    def run(cls, weight_decay, penalty, **kw):
        if side == "scratch":
            theta = np.zeros(6)
            opt = getattr(SO, cls)([theta], lr=0.05, weight_decay=weight_decay, **kw)
            for _ in range(300):
                opt.step([_quadratic_grad(theta, c, a) + (S.l2_penalty_backward(theta, penalty)[0] if penalty else 0)])
            return theta
        theta = torch.zeros(6, dtype=torch.float64, requires_grad=True)
        opt = getattr(torch.optim, cls)([theta], lr=0.05, weight_decay=weight_decay, **kw)
        ct, at = torch.from_numpy(c), torch.from_numpy(a)
        for _ in range(300):
            opt.zero_grad()
            (0.5 * (ct * (theta - at) ** 2).sum() + T.l2_penalty(theta, penalty)).backward()
            opt.step()
        return theta.detach().numpy()

    np.testing.assert_allclose(run("SGD", lam, 0.0), run("SGD", 0.0, lam), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(run("Adam", lam, 0.0), run("Adam", 0.0, lam), rtol=1e-12, atol=1e-14)
    adam, adamw = run("Adam", 0.0, lam), run("AdamW", lam, 0.0)
    assert np.abs(adam - adamw).max() > 0.05 * np.abs(adam).max(), "decoupled decay should land elsewhere"
    # the L2-penalized minimizer is c a / (c + lam); Adam's noise-free iterates approach it, AdamW's fixed point is
    # where the adaptive step (~lr sign) balances lr * lam * theta, not this point
    ridge = c * a / (c + lam)
    assert np.abs(adam - ridge).max() < np.abs(adamw - ridge).max()


# --- dropout ----------------------------------------------------------------------------------------------------------
def test_dropout_preserves_the_expectation(impl, rng) -> None:
    x, p, M = rng.standard_normal((3, 5)), 0.3, 4000
    masks = (rng.random((M, 3, 5)) >= p).astype(np.float64)
    mean = sum(to_numpy(impl("dropout", x, p, m)) for m in masks) / M
    se = np.abs(x) * np.sqrt(p / ((1 - p) * M))  # std of x m / (1 - p) is |x| sqrt(p / (1 - p))
    assert np.all(np.abs(mean - x) <= 5 * se), f"{impl.name}: mean {mean} vs x {x}"


def test_F_dropout_statistics_and_mask_match() -> None:
    """F.dropout draws its own mask: the fraction zeroed is p and E[output] = x within standard errors, and our
    twin given the mask F.dropout used (its nonzeros) reproduces its output exactly."""
    p, n = 0.25, 200_000
    # x from NumPy: drawn by torch with seed 0 too, x would share F.dropout's uniforms and correlate with its mask
    x = torch.from_numpy(np.random.default_rng(1).uniform(0.5, 1.5, n))  # nonzero entries
    torch.manual_seed(0)
    out = F.dropout(x, p, training=True)
    mask = (out != 0).to(x.dtype)
    assert abs(float(1 - mask.mean()) - p) <= 5 * (p * (1 - p) / n) ** 0.5
    se = float(x.square().mean().sqrt()) * (p / ((1 - p) * n)) ** 0.5
    assert abs(float((out - x).mean())) <= 5 * se
    torch.testing.assert_close(T.dropout(x, p, mask), out, rtol=1e-15, atol=0)
    np.testing.assert_allclose(S.dropout(x.numpy(), p, mask.numpy()), out.numpy(), rtol=1e-15, atol=0)


def test_dropout_backward_drops_gradients(rng) -> None:
    x, mask, g = rng.standard_normal(8), np.array([1.0, 0, 1, 1, 0, 1, 0, 1]), rng.standard_normal(8)
    np.testing.assert_allclose(S.dropout_backward(x, 0.4, mask, g), g * mask / 0.6)
    assert np.all(S.soft_threshold_backward(np.array([-2.0, -0.5, 0.5, 2.0]), 1.0, np.ones(4)) == [1, 0, 0, 1])


def test_too_large_a_step_is_reported(impl, rng) -> None:
    X, y = _sparse_regression(rng, 30, 5)
    with pytest.raises(FloatingPointError, match="diverged"):
        impl("ista", X, y, 0.1, 100.0, 2000)


# --- bad input: ValueError on both sides ------------------------------------------------------------------------------
BAD = [
    ("ista", lambda X, y: (X, y, -0.1), "alpha"),
    ("elastic_net", lambda X, y: (X, y, 0.1, 1.5), "l1_ratio"),
    ("elastic_net", lambda X, y: (X, y, 0.1, 0.5, -1.0), "lr"),
    ("ista", lambda X, y: (X, y[:-1], 0.1), "same number of rows"),
    ("ista", lambda X, y: (X, y[:, None], 0.1), "y must be 1-D"),
    ("ista", lambda X, y: (X, y, 0.1, None, 0), "n_steps"),
    ("l2_penalty", lambda X, y: (X, -1.0), "weight_decay"),
    ("soft_threshold", lambda X, y: (X, -0.5), "threshold"),
    ("dropout", lambda X, y: (X, 1.0, np.ones_like(X)), r"p must lie in \[0, 1\)"),
    ("dropout", lambda X, y: (X, -0.1, np.ones_like(X)), "p must lie in"),
    ("dropout", lambda X, y: (X, 0.5, np.ones((2, 2))), "same shape"),
    ("dropout", lambda X, y: (X, 0.5, np.full_like(X, 0.5)), "0 or 1"),
]


@pytest.mark.parametrize("fn,args,match", BAD, ids=[f"{b[0]}-{b[2][:12]}" for b in BAD])
def test_bad_input_raises_value_error(impl, fn, args, match) -> None:
    X, y = np.ones((5, 3)), np.ones(5)
    with pytest.raises(ValueError, match=match):
        impl(fn, *args(X, y))
