"""Lesson 3 loss functions: from_scratch.probability.losses <-> torch_versions.probability.losses.

Each draw picks a random shape and random options (reduction, ignore_index rows, label smoothing, pos_weight,
gamma/alpha, log_target). Inputs keep away from the kinks (|input - target| near 0 for l1, near delta for Huber),
so central differences are valid there. The ``*_extreme`` entries mix logits of +-1e4 and +-50, where a naive
sigmoid/softmax overflows: values and gradients must still agree and be finite.
"""
from __future__ import annotations

import numpy as np

import from_scratch.probability.losses as S
import torch_versions.probability.losses as T
from benchmarks.inputs import dims
from benchmarks.registry import Concept, Tolerance
from from_scratch.calculus.two_layer_net import log_softmax

REDUCTIONS = ("mean", "sum", "none")
# Float64 at round-off; float32 at a few hundred ulps of the O(1) per-element losses and their sums. The extreme
# entries need nothing looser: their losses of ~1e4 are compared relatively, their gradients are O(1) or exactly 0.
TOL = {"float64": Tolerance(1e-10, 1e-12), "float32": Tolerance(2e-4, 2e-5)}


def _shape(rng) -> tuple[int, ...]:
    return tuple(dims(rng, 1, 5) for _ in range(dims(rng, 1, 3)))


def _reduction(rng, extreme: bool = False) -> str:
    """Any reduction; for extreme logits "mean" or "none" only. torch.autograd.gradcheck (tests/test_gradcheck.py)
    steps by an absolute 1e-6, so its estimate carries ulp(loss) / 2e-6 of round-off: fine for per-element
    losses of 1e4 (ulp 2e-12, ~1e-6), too much for the sum of twenty of them (ulp 4e-11, ~2e-5)."""
    return str(rng.choice(("mean", "none") if extreme else REDUCTIONS))


def _away_from(rng, shape, kink: float, margin: float, high: float) -> np.ndarray:
    """Random signed differences d with |d| in [margin, high] and ||d| - kink| >= margin."""
    a = rng.uniform(margin, high, shape)
    a = np.where(np.abs(a - kink) < margin, kink + 2 * margin, a)
    return a * rng.choice([-1.0, 1.0], shape)


def _regression(rng):
    shape = _shape(rng)
    return {"input": rng.standard_normal(shape), "target": rng.standard_normal(shape), "reduction": _reduction(rng)}


def _l1(rng):
    x = rng.standard_normal(_shape(rng))
    return {"input": x, "target": x - _away_from(rng, x.shape, 0.0, 0.05, 2.5), "reduction": _reduction(rng)}


def _huber(rng):
    x = rng.standard_normal(_shape(rng))
    delta = float(rng.uniform(0.5, 2.0))
    return {"input": x, "target": x - _away_from(rng, x.shape, delta, 0.05, 3 * delta), "reduction": _reduction(rng),
            "delta": delta}


def _binary(rng, pos_weight: bool = False):
    """Logits in about [-9, 9] and soft targets in [0.05, 0.95] (interior, so target gradients can be checked)."""
    N, C = dims(rng, 1, 6), dims(rng, 1, 5)
    out = {"input": rng.standard_normal((N, C)) * 3, "target": rng.uniform(0.05, 0.95, (N, C)),
           "reduction": _reduction(rng)}
    if pos_weight:
        out["pos_weight"] = rng.uniform(0.2, 3.0, C)
    return out


def _extreme_logits(rng, shape) -> np.ndarray:
    """Rows mixing +-50 with 1e4 or with -1e4 (one sign per row, so no row's loss exceeds ~1e4: see
    :func:`_reduction`), plus distinct offsets 10 k (k a permutation along the row): logits of one size class
    differ by >= 10 within a row. Central differences step 6e-6 |x| (0.06 at 1e4); a near-tie would make the
    softmax curve within that step and the finite-difference check would measure truncation, not the gradient."""
    huge = 1e4 * rng.choice([-1.0, 1.0], (*shape[:-1], 1))
    base = np.where(rng.random(shape) < 0.5, huge, rng.choice([-50.0, 50.0], shape))
    offsets = 10.0 * rng.permuted(np.broadcast_to(np.arange(shape[-1]), shape), axis=-1)
    return base + offsets + rng.uniform(0, 0.5, shape)


def _binary_extreme(rng):
    N, C = dims(rng, 1, 6), dims(rng, 1, 4)
    out = {"input": _extreme_logits(rng, (N, C)), "target": rng.integers(0, 2, (N, C)).astype(np.float64),
           "reduction": _reduction(rng, extreme=True)}
    if rng.random() < 0.5:
        out["pos_weight"] = rng.uniform(0.5, 2.0, C)
    return out


def _focal(rng):
    out = _binary(rng)
    out["gamma"] = float(rng.choice([0.0, 0.5, 1.0, 2.0, rng.uniform(0, 3)]))
    out["alpha"] = None if rng.random() < 0.4 else float(rng.uniform(0.05, 0.95))
    return out


def _focal_extreme(rng):
    out = _binary_extreme(rng)
    out.pop("pos_weight", None)
    out["gamma"] = float(rng.choice([0.0, 1.0, 2.0, 3.0]))  # gamma < 1: (1 - p_t)^(gamma-1) at p_t = 1 is inf in torch
    out["alpha"] = None if rng.random() < 0.4 else float(rng.uniform(0.05, 0.95))
    return out


def _class_targets(rng, N: int, C: int):
    """Targets (N,) with some rows set to ignore_index (-100, or a class index, which torch also allows)."""
    target = rng.integers(0, C, N)
    ignore_index = int(rng.choice([-100, -1, int(rng.integers(0, C))]))
    target = np.where(rng.random(N) < 0.3, ignore_index, target)
    if (target == ignore_index).all():
        target[0] = (ignore_index + 1) % C if 0 <= ignore_index < C else 0
    return target, ignore_index


def _classes(rng, extreme: bool = False):
    N, C = dims(rng, 1, 8), dims(rng, 2, 6)
    target, ignore_index = _class_targets(rng, N, C)
    logits = _extreme_logits(rng, (N, C)) if extreme else rng.standard_normal((N, C)) * 3
    smoothing = 0.0 if rng.random() < 0.4 else float(rng.choice([rng.uniform(0, 0.5), 1.0]))
    return {"input": logits, "target": target, "reduction": _reduction(rng, extreme), "ignore_index": ignore_index,
            "label_smoothing": smoothing}


def _nll(rng):
    N, C = dims(rng, 1, 8), dims(rng, 2, 6)
    target, ignore_index = _class_targets(rng, N, C)
    return {"input": log_softmax(rng.standard_normal((N, C)) * 2), "target": target, "reduction": _reduction(rng),
            "ignore_index": ignore_index}


def _kl(rng):
    shape = (dims(rng, 1, 6), dims(rng, 2, 6))
    log_target = bool(rng.random() < 0.5)
    # p >= 0.2 / C: the target gradient log p + 1 - x curves like 1/p, and central differences need p >> 6e-6.
    log_p = np.log(0.8 * np.exp(log_softmax(rng.standard_normal(shape) * 2)) + 0.2 / shape[1])
    return {"input": log_softmax(rng.standard_normal(shape) * 2), "target": log_p if log_target else np.exp(log_p),
            "reduction": str(rng.choice(REDUCTIONS + ("batchmean",))), "log_target": log_target}


def _backward(fn, wrt: tuple[str, ...]):
    """scratch_backward calling ``fn(**inputs, grad_out=upstream)`` and keeping the gradients in ``wrt``."""
    def run(inputs, outputs, upstream):
        grads = fn(**inputs, grad_out=upstream[0])
        return {k: grads[k] for k in wrt}
    return run


def _loss(name: str, make, wrt=("input", "target"), fn: str | None = None, tolerances=TOL, what: str = "") -> Concept:
    fn = fn or name
    return Concept(name, 3, getattr(S, fn), getattr(T, fn), make, ("loss",), grad_wrt=wrt,
                   scratch_backward=_backward(getattr(S, f"{fn}_backward"), wrt), tolerances=tolerances,
                   description=what)


CONCEPTS: list[Concept] = [
    _loss("mse_loss", _regression, what="squared error vs F.mse_loss, random reduction"),
    _loss("l1_loss", _l1, what="absolute error vs F.l1_loss, |input - target| >= 0.05"),
    _loss("huber_loss", _huber, what="Huber vs F.huber_loss, random delta, away from |d| = delta"),
    _loss("binary_cross_entropy_with_logits", _binary, what="log-sum-exp BCE on logits, soft targets"),
    _loss("binary_cross_entropy_with_logits_pos_weight", lambda rng: _binary(rng, pos_weight=True),
          fn="binary_cross_entropy_with_logits", what="BCE on logits with pos_weight (C,)"),
    _loss("binary_cross_entropy_with_logits_extreme", _binary_extreme, ("input",), "binary_cross_entropy_with_logits",
          TOL, "logits +-1e4 / +-50, hard targets, pos_weight half the time"),
    _loss("focal_loss", _focal, what="Lin et al. focal loss vs torchvision's formula, random gamma/alpha"),
    _loss("focal_loss_extreme", _focal_extreme, ("input",), "focal_loss", TOL,
          what="focal loss at logits +-1e4 / +-50, gamma in {0, 1, 2, 3}"),
    _loss("cross_entropy_ignore_smoothing", _classes, ("input",), "cross_entropy",
          what="F.cross_entropy with ignore_index rows and label smoothing"),
    _loss("cross_entropy_extreme", lambda rng: _classes(rng, extreme=True), ("input",), "cross_entropy", TOL,
          "cross-entropy at logits +-1e4 / +-50"),
    _loss("nll_loss", _nll, ("input",), what="F.nll_loss of log-probabilities with ignore_index"),
    _loss("kl_div", _kl, what="F.kl_div, probability or log target, reduction incl. batchmean"),
]
