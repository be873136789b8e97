"""Plots and the Markdown summary of ``python -m benchmarks.speed``: time and throughput versus size, one line per
(implementation, dtype, device); headline ratios measured within one run.

See also: :mod:`benchmarks.speed`, ``benchmarks/README.md`` (how to read them).
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from benchmarks.figures import save
from benchmarks.reporting import markdown_table

COLORS = {"float64": "black", "float32": "tab:blue", "tf32": "tab:cyan", "bfloat16": "tab:orange", "float16": "tab:red"}


def _key(r: dict) -> str:
    return f"{r['impl']} {r['dtype']} {r['device']}"


def _lines(rows: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        if r["status"] == "ok":
            out[_key(r)].append(r)
    return out


def plot_case(case, rows: list[dict], path: Path) -> Path:
    """Median time and TFLOP/s versus size (log-log); for attention also memory (CUDA peak, else the estimate)."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullLocator

    panels = 3 if case.name == "attention" else 2
    fig, axes = plt.subplots(1, panels, figsize=(5.2 * panels, 4.2))
    for key, rs in _lines(rows).items():
        r0 = rs[0]
        style = ":" if r0["impl"].startswith("numpy") else "--" if r0["impl"].endswith("naive") else "-"
        kw = dict(ls=style, marker="s" if r0["device"].startswith("cuda") else "o", ms=4, color=COLORS[r0["dtype"]],
                  label=key)
        sizes = [r["size"] for r in rs]
        axes[0].plot(sizes, [1e3 * r["median_s"] for r in rs], **kw)
        axes[1].plot(sizes, [r["tflops"] for r in rs], **kw)
        if panels == 3:
            axes[2].plot(sizes, [(r["peak_mem_bytes"] or r["est_bytes"]) / 2**20 for r in rs], **kw)
    labels = ("median time per call (ms)", "achieved TFLOP/s", "memory (MiB): CUDA peak, CPU estimate")
    sizes = sorted({r["size"] for r in rows if r["status"] == "ok"})
    for ax, label in zip(axes, labels):
        ax.set(yscale="log", xlabel=case.size_label, ylabel=label)
        ax.set_xscale("log", base=2)
        ax.set_xticks(sizes, [str(s) for s in sizes], fontsize=7)
        ax.xaxis.set_minor_locator(NullLocator())
        ax.grid(True, which="both", alpha=0.3)
    if axes[0].lines:
        axes[0].legend(fontsize=6, loc="upper left")
    fig.suptitle(f"{case.name}: solid torch, dashed naive, dotted NumPy; circles CPU, squares CUDA")
    return save(fig, path, dpi=80)


def _pivot(rows: list[dict], value) -> str:
    lines = _lines(rows)
    sizes = sorted({r["size"] for rs in lines.values() for r in rs})
    table = [{"size": s, **{k: next((value(r) for r in rs if r["size"] == s), None) for k, rs in lines.items()}}
             for s in sizes]
    return markdown_table(table, ["size", *lines])


def _at(rows, **want) -> dict | None:
    return next((r for r in rows if r["status"] == "ok" and all(r[k] == v for k, v in want.items())), None)


def headlines(rows: list[dict]) -> list[str]:
    """The numbers worth quoting, each a ratio or fraction measured within this run."""
    out = []
    for dev in sorted({r["device"] for r in rows}):
        mm = [r for r in rows if r["case"] == "matmul" and r["device"] == dev and r["status"] == "ok" and r["impl"] == "torch"]
        for dt in ("bfloat16", "float32", "float64"):
            r = max((r for r in mm if r["dtype"] == dt), key=lambda r: r["size"], default=None)
            if r:
                frac = f", {r['frac_of_peak']:.0%} of {r['peak_tflops']:.4g} ({r['peak_source']})" if r["frac_of_peak"] else ""
                ref = f", {r['frac_of_ref']:.0%} of the measured {r['ref_tflops']:g}" if r["frac_of_ref"] else ""
                out.append(f"- {dev} torch matmul {dt} n={r['size']}: {r['tflops']:.3g} TFLOP/s "
                           f"({1e3 * r['median_s']:.3g} ms){frac}{ref}")
        for case in ("matmul", "mlp"):
            for dt in ("float64", "float32"):
                sizes = [r["size"] for r in rows if r["case"] == case and r["device"] == dev and r["status"] == "ok"
                         and r["impl"] == "numpy" and r["dtype"] == dt]
                t, n = (_at(rows, case=case, impl="torch", dtype=dt, device=dev, size=max(sizes)), _at(
                    rows, case=case, impl="numpy", dtype=dt, device=dev, size=max(sizes))) if sizes else (None, None)
                if t and n:
                    out.append(f"- {dev} {case} {dt} size {t['size']}: NumPy from scratch {1e3 * n['median_s']:.3g} ms, "
                               f"torch {1e3 * t['median_s']:.3g} ms (torch speed-up {n['median_s'] / t['median_s']:.2g}x)")
        for dt in ("bfloat16", "float16", "float32"):
            both = sorted({r["size"] for r in rows if r["case"] == "attention" and r["device"] == dev and r["dtype"] == dt
                           and r["status"] == "ok" and r["impl"] == "torch-naive"})
            for t in [s for s in both if s >= 4096] or both[-1:]:
                nv, sd = (_at(rows, case="attention", impl=i, dtype=dt, device=dev, size=t) for i in ("torch-naive", "torch-sdpa"))
                if nv and sd:
                    mem = (f"; peak memory {nv['peak_mem_bytes'] / 2**20:.0f} vs {sd['peak_mem_bytes'] / 2**20:.0f} MiB"
                           if nv["peak_mem_bytes"] else "")
                    out.append(f"- {dev} attention {dt} T={t}: naive {1e3 * nv['median_s']:.3g} ms, SDPA "
                               f"{1e3 * sd['median_s']:.3g} ms ({nv['median_s'] / sd['median_s']:.2g}x){mem}")
    return out


def _from(r: dict) -> str:
    return "all sizes" if r["size"] is None else f"from size {r['size']}"


def summary(rows: list[dict], meta: dict) -> str:
    """``speed.md``: how it was run, the headlines, then per case the time and TFLOP/s tables and the skips."""
    text = ["# Speed", "", f"`{meta['command']}` — {meta['mode']} mode, devices {meta['devices']}, {meta['threads']} "
            f"threads, torch {meta['torch']}, warm-up {meta['warmup']}, median of {meta['repeats']}, {meta['seconds']} s",
            "", "## Headlines", "", *headlines(rows), ""]
    for case in dict.fromkeys(r["case"] for r in rows):
        rs = [r for r in rows if r["case"] == case]
        text += [f"## {case}: median time (ms)", "", _pivot(rs, lambda r: 1e3 * r["median_s"]), "",
                 f"## {case}: TFLOP/s", "", _pivot(rs, lambda r: r["tflops"]), ""]
        first: dict[str, dict] = {}
        for r in rs:
            if r["status"] != "ok":
                first.setdefault(_key(r), r)
        if first:
            text += [f"Not measured ({case}; the first size of each line and the reason):", "",
                     *(f"* {k} {_from(r)}: {r['status']}, {r['reason']}" for k, r in first.items()), ""]
    return "\n".join(text)
