"""Exercises of lesson 4, problems 5-8: the learning-rate range test against torch autograd's Hessian at
scikit-learn's optimum and a ``torch.optim.SGD`` loop, clipping against ``torch.nn.utils.clip_grad_value_`` /
``clip_grad_norm_`` and closed-form step counts, the lasso path against ``sklearn.linear_model.lasso_path`` and the
KKT conditions, noisy SGD against the exact second-moment recursion (Monte Carlo within 4 standard errors) and
``torch.optim.lr_scheduler.LambdaLR``. The sheet and problems 1-4: ``test_exercises_04.py``."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from numpy.testing import assert_allclose
from sklearn.linear_model import Lasso, LogisticRegression, lasso_path

from exercises.solutions import ex04_optimization_applied as exa
from from_scratch.optimization.optimizers import SGD

# ``rng`` is the seeded numpy.random.default_rng fixture of tests/conftest.py.


def _logistic_data(rng, n=200):
    X = rng.standard_normal((n, 3)) * np.array([1.0, 2.0, 4.0])
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ np.array([1.0, -0.5, 0.25]) + 0.3)))).astype(np.int64)
    return X, y


def _torch_loss(X, y, theta, C=1.0):
    """lesson 3's logistic_loss: mean cross-entropy + ||w||^2 / (2 C N), theta = [w, b]."""
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y).double()
    penalty = theta[:-1] @ theta[:-1] / (2 * C * len(y))
    return F.binary_cross_entropy_with_logits(Xt @ theta[:-1] + theta[-1], yt) + penalty


# --- Problem 5: the learning-rate range test --------------------------------------------------------------------------

def test_critical_lr_is_two_over_the_top_curvature_at_sklearns_optimum(rng) -> None:
    X, y = _logistic_data(rng)
    crit, bound = exa.critical_lr(X, y, C=1.0)
    sk = LogisticRegression(C=1.0, tol=1e-12, max_iter=10_000).fit(X, y)
    theta = torch.tensor(np.r_[sk.coef_[0], sk.intercept_])
    H = torch.autograd.functional.hessian(lambda th: _torch_loss(X, y, th), theta).numpy()
    assert crit == pytest.approx(2 / np.linalg.eigvalsh(H)[-1], rel=1e-6)
    Xt = np.hstack([X, np.ones((len(y), 1))])
    assert bound == pytest.approx(2 / (0.25 * np.linalg.eigvalsh(Xt.T @ Xt / len(y))[-1] + 1 / len(y)), rel=1e-10)
    assert bound < 0.9 * crit, "the global bound is conservative"


def test_fixed_lr_gd_converges_just_below_the_critical_lr_and_not_above(rng) -> None:
    X, y = _logistic_data(rng)
    crit, _ = exa.critical_lr(X, y)
    for factor, converges in ((0.95, True), (1.05, False)):
        theta = torch.zeros(4, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.SGD([theta], lr=factor * crit)
        for _ in range(600):
            opt.zero_grad()
            _torch_loss(X, y, theta).backward()
            opt.step()
        opt.zero_grad()
        _torch_loss(X, y, theta).backward()
        ref = theta.grad.abs().max().item()
        mine = exa.gd_gradient_norm(X, y, factor * crit, n_steps=600)
        assert (ref < 1e-10) == (mine < 1e-10) == converges, (factor, ref, mine)
        assert (ref > 1e-3) == (mine > 1e-3) == (not converges), (factor, ref, mine)


def test_range_test_matches_torch_and_diverges_above_the_critical_lr(rng) -> None:
    X, y = _logistic_data(rng)
    crit, _ = exa.critical_lr(X, y)
    run = exa.lr_range_test(X, y, 1e-3, 1e2, 400)
    assert_allclose(run.lrs, np.geomspace(1e-3, 1e2, 400), rtol=1e-13)
    theta = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([theta], lr=1e-3)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=1e5 ** (1 / 399))
    for t in range(200):  # the first half, up to lr = 0.3 (no divergence yet: round-off is not amplified)
        opt.zero_grad()
        loss = _torch_loss(X, y, theta)
        assert run.losses[t] == pytest.approx(loss.item(), rel=1e-12), f"step {t}"
        loss.backward()
        opt.step()
        sched.step()
    sk = LogisticRegression(C=1.0, tol=1e-12, max_iter=10_000).fit(X, y)
    best = _torch_loss(X, y, torch.tensor(np.r_[sk.coef_[0], sk.intercept_])).item()
    assert run.losses.min() == pytest.approx(best, rel=1e-6), "the sweep reaches the optimum before diverging"
    ratios = [exa.divergence_lr(*exa.lr_range_test(X, y, 1e-3, 1e2, n)) / crit for n in (100, 400, 1000)]
    assert all(r > 1 for r in ratios), ratios
    assert ratios[0] > ratios[1] > ratios[2] and ratios[2] < 2.5, f"slower sweeps diverge closer to 2/lambda: {ratios}"


def test_range_test_bad_input(rng) -> None:
    X, y = _logistic_data(rng, 20)
    with pytest.raises(ValueError, match="lr_max"):
        exa.lr_range_test(X, y, 1.0, 0.5)
    with pytest.raises(ValueError, match="n_steps"):
        exa.lr_range_test(X, y, n_steps=1)
    with pytest.raises(ValueError, match="never exceed"):
        exa.divergence_lr(np.geomspace(1e-3, 1, 5), np.linspace(1.0, 0.5, 5))
    with pytest.raises(ValueError, match="factor"):
        exa.divergence_lr(np.ones(3), np.ones(3), factor=1.0)
    with pytest.raises(ValueError, match="lr"):
        exa.gd_gradient_norm(X, y, -1.0)


# --- Problem 6: clipping by value and by norm -------------------------------------------------------------------------

def test_clip_grad_value_matches_torch(rng) -> None:
    grads = [rng.standard_normal((3, 4)) * 3, rng.standard_normal(5)]
    ref = [torch.from_numpy(g.copy()).requires_grad_() for g in grads]
    for r, g in zip(ref, grads):
        r.grad = torch.from_numpy(g.copy())
    torch.nn.utils.clip_grad_value_(ref, 1.5)
    exa.clip_grad_value(grads, 1.5)
    for g, r in zip(grads, ref):
        np.testing.assert_array_equal(g, r.grad.numpy())
    assert np.abs(grads[0]).max() == 1.5


@pytest.mark.parametrize("mode", ["norm", "value", "none"])
def test_clipped_descent_matches_a_torch_loop(rng, mode) -> None:
    lam, x0 = rng.uniform(0.2, 1.0, 5), rng.standard_normal(5) * np.r_[200.0, 1, 1, 1, 1]
    run = exa.clipped_descent(lam, x0, 0.7, 60, mode, threshold=2.0)
    x = torch.tensor(x0, requires_grad=True)
    opt = torch.optim.SGD([x], lr=0.7)
    for t in range(60):
        x.grad = torch.from_numpy(lam) * x.detach()
        if mode == "norm":
            torch.nn.utils.clip_grad_norm_([x], 2.0)
        elif mode == "value":
            torch.nn.utils.clip_grad_value_([x], 2.0)
        opt.step()
        assert_allclose(run.trajectory[t + 1], x.detach().numpy(), rtol=1e-12, atol=1e-12, err_msg=f"step {t + 1}")
    assert run.clipped.any() == (mode != "none")


def test_clipped_step_counts_are_the_closed_form(rng) -> None:
    lam = rng.uniform(0.3, 1.0, 6)
    x0 = rng.uniform(5, 60, 6) * rng.choice([-1, 1], 6)
    value = exa.clipped_descent(lam, x0, 0.5, 400, "value", threshold=1.5)
    for i in range(6):
        seen = int((np.abs(lam[i] * value.trajectory[:-1, i]) > 1.5).sum())
        assert seen == exa.clipped_step_count(lam[i], abs(x0[i]), 0.5, 1.5) > 0, i
    iso = exa.clipped_descent(np.full(6, 0.8), x0, 0.5, 400, "norm", threshold=1.5)
    assert iso.clipped.sum() == exa.clipped_step_count(0.8, np.linalg.norm(x0), 0.5, 1.5)
    cos = iso.trajectory @ x0 / (np.linalg.norm(iso.trajectory, axis=1) * np.linalg.norm(x0))
    assert_allclose(cos[:150], 1.0, atol=1e-12, err_msg="norm clipping keeps x on its ray")
    assert exa.clipped_step_count(1.0, 0.5, 0.1, 1.0) == 0


def test_value_clipping_frees_the_small_coordinates_norm_clipping_stalls_them() -> None:
    lam, x0 = np.ones(4), np.array([100.0, 1.0, 1.0, 1.0])
    value, norm = (exa.clipped_descent(lam, x0, 0.5, 30, m).trajectory[-1] for m in ("value", "norm"))
    assert_allclose(value[1:], 0.5 ** 30, rtol=1e-12, err_msg="unclipped coordinates: (1 - lr)^t")
    assert_allclose(norm[1:], norm[0] / 100.0, rtol=1e-12, err_msg="norm clipping: the same ratio as at the start")
    assert norm[1:].min() > 0.8 and value[0] == 85.0 and norm[0] == pytest.approx(85.0, abs=0.01)
    step = np.diff(exa.clipped_descent(lam, x0, 0.5, 5, "value").trajectory, axis=0)
    assert np.all(np.linalg.norm(step, axis=1) <= 0.5 * 1.0 * 2 + 1e-12), "value clipping: |step| <= lr c sqrt(n)"
    g = np.random.default_rng(0).standard_normal((100, 4)) * np.array([50.0, 1, 0.1, 3])
    clipped = [c.copy() for c in g]
    exa.clip_grad_value(clipped, 0.5)
    assert min(float(c @ gi) for c, gi in zip(clipped, g)) > 0, "a clipped gradient is still a descent direction"


def test_clipping_bad_input() -> None:
    with pytest.raises(ValueError, match="clip_value"):
        exa.clip_grad_value([np.ones(2)], 0.0)
    with pytest.raises(ValueError, match="mode"):
        exa.clipped_descent(np.ones(2), np.ones(2), 0.1, 5, mode="max")
    with pytest.raises(ValueError, match="eigenvalues"):
        exa.clipped_descent(np.array([1.0, -1.0]), np.ones(2), 0.1, 5)
    with pytest.raises(ValueError, match="x0"):
        exa.clipped_descent(np.ones(2), np.ones(3), 0.1, 5)


# --- Problem 7: the lasso path ----------------------------------------------------------------------------------------

def _lasso_data(rng, n=100, d=12):
    X = rng.standard_normal((n, d))
    w = np.zeros(d)
    w[:4] = [2.0, -1.5, 1.0, 0.5]
    return X, X @ w + 0.5 * rng.standard_normal(n)


def test_alpha_max_is_where_sklearn_lasso_becomes_zero(rng) -> None:
    X, y = _lasso_data(rng)
    a = exa.lasso_alpha_max(X, y)
    assert not Lasso(alpha=a, fit_intercept=False, tol=1e-12).fit(X, y).coef_.any()
    assert np.count_nonzero(Lasso(alpha=0.99 * a, fit_intercept=False, tol=1e-12).fit(X, y).coef_) == 1


def test_lasso_path_matches_sklearn_and_the_kkt_conditions(rng) -> None:
    X, y = _lasso_data(rng)
    path = exa.lasso_path_ista(X, y, n_alphas=20, eps=1e-2)
    assert path.coefs.shape == (12, 20)
    alphas, coefs, _ = lasso_path(X, y, alphas=path.alphas, tol=1e-14, max_iter=1_000_000)
    assert_allclose(path.coefs, coefs, rtol=0, atol=1e-9)
    assert np.array_equal(np.abs(path.coefs) > 1e-8, np.abs(coefs) > 1e-8), "same supports"
    assert not path.coefs[:, 0].any() and np.count_nonzero(path.coefs[:, -1]) >= 4
    for k, alpha in enumerate(path.alphas):
        w = path.coefs[:, k]
        c = X.T @ (y - X @ w) / len(y)
        assert np.all(np.abs(c[w == 0]) <= alpha * (1 + 1e-9)), k
        assert_allclose(c[w != 0], alpha * np.sign(w[w != 0]), atol=1e-9, err_msg=f"alpha[{k}]")


def test_warm_starts_give_the_same_path_in_fewer_steps(rng) -> None:
    X, y = _lasso_data(rng)
    alphas = exa.lasso_alpha_max(X, y) * np.geomspace(1, 1e-2, 15)
    warm = exa.lasso_path_ista(X, y, alphas=alphas)
    cold = exa.lasso_path_ista(X, y, alphas=alphas, warm_start=False)
    assert_allclose(warm.coefs, cold.coefs, atol=1e-10)
    assert warm.n_iters.sum() < 0.95 * cold.n_iters.sum(), (warm.n_iters.sum(), cold.n_iters.sum())


def test_lasso_path_bad_input(rng) -> None:
    X, y = _lasso_data(rng, 20, 5)
    with pytest.raises(ValueError, match="alphas"):
        exa.lasso_path_ista(X, y, alphas=np.array([1.0, -0.1]))
    with pytest.raises(ValueError, match="tol"):
        exa.lasso_path_ista(X, y, tol=0.0)
    with pytest.raises(ValueError, match="same number of rows|rows"):
        exa.lasso_alpha_max(X, y[:-1])


# --- Problem 8: SGD on a noisy quadratic ------------------------------------------------------------------------------

def test_inverse_time_lr_matches_torch_lambda_lr() -> None:
    ours = SGD([np.zeros(2)], lr=0.3)
    sched = exa.InverseTimeLR(ours, decay_steps=7.0)
    opt = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.3)
    ref = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 1 / (1 + t / 7.0))
    for _ in range(50):
        assert sched.get_last_lr()[0] == pytest.approx(ref.get_last_lr()[0], rel=1e-15)
        opt.step()
        sched.step(), ref.step()


def test_constant_step_monte_carlo_matches_the_exact_recursion_and_the_floor(rng) -> None:
    lam, x0, sigma, lr = np.array([1.0, 0.2]), np.array([3.0, -2.0]), 0.5, 0.1
    run = exa.noisy_quadratic_sgd(lam, x0, sigma, lr, 300, 4000, rng)
    v = exa.expected_sq_error(lam, x0, sigma, np.full(300, lr))
    q = (1 - lr * lam) ** 2
    t = np.arange(301)[:, None]
    floor = exa.stationary_sq_error(lam, sigma, lr)
    assert_allclose(v, q ** t * x0 ** 2 + floor * (1 - q ** t), rtol=1e-12)
    for s in (1, 10, 50, 150, 300):
        z = np.abs(run.mean_sq_error[s] - v[s]) / run.se[s]
        assert z.max() < 4, (s, z)
    assert_allclose(floor, lr * sigma ** 2 / (lam * (2 - lr * lam)), rtol=1e-15)
    loss_floor = 0.5 * lam * floor
    assert_allclose(loss_floor, lr * sigma ** 2 / (2 * (2 - lr * lam)), rtol=1e-14)
    assert_allclose(loss_floor, lr * sigma ** 2 / 4, rtol=0.06), "lr sigma^2 / 4 (1 + O(lr lambda)), any curvature"
    halved = exa.stationary_sq_error(lam, sigma, lr / 2)
    assert_allclose(floor / halved, 2 * (2 - lr * lam / 2) / (2 - lr * lam), rtol=1e-14)


def test_inverse_time_steps_average_the_noise_away(rng) -> None:
    lam, x0, sigma = np.array([2.0]), np.array([5.0]), 0.8
    run = exa.noisy_quadratic_sgd(lam, x0, sigma, 1 / 2.0, 300, 4000, rng, decay_steps=1.0)
    t = np.arange(1, 301)
    v = exa.expected_sq_error(lam, x0, sigma, 1 / (2.0 * t))  # eta_t = 1 / (lambda (t + 1)), t = 0, 1, ...
    assert_allclose(v[1:, 0], sigma ** 2 / (lam[0] ** 2 * t), rtol=1e-12, err_msg="sigma^2/(lambda^2 t): x0 forgotten")
    for s in (1, 10, 100, 300):
        assert abs(run.mean_sq_error[s, 0] - v[s, 0]) < 4 * run.se[s, 0], s
    assert v[300, 0] < 0.1 * exa.stationary_sq_error(lam, sigma, 0.05)[0], "below a constant step's floor"


def test_noisy_sgd_bad_input(rng) -> None:
    with pytest.raises(ValueError, match="sigma"):
        exa.noisy_quadratic_sgd(np.ones(1), np.ones(1), -1.0, 0.1, 5, 10, rng)
    with pytest.raises(ValueError, match="n_runs"):
        exa.noisy_quadratic_sgd(np.ones(1), np.ones(1), 1.0, 0.1, 5, 1, rng)
    with pytest.raises(ValueError, match="lr"):
        exa.stationary_sq_error(np.ones(2), 1.0, 2.5)
    with pytest.raises(ValueError, match="decay_steps"):
        exa.InverseTimeLR(SGD([np.zeros(1)], lr=0.1), decay_steps=0.0)
    with pytest.raises(ValueError, match="lrs"):
        exa.expected_sq_error(np.ones(1), np.ones(1), 1.0, np.array([0.1, 0.0]))
