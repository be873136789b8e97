"""Precision benchmark: fp16 / bf16 / fp32 (torch) and float16 / float32 (NumPy) against float64.

    python -m benchmarks.precision                          # CPU (+ CUDA when present), results/precision
    python -m benchmarks.precision --device cuda --out results/h100
    python -m benchmarks.precision --smoke --out /tmp/p     # tiny sizes, seconds (the tests)

Three sections (``--sections``): ``kernel`` — matmul, long sum, softmax, log-sum-exp, layer norm and attention over
growing sizes, with the dtype's machine epsilon and the expected error growth; ``failure`` — where low precision
breaks and the fix (fp16 overflow in softmax and variance, fp32 accumulation, loss scaling); ``registry`` — every
registry concept that runs in several dtypes. Writes ``precision.json`` (rows documented in benchmarks/README.md),
``precision.md`` and three PNGs under ``--out``; prints the tables. Exit 0, or 2 on bad arguments.
"""
from __future__ import annotations

import math
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from tqdm import tqdm

from benchmarks import precision_failures as failures
from benchmarks import precision_registry as registry
from benchmarks.figures import save
from benchmarks.precision_kernels import KERNELS, kernel_rows, row
from benchmarks.reporting import common_parser, eps, format_table, markdown_table, mode, run_meta, setup, write_json

SECTIONS = ("kernel", "failure", "registry")
COLORS = {"float64": "black", "float32": "tab:blue", "bfloat16": "tab:orange", "float16": "tab:red"}
FLOOR = 1e-18  # an exact 0 error is drawn here on log axes


def run(sections, run_mode: str, devices: list[str], seed: int, max_seconds: float | None = None) -> list[dict]:
    rng = np.random.default_rng(seed)
    jobs = []
    if "kernel" in sections:
        jobs += [(f"kernel {k.name}", lambda k=k, n=n: kernel_rows(k, n, devices, rng)) for k in KERNELS for n in k.sizes[run_mode]]
    if "failure" in sections:
        jobs += [(f"failure {d}", lambda d=d, v=v: failures.failure_rows(d, v, devices, rng))
                 for d in failures.SWEEPS for v in failures.sweep(d, run_mode)]
    if "registry" in sections:
        jobs += [(f"registry {c.name}", lambda c=c: registry.concept_rows(c, devices, seed)) for c in registry.concepts(run_mode)]
    rows, start = [], time.perf_counter()
    for label, job in (bar := tqdm(jobs, desc="precision", unit="job", file=sys.stderr)):
        if max_seconds is not None and time.perf_counter() - start > max_seconds:
            section, name = label.split(" ", 1)
            rows.append(row(section, name, "-", "float64", ",".join(devices), None,
                            reason=f"not run: --max-seconds {max_seconds:g} reached"))
            continue
        bar.set_postfix_str(label, refresh=False)
        rows += job()
    return rows


def _err(r: dict) -> str:
    return {"ok": f"{r['rel_err']:.1e}" if r["rel_err"] is not None else "-", "nonfinite": "nan/inf",
            "skipped": "skip"}[r["status"]]


def _line(r: dict) -> tuple:
    return r["name"], r["impl"], r["dtype"], r["device"]


def sweep_table(rows: list[dict], max_cols: int = 8) -> list[dict]:
    """One line per (name, impl, dtype, device): the error at up to ``max_cols`` sizes, spread over the sweep."""
    lines: dict[tuple, dict] = defaultdict(dict)
    for r in rows:
        if r["size"] is not None:  # rows of jobs cut by --max-seconds have no size
            lines[_line(r)][r["size"]] = _err(r)
    out = []
    for (name, impl, dt, dev), by_size in lines.items():
        sizes = sorted(by_size)
        k = min(max_cols, len(sizes))
        keep = sorted({sizes[round(i * (len(sizes) - 1) / max(k - 1, 1))] for i in range(k)})
        out.append({"name": name, "impl": impl, "dtype": dt, "device": dev, "eps": eps(dt),
                    **{(str(s) if float(s).is_integer() and s >= 1 else f"{s:.3g}"): by_size[s] for s in keep}})
    return out


def registry_table(rows: list[dict]) -> list[dict]:
    """Per (impl, dtype, device): how many concepts ran, were skipped or overflowed; median and worst error."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        groups[(r["impl"], r["dtype"], r["device"])].append(r)
    out = []
    for (impl, dt, dev), rs in groups.items():
        errs = [r["rel_err"] for r in rs if r["status"] == "ok"]
        worst = max((r for r in rs if r["status"] == "ok"), key=lambda r: r["rel_err"], default=None)
        out.append({"impl": impl, "dtype": dt, "device": dev, "concepts": len(rs),
                    "ok": len(errs), "nonfinite": sum(r["status"] == "nonfinite" for r in rs),
                    "skipped": sum(r["status"] == "skipped" for r in rs), "eps": eps(dt),
                    "median_err": float(np.median(errs)) if errs else None, "max_err": worst and worst["rel_err"],
                    "worst": worst and worst["name"]})
    return out


def tables(rows: list[dict]) -> dict[str, list[dict]]:
    """Section title -> table rows (the printed and the Markdown summary)."""
    out = {}
    for k in KERNELS:
        sel = [r for r in rows if r["section"] == "kernel" and r["name"] == k.name]
        if sel:
            out[f"kernel {k.name}: relative error vs n"] = sweep_table(sel)
    for d in failures.SWEEPS:
        sel = [r for r in rows if r["section"] == "failure" and r["name"] == d]
        if sel:
            out[f"failure {d}: relative error vs {failures.PARAM[d]}"] = sweep_table(sel)
    reg = [r for r in rows if r["section"] == "registry"]
    if reg:
        out["registry concepts (each side vs its own float64; 'torch vs numpy' = the two float64 runs)"] = registry_table(reg)
    return out


def _columns(table: list[dict]) -> list[str]:
    return list(dict.fromkeys(c for r in table for c in r))


def _draw(ax, rows: list[dict], log_x: bool = True, by_dtype: bool = True) -> None:
    """One line per (impl, dtype, device); colored by dtype (kernels) or one color per line (failure demos)."""
    lines: dict[tuple, list] = defaultdict(list)
    for r in rows:
        if r["status"] != "skipped":
            y = 10.0 if r["status"] == "nonfinite" else max(r["rel_err"], FLOOR)
            lines[_line(r)[1:]].append((r["size"], y))
    for (impl, dt, dev), pts in lines.items():
        pts.sort()
        style = "--" if impl.startswith("numpy") else "-"
        ax.plot(*zip(*pts), style, marker=".", color=COLORS.get(dt) if by_dtype else None, label=f"{impl} {dt}" + ("" if dev == "cpu" else f" {dev}"),
                alpha=0.9)
    ax.axhline(10.0, color="grey", lw=0.5)
    ax.set_yscale("log")
    if log_x:
        ax.set_xscale("log", base=2)


def _legend(ax, **kw) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, **kw)


def plot_kernels(rows: list[dict], path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5), layout="constrained")
    for ax, k in zip(axes.flat, KERNELS):
        sel = [r for r in rows if r["section"] == "kernel" and r["name"] == k.name]
        _draw(ax, sel)
        ns = np.array(sorted({r["size"] for r in sel}) or [1], dtype=float)
        for dt in ("float32", "bfloat16", "float16"):
            u = eps(dt) / 2
            ax.plot(ns, np.sqrt(ns) * u, ":", color=COLORS[dt], lw=1)
            ax.plot(ns, ns * u, "-.", color=COLORS[dt], lw=0.8, alpha=0.5)
        ax.set(title=k.name, xlabel="n (reduction length)", ylabel="normwise relative error", ylim=(FLOOR / 2, 30))
    _legend(axes.flat[0], loc="lower right")
    fig.suptitle("error vs float64; dotted: sqrt(n)·u, dash-dot: n·u (u = eps/2); top line: NaN/inf; bottom: exact")
    return save(fig, path, dpi=80)


def plot_failures(rows: list[dict], path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(13, 8.5), layout="constrained")
    for ax, d in zip(axes.flat, failures.SWEEPS):
        _draw(ax, [r for r in rows if r["section"] == "failure" and r["name"] == d], d != "softmax_overflow", False)
        ax.set(title=d, xlabel=failures.PARAM[d], ylabel="relative error", ylim=(1e-9, 30))
        _legend(ax)
    fig.suptitle("where low precision breaks, and the fix (top line: NaN/inf)")
    return save(fig, path, dpi=80)


def plot_registry(rows: list[dict], path: Path) -> Path:
    import matplotlib.pyplot as plt

    sel = [r for r in rows if r["section"] == "registry"]
    names = list(dict.fromkeys(r["name"] for r in sel))
    fig, ax = plt.subplots(figsize=(14, 4.5))
    groups: dict[tuple, list] = defaultdict(list)
    for r in sel:
        if r["status"] != "skipped":
            groups[_line(r)[1:]].append((names.index(r["name"]), 10.0 if r["status"] == "nonfinite" else max(r["rel_err"], FLOOR)))
    for (impl, dt, dev), pts in groups.items():
        ax.plot(*zip(*pts), "o" if impl == "torch" else "x" if impl == "numpy" else ".", ms=3, ls="none",
                color=COLORS.get(dt), label=f"{impl} {dt}" + ("" if dev == "cpu" else f" {dev}"))
    for dt in ("float32", "bfloat16", "float16"):
        ax.axhline(eps(dt), color=COLORS[dt], lw=0.6, ls=":")
    ax.set(yscale="log", ylim=(FLOOR / 2, 30), xlabel="registry concept (lesson order)", ylabel="relative error",
           title="registry concepts vs their float64 result (dotted: eps; top: NaN/inf)")
    _legend(ax, ncol=4)
    return save(fig, path, dpi=80)


def main(argv: list[str] | None = None) -> int:
    p = common_parser("python -m benchmarks.precision", __doc__.splitlines()[0], "results/precision")
    p.add_argument("--sections", nargs="+", default=list(SECTIONS), choices=SECTIONS)
    args = p.parse_args(argv)
    devices = setup(p, args)
    start = time.perf_counter()
    rows = run(args.sections, mode(args), devices, args.seed, args.max_seconds)
    meta = run_meta(args, devices, sections=args.sections, seconds=round(time.perf_counter() - start, 1))
    summary = ["# Precision: error against float64", "", f"`{meta['command']}` — {meta['mode']} mode, "
               f"{meta['devices']}, torch {meta['torch']}, {meta['threads']} threads, {meta['seconds']} s", ""]
    for title, table in tables(rows).items():
        print(f"\n{title}\n{format_table(table, _columns(table))}")
        summary += [f"## {title}", "", markdown_table(table, _columns(table)), ""]
    args.out.mkdir(parents=True, exist_ok=True)
    written = [write_json(args.out / "precision.json", meta, rows)]
    (args.out / "precision.md").write_text("\n".join(summary))
    written.append(args.out / "precision.md")
    plots = {"kernel": (plot_kernels, "precision_kernels.png"), "failure": (plot_failures, "precision_failures.png"),
             "registry": (plot_registry, "precision_registry.png")}
    written += [plot(rows, args.out / name) for section, (plot, name) in plots.items() if section in args.sections]
    bad = [r for r in rows if r["dtype"] == "float64" and r["status"] == "ok" and r["section"] == "kernel" and r["rel_err"] > 1e-12]
    cut = sum("--max-seconds" in (r["reason"] or "") for r in rows)
    print(f"\n{len(rows)} rows in {meta['seconds']} s; float64 kernel rows above 1e-12: {len(bad)}"
          + (f"; {cut} jobs not run (--max-seconds)" if cut else ""))
    print("wrote " + ", ".join(str(w) for w in written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
