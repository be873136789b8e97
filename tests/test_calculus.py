"""Lesson 2: finite differences against closed forms and their error laws, gradient descent against theory,
the 2-layer network layer by layer and step by step against torch, digits accuracy, and bad input."""
from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

import from_scratch.calculus as S
import torch_versions.calculus as T
from benchmarks.functions import smooth_map, smooth_scalar
from benchmarks.inputs import symmetric_with_spectrum
from benchmarks.train_digits import main as train_digits_main, train_both
from tests.helpers import to_numpy

LESSON_MODULE = "calculus"  # `impl`: scratch, and torch on every device under test (conftest.py)


# --- numerical differentiation ----------------------------------------------------------------------------------
def test_central_differences_match_closed_forms(rng) -> None:
    x = rng.uniform(-3, 3, 20)
    assert_allclose(S.derivative(np.sin, x), np.cos(x), rtol=1e-9, atol=1e-10)
    f = lambda z: (z ** 3).sum() + z[0] * z[1]  # noqa: E731
    g = 3 * x ** 2
    g[0] += x[1]
    g[1] += x[0]
    assert_allclose(S.gradient(f, x), g, rtol=1e-8, atol=1e-9)
    J = S.jacobian(lambda z: np.array([z[0] * z[1], np.exp(z[2])]), x[:3])
    assert_allclose(J, [[x[1], x[0], 0], [0, 0, np.exp(x[2])]], rtol=1e-8, atol=1e-9)


def test_jacobian_layout_and_hvp_match_torch_func(rng) -> None:
    x = rng.uniform(-1, 1, (2, 3))
    J = S.jacobian(lambda z: np.tanh(z).sum(0), x)
    J_ref = torch.func.jacrev(lambda z: torch.tanh(z).sum(0))(torch.from_numpy(x)).numpy()
    assert J.shape == J_ref.shape == (3, 2, 3)
    assert_allclose(J, J_ref, rtol=1e-8, atol=1e-9)
    x, v = rng.uniform(-1, 1, 5), rng.standard_normal(5)
    f_np, f_t = partial(smooth_scalar, xp=np), partial(smooth_scalar, xp=torch)
    exact = T.hessian_vector_product(f_t, torch.from_numpy(x), torch.from_numpy(v)).numpy()
    grad_exact = lambda z: T.gradient(f_t, torch.from_numpy(z)).numpy()  # noqa: E731
    assert_allclose(S.hessian_vector_product(f_np, x, v, grad=grad_exact), exact, rtol=1e-8, atol=1e-9)
    assert_allclose(S.hessian_vector_product(f_np, x, v), exact, rtol=1e-5, atol=1e-6)
    H = torch.func.hessian(f_t)(torch.from_numpy(x)).numpy()
    assert_allclose(exact, H @ v, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("side", ["scratch", "torch"])
def test_step_size_error_is_v_shaped_with_the_predicted_minima(side) -> None:
    steps = np.logspace(-14, -1, 131)
    if side == "scratch":
        err = S.step_size_errors(np.exp, np.exp, 0.7, steps)
    else:
        err = {k: v.numpy() for k, v in T.step_size_errors(torch.exp, torch.exp, 0.7, torch.from_numpy(steps)).items()}
    eps = np.finfo(np.float64).eps
    best_central, best_forward = steps[np.argmin(err["central"])], steps[np.argmin(err["forward"])]
    assert eps ** (1 / 3) / 30 < best_central < eps ** (1 / 3) * 30, best_central
    assert eps ** 0.5 / 30 < best_forward < eps ** 0.5 * 30, best_forward
    assert err["central"].min() < 1e-10 < err["forward"].min() < 1e-6
    # right of the minimum the truncation slopes are h^2 (central) and h (forward)
    big = steps > 1e-3
    slope_c = np.polyfit(np.log(steps[big]), np.log(err["central"][big]), 1)[0]
    slope_f = np.polyfit(np.log(steps[big]), np.log(err["forward"][big]), 1)[0]
    assert abs(slope_c - 2) < 0.1 and abs(slope_f - 1) < 0.1, (slope_c, slope_f)


def test_numerical_jacobian_matches_torch_jacobian(rng) -> None:
    x = rng.uniform(-1, 1, 4)
    J = S.jacobian(partial(smooth_map, xp=np), x)
    assert_allclose(J, T.jacobian(partial(smooth_map, xp=torch), torch.from_numpy(x)).numpy(), rtol=1e-8, atol=1e-9)


# --- gradient descent -------------------------------------------------------------------------------------------
def test_gradient_descent_on_a_quadratic_converges_at_the_theoretical_rate(impl, rng) -> None:
    lam = np.array([1.0, 4.0, 10.0])
    A, b = symmetric_with_spectrum(rng, lam), rng.standard_normal(3)
    x_star = np.linalg.solve(A, b)
    for lr in (0.05, 2 / (lam.min() + lam.max()), 0.19):
        res = impl("gradient_descent", "quadratic", np.zeros(3), lr, 200, A=A, b=b)
        err = np.linalg.norm(to_numpy(res.trajectory) - x_star, axis=1)
        rate = max(abs(1 - lr * lam))
        measured = (err[150] / err[100]) ** (1 / 50)
        assert abs(measured - rate) < 0.02 * rate, (lr, measured, rate)
    with pytest.raises(FloatingPointError, match="diverged"):
        impl("gradient_descent", "quadratic", np.ones(3), 2.5 / lam.max(), 5000, A=A, b=b)


def test_gradient_descent_descends_the_rosenbrock_valley(impl) -> None:
    res = impl("gradient_descent", "rosenbrock", np.array([-1.2, 1.0]), 1.5e-3, 20000)
    values = to_numpy(res.values)
    assert values[0] > 20 and values[-1] < 1e-4
    assert_allclose(to_numpy(res.trajectory)[-1], [1.0, 1.0], atol=2e-2)


# --- the 2-layer network ------------------------------------------------------------------------------------------
def _twins(rng, activation="tanh", D=6, H=9, C=4):
    torch.manual_seed(int(rng.integers(1 << 31)))
    net_t = T.TwoLayerNet(D, H, C, activation)
    net_s = S.TwoLayerNet(D, H, C, activation)
    net_s.load_state_dict({k: v.detach().numpy() for k, v in net_t.state_dict().items()})
    return net_s, net_t


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_gradients_agree_layer_by_layer(rng, activation) -> None:
    net_s, net_t = _twins(rng, activation)
    x, y = rng.standard_normal((11, 6)), rng.integers(0, 4, 11)
    loss_s = net_s.loss(x, y)
    grads_s = net_s.backward()
    loss_t = T.cross_entropy(net_t(torch.from_numpy(x)), torch.from_numpy(y))
    loss_t.backward()
    assert_allclose(loss_s, loss_t.item(), rtol=1e-13)
    for name, p in net_t.named_parameters():  # fc2 first would do as well: each layer is checked on its own
        assert_allclose(grads_s[name], p.grad.numpy(), rtol=1e-10, atol=1e-13, err_msg=name)


def test_hundred_sgd_steps_give_identical_losses(rng) -> None:
    net_s, net_t = _twins(rng, "relu")
    X, y = rng.standard_normal((64, 6)), rng.integers(0, 4, 64)
    loss_s = S.train_sgd(net_s, X, y, lr=0.2, n_steps=100, batch_size=16, seed=3)
    loss_t = T.train_sgd(net_t, torch.from_numpy(X), torch.from_numpy(y), lr=0.2, n_steps=100, batch_size=16, seed=3)
    assert loss_s.shape == (100,) and loss_s[-1] < loss_s[0]
    assert_allclose(loss_s, loss_t.numpy(), rtol=1e-12, atol=1e-14)
    for name, p in net_t.named_parameters():
        assert_allclose(net_s.state_dict()[name], p.detach().numpy(), rtol=1e-11, atol=1e-13, err_msg=name)


def test_batches_are_epoch_permutations() -> None:
    idx = S.batch_indices(10, 3, 7, seed=1)
    assert idx.shape == (7, 3)
    for epoch in range(2):  # 3 full batches per epoch: 9 distinct of the 10 samples
        assert len(set(idx[3 * epoch: 3 * epoch + 3].ravel())) == 9


def test_both_nets_reach_95_percent_on_digits() -> None:
    r = train_both(epochs=20)
    assert r["scratch"]["test_accuracy"] >= 0.95 and r["torch"]["test_accuracy"] >= 0.95, r
    assert r["max_loss_diff"] < 1e-10


def test_train_digits_command(tmp_path, capsys) -> None:
    assert train_digits_main(["--epochs", "2", "--target", "0.5", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "scratch" in out and "torch" in out and "test accuracy" in out
    assert (tmp_path / "digits.json").exists() and (tmp_path / "digits.png").exists()
    assert train_digits_main(["--epochs", "1", "--target", "1.01", "--out", str(tmp_path)]) == 1


# --- bad input ------------------------------------------------------------------------------------------------------
_r = np.random.default_rng(0)
W1, B1, W2, B2 = _r.standard_normal((5, 3)), _r.standard_normal(5), _r.standard_normal((4, 5)), _r.standard_normal(4)
X3 = _r.standard_normal((6, 3))
Y_OK = np.array([0, 1, 2, 3, 0, 1])
CASES = [
    ("mlp_loss", (X3, np.array([0, 1, 2, 4, 0, 1]), W1, B1, W2, B2), {}, ValueError, ["labels", "[0, 4)", "4"]),
    ("mlp_loss", (X3, np.array([0, 1, 2, 3, 0, -1]), W1, B1, W2, B2), {}, ValueError, ["labels", "-1"]),
    ("mlp_loss", (X3, Y_OK[:5], W1, B1, W2, B2), {}, ValueError, ["labels", "(6,)", "(5,)"]),
    ("mlp_loss", (X3, Y_OK.astype(float), W1, B1, W2, B2), {}, TypeError, ["labels", "integer"]),
    ("mlp_loss", (X3[:, :2], Y_OK, W1, B1, W2, B2), {}, ValueError, ["x", "weight1", "(6, 2)", "(5, 3)"]),
    ("mlp_loss", (X3, Y_OK, W1, B1[:4], W2, B2), {}, ValueError, ["bias1", "(5,)", "(4,)"]),
    ("mlp_loss", (np.where(X3 > 1, np.nan, X3), Y_OK, W1, B1, W2, B2), {}, ValueError, ["x", "finite"]),
    ("mlp_loss", (X3, Y_OK, W1, B1, W2, B2), {"activation": "gelu"}, ValueError, ["activation", "gelu"]),
    ("cross_entropy", (X3, Y_OK), {}, ValueError, ["labels", "[0, 3)"]),
    ("cross_entropy", (X3[0], Y_OK[:1]), {}, ValueError, ["logits", "2-D"]),
    ("gradient_descent", ("himmelblau", np.zeros(2), 0.1, 10), {}, ValueError, ["objective", "himmelblau"]),
    ("gradient_descent", ("rosenbrock", np.zeros(2), -0.1, 10), {}, ValueError, ["lr"]),
    ("gradient_descent", ("rosenbrock", np.zeros(2), 0.1, 0), {}, ValueError, ["n_steps"]),
    ("rosenbrock", (np.zeros(1),), {}, ValueError, ["x", "at least 2"]),
    ("quadratic", (np.zeros(3), np.eye(2), np.zeros(3)), {}, ValueError, ["x", "A", "b", "(2, 2)"]),
    ("quadratic", (np.zeros(2), np.array([[1.0, 2.0], [0.0, 1.0]]), np.zeros(2)), {}, ValueError, ["A", "symmetric"]),
    ("gradient", (lambda z: z * 2, np.ones(3)), {}, ValueError, ["scalar"]),
    ("hessian_vector_product", (lambda z: (z * z).sum(), np.ones(3), np.ones(2)), {}, ValueError, ["v", "(3,)"]),
    ("relu", (np.array([1.0, np.inf]),), {}, ValueError, ["x", "finite"]),
]


@pytest.mark.parametrize("fn,args,kwargs,exc,fragments", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_bad_input_raises_a_clear_error(impl, fn, args, kwargs, exc, fragments) -> None:
    if impl.name != "scratch" and fn in ("gradient", "hessian_vector_product"):
        args = tuple((lambda f: (lambda z: torch.as_tensor(f(z))))(a) if callable(a) else a for a in args)
    with pytest.raises(exc) as info:
        impl(fn, *args, **kwargs)
    missing = [f for f in fragments if f not in str(info.value)]
    assert not missing, f"{impl.name}.{fn}: message {str(info.value)!r} lacks {missing}"


def test_training_rejects_bad_settings(impl) -> None:
    net = (S.TwoLayerNet(3, 4, 2) if impl.name == "scratch" else T.TwoLayerNet(3, 4, 2))
    X, y = np.zeros((8, 3)), np.zeros(8, dtype=np.int64)
    with pytest.raises(ValueError, match="lr"):
        impl.module.train_sgd(net, impl.to_input(X), impl.to_input(y), -1.0, 10, 4)
    with pytest.raises(ValueError, match="batch_size"):
        impl.module.train_sgd(net, impl.to_input(X), impl.to_input(y), 0.1, 10, 9)
    with pytest.raises(ValueError, match="activation"):
        impl.module.TwoLayerNet(3, 4, 2, activation="swish")
