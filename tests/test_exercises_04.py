"""Exercises of lesson 4, problems 1-4 and the problem sheet: the new optimizers against the BUILT-IN
``torch.optim.Adamax``/``NAdam`` (float64, 200 steps, two param groups, state dicts), Adam's bias correction against
``torch.optim.Adam`` and closed forms (Monte Carlo within 4 standard errors), heavy ball against
``np.linalg.eigvals`` of the iteration matrix and ``torch.optim.SGD(momentum)``, the Polyak step against torch
autograd and its exact distance identity. Problems 5-8: ``test_exercises_04_applied.py``."""
from __future__ import annotations

import inspect
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from exercises.solutions import ex04_optimization as ex
from exercises.solutions import ex04_optimization_applied as exa
from tests.helpers import check_exercise_sheet

ROOT = Path(__file__).resolve().parents[1]
SHEET = ROOT / "exercises" / "04_optimization.md"
SHAPES = [(3, 4), (4,), (2, 3, 2)]
# ``rng`` is the seeded numpy.random.default_rng fixture of tests/conftest.py.


@pytest.fixture
def float64_default():
    """torch.optim keeps NAdam's mu_product (and every ``step``) as a 0-d tensor of the DEFAULT dtype."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


def _spd(rng, eigenvalues):
    Q, _ = np.linalg.qr(rng.standard_normal((len(eigenvalues), len(eigenvalues))))
    A = (Q * np.asarray(eigenvalues)) @ Q.T
    return 0.5 * (A + A.T)


# --- the problem sheet ---------------------------------------------------------------------------------------------

def test_sheet_has_problems_and_every_referenced_solution_exists() -> None:
    check_exercise_sheet(SHEET, (ex, exa))


# --- Problem 1: Adamax and NAdam --------------------------------------------------------------------------------------

CASES = [("Adamax", {}), ("Adamax", {"weight_decay": 0.1, "eps": 1e-3, "betas": (0.5, 0.9)}), ("NAdam", {}),
         ("NAdam", {"weight_decay": 0.1}),
         ("NAdam", {"weight_decay": 0.1, "decoupled_weight_decay": True, "momentum_decay": 0.01})]


def _run(name, options, p0, grads, n_groups=2):
    """(scratch params, built-in torch params) after ``grads``; group 1 has its own lr."""
    groups = lambda ps: [{"params": ps[:2]}, {"params": ps[2:], "lr": 0.02}][:n_groups]  # noqa: E731
    mine = [p.copy() for p in p0]
    opt = getattr(ex, name)(groups(mine), **options)
    ref = [torch.tensor(p, requires_grad=True) for p in p0]
    ref_opt = getattr(torch.optim, name)(groups(ref), **options, foreach=False)
    for g in grads:
        opt.step(g)
        for p, gp in zip(ref, g):
            p.grad = torch.from_numpy(gp)
        ref_opt.step()
    return mine, [p.detach().numpy() for p in ref], opt, ref_opt


@pytest.mark.parametrize("name,options", CASES, ids=[f"{n}-{o}" for n, o in CASES])
def test_new_optimizers_match_torch_builtin(rng, float64_default, name, options) -> None:
    p0 = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) * rng.uniform(0.1, 3) for s in SHAPES] for _ in range(200)]
    mine, ref, _, _ = _run(name, options, p0, grads)
    for i, (a, b) in enumerate(zip(mine, ref)):
        assert a.shape == b.shape and a.dtype == np.float64
        assert_allclose(a, b, rtol=1e-12, atol=1e-13 * np.abs(b).max(), err_msg=f"{name} params[{i}]")
        assert np.abs(a - p0[i]).max() > 1e-2, "the parameters must have moved"


def test_nadam_differs_under_float32_default_by_the_rounding_of_mu_product(rng) -> None:
    """torch's default float32 mu_product perturbs the update at the 1e-10..1e-7 level, never beyond."""
    p0 = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(200)]
    mine, ref, _, ref_opt = _run("NAdam", {}, p0, grads)
    assert next(iter(ref_opt.state.values()))["mu_product"].dtype == torch.float32
    rel = max(np.abs(a - b).max() / np.abs(b).max() for a, b in zip(mine, ref))
    assert 1e-13 < rel < 1e-6, rel


@pytest.mark.parametrize("name", ["Adamax", "NAdam"])
def test_signatures_and_defaults_match_torch(name) -> None:
    want = {k: p.default for k, p in inspect.signature(getattr(torch.optim, name)).parameters.items()}
    for k, p in inspect.signature(getattr(ex, name)).parameters.items():
        assert k in want and p.default == want[k], f"{name}({k}={p.default}) vs torch {want.get(k)}"


@pytest.mark.parametrize("name,options", [CASES[1], CASES[4]], ids=["Adamax", "NAdam"])
def test_state_dict_loads_into_torch_and_both_continue_in_step(rng, float64_default, name, options) -> None:
    p0 = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(60)]
    mine, _, opt, _ = _run(name, options, p0, grads[:30])
    sd = opt.state_dict()
    assert set(sd["state"][0]) == ({"step", "exp_avg", "exp_inf"} if name == "Adamax"
                                   else {"step", "mu_product", "exp_avg", "exp_avg_sq"})
    conv = lambda v: torch.tensor(float(v)) if np.isscalar(v) else torch.from_numpy(v.copy())  # noqa: E731
    ref = [torch.tensor(p, requires_grad=True) for p in mine]
    ref_opt = getattr(torch.optim, name)([{"params": ref[:2]}, {"params": ref[2:], "lr": 0.02}], **options,
                                         foreach=False)
    ref_opt.load_state_dict({"state": {i: {k: conv(v) for k, v in s.items()} for i, s in sd["state"].items()},
                             "param_groups": sd["param_groups"]})
    for g in grads[30:]:
        opt.step(g)
        for p, gp in zip(ref, g):
            p.grad = torch.from_numpy(gp)
        ref_opt.step()
    for a, b in zip(mine, ref):
        assert_allclose(a, b.detach().numpy(), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("name,kwargs,arg", [("Adamax", {"betas": (1.0, 0.9)}, "betas"), ("Adamax", {"lr": -1.0}, "lr"),
                                             ("NAdam", {"eps": -1e-8}, "eps"),
                                             ("NAdam", {"momentum_decay": -1.0}, "momentum_decay")])
def test_bad_hyperparameters_raise_like_torch(name, kwargs, arg) -> None:
    with pytest.raises(ValueError, match=arg):
        getattr(ex, name)([np.zeros(3)], **kwargs)
    with pytest.raises(ValueError):
        getattr(torch.optim, name)([torch.zeros(3, requires_grad=True)], **kwargs)


# --- Problem 2: Adam's bias correction --------------------------------------------------------------------------------

def test_adam_updates_with_both_corrections_are_torch_adam(rng) -> None:
    grads = rng.standard_normal((50, 3, 4)) * rng.uniform(0.1, 3, (1, 3, 4))
    got = ex.adam_updates(grads, lr=0.01, betas=(0.8, 0.99), eps=1e-6)
    p = torch.zeros(3, 4, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([p], lr=0.01, betas=(0.8, 0.99), eps=1e-6, foreach=False)
    for t, g in enumerate(grads):
        before = p.detach().clone()
        p.grad = torch.from_numpy(g)
        opt.step()
        assert_allclose(got.updates[t], (p.detach() - before).numpy(), rtol=1e-12, atol=1e-14 * 0.01,
                        err_msg=f"step {t + 1}")  # p - before loses digits to |p| ~ t * lr: atol ~ eps * t * lr
    assert_allclose(got.exp_avg[-1], opt.state[p]["exp_avg"].numpy(), rtol=1e-13)
    assert_allclose(got.exp_avg_sq[-1], opt.state[p]["exp_avg_sq"].numpy(), rtol=1e-13)


@pytest.mark.parametrize("first,second", [(False, True), (True, False), (False, False)])
def test_constant_gradient_step_ratios_are_the_closed_form(rng, first, second) -> None:
    T, betas = 40, (0.9, 0.999)
    grads = np.tile(rng.uniform(0.5, 2, 5) * rng.choice([-1, 1], 5), (T, 1))
    corrected = ex.adam_updates(grads, lr=0.01, betas=betas, eps=0.0).updates
    assert_allclose(corrected, -0.01 * np.sign(grads), rtol=1e-13, err_msg="Adam's step is lr * sign(g)")
    other = ex.adam_updates(grads, lr=0.01, betas=betas, eps=0.0, correct_first=first, correct_second=second).updates
    t = np.arange(1, T + 1)
    want = ((1 - 0.9 ** t) if not first else 1.0) / (np.sqrt(1 - 0.999 ** t) if not second else 1.0)
    assert_allclose(other / corrected, np.broadcast_to(want[:, None], other.shape), rtol=1e-12)
    assert_allclose(ex.bias_correction_ratio(t, betas, first, second), want, rtol=1e-14)
    if not first and not second:
        assert ex.bias_correction_ratio(1) == pytest.approx(0.1 / math.sqrt(1e-3), rel=1e-12), "3.16x too LARGE"
    if not first and second:
        assert ex.bias_correction_ratio(1, correct_second=True) == pytest.approx(0.1, rel=1e-12), "10x too small"


def test_moment_bias_monte_carlo(rng) -> None:
    """Stationary g ~ N(m, s^2): E[m_t] = (1 - beta1^t) m and E[v_t] = (1 - beta2^t)(m^2 + s^2), within 4 SE."""
    T, R, m, s = 30, 20_000, 0.7, 1.5
    tr = ex.adam_updates(m + s * rng.standard_normal((T, R)), betas=(0.9, 0.99))
    t = np.arange(1, T + 1)
    for name, est, truth, bias in (("m_t", tr.exp_avg, m, 1 - 0.9 ** t),
                                   ("v_t", tr.exp_avg_sq, m * m + s * s, 1 - 0.99 ** t)):
        se = est.std(axis=1, ddof=1) / math.sqrt(R)
        z = np.abs(est.mean(axis=1) / bias - truth) / (se / bias)
        assert z.max() < 4, f"corrected {name}: {z.max():.1f} SE off"
        assert (np.abs(est.mean(axis=1)[:5] - truth) / se[:5]).min() > 20, f"uncorrected {name} is clearly biased"


def test_bias_correction_bad_input() -> None:
    with pytest.raises(ValueError, match="grads"):
        ex.adam_updates(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="betas"):
        ex.adam_updates(np.ones((3, 2)), betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="lr"):
        ex.adam_updates(np.ones((3, 2)), lr=0.0)
    with pytest.raises(ValueError, match="t must"):
        ex.bias_correction_ratio(np.array([0, 1]))


# --- Problem 3: heavy ball --------------------------------------------------------------------------------------------

def test_iteration_matrix_eigenvalues_are_the_roots(rng) -> None:
    lam = rng.uniform(0.5, 20, 5)
    M = ex.heavy_ball_iteration_matrix(_spd(rng, lam), lr=0.07, momentum=0.6)
    assert M.shape == (10, 10)
    want = np.sort_complex(np.linalg.eigvals(M))
    got = np.sort_complex(ex.heavy_ball_roots(lam, 0.07, 0.6).ravel())
    assert_allclose(got, want, rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("mu,L", [(1.0, 100.0), (0.3, 2.0), (1.0, 1e4)])
def test_optimal_parameters_put_every_root_on_the_circle_sqrt_beta(mu, L) -> None:
    lr, beta, rate = ex.optimal_heavy_ball(mu, L)
    assert rate == pytest.approx(math.sqrt(beta), rel=1e-14)
    assert rate < (L / mu - 1) / (L / mu + 1), "heavy ball beats gradient descent's best rate"
    moduli = np.abs(ex.heavy_ball_roots(np.linspace(mu, L, 101), lr, beta))
    assert_allclose(moduli, math.sqrt(beta), rtol=1e-6)  # sqrt of a ~0 discriminant at the two ends
    radius = np.abs(np.linalg.eigvals(ex.heavy_ball_iteration_matrix(np.diag([mu, L]), lr, beta))).max()
    assert radius == pytest.approx(rate, rel=1e-6)


def test_no_grid_point_beats_the_optimum() -> None:
    mu, L = 1.0, 50.0
    best = ex.optimal_heavy_ball(mu, L)[2]
    A = np.diag([mu, L])
    rho = lambda lr, b: np.abs(np.linalg.eigvals(ex.heavy_ball_iteration_matrix(A, lr, b))).max()  # noqa: E731
    grid = [rho(lr, b) for lr in np.linspace(0.005, 0.08, 60) for b in np.linspace(0.0, 0.95, 60)]
    assert min(grid) >= best - 1e-9
    assert min(grid) <= best + 0.02, "the grid gets near the optimum"


def test_torch_sgd_momentum_is_heavy_ball_at_the_predicted_rate(rng) -> None:
    mu, L = 1.0, 100.0
    A = _spd(rng, np.r_[mu, L, rng.uniform(mu, L, 3)])
    lr, beta, rate = ex.optimal_heavy_ball(mu, L)
    x = torch.tensor(rng.standard_normal(5), requires_grad=True)
    x0 = x.detach().numpy().copy()
    opt = torch.optim.SGD([x], lr=lr, momentum=beta)
    errors, M = [np.linalg.norm(x0)], ex.heavy_ball_iteration_matrix(A, lr, beta)
    z = np.r_[x0, x0]
    for _ in range(300):
        x.grad = torch.from_numpy(A) @ x.detach()
        opt.step()
        z = M @ z
        errors.append(float(x.detach().norm()))
        assert_allclose(x.detach().numpy(), z[:5], rtol=1e-9, atol=1e-12 * errors[0])
    t = np.arange(150, 301)
    slope = np.polyfit(t, np.log(np.array(errors)[t] / t), 1)[0]  # double roots: e_t ~ t rho^t
    assert slope == pytest.approx(math.log(rate), rel=5e-3), "without the 1/t the fit is 2 % off"


def test_heavy_ball_bad_input() -> None:
    with pytest.raises(ValueError, match="L must"):
        ex.optimal_heavy_ball(2.0, 1.0)
    with pytest.raises(ValueError, match="momentum"):
        ex.heavy_ball_roots(np.ones(2), 0.1, -0.5)
    with pytest.raises(ValueError, match="A must be symmetric"):
        ex.heavy_ball_iteration_matrix(np.array([[1.0, 2.0], [0.0, 1.0]]), 0.1, 0.5)


# --- Problem 4: the Polyak step ---------------------------------------------------------------------------------------

def test_polyak_halves_a_one_dimensional_error_and_gamma_two_solves_it() -> None:
    a, x0 = 3.0, np.array([5.0])
    run = ex.polyak_descent(np.array([[a]]), np.zeros(1), x0, 20)
    assert_allclose(run.lrs, 1 / (2 * a), rtol=1e-15)
    assert_allclose(run.trajectory[:, 0], 5.0 / 2.0 ** np.arange(21), rtol=1e-14)
    two = ex.polyak_descent(np.array([[a]]), np.array([1.5]), x0, 2, gamma=2.0)
    assert two.trajectory[1, 0] == pytest.approx(0.5, rel=1e-15) and two.lrs[1] == 0.0


@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0, 3.0])
def test_polyak_distance_identity_bound_and_step_range(rng, gamma) -> None:
    lam = np.r_[1.0, 30.0, rng.uniform(1, 30, 4)]
    A, b = _spd(rng, lam), rng.standard_normal(6)
    x_star = np.linalg.solve(A, b)
    run = ex.polyak_descent(A, b, rng.standard_normal(6) * 5, 15, gamma=gamma)
    e2 = ((run.trajectory - x_star) ** 2).sum(axis=1)
    g = run.trajectory[:-1] @ A - b
    assert_allclose(e2[1:], e2[:-1] - (4 * gamma - gamma ** 2) * run.values[:-1] ** 2 / (g * g).sum(1), rtol=1e-8)
    assert np.all(e2[1:] <= (1 - (4 * gamma - gamma ** 2) / (4 * 30.0)) * e2[:-1] * (1 + 1e-12))
    assert np.all(run.lrs >= gamma / 60 * (1 - 1e-12)) and np.all(run.lrs <= gamma / 2 * (1 + 1e-12))


def test_polyak_matches_a_torch_autograd_loop(rng) -> None:
    A, b = _spd(rng, rng.uniform(0.5, 10, 4)), rng.standard_normal(4)
    run = ex.polyak_descent(A, b, np.ones(4), 25)
    At, bt = torch.from_numpy(A), torch.from_numpy(b)
    f = lambda x: 0.5 * x @ At @ x - bt @ x  # noqa: E731
    f_star = f(torch.linalg.solve(At, bt)).item()
    x = torch.ones(4, dtype=torch.float64, requires_grad=True)
    for t in range(25):
        loss = f(x)
        (g,) = torch.autograd.grad(loss, x)
        with torch.no_grad():
            x -= (loss.item() - f_star) / (g @ g) * g
        assert_allclose(run.trajectory[t + 1], x.detach().numpy(), rtol=1e-9, atol=1e-12)


def test_polyak_bad_input() -> None:
    A = np.eye(2)
    with pytest.raises(ValueError, match="gamma"):
        ex.polyak_descent(A, np.ones(2), np.zeros(2), 5, gamma=4.0)
    with pytest.raises(ValueError, match="positive definite"):
        ex.polyak_descent(np.diag([1.0, -1.0]), np.ones(2), np.zeros(2), 5)
    with pytest.raises(ValueError, match="matching sizes"):
        ex.polyak_descent(A, np.ones(2), np.zeros(3), 5)
    with pytest.raises(ValueError, match="n_steps"):
        ex.polyak_descent(A, np.ones(2), np.zeros(2), 0)
