r"""The one timing helper of the benchmarks, and the peak throughput each result is compared with.

:func:`time_fn` warms up, then times ``repeats`` calls one by one and reports the median (robust to the odd slow
call when another process shares the cores). On CUDA each call is bracketed by CUDA events and the device is
synchronized only there; on CPU (NumPy, or torch on CPU) a wall clock (``time.perf_counter``) is enough because the
calls are synchronous. Peak memory is ``torch.cuda.max_memory_allocated`` over the timed calls (CUDA only).

Peak throughput (:func:`peak_tflops`): for GPUs a documented table of datasheet dense figures (no sparsity), plus a
*measured* reference where one exists for this workplace (an H100 SXM reaches about 790 TFLOP/s in bf16 on a large
matmul, 80% of its 989 datasheet figure). For CPUs there is no reliable datasheet number (turbo, AVX frequency
offsets, shared cores), so the peak is **measured**: the best of five torch float32 (and float64) matmuls of
size ``n`` at the benchmark's thread count (:func:`measure_cpu_peak`). bf16/fp16 on a CPU are compared with the
float32 figure: without AMX/AVX512-BF16 the CPU computes them in fp32.

See also: ``benchmarks/README.md`` (method), :mod:`benchmarks.speed`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from statistics import median
from typing import Any, Callable

import torch

#: Datasheet dense TFLOP/s (tensor cores where the dtype has them; "tf32" is fp32 inputs on tensor cores).
#: Sources: NVIDIA H100 / H200 / A100 datasheets (SXM unless named).
DATASHEET_TFLOPS: dict[str, dict[str, float]] = {
    "H100 PCIe": {"float64": 51.2, "float32": 51.2, "tf32": 378.0, "bfloat16": 756.0, "float16": 756.0},
    "H100 SXM": {"float64": 66.9, "float32": 66.9, "tf32": 494.7, "bfloat16": 989.4, "float16": 989.4},
    "H200": {"float64": 66.9, "float32": 66.9, "tf32": 494.7, "bfloat16": 989.4, "float16": 989.4},
    "A100": {"float64": 19.5, "float32": 19.5, "tf32": 156.0, "bfloat16": 312.0, "float16": 312.0},
}
#: Measured large-matmul throughput on this workplace's machines (the realistic ceiling, below the datasheet).
MEASURED_REF_TFLOPS: dict[str, dict[str, float]] = {"H100 SXM": {"bfloat16": 790.0}, "H200": {"bfloat16": 790.0}}


@dataclass
class Timing:
    """Seconds per call: median, min and max over ``repeats`` timed calls after ``warmup`` untimed ones."""

    median_s: float
    min_s: float
    max_s: float
    repeats: int
    warmup: int
    peak_mem_bytes: int | None  # CUDA only: max_memory_allocated during the timed calls


def is_cuda(device: str | torch.device) -> bool:
    return torch.device(device).type == "cuda"


def synchronize(device: str | torch.device) -> None:
    """Wait for queued kernels on CUDA; a no-op elsewhere (CPU calls are synchronous)."""
    if is_cuda(device):
        torch.cuda.synchronize(device)


def time_fn(fn: Callable[[], Any], device: str | torch.device = "cpu", warmup: int = 2, repeats: int = 5) -> Timing:
    """Call ``fn()`` ``warmup`` times untimed, then ``repeats`` times timed; return the median and spread."""
    if warmup < 0 or repeats < 1:
        raise ValueError(f"need warmup >= 0 and repeats >= 1, got {warmup} and {repeats}")
    cuda = is_cuda(device)
    for _ in range(warmup):
        fn()
    synchronize(device)
    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
    times = []
    for _ in range(repeats):
        if cuda:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end) / 1e3)  # ms -> s
        else:
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    peak = int(torch.cuda.max_memory_allocated(device)) if cuda else None
    return Timing(median(times), min(times), max(times), repeats, warmup, peak)


def device_name(device: str | torch.device) -> str:
    """``torch.cuda.get_device_name`` on CUDA; the CPU model (from /proc/cpuinfo where readable) otherwise."""
    if is_cuda(device):
        return torch.cuda.get_device_name(device)
    try:
        with open("/proc/cpuinfo") as f:
            return next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        import platform

        return platform.processor() or "cpu"


def gpu_family(name: str) -> str | None:
    """The key of :data:`DATASHEET_TFLOPS` for a CUDA device name (``NVIDIA H100 80GB HBM3`` -> ``H100 SXM``)."""
    if "H200" in name:
        return "H200"
    if "H100" in name:
        return "H100 PCIe" if "PCIe" in name else "H100 SXM"
    if "A100" in name:
        return "A100"
    return None


def measure_cpu_peak(dtype: torch.dtype = torch.float32, n: int = 2048, tries: int = 5) -> float:
    """Best TFLOP/s of ``tries`` torch matmuls of two random n x n matrices at the current thread count."""
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b  # warm-up
    best = min(time_fn(lambda: a @ b, "cpu", warmup=0, repeats=1).median_s for _ in range(tries))
    return 2 * n**3 / best / 1e12


@dataclass
class Peak:
    """The throughput a result is divided by: ``tflops`` (None where unknown), where it came from, and the
    measured workplace reference where one exists."""

    tflops: float | None
    source: str
    ref_tflops: float | None = None


class PeakTable:
    """Peak per (device, dtype): the datasheet table for known GPUs, a measurement (made once, lazily) on CPU."""

    def __init__(self, cpu_peak_n: int = 2048) -> None:
        self.cpu_peak_n = cpu_peak_n
        self._cpu: dict[str, float] = {}

    def __call__(self, device: str, dtype: str) -> Peak:
        if is_cuda(device):
            name = device_name(device)
            family = gpu_family(name)
            if family is None:
                return Peak(None, f"no datasheet entry for {name!r}")
            return Peak(DATASHEET_TFLOPS[family].get(dtype), f"{family} datasheet (dense)",
                        MEASURED_REF_TFLOPS.get(family, {}).get(dtype))
        base = "float64" if dtype == "float64" else "float32"
        if base not in self._cpu:
            self._cpu[base] = measure_cpu_peak(getattr(torch, base), self.cpu_peak_n)
        return Peak(self._cpu[base], f"measured: best torch {base} matmul n={self.cpu_peak_n}, "
                                     f"{torch.get_num_threads()} threads")
