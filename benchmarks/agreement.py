"""Run one registry concept on both implementations and measure how far apart they are.

Values: every output compared elementwise. Gradients: a seeded random upstream gradient for every output (not
ones), the scratch ``*_backward`` versus ``torch.autograd.grad``, every input in ``grad_wrt``. Shapes and dtypes
are checked before values; each failure message names the tensor.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from benchmarks.registry import Concept

NP_DTYPES = {"float64": np.float64, "float32": np.float32}
TORCH_DTYPES = {"float64": torch.float64, "float32": torch.float32}


@dataclass
class AgreementResult:
    concept: str
    lesson: int
    dtype: str
    device: str
    seeds: list[int]
    max_abs_err: float
    max_rel_err: float
    grad_max_abs_err: float | None
    grad_max_rel_err: float | None
    rtol: float
    atol: float
    grad_rtol: float | None
    grad_atol: float | None
    ok: bool
    failures: list[str] = field(default_factory=list)

    def row(self) -> dict:
        """The JSON row of ``python -m benchmarks.compare --json``."""
        return asdict(self)

    def report(self) -> str:
        head = f"{self.concept} [{self.dtype}, {self.device}, seeds {self.seeds}]"
        return head + ("" if self.ok else ":\n  " + "\n  ".join(self.failures))


def _as_tuple(out) -> tuple:
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _errors(name: str, got: np.ndarray, want: np.ndarray, rtol: float, atol: float) -> tuple[float, float, str | None]:
    """(max abs error, normwise relative error max|got-want|/max|want|, failure message or None)."""
    if got.shape != want.shape:
        return np.inf, np.inf, f"{name}: shape {got.shape} (scratch) != {want.shape} (torch)"
    if not np.all(np.isfinite(got)):
        return np.inf, np.inf, f"{name}: scratch result has NaN/inf"
    diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
    abs_err = float(diff.max(initial=0.0))
    scale = float(np.abs(want).max(initial=0.0))
    rel_err = abs_err / scale if scale > 0 else abs_err
    bad = diff > atol + rtol * np.abs(want)
    if bad.any():
        i = np.unravel_index(np.argmax(diff - rtol * np.abs(want)), diff.shape)
        return abs_err, rel_err, (f"{name}: {int(bad.sum())}/{bad.size} elements differ beyond atol={atol:g}, rtol={rtol:g}; "
                                  f"worst at index {tuple(int(j) for j in i)}: scratch {got[i]!r} vs torch {want[i]!r}")
    return abs_err, rel_err, None


def _check_dtype(name: str, arr, want, failures: list[str]) -> None:
    if arr.dtype != want:
        failures.append(f"{name}: dtype {arr.dtype} != expected {want}")


def _to_torch(value, is_float: bool, dtype: torch.dtype, device: str, requires_grad: bool):
    """Floating arrays -> tensors of the dtype under test; integer arrays (labels, indices) -> integer tensors on
    the device; anything else unchanged."""
    if is_float:
        return torch.tensor(value, dtype=dtype, device=device, requires_grad=requires_grad)
    if isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.integer):
        return torch.tensor(value, device=device)
    return value


def compare_once(concept: Concept, dtype: str = "float64", device: str = "cpu", seed: int = 0) -> AgreementResult:
    """Run ``concept`` once on inputs drawn with ``seed`` and return the errors (scratch vs torch)."""
    if dtype not in concept.tolerances:
        raise ValueError(f"dtype must be one of {list(concept.tolerances)} for {concept.name}, got {dtype!r}")
    tol = concept.tolerances[dtype]
    grad_rtol, grad_atol = tol.gradient
    np_dtype, t_dtype = NP_DTYPES[dtype], TORCH_DTYPES[dtype]
    rng = np.random.default_rng(seed)
    raw = concept.make_inputs(rng)
    is_float = {k: isinstance(v, np.ndarray) and np.issubdtype(v.dtype, np.floating) for k, v in raw.items()}
    np_in = {k: (v.astype(np_dtype) if is_float[k] else v) for k, v in raw.items()}
    t_in = {k: _to_torch(v, is_float[k], t_dtype, device, k in concept.grad_wrt) for k, v in np_in.items()}

    failures: list[str] = []
    s_out = _as_tuple(concept.scratch(**np_in))
    t_out = _as_tuple(concept.torch(**t_in))
    if len(s_out) != len(concept.outputs) or len(t_out) != len(concept.outputs):
        raise ValueError(f"{concept.name}: expected outputs {concept.outputs}, got {len(s_out)} (scratch) and {len(t_out)} (torch)")
    abs_err = rel_err = 0.0
    for name, s, t in zip(concept.outputs, s_out, t_out):
        s = np.asarray(s)
        _check_dtype(f"output {name!r} (scratch)", s, np_dtype, failures)
        _check_dtype(f"output {name!r} (torch)", t, t_dtype, failures)
        a, r, msg = _errors(f"output {name!r}", s, t.detach().cpu().numpy(), tol.rtol, tol.atol)
        abs_err, rel_err = max(abs_err, a), max(rel_err, r)
        if msg:
            failures.append(msg)

    g_abs = g_rel = None
    if concept.has_gradient:
        upstream = tuple(rng.standard_normal(np.shape(s)).astype(np_dtype) for s in s_out)
        s_grads = concept.scratch_backward(np_in, s_out, upstream)
        t_grads = torch.autograd.grad(t_out, [t_in[k] for k in concept.grad_wrt],
                                      grad_outputs=[torch.tensor(u, device=device) for u in upstream], allow_unused=True)
        g_abs = g_rel = 0.0
        for name, tg in zip(concept.grad_wrt, t_grads):
            want = np.zeros(np.shape(np_in[name])) if tg is None else tg.detach().cpu().numpy()
            got = np.asarray(s_grads[name])
            _check_dtype(f"grad {name!r} (scratch)", got, np_dtype, failures)
            a, r, msg = _errors(f"grad {name!r}", got, want, grad_rtol, grad_atol)
            g_abs, g_rel = max(g_abs, a), max(g_rel, r)
            if msg:
                failures.append(msg)
    return AgreementResult(concept.name, concept.lesson, dtype, str(device), [seed], abs_err, rel_err, g_abs, g_rel,
                           tol.rtol, tol.atol, grad_rtol if concept.has_gradient else None,
                           grad_atol if concept.has_gradient else None, not failures, failures)


def compare(concept: Concept, dtype: str = "float64", device: str = "cpu", seeds=(0, 1, 2)) -> AgreementResult:
    """:func:`compare_once` over several seeds, folded into one result (worst errors; ok only if every seed is)."""
    runs = [compare_once(concept, dtype, device, s) for s in seeds]
    first = runs[0]
    worst = lambda key: None if getattr(first, key) is None else max(getattr(r, key) for r in runs)  # noqa: E731
    return AgreementResult(
        first.concept, first.lesson, dtype, first.device, list(seeds), worst("max_abs_err"), worst("max_rel_err"),
        worst("grad_max_abs_err"), worst("grad_max_rel_err"), first.rtol, first.atol, first.grad_rtol, first.grad_atol,
        all(r.ok for r in runs), [f"seed {r.seeds[0]}: {m}" for r in runs for m in r.failures])
