"""Measured vs theoretical convergence rates on quadratics, and an optimizer comparison (lesson 4).

    python -m benchmarks.convergence                          # kappa 10 100 1000, results/convergence
    python -m benchmarks.convergence --kappa 10 100 1000 --out DIR [--steps 1000] [--tolerance 0.1]

For each condition number kappa: the quadratic 1/2 x^T A x with eigenvalues linspace(1, kappa, --dim) (mu and L
exactly) in the DCT basis, started with a unit component on every eigenvector; gradient descent, heavy ball and
Nesterov, optimally tuned, run by both implementations (from_scratch and torch.optim.SGD). The measured rate is the
fitted per-step rate of ||x_t - x*|| (Nesterov: of the look-ahead point y_t; see
``from_scratch/optimization/convergence.py``) over the second half of the run; it is compared with the theory through
logarithms, ``log(measured) / log(theory) - 1`` (iterations per e-fold). Then seven optimizers on Rosenbrock (from
(-1.2, 1)) and on the L2 logistic loss of a seeded synthetic data set, final losses of both implementations.

Saves ``convergence.json`` and ``convergence.png`` (error / loss vs step, log scale, theoretical rates dashed) under
``--out``; exits 1 if any measured rate (either implementation) is off by more than ``--tolerance``.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

import from_scratch.optimization.convergence as SC
import torch_versions.optimization.convergence as TC
from benchmarks.figures import plt, save
from from_scratch.probability.logistic_regression import fit_newton

LABELS = {"gd": "gradient descent", "heavy_ball": "heavy ball", "nesterov": "Nesterov"}
QUANTITY = {"gd": "||x_t - x*||", "heavy_ball": "||x_t - x*||", "nesterov": "||y_t - x*|| (look-ahead point)"}


def log_rate_error(measured: float, theory: float) -> float:
    """``log(measured) / log(theory) - 1``: the relative error of the rate constant -log(rho)."""
    return math.log(measured) / math.log(theory) - 1


def rate_rows(kappas: list[float], dim: int = 10) -> list[dict]:
    """One row per (kappa, method): both implementations' fitted rates, the theory and their relative differences."""
    rows = []
    for kappa in kappas:
        A, x0 = SC.conditioned_quadratic(np.linspace(1.0, kappa, dim))
        At, x0t = torch.from_numpy(A), torch.from_numpy(x0)
        for method in SC.RATE_METHODS:
            start = time.perf_counter()
            rs = SC.measure_rate(method, A, x0, 1.0, kappa)
            rt = TC.measure_rate(method, At, x0t, 1.0, kappa)
            n = len(rs.errors) - 1
            measured, measured_t = float(rs.rate), float(rt.rate)
            rel = max(abs(log_rate_error(measured, rs.theory)), abs(log_rate_error(measured_t, rs.theory)))
            rows.append({"kappa": kappa, "method": method, "quantity": QUANTITY[method], "n_steps": n,
                         "window": [n // 2, n], "theory": rs.theory, "measured": measured, "measured_torch": measured_t,
                         "log_rate_rel_diff": log_rate_error(measured, rs.theory),
                         "log_rate_rel_diff_torch": log_rate_error(measured_t, rs.theory),
                         "rate_rel_diff": abs(measured - rs.theory) / rs.theory, "max_abs_rel_diff": rel,
                         "history_max_rel_diff": float(np.max(np.abs(rs.errors - rt.errors.numpy()) / rs.errors)),
                         "seconds": time.perf_counter() - start, "errors": rs.errors.tolist()})
    return rows


def logistic_data(seed: int = 0, n: int = 200, d: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """A seeded binary problem: X (n, d) standard normal, y ~ Bernoulli(sigmoid(X w + 0.5))."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ rng.standard_normal(d) + 0.5)))).astype(np.int64)
    return X, y


def optimizer_results(steps: int) -> dict:
    """Both implementations' loss curves on Rosenbrock (minimum 0) and the logistic loss (minimum from Newton)."""
    X, y = logistic_data()
    problems = {"rosenbrock": (np.array([-1.2, 1.0]), {}, 0.0),
                "logistic": (np.zeros(X.shape[1] + 1), {"X": X, "y": y}, float(fit_newton(X, y).losses[-1]))}
    out = {}
    for objective, (x0, data, minimum) in problems.items():
        cs = SC.compare_optimizers(objective, x0, steps, **data)
        ct = TC.compare_optimizers(objective, torch.from_numpy(x0), steps,
                                   **{k: torch.from_numpy(v) for k, v in data.items()})
        out[objective] = {"minimum": minimum, "steps": steps, "optimizers": {name: {
            "config": SC.COMPARISON_OPTIMIZERS[objective][name], "final_loss": float(cs[name][-1]),
            "final_loss_torch": float(ct[name][-1]),
            "curve_max_rel_diff": float(np.max(np.abs(cs[name] - ct[name].numpy()) / np.abs(ct[name].numpy()))),
            "losses": cs[name].tolist()} for name in cs}}
    return out


def plot(result: dict, path: Path) -> Path:
    kappas, rows = result["kappas"], result["rates"]
    ncols = max(len(kappas), 2)
    fig, axes = plt.subplots(2, ncols, figsize=(4.2 * ncols, 7.5), squeeze=False)
    for ax, kappa in zip(axes[0], kappas):
        for color, row in zip(("C0", "C1", "C2"), (r for r in rows if r["kappa"] == kappa)):
            e = np.array(row["errors"])
            ax.semilogy(e, color=color, label=f"{LABELS[row['method']]}: {row['measured']:.4f}")
            s = row["window"][0]
            t = np.arange(len(e))
            ax.semilogy(t, e[s] * row["theory"] ** (t - s), "--", color=color, lw=1,
                        label=f"theory {row['theory']:.4f}")
        ax.set(title=f"quadratic, kappa = {kappa:g}", xlabel="step", ylabel="||x_t - x*|| (Nesterov: y_t)")
        ax.legend(fontsize=7)
    for ax in axes[0][len(kappas):]:
        ax.axis("off")
    for ax, (objective, res) in zip(axes[1], result["optimizers"].items()):
        for name, r in res["optimizers"].items():
            gap = np.array(r["losses"]) - res["minimum"]
            ax.semilogy(np.maximum(gap, 1e-16), label=f"{name} ({gap[-1]:.1e})")
        ax.set(title=f"{objective}: loss - minimum", xlabel="step", ylabel="loss gap")
        ax.legend(fontsize=7)
    for ax in axes[1][2:]:
        ax.axis("off")
    fig.tight_layout()
    return save(fig, path)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.convergence", description=__doc__.splitlines()[0])
    p.add_argument("--kappa", type=float, nargs="+", default=[10.0, 100.0, 1000.0], help="condition numbers (> 1)")
    p.add_argument("--dim", type=int, default=10, help="dimension of the quadratics (>= 2)")
    p.add_argument("--steps", type=int, default=1000, help="steps of the optimizer comparison")
    p.add_argument("--tolerance", type=float, default=0.10, help="largest allowed |log(measured)/log(theory) - 1|")
    p.add_argument("--out", type=Path, default=Path("results/convergence"))
    args = p.parse_args(argv)
    if any(not (math.isfinite(k) and k > 1) for k in args.kappa):
        p.error(f"--kappa values must be finite and > 1, got {args.kappa}")
    if args.dim < 2 or args.steps < 1 or not args.tolerance > 0:
        p.error("--dim must be >= 2, --steps >= 1 and --tolerance > 0")
    torch.set_num_threads(1)  # tiny tensors: one thread is fastest and immune to sharing the cores

    rows = rate_rows(args.kappa, args.dim)
    print(f"linear rates on 1/2 x^T A x, eigenvalues linspace(1, kappa, {args.dim}); rel. diff = "
          "log(measured)/log(theory) - 1")
    print(f"{'kappa':>7}  {'method':<17}{'steps':>6}  {'numpy':>9}  {'torch':>9}  {'theory':>9}  {'rel. diff':>9}")
    for r in rows:
        flag = "ok" if r["max_abs_rel_diff"] <= args.tolerance else "FAIL"
        print(f"{r['kappa']:>7g}  {LABELS[r['method']]:<17}{r['n_steps']:>6}  {r['measured']:9.6f}  "
              f"{r['measured_torch']:9.6f}  {r['theory']:9.6f}  {r['log_rate_rel_diff']:+9.2%}  {flag}")
    opt = optimizer_results(args.steps)
    for objective, res in opt.items():
        print(f"\n{objective}: final loss after {args.steps} steps (minimum {res['minimum']:.6g})")
        print(f"  {'optimizer':<10}{'numpy':>14}{'torch':>14}{'max rel. diff of curves':>26}")
        for name, r in res["optimizers"].items():
            print(f"  {name:<10}{r['final_loss']:14.6e}{r['final_loss_torch']:14.6e}{r['curve_max_rel_diff']:26.1e}")

    ok = all(r["max_abs_rel_diff"] <= args.tolerance for r in rows)
    result = {"kappas": args.kappa, "dim": args.dim, "tolerance": args.tolerance, "ok": ok, "rates": rows,
              "optimizers": opt}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "convergence.json").write_text(json.dumps(result, indent=1))
    png = plot(result, args.out / "convergence.png")
    print(f"\nwrote {args.out / 'convergence.json'} and {png}")
    if not ok:
        bad = [f"{LABELS[r['method']]} at kappa {r['kappa']:g}" for r in rows if r["max_abs_rel_diff"] > args.tolerance]
        print(f"FAIL: measured rate off by more than {args.tolerance:.1%}: {', '.join(bad)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
