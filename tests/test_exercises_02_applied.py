"""Exercises of lesson 2, problems 5-8 and bad input: checked against torch autograd in float64,
``torch.autograd.functional.hessian`` and theoretical rates, with explicit tolerances."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from numpy.testing import assert_allclose
from torch.autograd.functional import hessian as torch_hessian

import from_scratch.calculus.autodiff as engine
from benchmarks.inputs import symmetric_with_spectrum
from exercises.solutions import ex02_calculus_gradients as ex
from exercises.solutions import ex02_calculus_gradients_applied as exa
from from_scratch.calculus import cross_entropy, cross_entropy_backward


ROOT = Path(__file__).resolve().parents[1]
# ``rng`` is the seeded numpy.random.default_rng fixture of tests/conftest.py.


def _t(a) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


# --- Problem 5: deeper network, squared error ----------------------------------------------------------------------

class TorchMLP(torch.nn.Module):
    def __init__(self, sizes: list[int], activation: str) -> None:
        super().__init__()
        for l, (i, o) in enumerate(zip(sizes, sizes[1:]), start=1):
            setattr(self, f"fc{l}", torch.nn.Linear(i, o, dtype=torch.float64))
        self.L, self.act = len(sizes) - 1, getattr(torch, activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for l in range(1, self.L + 1):
            x = getattr(self, f"fc{l}")(x)
            x = self.act(x) if l < self.L else x
        return x


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_mlp_mse_backward_matches_torch_autograd(rng, activation) -> None:
    for L in (1, 3, 4):
        torch.manual_seed(int(rng.integers(1 << 30)))
        sizes = [int(s) for s in rng.integers(1, 7, L + 1)]
        N = int(rng.integers(1, 9))
        model = TorchMLP(sizes, activation)
        params = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
        x, y, g = rng.standard_normal((N, sizes[0])), rng.standard_normal((N, sizes[-1])), rng.standard_normal()
        xt = _t(x)
        loss = F.mse_loss(model(xt), torch.from_numpy(y))
        (g * loss).backward()
        assert exa.mlp_mse_loss(x, y, params, activation) == pytest.approx(loss.item(), rel=1e-13)
        grads = exa.mlp_mse_backward(x, y, params, activation, grad_out=g)
        ref = {"x": xt.grad, **{k: p.grad for k, p in model.named_parameters()}}
        assert set(grads) == set(ref)
        for k, r in ref.items():
            assert grads[k].shape == tuple(r.shape), k
            assert_allclose(grads[k], r.numpy(), rtol=1e-11, atol=1e-14, err_msg=f"L={L} {activation} {k}")


def test_one_layer_mse_gradient_is_the_least_squares_residual(rng) -> None:
    x, y = rng.standard_normal((7, 3)), rng.standard_normal((7, 2))
    W, b = rng.standard_normal((2, 3)), rng.standard_normal(2)
    r = x @ W.T + b - y  # (N, K)
    grads = exa.mlp_mse_backward(x, y, {"fc1.weight": W, "fc1.bias": b})
    assert_allclose(grads["fc1.weight"], 2 / r.size * r.T @ x, rtol=1e-13, atol=1e-15)
    assert_allclose(grads["fc1.bias"], 2 / r.size * r.sum(0), rtol=1e-13, atol=1e-15)
    assert exa.mse_loss(x @ W.T + b, y) == pytest.approx(np.mean(r ** 2), rel=1e-14)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_mlp_gradcheck_runs_finite_differences_on_every_tensor(rng, activation) -> None:
    sizes = [4, 5, 3, 2]
    params = {}
    for l, (i, o) in enumerate(zip(sizes, sizes[1:]), start=1):
        params[f"fc{l}.weight"], params[f"fc{l}.bias"] = rng.standard_normal((o, i)), rng.standard_normal(o)
    x, y = rng.standard_normal((6, 4)), rng.standard_normal((6, 2))
    errors = exa.mlp_gradcheck(x, y, params, activation)
    assert set(errors) == {"x", *params}
    assert max(errors.values()) < 1e-8, errors


# --- Problem 6: the step size on a quadratic ------------------------------------------------------------------------

@pytest.fixture
def quadratic(rng):
    lam = np.geomspace(1.0, 10.0, 5)  # kappa = 10
    return lam, symmetric_with_spectrum(rng, lam), rng.standard_normal(5), 3 * rng.standard_normal(5)


def test_optimal_lr_is_where_the_two_ends_balance(quadratic) -> None:
    lam, A, _, _ = quadratic
    lr, rho = exa.optimal_lr(A)
    assert lr == pytest.approx(2 / 11, rel=1e-12) and rho == pytest.approx(9 / 11, rel=1e-12)
    grid = np.linspace(0.01, 0.25, 2401)
    rates = [exa.lr_contraction(A, g) for g in grid]
    assert grid[int(np.argmin(rates))] == pytest.approx(lr, abs=1e-4)
    for g in (0.05, lr, 0.199, 0.21):  # independent: spectral radius of the iteration matrix I - lr A
        assert exa.lr_contraction(A, g) == pytest.approx(np.abs(np.linalg.eigvals(np.eye(5) - g * A)).max(), rel=1e-12)


def test_measured_contraction_follows_the_prediction_and_diverges_above_2_over_lambda_max(quadratic) -> None:
    lam, A, b, x0 = quadratic
    lr_star, rho_star = exa.optimal_lr(A)
    assert exa.measured_contraction(A, b, x0, lr_star, 300) == pytest.approx(rho_star, rel=1e-5)
    for r in (0.3, 0.5, 1.0, 1.5, 1.9, 2.05, 2.2):
        lr = r / lam[-1]
        measured = exa.measured_contraction(A, b, x0, lr, 300)
        assert measured == pytest.approx(exa.lr_contraction(A, lr), rel=5e-3), r
        assert measured > rho_star * (1 + 1e-3), "eta* must be the fastest"
        assert (measured > 1) == (r > 2), r


# --- Problem 7: softmax cross-entropy ------------------------------------------------------------------------------

@pytest.mark.parametrize("alpha", [0.0, 0.1, 0.35, 1.0])
def test_cross_entropy_and_its_gradient_match_torch(rng, alpha) -> None:
    for _ in range(3):
        N, C = int(rng.integers(1, 8)), int(rng.integers(2, 7))
        z, y, g = 3 * rng.standard_normal((N, C)), rng.integers(0, C, N), rng.standard_normal()
        zt = _t(z)
        loss = F.cross_entropy(zt, torch.from_numpy(y), label_smoothing=alpha)
        (g * loss).backward()
        assert exa.softmax_cross_entropy(z, y, alpha) == pytest.approx(loss.item(), rel=1e-13)
        grad = exa.softmax_cross_entropy_backward(z, y, alpha, grad_out=g)
        assert grad.shape == (N, C)
        assert_allclose(grad, zt.grad.numpy(), rtol=1e-12, atol=1e-15, err_msg="d loss / d logits")
        assert_allclose(grad.sum(1), 0.0, atol=1e-15, err_msg="rows of the gradient sum to 0")
        if alpha == 0.0:  # the hard-label case is the lesson's cross_entropy
            assert exa.softmax_cross_entropy(z, y) == pytest.approx(float(cross_entropy(z, y)), rel=1e-14)
            assert_allclose(grad, cross_entropy_backward(z, y, g), rtol=1e-13, atol=1e-16)


def test_cross_entropy_hessian_matches_torch_autograd_and_is_psd(rng) -> None:
    N, C = 4, 5
    z, y = rng.standard_normal((N, C)), rng.integers(0, C, N)
    blocks = exa.softmax_cross_entropy_hessian(z)
    assert blocks.shape == (N, C, C)
    for alpha in (0.0, 0.3):
        full = torch_hessian(lambda t: F.cross_entropy(t, torch.from_numpy(y), label_smoothing=alpha),
                             torch.from_numpy(z)).numpy()  # (N, C, N, C)
        block_diag = np.zeros_like(full)
        for n in range(N):
            block_diag[n, :, n, :] = blocks[n]
        assert_allclose(full, block_diag, rtol=1e-12, atol=1e-15, err_msg=f"Hessian, alpha={alpha}")
    for H in blocks:
        assert np.linalg.eigvalsh(H).min() > -1e-15
        assert_allclose(H @ np.ones(C), 0.0, atol=1e-15)


def test_label_smoothing_caps_the_logit_margin() -> None:
    C, alpha = 10, 0.1
    gap = exa.smoothed_logit_gap(alpha, C)
    assert gap == pytest.approx(math.log(91), rel=1e-14)
    y = np.array([3, 0])
    z = np.zeros((2, C))
    z[np.arange(2), y] = gap
    assert_allclose(exa.softmax_cross_entropy_backward(z, y, alpha), 0.0, atol=1e-16, err_msg="stationary at the gap")
    losses = [float(exa.softmax_cross_entropy(z * s, y, alpha)) for s in (0.9, 1.0, 1.1)]
    assert losses[1] < min(losses[0], losses[2])
    assert exa.smoothed_logit_gap(0.0, C) == math.inf and exa.smoothed_logit_gap(1.0, C) == 0.0
    norms = [np.abs(exa.softmax_cross_entropy_backward(z * s, y)).max() for s in (1, 2, 4, 8)]  # hard labels
    assert all(a > b > 0 for a, b in zip(norms, norms[1:])), norms


# --- Problem 8: curvature and Newton -------------------------------------------------------------------------------

def _rosenbrock_torch(x: torch.Tensor) -> torch.Tensor:
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


@pytest.mark.parametrize("n", [2, 5])
def test_hessian_from_hvps_matches_torch_autograd(rng, n) -> None:
    from from_scratch.calculus import rosenbrock, rosenbrock_backward

    x = rng.uniform(-1.5, 1.5, n)
    ref = torch_hessian(_rosenbrock_torch, torch.from_numpy(x)).numpy()
    H = exa.hessian_from_hvps(None, x, grad=lambda z: rosenbrock_backward(z, 1.0))
    assert H.shape == (n, n)
    assert_allclose(H, H.T, rtol=0, atol=0)
    assert_allclose(H, ref, rtol=0, atol=1e-7 * np.abs(ref).max(), err_msg="HVP columns, exact gradient")
    nested = exa.hessian_from_hvps(rosenbrock, x)  # differences of differences: far less accurate
    assert_allclose(nested, ref, rtol=0, atol=1e-3 * np.abs(ref).max(), err_msg="nested differences")


def test_rosenbrock_valley_is_badly_conditioned_at_the_minimum() -> None:
    c = exa.rosenbrock_curvature(np.ones(2))
    closed = np.array([[802.0, -400.0], [-400.0, 200.0]])
    assert_allclose(c.hessian, closed, rtol=1e-9)
    assert_allclose(c.eigenvalues, np.linalg.eigvalsh(closed), rtol=1e-7)
    assert c.eigenvalues[0] == pytest.approx(0.39936, abs=1e-5) and c.condition_number == pytest.approx(2508.01, rel=1e-5)


def test_newton_is_exact_on_a_quadratic_and_quadratic_near_a_minimum(rng) -> None:
    A = symmetric_with_spectrum(rng, np.array([0.1, 1.0, 50.0]))
    b = rng.standard_normal(3)
    traj = exa.newton_method(lambda x: A @ x - b, lambda x: A, rng.standard_normal(3))
    assert_allclose(traj[1], np.linalg.solve(A, b), rtol=1e-10, err_msg="one Newton step solves a quadratic")
    grad = lambda z: np.array([-400 * z[0] * (z[1] - z[0] ** 2) - 2 * (1 - z[0]), 200 * (z[1] - z[0] ** 2)])  # noqa: E731
    hess = lambda z: np.array([[1200 * z[0] ** 2 - 400 * z[1] + 2, -400 * z[0]], [-400 * z[0], 200.0]])  # noqa: E731
    traj = exa.newton_method(grad, hess, np.array([-1.2, 1.0]))
    err = np.linalg.norm(traj - 1.0, axis=1)
    assert err[-1] < 1e-14 and len(traj) <= 9, err
    late = (err[:-1] < 0.1) & (err[1:] > 1e-13)
    assert late.sum() >= 2 and np.all(err[1:][late] <= 10 * err[:-1][late] ** 2), err  # e_{k+1} <= C e_k^2


def test_newton_needs_thousands_of_times_fewer_steps_than_gradient_descent() -> None:
    res = exa.newton_vs_gradient_descent(np.array([-1.2, 1.0]), lr=1e-3, tol=1e-4)
    assert res.newton_steps is not None and res.newton_steps <= 7, res
    assert res.descent_rate == pytest.approx(res.predicted_rate, rel=1e-7)
    assert res.predicted_rate == pytest.approx(1 - 1e-3 * 0.399361, rel=1e-8)
    tail = math.log(1e-4) / math.log(res.predicted_rate)  # ~ 23,000: the slow mode alone
    assert res.descent_steps is not None and 0.8 * tail < res.descent_steps < 1.2 * tail, res
    assert res.descent_steps > 1000 * res.newton_steps


# --- bad input: every solution raises a ValueError that names the problem --------------------------------------

_G = np.random.default_rng(0)
_SPD = symmetric_with_spectrum(_G, np.array([1.0, 2.0, 5.0]))
_P = {"fc1.weight": _G.standard_normal((3, 2)), "fc1.bias": _G.standard_normal(3),
      "fc2.weight": _G.standard_normal((1, 3)), "fc2.bias": _G.standard_normal(1)}
_X, _Y = _G.standard_normal((4, 2)), _G.standard_normal((4, 1))
BAD_INPUT = {
    "Richardson, h <= 0": (lambda: ex.richardson_derivative(np.sin, 1.0, h=0.0), "h"),
    "Richardson, levels = 0": (lambda: ex.richardson_derivative(np.sin, 1.0, levels=0), "levels"),
    "Richardson, NaN x": (lambda: ex.richardson_derivative(np.sin, np.nan), "x must be finite"),
    "errors, negative step": (lambda: ex.richardson_errors(np.sin, np.cos, 1.0, np.array([1e-3, -1e-3])), "steps"),
    "fitted order, zero error": (lambda: ex.fitted_order(np.array([1e-2, 1e-1]), np.array([0.0, 1.0])), "errors"),
    "fitted order, length mismatch": (lambda: ex.fitted_order(np.ones(3), np.ones(2)), "same length"),
    "complex step, h <= 0": (lambda: ex.complex_step_derivative(np.sin, 1.0, h=-1e-20), "h"),
    "complex gradient, vector output": (lambda: ex.complex_step_gradient(lambda z: z * 2, np.ones(3)), "scalar"),
    "jvp, v of the wrong length": (lambda: ex.jvp(lambda v: v[0] * v[1], [1.0, 2.0], [1.0]), "v"),
    "forward mode, 2-D x": (lambda: ex.forward_mode_gradient(lambda v: v[0], np.ones((2, 2))), "x"),
    "Dual log of a negative": (lambda: ex.Dual(-1.0, 1.0).log(), "positive"),
    "Dual fractional power of a negative": (lambda: ex.Dual(-2.0, 1.0) ** 0.5, "negative base"),
    "reverse mode, constant f": (lambda: ex.reverse_mode_gradient(lambda v: 3.0, [1.0]), "must return a Value"),
    "value_sin of a string": (lambda: ex.value_sin("1.0"), "x"),
    "value_softplus of inf": (lambda: ex.value_softplus(math.inf), "x"),
    "logsumexp of nothing": (lambda: ex.value_logsumexp([]), "xs"),
    "logsumexp of a NaN": (lambda: ex.value_logsumexp([engine.Value(1.0), math.nan]), r"xs\[1\]"),
    "MSE, shape mismatch": (lambda: exa.mse_loss(np.ones((3, 2)), np.ones((3, 1))), "target"),
    "MLP, missing bias": (lambda: exa.mlp_mse_loss(_X, _Y, {k: v for k, v in _P.items() if k != "fc2.bias"}), "params"),
    "MLP, shapes do not chain": (lambda: exa.mlp_mse_loss(_X[:, :1], _Y, _P), "in_features"),
    "MLP, unknown activation": (lambda: exa.mlp_mse_backward(_X, _Y, _P, activation="gelu"), "activation"),
    "contraction, indefinite A": (lambda: exa.lr_contraction(np.diag([1.0, -1.0]), 0.1), "positive definite"),
    "contraction, lr <= 0": (lambda: exa.lr_contraction(_SPD, 0.0), "lr"),
    "optimal lr, non-symmetric": (lambda: exa.optimal_lr(_SPD + np.triu(_SPD, 1)), "symmetric"),
    "measured, converged instantly": (lambda: exa.measured_contraction(np.eye(2), np.ones(2), np.zeros(2), 1.0), "lr"),
    "label smoothing > 1": (lambda: exa.softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 1]), 1.5), "label_smoothing"),
    "labels out of range": (lambda: exa.softmax_cross_entropy_backward(np.zeros((2, 3)), np.array([0, 3])), "labels"),
    "one class": (lambda: exa.smoothed_logit_gap(0.1, 1), "n_classes"),
    "Hessian of a matrix x": (lambda: exa.hessian_from_hvps(lambda z: z.sum(), np.ones((2, 2))), "1-D"),
    "Hessian without f or grad": (lambda: exa.hessian_from_hvps(None, np.ones(2)), "grad"),
    "Newton, tol <= 0": (lambda: exa.newton_method(lambda z: z, lambda z: np.eye(2), np.ones(2), tol=0.0), "tol"),
    "Newton vs descent, lr <= 0": (lambda: exa.newton_vs_gradient_descent(np.array([-1.2, 1.0]), lr=-1e-3), "lr"),
}


@pytest.mark.parametrize("case", BAD_INPUT, ids=list(BAD_INPUT))
def test_bad_input_raises_value_error(case: str) -> None:
    call, match = BAD_INPUT[case]
    with pytest.raises(ValueError, match=match):
        call()
