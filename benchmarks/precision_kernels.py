r"""Core kernels in every precision, against a float64 reference (lesson 6: numerical precision).

Each kernel is written once in NumPy (the from-scratch formula, run in float64 / float32 / float16) and once with
the torch call a model would use (run in float64 / float32 / bfloat16 / float16 on the device). The error of a run
is normwise relative, :math:`\max|y-y_{64}|/\max|y_{64}|`, against the NumPy float64 result (``math.fsum``, exactly
rounded, for the sum). Expected growth with the reduction length :math:`n` for a unit roundoff
:math:`u=\varepsilon/2`: :math:`\lesssim n u` for a sequential sum (worst case), :math:`\approx\sqrt n\,u` for random
rounding errors and pairwise/blocked summation; fp16/bf16 torch kernels accumulate in fp32 and round once at the end,
so they stay near :math:`\varepsilon` at every :math:`n`.

See also: :mod:`benchmarks.precision_failures` (where low precision breaks), :mod:`benchmarks.precision`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from benchmarks.reporting import DTYPES, eps
from from_scratch.calculus.two_layer_net import log_softmax
from from_scratch.linear_algebra.layer import linear_forward

TORCH_DTYPES = ("float64", "float32", "bfloat16", "float16")
NUMPY_DTYPES = ("float32", "float16")
LN_EPS = 1e-5


def _layer_norm(x: np.ndarray) -> np.ndarray:
    r""":math:`(x-\bar x)/\sqrt{\operatorname{var}(x)+\epsilon}` over the last axis (two-pass mean, then variance)."""
    mu = x.mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + x.dtype.type(LN_EPS))


def naive_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray) -> np.ndarray:
    r"""Naive attention :math:`\operatorname{softmax}(QK^\top/\sqrt d)V` in NumPy: q, k, v (..., T, d) -> (..., T, d),
    materializing the (..., T, T) scores. The benchmarks' own reference: a from-scratch attention arrives with
    lesson 5."""
    scores = q @ np.swapaxes(k, -1, -2) / q.dtype.type(math.sqrt(q.shape[-1]))  # (..., T, T)
    return np.exp(log_softmax(scores)) @ v  # (..., T, d)


@dataclass(frozen=True)
class Kernel:
    """``numpy(**arrays)`` and ``torch(**tensors)`` compute the same thing; ``inputs(n, rng)`` draws float64 arrays
    for reduction length ``n``; ``numpy_fp16_max`` caps NumPy float16 sizes (no BLAS path: scalar loops)."""

    name: str
    inputs: Callable[[int, np.random.Generator], dict]
    numpy: Callable[..., np.ndarray]
    torch: Callable[..., torch.Tensor]
    sizes: dict  # mode -> list of n
    numpy_fp16_max: int | None = None
    reference: Callable[..., np.ndarray] | None = None  # float64 reference if not ``numpy`` (more accurate)


def _pow2(lo: int, hi: int, step: int = 1) -> list[int]:
    return [2**k for k in range(lo, hi + 1, step)]


VECTOR_SIZES = {"full": _pow2(6, 20), "quick": _pow2(6, 20, 2), "smoke": [64, 256]}
KERNELS = (
    Kernel("matmul", lambda n, rng: {"a": rng.standard_normal((n, n)), "b": rng.standard_normal((n, n))},
           lambda a, b: linear_forward(a, b), lambda a, b: a @ b.T,
           {"full": _pow2(6, 12), "quick": _pow2(6, 10), "smoke": [16, 32]}, numpy_fp16_max=512),
    Kernel("sum", lambda n, rng: {"x": rng.uniform(0.0, 1.0, n)}, lambda x: np.sum(x), lambda x: x.sum(),
           VECTOR_SIZES, reference=lambda x: np.float64(math.fsum(x))),
    Kernel("softmax", lambda n, rng: {"x": 3 * rng.standard_normal(n)}, lambda x: np.exp(log_softmax(x)),
           lambda x: torch.softmax(x, -1), VECTOR_SIZES),
    Kernel("logsumexp", lambda n, rng: {"x": 3 * rng.standard_normal(n)},
           lambda x: x.max() + np.log(np.exp(x - x.max()).sum()), lambda x: torch.logsumexp(x, -1), VECTOR_SIZES),
    Kernel("layer_norm", lambda n, rng: {"x": 2 + rng.standard_normal(n)}, _layer_norm,
           lambda x: F.layer_norm(x, x.shape[-1:], eps=LN_EPS), VECTOR_SIZES),
    Kernel("attention", lambda n, rng: {k: rng.standard_normal((n, 64)) for k in "qkv"}, naive_attention,
           lambda q, k, v: F.scaled_dot_product_attention(q[None], k[None], v[None])[0],
           {"full": _pow2(6, 12), "quick": _pow2(6, 10), "smoke": [16, 32]}, numpy_fp16_max=1024),
)


def to_torch(a, dtype: str, device: str) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a, dtype=np.float64), device=device).to(DTYPES[dtype][0])


def to_f64(y) -> np.ndarray:
    """Any result (array, tensor of any dtype or device, scalar) as a float64 NumPy array."""
    if isinstance(y, torch.Tensor):
        return y.detach().to("cpu", torch.float64).numpy()
    return np.asarray(y, dtype=np.float64)


def rel_error(got, ref) -> float:
    """Normwise relative error :math:`\\max|y-y_{ref}|/\\max|y_{ref}|` (absolute where the reference is 0); inf if
    ``got`` has NaN/inf."""
    got, ref = to_f64(got), to_f64(ref)
    if got.shape != ref.shape:
        raise ValueError(f"shape {got.shape} != reference {ref.shape}")
    if not np.all(np.isfinite(got)):
        return math.inf
    scale = float(np.abs(ref).max(initial=0.0))
    err = float(np.abs(got - ref).max(initial=0.0))
    return err / scale if scale > 0 else err


def row(section: str, name: str, impl: str, dtype: str, device: str, size, err: float | None = None,
        reason: str | None = None, note: str | None = None) -> dict:
    """One JSON row (fields documented in benchmarks/README.md); ``status`` is ok, nonfinite or skipped."""
    status = "skipped" if reason else "nonfinite" if err is not None and not math.isfinite(err) else "ok"
    return {"section": section, "name": name, "impl": impl, "dtype": dtype, "device": device, "size": size,
            "rel_err": err if status == "ok" else None, "eps": eps(dtype), "status": status,
            "reason": reason, "note": note}


def attempt(fn: Callable[[], object], ref) -> tuple[float | None, str | None]:
    """(error, None) if ``fn()`` runs, (None, reason) if it raises (e.g. an op without a half-precision kernel)."""
    try:
        with np.errstate(all="ignore"):
            return rel_error(fn(), ref), None
    except Exception as err:  # noqa: BLE001 - any failure becomes a recorded skip, never a crash
        return None, f"{type(err).__name__}: {str(err).splitlines()[0][:160]}"


def kernel_rows(kernel: Kernel, n: int, devices: list[str], rng: np.random.Generator) -> list[dict]:
    """Every implementation and dtype of ``kernel`` at size ``n`` against the float64 reference."""
    x64 = kernel.inputs(n, rng)
    ref = to_f64((kernel.reference or kernel.numpy)(**x64))
    rows = []
    if "cpu" in devices:
        for dt in NUMPY_DTYPES:
            if dt == "float16" and kernel.numpy_fp16_max and n > kernel.numpy_fp16_max:
                rows.append(row("kernel", kernel.name, "numpy", dt, "cpu", n, reason=(
                    f"NumPy float16 has no BLAS path (scalar loops): capped at n={kernel.numpy_fp16_max}")))
                continue
            cast = {k: v.astype(DTYPES[dt][1]) for k, v in x64.items()}
            rows.append(row("kernel", kernel.name, "numpy", dt, "cpu", n, *attempt(lambda: kernel.numpy(**cast), ref)))
    for dev in devices:
        for dt in TORCH_DTYPES:
            t_in = {k: to_torch(v, dt, dev) for k, v in x64.items()}
            rows.append(row("kernel", kernel.name, "torch", dt, dev, n, *attempt(lambda: kernel.torch(**t_in), ref)))
    return rows
