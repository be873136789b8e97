"""Lesson 2 (calculus and gradients) concept pairs: from_scratch.calculus <-> torch_versions.calculus.

The scalar autodiff engine (``Value``) has its own module, ``lesson02_autodiff.py``.
"""
from __future__ import annotations

from functools import partial

import numpy as np
import torch

import from_scratch.calculus as S
import torch_versions.calculus as T
from benchmarks.functions import smooth_elementwise, smooth_map, smooth_scalar
from benchmarks.inputs import dims, spread_values, symmetric_with_spectrum
from benchmarks.registry import Concept, Tolerance


def _sym(A):
    return 0.5 * (A + A.T)


# Central differences against exact autograd: the error h^2 |f'''|/6 + eps |f|/h is about eps^(2/3), ~1e-10 in
# float64 and ~1e-4 in float32 for these O(1) functions.
FINITE_DIFF = {"float64": Tolerance(1e-7, 1e-8), "float32": Tolerance(2e-3, 5e-4)}
# Nested differences: the inner gradient's error ~eps^(2/3) is divided by the outer step eps^(1/4), so the
# error is ~eps^(5/12): about 3e-7 in float64 and 1e-3 in float32.
HVP_NESTED = {"float64": Tolerance(1e-5, 1e-6), "float32": Tolerance(5e-2, 2e-2)}


def _vector(rng):
    return {"x": rng.uniform(-1.5, 1.5, dims(rng, 2, 6))}


def _fd_concepts() -> list[Concept]:
    def pair(scratch_op, torch_op, fn):
        return (lambda x: scratch_op(partial(fn, xp=np), x), lambda x: torch_op(partial(fn, xp=torch), x))

    hvp = (lambda x, v: S.hessian_vector_product(partial(smooth_scalar, xp=np), x, v),
           lambda x, v: T.hessian_vector_product(partial(smooth_scalar, xp=torch), x, v))
    return [
        Concept("derivative", 2, *pair(S.derivative, T.derivative, smooth_elementwise),
                lambda rng: {"x": rng.uniform(-2, 2, (dims(rng, 1, 3), dims(rng, 1, 6)))}, ("df",),
                tolerances=FINITE_DIFF, exact=False, description="central differences vs autograd, elementwise f"),
        Concept("gradient", 2, *pair(S.gradient, T.gradient, smooth_scalar), _vector, ("grad",),
                tolerances=FINITE_DIFF, exact=False, description="central differences vs torch.func.grad"),
        Concept("jacobian", 2, *pair(S.jacobian, T.jacobian, smooth_map), _vector, ("J",),
                tolerances=FINITE_DIFF, exact=False, description="central differences vs torch.func.jacrev"),
        Concept("hessian_vector_product", 2, *hvp, _hvp_inputs,
                ("Hv",), tolerances=HVP_NESTED, exact=False,
                description="nested central differences vs jvp(grad(f))"),
    ]


def _hvp_inputs(rng):
    x = rng.uniform(-1.5, 1.5, dims(rng, 2, 6))
    return {"x": x, "v": rng.standard_normal(x.shape)}


def _activation_concepts() -> list[Concept]:
    out = []
    for name, backward in (("relu", S.relu_backward), ("tanh", S.tanh_backward), ("sigmoid", S.sigmoid_backward)):
        out.append(Concept(name, 2, getattr(S, name), getattr(T, name),
                           lambda rng: {"x": rng.uniform(-4, 4, (dims(rng, 1, 4), dims(rng, 1, 7)))}, ("y",),
                           grad_wrt=("x",), scratch_backward=lambda i, o, u, bw=backward: {"x": bw(i["x"], u[0])},
                           description=f"{name} and its derivative"))
    return out


def _logits(rng):
    N, C = dims(rng, 1, 8), dims(rng, 2, 6)
    return {"logits": rng.standard_normal((N, C)) * 3, "labels": rng.integers(0, C, N)}


def _mlp_inputs(rng):
    N, D, H, C = dims(rng, 1, 8), dims(rng, 1, 6), dims(rng, 1, 8), dims(rng, 2, 5)
    s = lambda *shape: rng.standard_normal(shape) / np.sqrt(shape[-1])  # noqa: E731
    return {"x": rng.standard_normal((N, D)), "labels": rng.integers(0, C, N), "weight1": s(H, D), "bias1": s(H),
            "weight2": s(C, H), "bias2": s(C), "activation": str(rng.choice(["relu", "tanh", "sigmoid"]))}


def _mlp_backward(i, o, u):
    args = {k: i[k] for k in ("x", "labels", "weight1", "bias1", "weight2", "bias2")}
    return S.mlp_loss_backward(**args, grad_out=u[0], activation=i["activation"])


def _quadratic_inputs(rng):
    n = dims(rng, 1, 6)
    return {"x": rng.standard_normal(n), "A": symmetric_with_spectrum(rng, spread_values(rng, n)), "b": rng.standard_normal(n)}


def _quadratic_backward(i, o, u):
    gx, gA, gb = S.quadratic_backward(i["x"], _sym(i["A"]), i["b"], u[0])
    return {"x": gx, "A": gA, "b": gb}  # through sym(A): grad = sym(gA) = gA, which is symmetric


def _descent(lib, objective):
    def run(x0, lr, n_steps, **params):
        r = lib.gradient_descent(objective, x0, lr, n_steps, **params)
        return r.trajectory, r.values
    return run


def _descent_quadratic_inputs(rng):
    inputs = _quadratic_inputs(rng)
    lam_max = np.linalg.eigvalsh(inputs["A"]).max()
    return {"x0": inputs["x"], "A": inputs["A"], "b": inputs["b"], "lr": float(1.0 / lam_max), "n_steps": 50}


def _train(lib):
    def run(X, y, weight1, bias1, weight2, bias2, n_steps, batch_size):
        on_device = {"device": X.device} if lib is T else {}
        model = lib.TwoLayerNet(X.shape[1], weight1.shape[0], weight2.shape[0], dtype=X.dtype, **on_device)
        model.load_state_dict({"fc1.weight": weight1, "fc1.bias": bias1, "fc2.weight": weight2, "fc2.bias": bias2})
        return lib.train_sgd(model, X, y, lr=0.1, n_steps=n_steps, batch_size=batch_size, seed=0)
    return run


def _train_inputs(rng):
    inputs = _mlp_inputs(rng)
    N, D, C = 40, inputs["x"].shape[1], inputs["weight2"].shape[0]
    return {"X": rng.standard_normal((N, D)), "y": rng.integers(0, C, N), **{k: inputs[k] for k in ("weight1", "bias1", "weight2", "bias2")},
            "n_steps": 100, "batch_size": 8}


CONCEPTS: list[Concept] = _fd_concepts() + _activation_concepts() + [
    Concept("log_softmax", 2, S.log_softmax, T.log_softmax, lambda rng: {"z": _logits(rng)["logits"]}, ("y",),
            grad_wrt=("z",), scratch_backward=lambda i, o, u: {"z": S.log_softmax_backward(i["z"], u[0])},
            description="max-shifted log-softmax"),
    Concept("cross_entropy", 2, S.cross_entropy, T.cross_entropy, _logits, ("loss",), grad_wrt=("logits",),
            scratch_backward=lambda i, o, u: {"logits": S.cross_entropy_backward(i["logits"], i["labels"], u[0])},
            description="mean softmax cross-entropy vs F.cross_entropy"),
    Concept("mlp_loss", 2, S.mlp_loss, T.mlp_loss, _mlp_inputs, ("loss",),
            grad_wrt=("x", "weight1", "bias1", "weight2", "bias2"), scratch_backward=_mlp_backward,
            description="2-layer net, hand-written backprop layer by layer"),
    Concept("quadratic", 2, lambda x, A, b: S.quadratic(x, _sym(A), b), lambda x, A, b: T.quadratic(x, _sym(A), b),
            _quadratic_inputs, ("f",), grad_wrt=("x", "A", "b"), scratch_backward=_quadratic_backward,
            description="1/2 x^T A x - b^T x"),
    Concept("rosenbrock", 2, S.rosenbrock, T.rosenbrock, lambda rng: {"x": rng.uniform(-2, 2, dims(rng, 2, 6))},
            ("f",), grad_wrt=("x",), scratch_backward=lambda i, o, u: {"x": S.rosenbrock_backward(i["x"], u[0])},
            description="Rosenbrock valley, a = 1, b = 100"),
    Concept("gradient_descent_quadratic", 2, _descent(S, "quadratic"), _descent(T, "quadratic"),
            _descent_quadratic_inputs, ("trajectory", "values"), description="50 steps, lr = 1/lambda_max, vs torch.optim.SGD"),
    Concept("gradient_descent_rosenbrock", 2, _descent(S, "rosenbrock"), _descent(T, "rosenbrock"),
            lambda rng: {"x0": rng.uniform(-1.5, 1.5, 2), "lr": 1e-3, "n_steps": 200}, ("trajectory", "values"),
            description="200 steps, lr = 1e-3, vs torch.optim.SGD"),
    Concept("train_sgd", 2, _train(S), _train(T), _train_inputs, ("losses",),
            description="100 SGD steps of the 2-layer net, same init and mini-batches"),
]
