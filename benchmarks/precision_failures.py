r"""Where low precision breaks, and the fix — four sweeps, each against a float64 reference.

* ``softmax_overflow``: :math:`e^{x}` overflows float16 (max 65504) once a logit exceeds :math:`\ln 65504\approx11.1`;
  a naive :math:`e^{x_i}/\sum_je^{x_j}` then returns NaN. Fixes: subtract the max first (``torch.softmax`` does), or
  bfloat16, whose range is float32's (max :math:`3.4\cdot10^{38}`) at 8 bits of mantissa.
* ``variance``: :math:`E[x^2]-E[x]^2` of activations of mean :math:`\mu` overflows float16 once :math:`|x|>256`
  (:math:`x^2>65504`); bfloat16 does not overflow but cancels catastrophically (:math:`\mu^2` carries
  :math:`\mu^2\varepsilon\gg1`). Fix: two-pass (subtract the mean first) with an fp32 accumulator (``torch.var``).
  The reference is the float64 variance of the values as stored in the dtype, so only the arithmetic is judged.
* ``accumulation``: a sum of :math:`n` values in [0, 1). A sequential float16 accumulator stalls at 2048 (the
  spacing there is 2); pairwise summation (``np.sum``) keeps the error near :math:`\sqrt n u`; an fp32 accumulator
  with one rounding at the end is the fix torch uses internally — but the fp16 *result* still overflows above 65504.
  The reference is the exact (``math.fsum``) sum of the stored fp16 values.
* ``loss_scaling``: a weight gradient :math:`G^\top X` for an upstream gradient of magnitude :math:`m` (what a small
  loss sends back). In float16, :math:`m<6\cdot10^{-5}` becomes subnormal (fewer bits) and :math:`m<6\cdot10^{-8}`
  flushes to 0. Fix: multiply the loss by a scale :math:`S` (largest power of 2 whose gradients stay finite —
  ``torch.amp.GradScaler``'s rule), backpropagate in fp16, divide by :math:`S` in fp32; or use bfloat16.

See also: :mod:`benchmarks.precision_kernels`, ``benchmarks/README.md``.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from benchmarks.precision_kernels import attempt, row, to_torch

SWEEPS = {  # mode -> values of each demo's swept parameter
    "softmax_overflow": {"full": [1, 2, 4, 8, 10, 11, 11.5, 12, 16, 32, 64, 88, 100], "smoke": [4, 12]},
    "variance": {"full": [1, 10, 30, 100, 200, 250, 300, 1000], "smoke": [10, 300]},
    "accumulation": {"full": [2**k for k in range(6, 21)], "smoke": [64, 4096]},
    "loss_scaling": {"full": [2.0**-k for k in range(0, 33, 2)], "smoke": [1.0, 2.0**-30]},
}
PARAM = {"softmax_overflow": "max logit", "variance": "activation mean", "accumulation": "n",
         "loss_scaling": "gradient magnitude"}


def _softmax_rows(s: float, device: str, rng: np.random.Generator) -> list[dict]:
    x = np.concatenate([[s], rng.standard_normal(255)])  # one large logit among 255 ordinary ones
    ref = np.exp(x - x.max()) / np.exp(x - x.max()).sum()
    naive = lambda t: torch.exp(t) / torch.exp(t).sum()  # noqa: E731  exp first: overflows
    rows = [row("failure", "softmax_overflow", "torch naive exp/sum", dt, device, s,
                *attempt(lambda: naive(to_torch(x, dt, device)), ref)) for dt in ("float32", "bfloat16", "float16")]
    rows.append(row("failure", "softmax_overflow", "torch.softmax (max subtracted)", "float16", device, s,
                    *attempt(lambda: torch.softmax(to_torch(x, "float16", device), -1), ref)))
    return rows


def _variance_rows(mu: float, device: str, rng: np.random.Generator) -> list[dict]:
    x = mu + rng.standard_normal(4096)
    var_of = lambda t: np.array(np.var(t.double().cpu().numpy()))  # noqa: E731  the stored (rounded) data's variance
    one_pass = lambda t: (t * t).mean() - t.mean() ** 2  # noqa: E731  E[x^2] - E[x]^2
    rows = []
    for dt in ("float32", "bfloat16", "float16"):
        t = to_torch(x, dt, device)
        rows.append(row("failure", "variance", "E[x^2]-E[x]^2", dt, device, mu, *attempt(lambda: one_pass(t), var_of(t))))
    t = to_torch(x, "float16", device)
    rows.append(row("failure", "variance", "torch.var (two-pass, fp32 accumulator)", "float16", device, mu,
                    *attempt(lambda: torch.var(t, correction=0), var_of(t))))
    return rows


def _accumulation_rows(n: int, devices: list[str], rng: np.random.Generator) -> list[dict]:
    x16 = rng.uniform(0.0, 1.0, n).astype(np.float16)
    ref = np.float64(math.fsum(x16.astype(np.float64)))  # exact sum of the stored fp16 values: only summing errs
    rows = []
    if "cpu" in devices:
        variants = {"numpy sequential fp16 (cumsum)": lambda: np.cumsum(x16)[-1],
                    "numpy pairwise fp16 (np.sum)": lambda: np.sum(x16),
                    "numpy fp16 data, fp32 accumulator": lambda: np.sum(x16, dtype=np.float32)}
        rows += [row("failure", "accumulation", impl, "float16", "cpu", n, *attempt(f, ref)) for impl, f in variants.items()]
    for dev in devices:
        t16 = to_torch(x16, "float16", dev)
        rows.append(row("failure", "accumulation", "torch.sum (fp32 accumulator, fp16 result)", "float16", dev, n,
                        *attempt(lambda: t16.sum(), ref)))
        rows.append(row("failure", "accumulation", "torch.sum(dtype=float32)", "float16", dev, n,
                        *attempt(lambda: t16.sum(dtype=torch.float32), ref)))
    return rows


def _scaled_grad(x: np.ndarray, g: np.ndarray, dtype: str, device: str, scale: float) -> torch.Tensor:
    """grad of W for out = X W^T with upstream ``g``, backpropagated in ``dtype`` with the loss scaled by ``scale``."""
    w = to_torch(np.zeros((g.shape[1], x.shape[1])), dtype, device).requires_grad_()
    out = to_torch(x, dtype, device) @ w.T  # (N, out)
    out.backward(to_torch(g * scale, dtype, device))
    return w.grad.float() / scale  # unscale in fp32


def _loss_scaling_rows(m: float, device: str, rng: np.random.Generator) -> list[dict]:
    x, g = rng.standard_normal((64, 128)), m * rng.standard_normal((64, 32))
    ref = g.T @ x  # (out, in)
    rows = [row("failure", "loss_scaling", "no scaling", dt, device, m, *attempt(lambda: _scaled_grad(x, g, dt, device, 1.0), ref))
            for dt in ("float32", "bfloat16", "float16")]
    scale = 2.0**24
    while scale > 1 and not torch.isfinite(_scaled_grad(x, g, "float16", device, scale)).all():
        scale /= 2  # GradScaler's rule: on inf/NaN, skip the step and halve the scale
    rows.append(row("failure", "loss_scaling", "dynamic loss scaling", "float16", device, m,
                    *attempt(lambda: _scaled_grad(x, g, "float16", device, scale), ref), note=f"scale=2^{int(math.log2(scale))}"))
    return rows


def failure_rows(demo: str, value, devices: list[str], rng: np.random.Generator) -> list[dict]:
    """All rows of one demo at one value of its swept parameter."""
    if demo == "accumulation":
        return _accumulation_rows(int(value), devices, rng)
    make = {"softmax_overflow": _softmax_rows, "variance": _variance_rows, "loss_scaling": _loss_scaling_rows}[demo]
    return [r for dev in devices for r in make(value, dev, rng)]


def sweep(demo: str, mode: str) -> list:
    return SWEEPS[demo]["smoke" if mode == "smoke" else "full"]

