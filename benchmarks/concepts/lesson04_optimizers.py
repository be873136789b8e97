"""Lesson 4 (optimization) concept pairs: from_scratch.optimization <-> torch_versions.optimization.

Optimizers: from the same initial parameters (a weight matrix and a bias vector in two param groups with different
lrs) and the same random gradient sequence, 200 steps; compared are the final parameters and the trajectory of
one weight entry. The torch side is the twin's ``torch.optim.Optimizer`` subclass fed through ``p.grad``.
Schedules: the lr of both param groups at steps 0..N. Clipping: the clipped gradients and the total norm.
"""
from __future__ import annotations

import numpy as np
import torch

import from_scratch.optimization.optimizers as SO
import from_scratch.optimization.schedules as SS
import torch_versions.optimization.optimizers as TO
import torch_versions.optimization.schedules as TS
from benchmarks.inputs import dims
from benchmarks.registry import DEFAULT_TOLERANCES, Concept, Tolerance

N_STEPS = 200
BIAS_LR = 0.3  # the bias group's lr, relative to the weight group's

# float64 agrees to ~1e-15 (measured). float32: every step rounds each parameter by about ulp(theta) ~ 6e-8|theta|
# and these errors add over 200 steps, from a random walk (sqrt(200) ~ 14 ulps) up to 200 ulps ~ 1.2e-5 relative;
# entries near 0 need the atol (200 steps x lr x 1e-7 relative error of the step). Measured worst: ~3e-6.
TRAJECTORY = {"float64": DEFAULT_TOLERANCES["float64"], "float32": Tolerance(rtol=2e-5, atol=2e-6)}
# Schedules are Python-float arithmetic (no float arrays in or out, so float64 only): closed form vs torch's
# recursion differs by a few ulps after hundreds of steps (measured <= 1e-15 relative).
SCHEDULE = {"float64": Tolerance(rtol=1e-13, atol=1e-16)}
# Cosine after T_max: torch's recursion divides by 1 + cos(pi (t-1)/T) ~ (pi/T)^2/2 at t = T+2, so its rounding
# error becomes relative eps 2T^2/pi^2 (~6e-13 for T = 120) and stays in every later lr; measured worst over 300
# seeds 3.1e-13 (the first period agrees to 1.3e-15 base_lr, checked in tests/test_schedules.py).
COSINE = {"float64": Tolerance(rtol=2e-12, atol=1e-15)}


def _optimizer_inputs(lr_low: float, lr_high: float):
    def make(rng):
        m, n = dims(rng, 1, 5), dims(rng, 1, 6)
        return {"weight": rng.standard_normal((m, n)), "bias": rng.standard_normal(m),
                "grads_weight": rng.standard_normal((N_STEPS, m, n)), "grads_bias": rng.standard_normal((N_STEPS, m)),
                "lr": float(rng.uniform(lr_low, lr_high))}
    return make


def _run_scratch(cls, options):
    def run(weight, bias, grads_weight, grads_bias, lr):
        w, b = weight.copy(), bias.copy()
        opt = cls([{"params": [w]}, {"params": [b], "lr": lr * BIAS_LR}], lr=lr, **options)
        trajectory = np.empty(len(grads_weight), dtype=w.dtype)
        for t, (gw, gb) in enumerate(zip(grads_weight, grads_bias)):
            opt.step([gw, gb])  # updates w and b in place
            trajectory[t] = w.flat[0]
        return w, b, trajectory
    return run


def _run_torch(cls, options):
    def run(weight, bias, grads_weight, grads_bias, lr):
        w, b = weight.detach().clone().requires_grad_(), bias.detach().clone().requires_grad_()
        opt = cls([{"params": [w]}, {"params": [b], "lr": lr * BIAS_LR}], lr=lr, **options)
        trajectory = []
        for gw, gb in zip(grads_weight, grads_bias):
            w.grad, b.grad = gw, gb
            opt.step()
            trajectory.append(w.detach().reshape(-1)[0].clone())
        return w.detach(), b.detach(), torch.stack(trajectory)
    return run


#: (concept name, class name, options, lr range): each optimizer and its key option combinations.
OPTIMIZER_CASES = [
    ("sgd", "SGD", {}, (0.01, 0.1)),
    ("sgd_momentum_dampening", "SGD", {"momentum": 0.9, "dampening": 0.1}, (0.01, 0.05)),
    ("sgd_nesterov_weight_decay", "SGD", {"momentum": 0.9, "nesterov": True, "weight_decay": 1e-2}, (0.01, 0.05)),
    ("adagrad", "Adagrad", {}, (0.05, 0.2)),
    ("adagrad_decay_accumulator", "Adagrad", {"lr_decay": 1e-2, "weight_decay": 1e-2, "initial_accumulator_value": 0.1},
     (0.05, 0.2)),
    ("rmsprop", "RMSprop", {}, (1e-3, 1e-2)),
    ("rmsprop_centered_momentum", "RMSprop", {"centered": True, "momentum": 0.9, "weight_decay": 1e-2, "alpha": 0.9},
     (1e-3, 1e-2)),
    ("adam", "Adam", {}, (1e-3, 3e-2)),
    ("adam_l2_amsgrad", "Adam", {"weight_decay": 0.1, "amsgrad": True, "betas": (0.8, 0.99)}, (1e-3, 3e-2)),
    ("adamw", "AdamW", {}, (1e-3, 3e-2)),
    ("adamw_amsgrad", "AdamW", {"weight_decay": 0.1, "amsgrad": True, "eps": 1e-6}, (1e-3, 3e-2)),
]


def _optimizer_concepts() -> list[Concept]:
    return [Concept(name, 4, _run_scratch(getattr(SO, cls), options), _run_torch(getattr(TO, cls), options),
                    _optimizer_inputs(*lrs), ("weight", "bias", "weight_trajectory"), tolerances=TRAJECTORY,
                    description=f"{N_STEPS} steps of {cls}({', '.join(f'{k}={v}' for k, v in options.items())}), "
                                "2 param groups, same gradients")
            for name, cls, options, lrs in OPTIMIZER_CASES]


def _schedule(lib, optim, make_param):
    """Run a scheduler of ``lib`` over n_steps on an SGD with two groups (lr and 0.3 lr); lrs of steps 0..n."""
    def run(scheduler, base_lr, n_steps, **kwargs):
        opt = optim.SGD([{"params": [make_param()]}, {"params": [make_param()], "lr": base_lr * BIAS_LR}], lr=base_lr)
        sched = getattr(lib, scheduler)(opt, **kwargs)
        lrs = [sched.get_last_lr()]
        for _ in range(n_steps):
            if lib is SS:  # the optimizer steps first, then the scheduler (no gradients: lrs only)
                opt.step([None, None])
            else:
                opt.step()
            sched.step()
            lrs.append(sched.get_last_lr())
        return np.array(lrs) if lib is SS else torch.tensor(lrs, dtype=torch.float64)
    return run


def _schedule_inputs(scheduler: str, draw):
    def make(rng):
        return {"scheduler": scheduler, "base_lr": float(rng.uniform(0.01, 1.0)), **draw(rng)}
    return make


def _cosine_args(rng):
    T = dims(rng, 5, 120)  # 2.5 periods: after T_max the cosine rises again, in torch's recursion too
    return {"n_steps": 5 * T // 2, "T_max": T, "eta_min": float(rng.choice([0.0, 1e-3]))}


def _warmup_args(rng):
    W = dims(rng, 0, 30)  # 50 steps past total_steps: held at eta_min
    return {"n_steps": W + 150, "warmup_steps": W, "total_steps": W + 100, "eta_min": float(rng.choice([0.0, 1e-3]))}


SCHEDULE_CASES = [
    ("step_lr", "StepLR",
     lambda rng: {"n_steps": 100, "step_size": dims(rng, 1, 20), "gamma": float(rng.uniform(0.1, 0.9))}),
    ("exponential_lr", "ExponentialLR", lambda rng: {"n_steps": 200, "gamma": float(rng.uniform(0.9, 0.999))}),
    ("cosine_annealing_lr", "CosineAnnealingLR", _cosine_args),
    ("linear_warmup_cosine", "LinearWarmupCosine", _warmup_args),
]


def _schedule_concepts() -> list[Concept]:
    scratch = _schedule(SS, SO, lambda: np.zeros(1))
    twin = _schedule(TS, TO, lambda: torch.zeros(1, requires_grad=True))
    return [Concept(name, 4, scratch, twin, _schedule_inputs(cls, draw), ("lr",),
                    tolerances=COSINE if cls == "CosineAnnealingLR" else SCHEDULE,
                    description=f"{cls}: lr of 2 param groups step by step")
            for name, cls, draw in SCHEDULE_CASES]


def _clip_inputs(rng):
    grads = {f"g{i}": rng.standard_normal(tuple(dims(rng, 1, 5) for _ in range(i + 1))) * rng.uniform(0.1, 3)
             for i in range(3)}
    norm_type = float(rng.choice([1.0, 2.0, 3.0, np.inf]))
    total = np.linalg.norm([np.linalg.norm(g.ravel(), norm_type) for g in grads.values()], norm_type)
    return {**grads, "max_norm": float(total * rng.uniform(0.2, 1.8)), "norm_type": norm_type}  # clips or not


def _clip(clip, copy):
    def run(g0, g1, g2, max_norm, norm_type):
        grads = [copy(g) for g in (g0, g1, g2)]
        total = clip(grads, max_norm, norm_type)
        return (*grads, total)
    return run


CONCEPTS: list[Concept] = _optimizer_concepts() + _schedule_concepts() + [
    Concept("clip_grad_norm", 4, _clip(SS.clip_grad_norm, np.copy), _clip(TS.clip_grad_norm, torch.clone), _clip_inputs,
            ("g0", "g1", "g2", "total_norm"), description="vs torch.nn.utils.clip_grad_norm_, p in {1, 2, 3, inf}"),
]
