"""Lesson 4 (optimization) concept pairs for regularization and convergence:
from_scratch.optimization.{regularization, convergence} <-> torch_versions.optimization.{...}."""
from __future__ import annotations

import numpy as np

import from_scratch.optimization.convergence as SC
import from_scratch.optimization.regularization as SR
import torch_versions.optimization.convergence as TC
import torch_versions.optimization.regularization as TR
from benchmarks.inputs import dims
from benchmarks.registry import Concept, Tolerance

# Proximal gradient with lr <= 1/L is non-expansive: float32 round-off (~6e-8 a step) accumulates at most
# linearly, ~n_steps * eps32 relative over 50 steps; a coordinate sitting on the threshold moves by ~eps too.
PROXIMAL = {"float64": Tolerance(1e-10, 1e-12), "float32": Tolerance(1e-4, 1e-5)}
# Linear recursions x_{t+1} = M x_t: a relative perturbation grows at most like t (t^2 at the double roots of the
# momentum methods) while the signal decays at the same rate; over 60 float32 steps the histories stay within
# ~1e-6 relative (observed), 1e-4 leaves room for the t^2 growth. The fitted rate averages the logs.
RATES = {"float64": Tolerance(1e-10, 1e-12), "float32": Tolerance(1e-4, 1e-6)}
# Optimizer loss curves on Rosenbrock / logistic loss: adaptive steps g / sqrt(v) amplify round-off where v is
# small, and Rosenbrock's valley (curvature ~1e3) magnifies position errors; over 60-100 steps the float32 curves
# stay within ~1e-6 relative (observed), 5e-4 leaves room for that amplification.
CURVES = {"float64": Tolerance(1e-10, 1e-12), "float32": Tolerance(5e-4, 1e-5)}


# --- regularization -------------------------------------------------------------------------------------------------
def _l2_inputs(rng):
    out, inp = dims(rng, 1, 6), dims(rng, 1, 6)
    return {"weight": rng.standard_normal((out, inp)), "bias": rng.standard_normal(out),
            "weight_decay": float(rng.uniform(1e-3, 1.0))}


def _l2_backward(i, o, u):
    gw, gb = SR.l2_penalty_backward([i["weight"], i["bias"]], i["weight_decay"], u[0])
    return {"weight": gw, "bias": gb}


def _threshold_inputs(rng):
    """|x| at least 10 % of t away from the kink at |x| = t, so central differences never straddle it."""
    t = float(rng.uniform(0.2, 1.0))
    shape = (dims(rng, 1, 5), dims(rng, 1, 7))
    inside = rng.random(shape) < 0.4
    magnitude = np.where(inside, rng.uniform(0.0, 0.9 * t, shape), rng.uniform(1.1 * t, t + 2.0, shape))
    return {"x": rng.choice([-1.0, 1.0], shape) * magnitude, "threshold": t}


def _regression(rng, l1_ratio: bool):
    N, d = dims(rng, 10, 40), dims(rng, 2, 8)
    X = rng.standard_normal((N, d))
    w = rng.standard_normal(d) * (rng.random(d) < 0.6)  # a sparse truth, so some coefficients end at exact zeros
    y = X @ w + 0.3 * rng.standard_normal(N)
    rho = float(rng.uniform(0.1, 1.0)) if l1_ratio else 1.0
    alpha = float(rng.uniform(0.01, 0.5))
    L = np.linalg.eigvalsh(X.T @ X / N)[-1] + alpha * (1 - rho)
    inputs = {"X": X, "y": y, "alpha": alpha, "lr": float(1 / L), "n_steps": 50}
    return {**inputs, "l1_ratio": rho} if l1_ratio else inputs


def _dropout_inputs(rng):
    shape = (dims(rng, 1, 6), dims(rng, 1, 8))
    p = float(rng.uniform(0.0, 0.9))
    return {"x": rng.standard_normal(shape), "p": p, "mask": (rng.random(shape) >= p).astype(np.float64)}


# --- convergence ----------------------------------------------------------------------------------------------------
def _rate_inputs(method):
    def make(rng):
        kappa, n = float(rng.uniform(4.0, 100.0)), dims(rng, 2, 8)
        A, x0 = SC.conditioned_quadratic(np.linspace(1.0, kappa, n))
        return {"method": method, "A": A, "x0": x0, "mu": 1.0, "L": kappa, "n_steps": 60}
    return make


def _rate(lib):
    def run(method, A, x0, mu, L, n_steps):
        result = lib.measure_rate(method, A, x0, mu, L, n_steps)
        return result.errors, result.rate
    return run


def _fit_inputs(rng):
    T = dims(rng, 10, 60)
    log_errors = np.cumsum(np.log(rng.uniform(0.5, 0.99, T))) + 0.05 * rng.standard_normal(T)
    start = int(rng.integers(0, T - 2))
    return {"errors": np.exp(log_errors), "start": start, "stop": int(rng.integers(start + 2, T + 1))}


def _curves(lib, objective):
    def run(x0, n_steps, **data):
        return tuple(lib.compare_optimizers(objective, x0, n_steps, **data).values())
    return run


def _logistic_inputs(rng):
    N, d = dims(rng, 20, 60), dims(rng, 1, 4)
    X = rng.standard_normal((N, d))
    y = (rng.random(N) < 1 / (1 + np.exp(-X @ rng.standard_normal(d)))).astype(np.int64)
    return {"x0": 0.1 * rng.standard_normal(d + 1), "n_steps": 60, "X": X, "y": y, "C": float(rng.uniform(0.5, 2.0))}


CONCEPTS: list[Concept] = [
    Concept("l2_penalty", 4, lambda weight, bias, weight_decay: SR.l2_penalty([weight, bias], weight_decay),
            lambda weight, bias, weight_decay: TR.l2_penalty([weight, bias], weight_decay), _l2_inputs, ("penalty",),
            grad_wrt=("weight", "bias"), scratch_backward=_l2_backward,
            description="lambda/2 sum ||theta||^2 over a weight and a bias"),
    Concept("soft_threshold", 4, SR.soft_threshold, TR.soft_threshold, _threshold_inputs, ("y",), grad_wrt=("x",),
            scratch_backward=lambda i, o, u: {"x": SR.soft_threshold_backward(i["x"], i["threshold"], u[0])},
            description="prox of t||.||_1 vs F.softshrink, exact zeros"),
    Concept("ista", 4, SR.ista, TR.ista, lambda rng: _regression(rng, False), ("weight", "objective"),
            tolerances=PROXIMAL, description="50 ISTA steps (lasso) vs torch.optim.SGD + softshrink"),
    Concept("elastic_net", 4, SR.elastic_net, TR.elastic_net, lambda rng: _regression(rng, True),
            ("weight", "objective"), tolerances=PROXIMAL,
            description="50 proximal-gradient steps vs SGD(weight_decay) + softshrink"),
    Concept("dropout", 4, SR.dropout, TR.dropout, _dropout_inputs, ("y",), grad_wrt=("x",),
            scratch_backward=lambda i, o, u: {"x": SR.dropout_backward(i["x"], i["p"], i["mask"], u[0])},
            description="inverted dropout x * mask / (1 - p) with one mask"),
    *[Concept(f"measure_rate_{m}", 4, _rate(SC), _rate(TC), _rate_inputs(m), ("errors", "rate"), tolerances=RATES,
              description=f"60 steps of tuned {m} on a quadratic, kappa in [4, 100], vs torch.optim.SGD")
      for m in SC.RATE_METHODS],
    Concept("fit_rate", 4, SC.fit_rate, TC.fit_rate, _fit_inputs, ("rate",),
            description="least-squares slope of log errors vs torch.linalg.lstsq"),
    Concept("conditioned_quadratic", 4, SC.conditioned_quadratic, TC.conditioned_quadratic,
            lambda rng: {"eigenvalues": rng.uniform(0.5, 10.0, dims(rng, 1, 8))}, ("A", "x0"),
            description="Q diag(lambda) Q^T with the DCT-II basis"),
    Concept("compare_optimizers_rosenbrock", 4, _curves(SC, "rosenbrock"), _curves(TC, "rosenbrock"),
            lambda rng: {"x0": np.array([-1.2, 1.0]) + rng.uniform(-0.2, 0.2, 2), "n_steps": 100},
            tuple(SC.COMPARISON_OPTIMIZERS["rosenbrock"]), tolerances=CURVES,
            description="100 steps of 7 optimizers on Rosenbrock vs torch.optim built-ins"),
    Concept("compare_optimizers_logistic", 4, _curves(SC, "logistic"), _curves(TC, "logistic"), _logistic_inputs,
            tuple(SC.COMPARISON_OPTIMIZERS["logistic"]), tolerances=CURVES,
            description="60 steps of 7 optimizers on the L2 logistic loss vs torch.optim built-ins"),
]
