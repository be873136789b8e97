"""Speed at scale: NumPy from scratch vs torch on CPU vs torch on CUDA, in fp64 / fp32 / tf32 / bf16 / fp16.

    python -m benchmarks.speed --quick                       # ~2 minutes on 2 CPU cores, results/speed
    python -m benchmarks.speed --device cuda --repeats 20 --warmup 5 --out results/h100
    python -m benchmarks.speed --smoke --out /tmp/s          # tiny sizes, seconds (the tests)

Cases (``--cases``): matmul, attention (naive vs SDPA), a 2-layer MLP SGD step and a transformer-block AdamW step
(see :mod:`benchmarks.speed_cases`). Each (case, implementation, dtype, device) line grows its size until a limit:
a size whose predicted time (last time x growth) exceeds ``--time-budget`` or whose memory estimate exceeds
``--mem-budget`` is skipped with the reason, as is every size after an out-of-memory error. Writes ``speed.json``
(rows documented in benchmarks/README.md), ``speed.md`` and one PNG per case under ``--out``; prints the table.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from benchmarks.reporting import DTYPES, common_parser, format_table, mode, run_meta, setup, write_json
from benchmarks.speed_cases import CASES, matmul_precision, unsupported
from benchmarks.speed_plots import plot_case, summary
from benchmarks.timing import PeakTable, is_cuda, time_fn

ALL_DTYPES = ("float64", "float32", "tf32", "bfloat16", "float16")
DEFAULTS = {"full": (3, 10, 60.0), "quick": (1, 5, 3.0), "smoke": (1, 2, 2.0)}  # warmup, repeats, time budget (s)
PEAK_N = {"full": 2048, "quick": 2048, "smoke": 128}  # CPU peak: best matmul of this size
COLUMNS = ("case", "impl", "dtype", "device", "size", "status", "median_ms", "tflops", "frac_of_peak", "peak_mem_mb",
           "reason")


def mem_budget(device: str, gib: float | None = None) -> int:
    """Bytes a single measurement may use: ``gib`` if given, else 90% of the GPU's memory or half the RAM on CPU."""
    if gib:
        return int(gib * 2**30)
    if is_cuda(device):
        return int(0.9 * torch.cuda.get_device_properties(device).total_memory)
    try:
        return int(0.5 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 * 2**30


def measure(case, impl, dtype, device, size, args, peaks: PeakTable, seed: int) -> dict:
    """Build and time one call; a dict with the timing, throughput and peak fraction (status ok)."""
    rng = np.random.default_rng([seed, size])
    with matmul_precision(dtype):
        fn = case.build(impl, size, dtype, device, rng, mode(args))
        t = time_fn(fn, device, args.warmup, args.repeats)
    flops = case.flops(size, mode(args))
    tflops = flops / t.median_s / 1e12
    peak = peaks(device, dtype)
    return {"median_s": t.median_s, "min_s": t.min_s, "max_s": t.max_s, "repeats": t.repeats, "warmup": t.warmup,
            "flops": flops, "tflops": tflops, "peak_tflops": peak.tflops, "peak_source": peak.source,
            "frac_of_peak": tflops / peak.tflops if peak.tflops else None, "ref_tflops": peak.ref_tflops,
            "frac_of_ref": tflops / peak.ref_tflops if peak.ref_tflops else None, "peak_mem_bytes": t.peak_mem_bytes}


def run_line(case, impl, dtype, device, args, peaks, budget: int, bar) -> list[dict]:
    """All sizes of one (case, impl, dtype, device) line, smallest first, stopping at the first limit."""
    sizes = case.sizes[mode(args)]
    why = unsupported(impl, dtype, device)
    if why:  # one row for the whole line
        bar.update(len(sizes))
        return [{"case": case.name, "impl": impl, "dtype": dtype, "device": device, "size": None, "est_bytes": None,
                 "status": "skipped", "reason": why}]
    rows, last, stop = [], None, None
    itemsize = DTYPES[dtype][0].itemsize
    for size in sizes:
        bar.update()
        base = {"case": case.name, "impl": impl, "dtype": dtype, "device": device, "size": size,
                "est_bytes": case.nbytes(impl, size, itemsize, mode(args))}
        if stop is None and base["est_bytes"] > budget:
            stop = f"needs ~{base['est_bytes'] / 2**30:.1f} GiB > memory budget {budget / 2**30:.1f} GiB"
        if stop is None and last is not None:
            predicted = last[1] * (size / last[0]) ** case.order * (args.warmup + args.repeats)
            if predicted > args.time_budget:
                stop = f"predicted {predicted:.0f} s > time budget {args.time_budget:g} s"
        if stop is not None:
            rows.append({**base, "status": "skipped", "reason": stop})
            continue
        bar.set_postfix_str(f"{case.name} {impl} {dtype} {device} {size}", refresh=True)
        try:
            rows.append({**base, "status": "ok", "reason": None,
                         **measure(case, impl, dtype, device, size, args, peaks, args.seed)})
            last = (size, rows[-1]["median_s"])
        except (torch.cuda.OutOfMemoryError, MemoryError) as err:
            rows.append({**base, "status": "oom", "reason": f"{type(err).__name__}: {str(err).splitlines()[0][:120]}"})
            stop = f"after out-of-memory at size {size}"
        except Exception as err:  # noqa: BLE001 - e.g. a dtype without a kernel on this device: record, move on
            rows.append({**base, "status": "error", "reason": f"{type(err).__name__}: {str(err).splitlines()[0][:120]}"})
            stop = f"after an error at size {size}"
        finally:
            if is_cuda(device):
                torch.cuda.empty_cache()
    return rows


def run(args, devices: list[str]) -> list[dict]:
    peaks = PeakTable(PEAK_N[mode(args)])
    lines = [(CASES[c], i, dt, dev) for c in args.cases for dev in devices for i in CASES[c].impls for dt in args.dtypes]
    lines = [ln for ln in lines if not (ln[1].startswith("numpy") and ln[3] != "cpu")]  # NumPy: CPU rows only
    rows = []
    with tqdm(total=sum(len(ln[0].sizes[mode(args)]) for ln in lines), desc="speed", unit="size", file=sys.stderr) as bar:
        family, start = None, time.perf_counter()
        for case, impl, dtype, dev in lines:
            if args.max_seconds is not None and time.perf_counter() - start > args.max_seconds:
                bar.update(len(case.sizes[mode(args)]))
                rows.append({"case": case.name, "impl": impl, "dtype": dtype, "device": dev, "size": None,
                             "est_bytes": None, "status": "skipped", "reason": f"not run: --max-seconds {args.max_seconds:g} reached"})
                continue
            if dev == "cpu" and impl.split("-")[0] != family:
                # NumPy's OpenBLAS threads and torch's OpenMP threads spin-wait after their last call; on a small
                # machine the other pool's threads then wait for a scheduler slice (ms). Let them go idle first.
                time.sleep(0.3)
                family = impl.split("-")[0]
            rows += run_line(case, impl, dtype, dev, args, peaks, mem_budget(dev, args.mem_budget), bar)
    return rows


def table_row(r: dict) -> dict:
    return {**r, "median_ms": r.get("median_s") and 1e3 * r["median_s"],
            "peak_mem_mb": r.get("peak_mem_bytes") and r["peak_mem_bytes"] / 2**20,
            "reason": r["reason"] and r["reason"][:48]}


def main(argv: list[str] | None = None) -> int:
    p = common_parser("python -m benchmarks.speed", __doc__.splitlines()[0], "results/speed")
    p.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    p.add_argument("--dtypes", nargs="+", default=list(ALL_DTYPES), choices=ALL_DTYPES)
    p.add_argument("--warmup", type=int, help="untimed calls first (default: 3 full, 1 quick/smoke)")
    p.add_argument("--repeats", type=int, help="timed calls, the median is reported (default: 10 full, 5 quick, 2 smoke)")
    p.add_argument("--time-budget", type=float, help="seconds one measurement (warm-up + repeats) may take "
                   "(default: 60 full, 3 quick, 2 smoke)")
    p.add_argument("--mem-budget", type=float, help="GiB one measurement may use (default: 90%% of the GPU, "
                   "half the RAM on CPU)")
    args = p.parse_args(argv)
    warmup, repeats, budget = DEFAULTS[mode(args)]
    args.warmup = warmup if args.warmup is None else args.warmup
    args.repeats = repeats if args.repeats is None else args.repeats
    args.time_budget = budget if args.time_budget is None else args.time_budget
    if args.warmup < 0 or args.repeats < 1:
        p.error(f"--warmup must be >= 0 and --repeats >= 1, got {args.warmup} and {args.repeats}")
    if args.time_budget <= 0 or (args.mem_budget is not None and args.mem_budget <= 0):
        p.error("--time-budget and --mem-budget must be > 0")
    devices = setup(p, args)
    start = time.perf_counter()
    rows = run(args, devices)
    meta = run_meta(args, devices, cases=args.cases, dtypes=args.dtypes, warmup=args.warmup, repeats=args.repeats,
                    time_budget_s=args.time_budget, seconds=round(time.perf_counter() - start, 1))
    print(format_table([table_row(r) for r in rows], COLUMNS))
    args.out.mkdir(parents=True, exist_ok=True)
    written = [write_json(args.out / "speed.json", meta, rows)]
    (args.out / "speed.md").write_text(summary(rows, meta))
    written.append(args.out / "speed.md")
    written += [plot_case(CASES[c], [r for r in rows if r["case"] == c], args.out / f"speed_{c}.png") for c in args.cases]
    ok = sum(r["status"] == "ok" for r in rows)
    print(f"\n{ok}/{len(rows)} measurements in {meta['seconds']} s (others skipped with a reason)")
    print("wrote " + ", ".join(str(w) for w in written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
