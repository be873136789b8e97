"""Figures for lesson 4 (``lessons/04_optimization.md``), drawn with the from-scratch NumPy implementation.

    python lessons/figures/make_04_optimization.py             # writes the PNGs next to this script
    python lessons/figures/make_04_optimization.py --out DIR

Writes ``04_optimizer_paths.png``, ``04_convergence_rates.png``, ``04_schedules.png``, ``04_weight_decay.png`` and
``04_lasso_path.png``. Every optimizer step is taken by :mod:`from_scratch.optimization` with gradients from lesson
2's hand-written ``quadratic_backward`` / ``rosenbrock_backward``; torch.optim takes the same steps (the registry,
``python -m benchmarks.compare --lesson 4``). Seeds are fixed, so the figures are reproducible. Runs in about
10 seconds on a laptop CPU.
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # runnable as a plain script without `pip install -e .`
    sys.path.insert(0, str(ROOT))

from benchmarks.figures import run_figure_script, save  # noqa: E402
from from_scratch.calculus import quadratic, quadratic_backward, rosenbrock, rosenbrock_backward  # noqa: E402
from from_scratch.optimization import (COMPARISON_OPTIMIZERS, SGD, Adam, AdamW, CosineAnnealingLR,  # noqa: E402
                                       ExponentialLR, LinearWarmupCosine, RMSprop, StepLR, clip_grad_norm,
                                       conditioned_quadratic, ista, measure_rate, theoretical_rate)
from from_scratch.optimization import optimizers as optim  # noqa: E402

HERE = Path(__file__).resolve().parent
COLORS = {"SGD": "C0", "momentum": "C1", "Nesterov": "C2", "RMSprop": "C3", "Adam": "C4"}

# The 2-D quadratic of the paths figure: eigenvalues 1 and 50 along axes rotated by 30 degrees.
MU, L = 1.0, 50.0
_ROT = np.array([[math.cos(math.pi / 6), -math.sin(math.pi / 6)], [math.sin(math.pi / 6), math.cos(math.pi / 6)]])
A2 = _ROT @ np.diag([MU, L]) @ _ROT.T
B2 = np.zeros(2)


def quadratic_optimizers() -> dict[str, tuple[type, dict]]:
    """GD, heavy ball and Nesterov tuned by the theory for [mu, L] (section 3 of the lesson), RMSprop and Adam."""
    s = math.sqrt(L / MU)
    return {"SGD": (SGD, {"lr": 2 / (MU + L)}),
            "momentum": (SGD, {"lr": 4 / (math.sqrt(L) + math.sqrt(MU)) ** 2, "momentum": ((s - 1) / (s + 1)) ** 2}),
            "Nesterov": (SGD, {"lr": 1 / L, "momentum": (s - 1) / (s + 1), "nesterov": True}),
            "RMSprop": (RMSprop, {"lr": 0.05}), "Adam": (Adam, {"lr": 0.3})}


def rosenbrock_optimizers() -> dict[str, tuple[type, dict]]:
    """The settings of ``benchmarks.convergence`` (COMPARISON_OPTIMIZERS["rosenbrock"])."""
    cfg = COMPARISON_OPTIMIZERS["rosenbrock"]
    return {label: (getattr(optim, cfg[key][0]), cfg[key][1])
            for label, key in (("SGD", "sgd"), ("momentum", "momentum"), ("Nesterov", "nesterov"),
                               ("RMSprop", "rmsprop"), ("Adam", "adam"))}


def run_path(cls: type, options: dict, grad, f, x0: np.ndarray, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Iterates (n_steps + 1, 2) and values (n_steps + 1,) of one scratch optimizer from x0."""
    x = x0.copy()
    opt = cls([x], **options)
    xs, fs = [x.copy()], [f(x)]
    for _ in range(n_steps):
        opt.step([grad(x)])  # x is updated in place
        xs.append(x.copy())
        fs.append(f(x))
    return np.array(xs), np.array(fs)


def _contours(ax, f, box, levels):
    x_lo, x_hi, y_lo, y_hi = box
    gx, gy = np.meshgrid(np.linspace(x_lo, x_hi, 300), np.linspace(y_lo, y_hi, 300))
    z = np.array([f(np.array([u, v])) for u, v in zip(gx.ravel(), gy.ravel())]).reshape(gx.shape)
    ax.contour(gx, gy, z, levels=levels, colors="0.6", linewidths=0.6)
    ax.set(xlim=(x_lo, x_hi), ylim=(y_lo, y_hi), xlabel="$x_1$", ylabel="$x_2$")


def optimizer_paths(out: Path) -> Path:
    """Top: paths of five optimizers on a rotated quadratic (kappa = 50) and on Rosenbrock; bottom: f - f* per step."""
    fq, gq = (lambda x: quadratic(x, A2, B2)), (lambda x: quadratic_backward(x, A2, B2, 1.0)[0])
    gr = lambda x: rosenbrock_backward(x, 1.0)  # noqa: E731
    problems = [
        (r"quadratic, eigenvalues 1 and 50 (rotated 30°), 60 steps", fq, gq, np.array([-4.0, -1.5]),
         quadratic_optimizers(), 60, (-4.6, 1.0, -3.6, 1.0), 4.0 ** np.arange(-4, 5)),
        ("Rosenbrock, 1000 steps from (-1.2, 1)", rosenbrock, gr, np.array([-1.2, 1.0]), rosenbrock_optimizers(), 1000,
         (-1.6, 1.4, -0.4, 1.6), np.concatenate([[0.01, 0.1, 0.5], 2.0 ** np.arange(0, 10)])),
    ]
    fig, axes = plt.subplots(2, 2, figsize=(13.5, 10.5), gridspec_kw={"height_ratios": [1.25, 1]})
    for col, (title, f, grad, x0, opts, n, box, levels) in enumerate(problems):
        ax, ax_f = axes[0, col], axes[1, col]
        _contours(ax, f, box, levels)
        for name, (cls, options) in opts.items():
            xs, fs = run_path(cls, options, grad, f, x0, n)
            settings = ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else k for k, v in options.items()
                                 if k != "nesterov")
            ax.plot(xs[:, 0], xs[:, 1], "-", color=COLORS[name], lw=1.3, alpha=0.9,
                    marker="." if col == 0 else None, ms=3, label=f"{name} ({settings})")
            if col == 1:  # on Rosenbrock mark every 100th iterate: the spacing shows the speed along the valley
                ax.plot(xs[::100, 0], xs[::100, 1], "o", color=COLORS[name], ms=4)
            ax_f.semilogy(np.maximum(fs, 1e-30), color=COLORS[name], lw=1.5, label=f"{name}: {fs[-1]:.2e} at step {n}")
        if col == 0:
            ax.set_aspect("equal")
        ax.plot(*x0, "ko", ms=6)
        ax.plot(*((0, 0) if col == 0 else (1, 1)), "k*", ms=12)
        ax.set_title(title, fontsize=11)
        ax.legend(fontsize=8, loc="lower right" if col == 0 else "upper center", framealpha=0.95)
        ax_f.set(xlabel="step", ylabel="$f(x_t)-f^*$ (log scale)")
        ax_f.grid(alpha=0.3)
        ax_f.legend(fontsize=8, loc="lower left")
    axes[1, 0].set_ylim(1e-14, 1e3)
    axes[1, 1].set_ylim(1e-4, 1e2)
    axes[1, 1].set_title("dots on the paths above: every 100th step", fontsize=9)
    fig.suptitle("from_scratch.optimization with lesson 2's quadratic_backward / rosenbrock_backward "
                 "(torch.optim takes the same steps)", fontsize=12)
    fig.tight_layout()
    return save(fig, out / "04_optimizer_paths.png")


def convergence_rates(out: Path) -> Path:
    """||x_t - x*|| per step for tuned GD / heavy ball / Nesterov at kappa = 10, 100, 1000, and steps per decade."""
    labels = {"gd": "gradient descent", "heavy_ball": "heavy ball", "nesterov": "Nesterov"}
    colors = {"gd": "C0", "heavy_ball": "C1", "nesterov": "C2"}
    fig, axes = plt.subplots(1, 4, figsize=(19, 4.8), gridspec_kw={"width_ratios": [1, 1, 1, 1.05]})
    for ax, kappa in zip(axes, (10.0, 100.0, 1000.0)):
        A, x0 = conditioned_quadratic(np.linspace(1.0, kappa, 10))
        n = len(measure_rate("gd", A, x0, 1.0, kappa).errors) - 1  # 6 decades of GD at its worst-case rate
        for method in labels:
            r = measure_rate(method, A, x0, 1.0, kappa)  # the runs and fits of `python -m benchmarks.convergence`
            errors = r.errors[:n + 1]
            t = np.arange(len(errors))
            ax.semilogy(t, errors, color=colors[method], lw=1.8,
                        label=f"{labels[method]}: measured {float(r.rate):.4f}")
            ax.semilogy(t, errors[0] * r.theory ** t, "--", color=colors[method], lw=1,
                        label=f"   theory $\\rho^t$, $\\rho$ = {r.theory:.4f}")
        ax.set(title=f"$\\kappa$ = {kappa:g}: 10 eigenvalues in [1, {kappa:g}]", xlabel="step t",
               ylim=(1e-16, 1e2), xlim=(0, n))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7.5, loc="lower left", framealpha=0.95)
    axes[0].set_ylabel(r"$\Vert x_t-x^*\Vert$ (Nesterov: look-ahead $y_t$)")
    ax = axes[3]
    kappas = np.logspace(0.5, 3.5, 9)
    grid = np.logspace(0.3, 3.7, 100)
    for method in labels:
        measured = []
        for kappa in kappas:
            A, x0 = conditioned_quadratic(np.linspace(1.0, kappa, 10))
            measured.append(math.log(10) / -math.log(float(measure_rate(method, A, x0, 1.0, kappa).rate)))
        ax.loglog(kappas, measured, "o", color=colors[method], label=f"{labels[method]} (measured)")
        ax.loglog(grid, [math.log(10) / -math.log(theoretical_rate(method, k)) for k in grid], "-", color=colors[method],
                  lw=1)
    ax.loglog(grid, 1.15 * grid, ":", color="0.4", lw=1, label=r"$1.15\,\kappa$ and $1.15\sqrt{\kappa}$")
    ax.loglog(grid, 1.15 * np.sqrt(grid), ":", color="0.4", lw=1)
    ax.set(title="steps per decade of error, $\\ln 10/(-\\ln\\rho)$", xlabel=r"condition number $\kappa$",
           ylabel="steps per factor 10")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.suptitle(r"Linear convergence on $\frac{1}{2}x^\top Ax$ (from_scratch.optimization.measure_rate): "
                 r"$\frac{\kappa-1}{\kappa+1}$ for GD, $\frac{\sqrt{\kappa}-1}{\sqrt{\kappa}+1}$ for heavy ball, "
                 r"$1-\frac{1}{\sqrt{\kappa}}$ for Nesterov", fontsize=12)
    fig.tight_layout()
    return save(fig, out / "04_convergence_rates.png")


def schedule_lrs(make, n_steps: int = 100, base_lr: float = 0.1) -> np.ndarray:
    """lr at steps 0..n_steps-1 of a scratch scheduler on a one-parameter SGD."""
    opt = SGD([np.zeros(1)], lr=base_lr)
    sched = make(opt)
    lrs = [sched.get_last_lr()[0]]
    for _ in range(n_steps - 1):
        opt.step([None])
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    return np.array(lrs)


SCHEDULES = {"StepLR(step_size=30, gamma=0.3)": lambda o: StepLR(o, 30, 0.3),
             "ExponentialLR(gamma=0.97)": lambda o: ExponentialLR(o, 0.97),
             "CosineAnnealingLR(T_max=100)": lambda o: CosineAnnealingLR(o, 100),
             "LinearWarmupCosine(warmup_steps=10, total_steps=100)": lambda o: LinearWarmupCosine(o, 10, 100)}


def clipped_sgd(max_norm: float | None, x0=(-2.5, 0.0), lr: float = 1e-3, n_steps: int = 3000) -> np.ndarray:
    """Rosenbrock values of SGD from x0, clipping the gradient's norm to max_norm (None: no clipping); stops at inf."""
    x = np.array(x0)
    opt = SGD([x], lr=lr)
    fs = [rosenbrock(x)]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(n_steps):
            g = rosenbrock_backward(x, 1.0)
            if max_norm is not None:
                clip_grad_norm([g], max_norm)
            opt.step([g])
            fs.append(rosenbrock(x))
            if not np.isfinite(fs[-1]):
                break
    return np.array(fs)


def schedules(out: Path) -> Path:
    """Left: the four learning-rate schedules over 100 steps from lr = 0.1. Right: clipping an exploding SGD run."""
    fig, (ax, ax_c) = plt.subplots(1, 2, figsize=(14, 4.8))
    for name, make in SCHEDULES.items():
        ax.plot(schedule_lrs(make), lw=2, label=name)
    ax.set(xlabel="step t", ylabel=r"learning rate $\eta_t$", title="Learning-rate schedules, base lr 0.1 "
           "(equal to torch.optim.lr_scheduler)")
    ax.legend(fontsize=8.5)
    ax.grid(alpha=0.3)
    for max_norm, color in ((None, "C3"), (100.0, "C0"), (10.0, "C2")):
        fs = clipped_sgd(max_norm)
        label = "no clipping" if max_norm is None else f"clip_grad_norm(max_norm={max_norm:g})"
        finite = fs[np.isfinite(fs)]
        ax_c.semilogy(finite, color=color, lw=1.8, marker="o" if max_norm is None else None,
                      label=f"{label}: " + (f"overflow at step {len(fs) - 1}" if len(finite) < len(fs)
                                            else f"f = {fs[-1]:.3g} at step {len(fs) - 1}"))
    unclipped = clipped_sgd(None)
    off = ", ".join(f"{f:.1e} (step {t})" for t, f in enumerate(unclipped) if f > 1e16)
    ax_c.annotate(f"off the chart: f = {off}", (3.6, 8e15), xytext=(6, 1e12), color="C3", fontsize=9,
                  arrowprops=dict(arrowstyle="->", color="C3"))
    ax_c.set(xlabel="step (symlog scale)", ylabel="Rosenbrock f (log scale)", xscale="symlog", ylim=(1e-2, 1e16),
             title="SGD, lr 1e-3, from (-2.5, 0) where $\\Vert\\nabla f\\Vert$ = 6381: clipping by global norm")
    ax_c.grid(alpha=0.3, which="both")
    ax_c.legend(fontsize=8.5)
    fig.tight_layout()
    return save(fig, out / "04_schedules.png")


def weight_decay_runs(scales=(0.01, 1.0, 100.0), lr: float = 1e-3, weight_decay: float = 1.0, n_steps: int = 3000,
                      seed: int = 0) -> dict[str, np.ndarray]:
    """Three weights in ONE parameter, started at 1, whose loss gradient is pure noise s_i * xi_t (the same xi_t for
    all three): the weights do not matter to the loss, so only the decay moves them on average. Histories
    (n_steps + 1, 3) for Adam with L2 and AdamW."""
    xi = np.random.default_rng(seed).standard_normal(n_steps)
    s = np.array(scales)
    runs = {}
    for cls in (Adam, AdamW):
        w = np.ones(len(s))
        opt = cls([w], lr=lr, weight_decay=weight_decay)
        hist = [w.copy()]
        for t in range(n_steps):
            opt.step([s * xi[t]])
            hist.append(w.copy())
        runs[cls.__name__] = np.array(hist)
    return runs


def loss_scale_runs(scales=(0.01, 1.0, 100.0), lr: float = 1e-2, weight_decay: float = 0.1,
                    n_steps: int = 1000) -> dict[str, np.ndarray]:
    """One weight, loss s/2 (w - 0.5)^2 from w = 1: histories (n_steps + 1, len(scales)) for Adam + L2 and AdamW."""
    s = np.array(scales)
    runs = {}
    for cls in (Adam, AdamW):
        w = np.ones(len(s))  # one coordinate per scale: Adam's updates are coordinate-wise, so they do not interact
        opt = cls([w], lr=lr, weight_decay=weight_decay)
        hist = [w.copy()]
        for _ in range(n_steps):
            opt.step([s * (w - 0.5)])
            hist.append(w.copy())
        runs[cls.__name__] = np.array(hist)
    return runs


def weight_decay(out: Path) -> Path:
    """Adam + L2 (solid) against AdamW (dashed): decay that depends on the gradient's scale, and decay that does not."""
    fig, (ax, ax_s) = plt.subplots(1, 2, figsize=(14, 4.8))
    scales, colors = (0.01, 1.0, 100.0), ("C0", "C1", "C2")
    runs = weight_decay_runs(scales)
    t = np.arange(len(runs["Adam"]))
    for i, (s, color) in enumerate(zip(scales, colors)):
        ax.plot(t, runs["Adam"][:, i], color=color, lw=1.6, label=f"Adam + L2, gradient noise {s:g}: "
                f"w = {runs['Adam'][-1, i]:.3f}")
        ax.plot(t, runs["AdamW"][:, i], "--", color=color, lw=1.6, label=f"AdamW, gradient noise {s:g}: "
                f"w = {runs['AdamW'][-1, i]:.3f}")
    ax.plot(t, (1 - 1e-3 * 1.0) ** t, ":", color="k", lw=1.2, label=r"$(1-\eta\lambda)^t$ (SGD + L2, on average)")
    ax.set(xlabel="step", ylabel="weight w", title="Weights the loss ignores (gradient = noise $s\\,\\xi_t$): "
           "lr 1e-3, $\\lambda$ = 1", ylim=(-0.05, 1.12))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7.5, loc="center right")
    runs = loss_scale_runs(scales)
    t = np.arange(len(runs["Adam"]))
    for i, (s, color) in enumerate(zip(scales, colors)):
        ax_s.plot(t, runs["Adam"][:, i], color=color, lw=1.6, label=f"Adam + L2, loss scale {s:g}: "
                  f"w = {runs['Adam'][-1, i]:.4f}")
        ax_s.plot(t, runs["AdamW"][:, i], "--", color=color, lw=2.2 - 0.6 * i, label=f"AdamW, loss scale {s:g}: "
                  f"w = {runs['AdamW'][-1, i]:.4f}")
    ax_s.set(xlabel="step", ylabel="weight w", title=r"Loss $\frac{s}{2}(w-0.5)^2$ from w = 1: lr 1e-2, $\lambda$ = 0.1")
    ax_s.grid(alpha=0.3)
    ax_s.legend(fontsize=7.5, loc="lower right", bbox_to_anchor=(1.0, 0.1))
    fig.suptitle("Adam with an L2 penalty (weight_decay in torch.optim.Adam, solid) vs decoupled decay "
                 "(torch.optim.AdamW, dashed)", fontsize=12)
    fig.tight_layout()
    return save(fig, out / "04_weight_decay.png")


def lasso_data(seed: int = 0, n: int = 100, d: int = 8) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """X (n, d) standard normal, a sparse truth w (d,) with 3 non-zeros, y = X w + 0.5 noise."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w = np.zeros(d)
    w[[0, 3, 5]] = [2.0, -1.5, 0.8]
    return X, X @ w + 0.5 * rng.standard_normal(n), w


def lasso_path(out: Path) -> Path:
    """ISTA's lasso coefficients against alpha: soft thresholding sets them to exactly zero one by one."""
    X, y, w_true = lasso_data()
    alphas = np.logspace(-3, np.log10(np.abs(X.T @ y).max() / len(y)) + 0.1, 40)
    coefs = np.array([ista(X, y, a, n_steps=300).weight for a in alphas])  # (40, d)
    fig, (ax, ax_n) = plt.subplots(1, 2, figsize=(14, 4.6), gridspec_kw={"width_ratios": [1.6, 1]})
    for j in range(X.shape[1]):
        ax.semilogx(alphas, coefs[:, j], "-", color=f"C{j}", lw=1.6, label=f"$w_{j}$ (true {w_true[j]:g})")
    alpha_max = np.abs(X.T @ y).max() / len(y)  # the smallest alpha whose lasso solution is w = 0
    ax.axvline(alpha_max, color="k", ls=":", lw=1)
    ax.text(alpha_max * 0.9, 1.0, f"$\\alpha_{{\\max}}=\\max_j|X_j^\\top y|/N$\n= {alpha_max:.3f}", ha="right",
            fontsize=9)
    ax.set(xlabel=r"$\alpha$ (log scale)", ylabel="coefficient",
           title=r"ista: $\min_w \frac{1}{2N}\Vert y-Xw\Vert^2+\alpha\Vert w\Vert_1$, N = 100, d = 8, 3 true non-zeros")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=2, loc="lower left")
    ax_n.semilogx(alphas, (coefs != 0).sum(axis=1), "o-", color="k", ms=4)
    ax_n.set(xlabel=r"$\alpha$ (log scale)", ylabel="number of coefficients != 0 (exactly)",
             title="exact zeros from soft thresholding", yticks=range(X.shape[1] + 1))
    ax_n.grid(alpha=0.3)
    fig.tight_layout()
    return save(fig, out / "04_lasso_path.png")


def main(argv: list[str] | None = None) -> list[Path]:
    return run_figure_script(__doc__.splitlines()[0],
                             (optimizer_paths, convergence_rates, schedules, weight_decay, lasso_path), HERE, argv)


if __name__ == "__main__":
    main()
