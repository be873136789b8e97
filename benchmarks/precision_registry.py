"""Every registry concept that runs in several dtypes, in every precision, against its own float64 result.

For each concept with float32 among its dtypes: one seeded draw of its inputs (``make_inputs``), cast like the
agreement harness casts them (floating arrays to the dtype under test, integer arrays and other values unchanged).
The torch twin runs in float32 / bfloat16 / float16 on each device and is compared with the torch float64 result;
the scratch side runs in float32 / float16 on the CPU and is compared with the scratch float64 result (each side with
its own float64 run, so approximations such as finite differences do not count as precision error). One more row per
device, ``dtype=float64``, compares torch float64 with scratch float64: round-off for exact concepts. A concept that
raises in a dtype (e.g. a LAPACK routine with no half-precision kernel) is recorded as ``skipped`` with the error.

Only output values are compared (gradients are covered in float64/float32 by the agreement tests).

See also: :mod:`benchmarks.agreement`, :mod:`benchmarks.precision`.
"""
from __future__ import annotations

import warnings

import numpy as np
import torch

from benchmarks.agreement import _as_tuple, _to_torch
from benchmarks.precision_kernels import DTYPES, rel_error, row, to_f64
from benchmarks.registry import Concept, all_concepts

#: A small, varied set for --smoke: a norm, a LAPACK routine (no fp16 kernel), a softmax, a loss, an optimizer.
SMOKE = ("vector_norm_l2", "cholesky", "log_softmax", "mlp_loss", "adam")


def concepts(mode: str) -> list[Concept]:
    found = [c for c in all_concepts() if "float32" in c.dtypes]
    return [c for c in found if c.name in SMOKE] if mode == "smoke" else found


def _floats(out) -> list[np.ndarray]:
    """The floating-point outputs as float64 arrays (integer outputs, e.g. counts, are not precision-dependent)."""
    is_float = lambda o: o.is_floating_point() if isinstance(o, torch.Tensor) else \
        np.issubdtype(np.asarray(o).dtype, np.floating)  # noqa: E731
    return [to_f64(o) for o in _as_tuple(out) if is_float(o)]


def _error(out, ref: list[np.ndarray]) -> float:
    got = _floats(out)
    if len(got) != len(ref):
        raise ValueError(f"{len(got)} floating outputs, reference has {len(ref)}")
    return max((rel_error(g, r) for g, r in zip(got, ref)), default=0.0)


def _run(fn, inputs: dict) -> tuple[object | None, str | None]:
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(**inputs), None
    except Exception as err:  # noqa: BLE001 - recorded as a skipped row, never a crash
        return None, f"{type(err).__name__}: {str(err).splitlines()[0][:160] if str(err) else ''}"


def concept_rows(c: Concept, devices: list[str], seed: int = 0) -> list[dict]:
    raw = c.make_inputs(np.random.default_rng(seed))
    is_float = {k: isinstance(v, np.ndarray) and np.issubdtype(v.dtype, np.floating) for k, v in raw.items()}
    cast_np = lambda dt: {k: v.astype(DTYPES[dt][1]) if is_float[k] else v for k, v in raw.items()}  # noqa: E731
    cast_t = lambda dt, dev: {k: _to_torch(v, is_float[k], DTYPES[dt][0], dev, False) for k, v in raw.items()}  # noqa: E731

    def compare(impl: str, dt: str, dev: str, out, why: str | None, ref) -> dict:
        if why is None and ref is None:
            why = "float64 reference failed"
        if why is not None:
            return row("registry", c.name, impl, dt, dev, None, reason=why)
        try:
            return row("registry", c.name, impl, dt, dev, None, _error(out, ref))
        except ValueError as err:
            return row("registry", c.name, impl, dt, dev, None, reason=f"ValueError: {err}")

    s64, why64 = _run(c.scratch, cast_np("float64"))
    s_ref = None if why64 else _floats(s64)
    rows = [compare("numpy", dt, "cpu", *_run(c.scratch, cast_np(dt)), s_ref) for dt in ("float32", "float16")
            if "cpu" in devices]
    for dev in devices:
        t64, why = _run(c.torch, cast_t("float64", dev))
        t_ref = None if why else _floats(t64)
        rows.append(compare("torch vs numpy", "float64", dev, t64, why, s_ref))
        rows += [compare("torch", dt, dev, *_run(c.torch, cast_t(dt, dev)), t_ref) for dt in ("float32", "bfloat16", "float16")]
    return rows
