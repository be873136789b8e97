"""Figures for lesson 4 (``lessons/04_optimization.md``), drawn with the from-scratch NumPy implementation.

    python lessons/figures/make_04_optimization.py             # writes the PNGs next to this script
    python lessons/figures/make_04_optimization.py --out DIR

Writes ``04_optimizer_paths.png``, ``04_convergence_rates.png``, ``04_schedules.png`` and ``04_weight_decay.png``.
"""
from __future__ import annotations

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
from from_scratch.calculus import quadratic, rosenbrock, rosenbrock_backward  # noqa: E402
from from_scratch.optimization import (SGD, Adam, AdamW, CosineAnnealingLR, ExponentialLR,  # noqa: E402
                                       LinearWarmupCosine, RMSprop, StepLR, conditioned_quadratic, measure_rate)

HERE = Path(__file__).resolve().parent
# name -> (optimizer class, settings), the same on both test functions except the learning rate scale
OPTIMIZERS = {"SGD": (SGD, {}), "momentum 0.9": (SGD, {"momentum": 0.9}),
              "Nesterov 0.9": (SGD, {"momentum": 0.9, "nesterov": True}), "RMSprop": (RMSprop, {}), "Adam": (Adam, {})}


def _path(opt_cls, settings, grad, x0, lr, n_steps):
    x = x0.copy()
    opt = opt_cls([x], lr=lr, **settings)
    xs = [x.copy()]
    for _ in range(n_steps):
        opt.step([grad(x)])
        xs.append(x.copy())
    return np.array(xs)


def optimizer_paths(out: Path) -> Path:
    """Five optimizers on an ill-conditioned quadratic (kappa = 25) and on Rosenbrock, over the contours."""
    theta = np.pi / 6
    R = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    A = R @ np.diag([1.0, 25.0]) @ R.T
    b = np.zeros(2)
    problems = [
        ("quadratic, eigenvalues 1 and 25, 100 steps", lambda x: A @ x, lambda x: quadratic(x, A, b),
         np.array([-4.0, 3.0]), {"SGD": 0.07, "momentum 0.9": 0.02, "Nesterov 0.9": 0.02, "RMSprop": 0.05, "Adam": 0.3},
         100, (-5, 5, -4, 4)),
        ("Rosenbrock, 1500 steps", lambda x: rosenbrock_backward(x, 1.0), rosenbrock, np.array([-1.5, 2.0]),
         {"SGD": 1e-3, "momentum 0.9": 2e-4, "Nesterov 0.9": 2e-4, "RMSprop": 1e-2, "Adam": 5e-2}, 1500, (-2, 2, -1, 3)),
    ]
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.2))
    for ax, (title, grad, f, x0, lrs, n, (x_lo, x_hi, y_lo, y_hi)) in zip(axes, problems):
        gx, gy = np.meshgrid(np.linspace(x_lo, x_hi, 240), np.linspace(y_lo, y_hi, 240))
        Z = np.array([f(np.array([u, v])) for u, v in zip(gx.ravel(), gy.ravel())]).reshape(gx.shape)
        ax.contour(gx, gy, np.log1p(Z), levels=25, cmap="Greys", linewidths=0.6)
        for name, (cls, settings) in OPTIMIZERS.items():
            xs = _path(cls, settings, grad, x0, lrs[name], n)
            ax.plot(xs[:, 0], xs[:, 1], lw=1.4, label=f"{name} (lr {lrs[name]:g}): f = {f(xs[-1]):.2e}")
        ax.plot(*x0, "ko")
        ax.set(title=title, xlim=(x_lo, x_hi), ylim=(y_lo, y_hi), xlabel="$x_1$", ylabel="$x_2$")
        ax.legend(fontsize=8, loc="lower left" if "quadratic" in title else "upper left")
    fig.suptitle("from_scratch.optimization on two 2-D problems (torch.optim takes the same steps)", fontsize=12)
    fig.tight_layout()
    return save(fig, out / "04_optimizer_paths.png")


def convergence_rates(out: Path) -> Path:
    """Distance to the minimum against step for GD / heavy ball / Nesterov at kappa = 10, 100, 1000."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4), sharey=True)
    labels = {"gd": "gradient descent", "heavy_ball": "heavy ball", "nesterov": "Nesterov"}
    for ax, kappa in zip(axes, (10, 100, 1000)):
        A, x0 = conditioned_quadratic(np.linspace(1.0, kappa, 10))
        for (method, label), color in zip(labels.items(), ("C0", "C1", "C2")):
            r = measure_rate(method, A, x0, 1.0, float(kappa))
            t = np.arange(len(r.errors))
            ax.semilogy(t, r.errors, color=color, label=f"{label}: measured {float(r.rate):.4f}, theory {r.theory:.4f}")
            ax.semilogy(t, r.errors[0] * r.theory ** t, color=color, ls=":", lw=1)
        ax.set(title=f"$\\kappa$ = {kappa}", xlabel="step t", xscale="log", ylim=(1e-20, 1e2))
        ax.legend(fontsize=8, loc="lower left")
    axes[0].set_ylabel(r"$\Vert x_t-x^*\Vert$ (dotted: theoretical rate$^t$)")
    fig.suptitle("Linear convergence on quadratics: (kappa-1)/(kappa+1) for GD, (sqrt kappa-1)/(sqrt kappa+1) for heavy "
                 "ball, 1-1/sqrt kappa for Nesterov", fontsize=11)
    fig.tight_layout()
    return save(fig, out / "04_convergence_rates.png")


def schedules(out: Path) -> Path:
    """The four learning-rate schedules over 100 steps from lr = 0.1."""
    makers = {"StepLR(step_size=30, gamma=0.3)": lambda o: StepLR(o, 30, 0.3),
              "ExponentialLR(gamma=0.97)": lambda o: ExponentialLR(o, 0.97),
              "CosineAnnealingLR(T_max=100)": lambda o: CosineAnnealingLR(o, 100),
              "LinearWarmupCosine(10, 100)": lambda o: LinearWarmupCosine(o, 10, 100)}
    fig, ax = plt.subplots(figsize=(8, 4.2))
    for name, make in makers.items():
        sched = make(SGD([np.zeros(1)], lr=0.1))
        lrs = [sched.get_last_lr()[0]]
        for _ in range(99):
            sched.step()
            lrs.append(sched.get_last_lr()[0])
        ax.plot(lrs, lw=2, label=name)
    ax.set(xlabel="step", ylabel="learning rate", title="Learning-rate schedules (equal to torch.optim.lr_scheduler)")
    ax.legend()
    ax.grid(alpha=0.3)
    return save(fig, out / "04_schedules.png")


def weight_decay(out: Path) -> Path:
    """Adam + L2 versus AdamW on one weight whose loss gradient has scale s: L2 is rescaled away by Adam."""
    fig, ax = plt.subplots(figsize=(8, 4.2))
    for scale, color in zip((0.01, 1.0, 100.0), ("C0", "C1", "C2")):
        for cls, ls in ((Adam, "-"), (AdamW, "--")):
            w = np.array([1.0])
            opt = cls([w], lr=1e-2, weight_decay=0.1)
            hist = [w[0]]
            for _ in range(1000):
                opt.step([scale * (w - 0.5)])  # loss s/2 (w - 0.5)^2: optimum 0.5 without decay
                hist.append(w[0])
            ax.plot(hist, color=color, ls=ls, label=f"{cls.__name__}, gradient scale {scale:g}: w = {w[0]:.3f}")
    ax.set(xlabel="step", ylabel="w", title="Adam with L2 (solid) depends on the gradient scale; AdamW (dashed) does not")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return save(fig, out / "04_weight_decay.png")


def main(argv: list[str] | None = None) -> list[Path]:
    return run_figure_script(__doc__.splitlines()[0], (optimizer_paths, convergence_rates, schedules, weight_decay), HERE, argv)


if __name__ == "__main__":
    main()
