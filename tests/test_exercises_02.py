"""Exercises of lesson 2: every worked solution is run and checked against an independent reference (closed-form
derivatives, torch autograd in float64, ``torch.autograd.functional.hessian``) or a theoretical rate, with explicit tolerances; the
problem sheet and the solutions agree."""
from __future__ import annotations

import importlib
import inspect
import math
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from numpy.testing import assert_allclose
from torch.autograd.functional import hessian as torch_hessian

import from_scratch.calculus.autodiff as engine
from benchmarks.expressions import evaluate, random_program
from benchmarks.inputs import symmetric_with_spectrum
from exercises.solutions import ex02_calculus_gradients as ex
from exercises.solutions import ex02_calculus_gradients_applied as exa
from from_scratch.calculus import cross_entropy, cross_entropy_backward, derivative

ROOT = Path(__file__).resolve().parents[1]
SHEET = ROOT / "exercises" / "02_calculus_gradients.md"
EPS = np.finfo(np.float64).eps
DUAL = SimpleNamespace(Value=ex.Dual)
PLAIN_TORCH = SimpleNamespace(Value=torch.Tensor)  # tensors have .exp(), .log(), ... too
# ``rng`` is the seeded numpy.random.default_rng fixture of tests/conftest.py.


def _t(a) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


# --- the problem sheet ---------------------------------------------------------------------------------------------

def test_sheet_has_problems_and_every_referenced_solution_exists() -> None:
    text = SHEET.read_text()
    problems = re.findall(r"^## Problem (\d+)", text, flags=re.M)
    assert len(problems) >= 6, f"{SHEET.name} must state at least 6 problems, found {len(problems)}"
    assert problems == [str(i + 1) for i in range(len(problems))], f"problems must be numbered 1..n, got {problems}"
    refs = re.findall(r"`(exercises\.solutions\.\w+)\.(\w+)`", text)
    assert refs, "the sheet must point to its worked solutions as `exercises.solutions.<module>.<function>`"
    for module, name in refs:
        obj = getattr(importlib.import_module(module), name, None)
        assert callable(obj), f"{SHEET.name} names {module}.{name}, which does not exist"
    for section in re.split(r"^## Problem \d+", text, flags=re.M)[1:]:
        assert re.search(r"`exercises\.solutions\.\w+\.\w+`", section), f"no solution pointer in:\n{section[:200]}"
        assert "Hint" in section, f"a problem has no hints:\n{section[:200]}"
    referenced = {name for _, name in refs}
    for module in (ex, exa):
        public = {n for n, f in inspect.getmembers(module, lambda o: inspect.isfunction(o) or inspect.isclass(o))
                  if f.__module__ == module.__name__ and not n.startswith("_")}
        public -= {n for n, c in inspect.getmembers(module, inspect.isclass) if issubclass(c, tuple)}  # result types
        assert public <= referenced, f"solutions never named in the sheet: {sorted(public - referenced)}"


# --- Problem 1: Richardson extrapolation ---------------------------------------------------------------------------

@pytest.mark.parametrize("levels,lo,hi", [(1, -3.0, -1.0), (2, -2.0, -0.5), (3, -1.0, 0.0)])
def test_richardson_column_L_has_order_2L(levels, lo, hi) -> None:
    steps = np.logspace(lo, hi, 9)
    for f, df, x in ((np.sin, np.cos, 1.0), (np.exp, np.exp, 0.3)):
        err = ex.richardson_errors(f, df, x, steps, levels=(levels,))[levels]
        assert err.min() > 1e-13, err  # truncation-dominated range: the slope is meaningful
        assert ex.fitted_order(steps, err) == pytest.approx(2 * levels, abs=0.15), err


def test_richardson_error_constants_match_the_taylor_expansion() -> None:
    x, h = 1.0, 0.02
    central = float(ex.richardson_derivative(np.sin, x, h, levels=1))
    assert central - math.cos(x) == pytest.approx(h ** 2 / 6 * -math.cos(x), rel=1e-3)  # + h^2/6 f'''
    rich = float(ex.richardson_derivative(np.sin, x, 0.1, levels=2))
    assert rich - math.cos(x) == pytest.approx(-(0.1 ** 4) / 480 * math.cos(x), rel=1e-2)  # - h^4/480 f^(5)
    xs = np.array([-2.0, 0.3, 4.0])
    assert_allclose(ex.richardson_derivative(np.tanh, xs, 1e-4, levels=1), derivative(np.tanh, xs, 1e-4), rtol=0,
                    atol=0, err_msg="levels=1 is from_scratch.calculus.derivative")


def test_richardson_at_its_default_step_beats_the_central_difference() -> None:
    xs = np.linspace(-2.0, 2.5, 10)
    cases = ((np.sin, np.cos), (np.exp, np.exp), (np.tanh, lambda x: 1 / np.cosh(x) ** 2))
    central = np.concatenate([np.abs(derivative(f, xs) - df(xs)) / np.abs(df(xs)).max() for f, df in cases])
    rich = np.concatenate([np.abs(ex.richardson_derivative(f, xs) - df(xs)) / np.abs(df(xs)).max() for f, df in cases])
    assert rich.shape == central.shape == (30,)
    assert rich.max() < 2e-12 and np.median(rich) < np.median(central) / 10, (rich.max(), np.median(central))


def test_fitted_order_recovers_a_known_power() -> None:
    h = np.logspace(-4, -1, 7)
    assert ex.fitted_order(h, 3 * h ** 2.5) == pytest.approx(2.5, abs=1e-12)


# --- Problem 2: complex step ---------------------------------------------------------------------------------------

def _squire_trapp(x):
    return np.exp(x) / np.sqrt(np.sin(x) ** 3 + np.cos(x) ** 3)


def _squire_trapp_torch_derivative(x: float) -> float:
    t = _t(x)
    (torch.exp(t) / torch.sqrt(torch.sin(t) ** 3 + torch.cos(t) ** 3)).backward()
    return t.grad.item()


def test_complex_step_is_exact_to_round_off_for_tiny_steps() -> None:
    ref = _squire_trapp_torch_derivative(1.5)
    assert ref == pytest.approx(4.0534278938986, abs=1e-12)
    for h in (1e-8, 1e-20, 1e-200):
        assert float(ex.complex_step_derivative(_squire_trapp, 1.5, h)) == pytest.approx(ref, rel=4 * EPS), h
    steps = np.logspace(-200, -9, 12)
    err = ex.complex_step_errors(_squire_trapp, lambda x: ref, 1.5, steps)
    assert np.all(err["complex"] <= 4 * EPS * abs(ref)), err["complex"]
    tiny = steps < 1e-17  # 1.5 +- h rounds to 1.5: the central difference is exactly 0
    assert_allclose(err["central"][tiny], abs(ref), rtol=0, atol=0)
    assert err["central"][~tiny].min() > 1e3 * err["complex"].max() + 1e-12


def test_complex_step_truncation_is_h_squared_over_six() -> None:
    x, h = 0.7, 1e-2
    d = float(ex.complex_step_derivative(np.sin, x, h))
    assert d - math.cos(x) == pytest.approx(-(h ** 2) / 6 * -math.cos(x), rel=1e-3)  # - h^2/6 f'''
    xs = np.linspace(-3, 3, 7)
    assert_allclose(ex.complex_step_derivative(np.tanh, xs), 1 / np.cosh(xs) ** 2, rtol=4 * EPS, atol=0)


def test_complex_step_gradient_matches_torch_autograd(rng) -> None:
    X = rng.standard_normal((8, 5))
    w = rng.standard_normal(5)

    def f(v):  # softplus loss + tanh features, all analytic in v
        return np.sum(np.log1p(np.exp(X @ v))) + np.sum(np.tanh(v) ** 2)

    g = ex.complex_step_gradient(f, w)
    wt = _t(w)
    (F.softplus(torch.from_numpy(X) @ wt, threshold=1e9).sum() + (torch.tanh(wt) ** 2).sum()).backward()
    assert g.shape == (5,)
    assert_allclose(g, wt.grad.numpy(), rtol=1e-14, atol=1e-14, err_msg="complex-step gradient")


def test_complex_step_refuses_non_analytic_code() -> None:
    with pytest.raises(ValueError, match="complex"):
        ex.complex_step_derivative(lambda z: np.abs(z), 0.5)
    with pytest.raises(ValueError, match="complex"):
        ex.complex_step_gradient(lambda z: float(np.sum(z.real ** 2)), np.ones(3))


# --- Problem 3: forward mode -------------------------------------------------------------------------------------

# name -> (expression of one Dual, f(x) and f'(x) in closed form, point)
DUAL_UNARY = {
    "exp": (lambda v: v.exp(), math.exp, math.exp, 0.7), "log": (lambda v: v.log(), math.log, lambda x: 1 / x, 2.5),
    "sin": (lambda v: v.sin(), math.sin, math.cos, 1.1), "cos": (lambda v: v.cos(), math.cos, lambda x: -math.sin(x), 1.1),
    "tanh": (lambda v: v.tanh(), math.tanh, lambda x: 1 / math.cosh(x) ** 2, -0.4),
    "sigmoid": (lambda v: v.sigmoid(), lambda x: 1 / (1 + math.exp(-x)), lambda x: math.exp(-x) / (1 + math.exp(-x)) ** 2, -1.3),
    "relu": (lambda v: v.relu(), lambda x: max(x, 0.0), lambda x: float(x > 0), 0.8),
    "relu<0": (lambda v: v.relu(), lambda x: max(x, 0.0), lambda x: float(x > 0), -0.8),
    "cube": (lambda v: v ** 3, lambda x: x ** 3, lambda x: 3 * x * x, -1.5),
    "root": (lambda v: v ** 0.5, math.sqrt, lambda x: 0.5 / math.sqrt(x), 3.0),
    "recip": (lambda v: 2.0 / v, lambda x: 2 / x, lambda x: -2 / x ** 2, -0.6),
    "rsub": (lambda v: 3.0 - v * v, lambda x: 3 - x * x, lambda x: -2 * x, 0.9),
    "div": (lambda v: v / (v * v + 1.0), lambda x: x / (x * x + 1), lambda x: (1 - x * x) / (x * x + 1) ** 2, 0.4),
}


@pytest.mark.parametrize("name", DUAL_UNARY)
def test_dual_numbers_carry_the_closed_form_derivative(name) -> None:
    expr, f, df, x = DUAL_UNARY[name]
    out = expr(ex.Dual(x, 1.0))
    assert out.value == pytest.approx(f(x), rel=1e-15)
    assert out.tangent == pytest.approx(df(x), rel=1e-13), name
    assert expr(ex.Dual(x, -2.5)).tangent == pytest.approx(-2.5 * df(x), rel=1e-13), "linear in the seed"


@pytest.mark.parametrize("seed", range(4))
def test_forward_and_reverse_mode_agree_with_torch_on_random_programs(seed) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 6))
    program = random_program(rng, n, 25)
    x = rng.uniform(-2, 2, n)
    fwd_val, fwd = ex.forward_mode_gradient(lambda v: evaluate(program, v, DUAL), x)
    rev_val, rev = ex.reverse_mode_gradient(lambda v: evaluate(program, v, engine), x)
    xt = _t(x)
    out = evaluate(program, list(xt.unbind()), PLAIN_TORCH)
    out.backward()
    assert fwd_val == pytest.approx(out.item(), rel=1e-13) and rev_val == pytest.approx(out.item(), rel=1e-13)
    assert_allclose(fwd, xt.grad.numpy(), rtol=1e-12, atol=1e-13, err_msg="forward mode")
    assert_allclose(rev, xt.grad.numpy(), rtol=1e-12, atol=1e-13, err_msg="reverse mode")
    v = rng.standard_normal(n)
    val, tangent = ex.jvp(lambda u: evaluate(program, u, DUAL), x, v)
    assert tangent == pytest.approx(float(xt.grad.numpy() @ v), rel=1e-12, abs=1e-13), "one JVP = grad . v"


@pytest.mark.parametrize("n", [1, 4, 50])
def test_gradient_cost_forward_mode_is_n_times_reverse_mode(n) -> None:
    costs = ex.autodiff_costs(lambda v: sum(x ** 2 for x in v), np.arange(1.0, n + 1))
    assert costs["edges"] == 3 * n and costs["nodes"] == 3 * n + 1, costs  # n pows, n adds (from the constant 0)
    assert costs["reverse_mode_products"] == 3 * n and costs["forward_mode_products"] == 3 * n * n
    assert costs["forward_passes"] == n and costs["reverse_sweeps"] == 1
    _, grad = ex.forward_mode_gradient(lambda v: sum(x ** 2 for x in v), np.arange(1.0, n + 1))
    assert_allclose(grad, 2 * np.arange(1.0, n + 1), rtol=0, atol=0)


# --- Problem 4: new engine ops -------------------------------------------------------------------------------------

@pytest.mark.parametrize("x", [-30.0, -2.3, 0.0, 0.7, 15.0])
def test_new_unary_ops_match_torch(x) -> None:
    for op, ref in ((ex.value_sin, torch.sin), (ex.value_softplus, lambda t: F.softplus(t, threshold=1e9))):
        v = engine.Value(x)
        out = op(v)
        out.backward()
        t = _t(x)
        r = ref(t)
        r.backward()
        assert out.data == pytest.approx(r.item(), rel=1e-15, abs=1e-300), op.__name__
        assert v.grad == pytest.approx(t.grad.item(), rel=1e-14, abs=1e-300), op.__name__


def test_logsumexp_node_matches_torch_and_its_local_derivatives_are_softmax(rng) -> None:
    for n in (1, 3, 7):
        x = rng.standard_normal(n) * 3
        leaves = [engine.Value(a) for a in x]
        g = rng.standard_normal()
        out = ex.value_logsumexp(leaves) * g  # a random upstream gradient
        out.backward()
        t = _t(x)
        (torch.logsumexp(t, 0) * g).backward()
        assert out.data == pytest.approx(torch.logsumexp(t, 0).item() * g, rel=1e-14)
        assert_allclose([v.grad for v in leaves], t.grad.numpy(), rtol=1e-13, atol=1e-16, err_msg="lse gradient")
        assert_allclose([v.grad for v in leaves], g * torch.softmax(t, 0).detach().numpy(), rtol=1e-13)


def test_new_ops_pass_the_gradient_check_inside_larger_expressions(rng) -> None:
    def f(v):
        return ex.value_softplus(v[0] * v[1]) + ex.value_sin(v[2]) * ex.value_logsumexp([v[0], v[2].tanh(), 2.0])

    for _ in range(3):
        assert ex.value_gradcheck(f, rng.uniform(-2, 2, 3)) < 1e-8
    # the gradient check can fail: a wrong local derivative is caught
    wrong = lambda v: engine.Value._node(math.sin(v[0].data), (v[0],), (math.sin(v[0].data),), "bad")  # noqa: E731
    assert ex.value_gradcheck(wrong, np.array([0.4])) > 0.1


def test_fused_nodes_survive_where_the_composites_overflow() -> None:
    x = engine.Value(1000.0)
    fused = ex.value_softplus(x)
    fused.backward()
    assert fused.data == 1000.0 and x.grad == 1.0
    y = engine.Value(1000.0)
    composite = (1.0 + y.exp()).log()
    composite.backward()
    assert not (composite.data == 1000.0 and y.grad == 1.0), "the composite was expected to overflow"
    assert math.isinf(composite.data) and math.isnan(y.grad)  # log(inf) = inf, and the chain rule forms 0 * inf
    leaves = [engine.Value(1000.0), engine.Value(1000.0), engine.Value(-5.0)]
    lse = ex.value_logsumexp(leaves)
    lse.backward()
    assert lse.data == pytest.approx(1000 + math.log(2), rel=1e-15)
    assert_allclose([v.grad for v in leaves], [0.5, 0.5, 0.5 * math.exp(-1005)], rtol=1e-14, atol=0)
    assert ex.value_sin(0.5).data == math.sin(0.5), "numbers are lifted to leaves"


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
