"""Exercises of lesson 2, problems 1-4 and the problem sheet: every worked solution is run and checked against an
independent reference (closed-form derivatives, torch autograd in float64) or a theoretical rate, with explicit
tolerances; the sheet and the solutions agree. Problems 5-8: ``test_exercises_02_applied.py``."""
from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from numpy.testing import assert_allclose

import from_scratch.calculus.autodiff as engine
from benchmarks.expressions import evaluate, random_program
from exercises.solutions import ex02_calculus_gradients as ex
from exercises.solutions import ex02_calculus_gradients_applied as exa
from from_scratch.calculus import derivative
from tests.helpers import check_exercise_sheet


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
    check_exercise_sheet(SHEET, (ex, exa))


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
