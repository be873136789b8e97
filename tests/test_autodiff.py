"""The scalar autodiff engine (lesson 2) and its torch twin: every op against its closed form, node reuse,
repeated ``backward`` semantics, deep graphs, bad input, and random programs against autograd on plain tensors.

Both engines are judged in float64 with explicit tolerances; the torch twin runs on every device under test.
"""
from __future__ import annotations

import math
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

import from_scratch.calculus.autodiff as S
import torch_versions.calculus.autodiff as T
from benchmarks.expressions import OPS, chain_program, evaluate, random_program

RTOL, ATOL = 1e-13, 1e-15  # one op, double precision: a few ulps
#: ``evaluate`` with plain tensors (tensors have .exp(), .log(), ... too): the reference uses no Value class.
PLAIN_TORCH = SimpleNamespace(Value=torch.Tensor)


def _engines(device: str):
    """name -> Value constructor, for the scratch engine and the torch twin on ``device`` (float64)."""
    return {"scratch": S.Value,
            "torch": lambda x, label="": T.Value(torch.tensor(float(x), dtype=torch.float64, device=device), label)}


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


# name -> (expression of one Value, f(x), f'(x), points): f and f' are the textbook closed forms.
UNARY = {
    "exp": (lambda v: v.exp(), math.exp, math.exp, [-1.3, 0.0, 2.1]),
    "log": (lambda v: v.log(), math.log, lambda x: 1 / x, [0.3, 1.0, 7.5]),
    "tanh": (lambda v: v.tanh(), math.tanh, lambda x: 1 / math.cosh(x) ** 2, [-2.0, 0.0, 0.7]),
    "relu": (lambda v: v.relu(), lambda x: max(x, 0.0), lambda x: float(x > 0), [-1.5, 0.0, 2.0]),
    "sigmoid": (lambda v: v.sigmoid(), _sigmoid, lambda x: math.exp(-x) / (1 + math.exp(-x)) ** 2,
                [-30.0, -3.0, 0.0, 4.0]),
    "neg": (lambda v: -v, lambda x: -x, lambda x: -1.0, [-1.0, 2.5]),
    "pow_int": (lambda v: v ** 3, lambda x: x ** 3, lambda x: 3 * x ** 2, [-1.5, 0.0, 2.0]),
    "pow_half": (lambda v: v ** 0.5, math.sqrt, lambda x: 0.5 / math.sqrt(x), [0.25, 4.0]),
    "pow_negative": (lambda v: v ** -2, lambda x: x ** -2, lambda x: -2 * x ** -3, [-1.5, 0.5]),
    "pow_zero": (lambda v: v ** 0, lambda x: 1.0, lambda x: 0.0, [-2.0, 0.0, 3.0]),
    "add_const": (lambda v: v + 2.5, lambda x: x + 2.5, lambda x: 1.0, [-1.0, 3.0]),
    "radd_const": (lambda v: 2.5 + v, lambda x: 2.5 + x, lambda x: 1.0, [-1.0, 3.0]),
    "sub_const": (lambda v: v - 2.5, lambda x: x - 2.5, lambda x: 1.0, [-1.0, 3.0]),
    "rsub_const": (lambda v: 2.5 - v, lambda x: 2.5 - x, lambda x: -1.0, [-1.0, 3.0]),
    "mul_const": (lambda v: v * 3, lambda x: 3 * x, lambda x: 3.0, [-1.0, 3.0]),
    "rmul_const": (lambda v: 3 * v, lambda x: 3 * x, lambda x: 3.0, [-1.0, 3.0]),
    "div_const": (lambda v: v / 4, lambda x: x / 4, lambda x: 0.25, [-1.0, 3.0]),
    "rdiv_const": (lambda v: 3 / v, lambda x: 3 / x, lambda x: -3 / x ** 2, [-1.0, 0.7]),
}
# name -> (expression of two Values, f(a, b), (df/da, df/db))
BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b, lambda a, b: (1.0, 1.0)),
    "sub": (lambda a, b: a - b, lambda a, b: a - b, lambda a, b: (1.0, -1.0)),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, lambda a, b: (b, a)),
    "div": (lambda a, b: a / b, lambda a, b: a / b, lambda a, b: (1 / b, -a / b ** 2)),
}


@pytest.mark.parametrize("op", UNARY)
def test_unary_op_value_and_derivative(op: str, device: str) -> None:
    expr, f, df, points = UNARY[op]
    for x0 in points:
        results = {}
        for name, make in _engines(device).items():
            x = make(x0)
            y = expr(x)
            y.backward()
            results[name] = (y.data, x.grad)
            assert_allclose(y.data, f(x0), RTOL, ATOL, err_msg=f"{name} {op}({x0}) value")
            assert_allclose(x.grad, df(x0), RTOL, ATOL, err_msg=f"{name} d{op}/dx at {x0}")
        assert_allclose(results["scratch"], results["torch"], RTOL, ATOL, err_msg=f"{op}({x0}): scratch vs torch")


@pytest.mark.parametrize("op", BINARY)
def test_binary_op_value_and_derivatives(op: str, device: str) -> None:
    expr, f, df = BINARY[op]
    for a0, b0 in [(1.5, -0.4), (-2.0, 3.0), (0.0, 0.25)]:
        results = {}
        for name, make in _engines(device).items():
            a, b = make(a0), make(b0)
            y = expr(a, b)
            y.backward()
            results[name] = (y.data, a.grad, b.grad)
            assert_allclose(y.data, f(a0, b0), RTOL, ATOL, err_msg=f"{name} {op}({a0}, {b0}) value")
            assert_allclose((a.grad, b.grad), df(a0, b0), RTOL, ATOL, err_msg=f"{name} grads of {op}({a0}, {b0})")
        assert_allclose(results["scratch"], results["torch"], RTOL, ATOL, err_msg=f"{op}: scratch vs torch")


def test_reused_nodes_accumulate_gradients(device: str) -> None:
    for name, make in _engines(device).items():
        x = make(3.0)
        (x * x).backward()
        assert x.grad == pytest.approx(6.0, rel=1e-15), f"{name}: d(x*x)/dx"

        x, y = make(2.0), make(-0.5)
        a = x + y
        b = a * a + a  # db/da = 2a + 1 = 4, through three uses of a
        b.backward()
        assert (x.grad, y.grad, a.grad) == pytest.approx((4.0, 4.0, 4.0), rel=1e-15), name

        x = make(0.7)  # x in three branches: f = e^x x + tanh(x) - x/2
        f = x.exp() * x + x.tanh() - x / 2
        f.backward()
        want = math.exp(0.7) * 1.7 + 1 / math.cosh(0.7) ** 2 - 0.5
        assert_allclose(x.grad, want, RTOL, ATOL, err_msg=f"{name}: x in several branches")


def test_repeated_backward_adds_one_gradient_per_call(device: str) -> None:
    """Both engines: each ``backward()`` *adds* d out/d v to every node's ``.grad`` (torch: leaves and
    ``retain_grad`` tensors); ``zero_grad()`` clears the graph. A naive micrograd sweep that reuses the stale
    interior ``.grad`` would give 3x the leaf gradient on the second call instead of 2x."""
    for name, make in _engines(device).items():
        x = make(0.4)
        y = x * x
        z = y.exp()
        dz_dx, dz_dy = 2 * 0.4 * math.exp(0.16), math.exp(0.16)
        z.backward()
        z.backward()
        assert_allclose((x.grad, y.grad), (2 * dz_dx, 2 * dz_dy), RTOL, ATOL, err_msg=f"{name}: second backward")
        z.zero_grad()
        assert (x.grad, y.grad, z.grad) == (0.0, 0.0, 0.0), name
        z.backward()
        assert_allclose(x.grad, dz_dx, RTOL, ATOL, err_msg=f"{name}: after zero_grad")
        w = x.tanh()  # a second output sharing the leaf: its gradient is added as well
        w.backward()
        assert_allclose(x.grad, dz_dx + 1 - math.tanh(0.4) ** 2, RTOL, ATOL, err_msg=f"{name}: two outputs")


def test_deep_chain_has_no_recursion_limit(device: str) -> None:
    depth = 10_000
    assert depth > 5 * sys.getrecursionlimit()
    for name, make in _engines(device).items():
        x = make(0.3)
        y = x
        for _ in range(depth):
            y = y * 0.9999 + 0.001  # dy/dx = 0.9999^depth
        y.backward()
        assert_allclose(x.grad, 0.9999 ** depth, 1e-10, 0, err_msg=f"{name}: 10k-deep chain")
        order = S.topological_order(y) if name == "scratch" else T.topological_order(y)
        assert len(order) == 1 + 4 * depth, name  # x, then (constant, *, constant, +) per link
        assert order[-1] is y and any(v is x for v in order), name


def test_topological_order_puts_parents_first() -> None:
    x, y = S.Value(1.0, "x"), S.Value(2.0, "y")
    a = x * y
    b = a + x
    out = a * b + y
    order = S.topological_order(out)
    position = {id(v): k for k, v in enumerate(order)}
    assert len(position) == len(order) == 6 and order[-1] is out
    for v in order:
        assert all(position[id(p)] < position[id(v)] for p in v._prev)


@pytest.mark.parametrize("x0", [1000.0, -1000.0, 745.5, -745.5])
def test_sigmoid_is_stable_for_large_inputs(x0: float, device: str) -> None:
    for name, make in _engines(device).items():
        x = make(x0)
        s = x.sigmoid()
        s.backward()
        assert s.data == (1.0 if x0 > 0 else 0.0) and x.grad == 0.0, f"{name}: sigmoid({x0}) = {s}, grad {x.grad}"
    assert S.Value(1000.0).exp().data == math.inf == T.Value(1000.0).exp().data  # exp saturates like IEEE


@pytest.mark.parametrize("lib", [S, T], ids=["scratch", "torch"])
def test_bad_input_raises(lib) -> None:
    with pytest.raises(ValueError, match="positive"):
        lib.Value(-1.0).log()
    with pytest.raises(ValueError, match="positive"):
        lib.Value(0.0).log()
    with pytest.raises(ValueError, match="negative base"):
        lib.Value(-8.0) ** (1 / 3)
    with pytest.raises(ZeroDivisionError):
        lib.Value(0.0) ** -1
    with pytest.raises(ZeroDivisionError):
        lib.Value(1.0) / 0
    with pytest.raises(ZeroDivisionError):
        1.0 / lib.Value(0.0)
    with pytest.raises(TypeError, match="str"):
        lib.Value(1.0) + "2"
    with pytest.raises(TypeError, match="NoneType"):
        lib.Value(1.0) * None
    with pytest.raises(TypeError, match="list"):
        [1.0] - lib.Value(1.0)
    with pytest.raises(TypeError, match="Value"):
        lib.Value(2.0) ** lib.Value(2.0)  # only constant exponents
    with pytest.raises(TypeError, match="str"):
        lib.Value("1.0")


def test_torch_value_tensor_handling() -> None:
    assert T.Value(2).tensor.dtype == torch.float64 and T.Value(2).tensor.requires_grad
    x = torch.tensor([0.5, -1.0], dtype=torch.float32, requires_grad=True)
    a, b = (T.Value(t) for t in x.unbind())  # attached to x, dtype kept; constants follow it
    y = a * b * 2.0 + 1.0
    assert y.tensor.dtype == torch.float32
    y.backward()
    torch.testing.assert_close(x.grad, torch.tensor([-2.0, 1.0]))
    assert (a.grad, b.grad) == (-2.0, 1.0)
    with pytest.raises(ValueError, match="0-d"):
        T.Value(torch.ones(3))
    c = torch.tensor(3.0)
    T.Value(c).backward()
    assert c.grad is None and not c.requires_grad  # an unattached tensor becomes a new leaf; the caller's is untouched


def test_repr() -> None:
    for lib in (S, T):
        assert repr(lib.Value(2.0, "x")) == "Value(data=2.0, grad=0.0, label='x')"
        assert repr(lib.Value(-1)) == "Value(data=-1.0, grad=0.0)"


@pytest.mark.parametrize("seed", range(20))
def test_random_programs_match_autograd_on_plain_tensors(seed: int, device: str) -> None:
    """Reference: the same program on plain tensors differentiated by ``torch.func.grad`` (no Value class)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 7))
    program = random_program(rng, n, int(rng.integers(n, 30)))
    leaves = rng.uniform(-2, 2, n)

    def f(x: torch.Tensor) -> torch.Tensor:
        return evaluate(program, x.unbind(), PLAIN_TORCH)

    x = torch.tensor(leaves, device=device)
    want_value, want_grad = f(x).item(), torch.func.grad(f)(x).cpu().numpy()
    for name, make in _engines(device).items():
        xs = [make(v) for v in leaves]
        out = evaluate(program, xs, S if name == "scratch" else T)
        out.backward()
        assert_allclose(out.data, want_value, 1e-12, 1e-12, err_msg=f"{name} seed {seed}: value")
        assert_allclose([v.grad for v in xs], want_grad, 1e-12, 1e-12, err_msg=f"{name} seed {seed}: grad")


def test_generated_programs_are_domain_safe_and_use_every_op() -> None:
    """Every step's result stays within the generator's bound, every leaf feeds a step, every op occurs."""
    seen = set()
    for seed in range(30):
        rng = np.random.default_rng(seed)
        program = random_program(rng, 4, 25, leaf_bound=2.0, limit=10.0)
        leaves = rng.uniform(-2, 2, 4)
        seen.update(step[0] for step in program)
        assert {i for _, operands, _ in program[:-1] for i in operands} >= set(range(4))
        for k in range(len(program) - 1):
            assert abs(evaluate(program[:k + 1], leaves.tolist(), S).data) <= 10.0, (seed, program[k])
    assert seen == set(OPS) | {"sum"}
    chain = chain_program(np.random.default_rng(0), 3, 30)
    assert len(chain) == 31 and chain[-1] == ("sum", (32,), ())
    with pytest.raises(ValueError, match="leaves"):
        evaluate(program, [0.0], S)  # too few leaves for the program
