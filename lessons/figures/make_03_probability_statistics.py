"""Figures for lesson 3 (``lessons/03_probability_statistics.md``), drawn with the from-scratch NumPy implementation.

    python lessons/figures/make_03_probability_statistics.py             # writes the PNGs next to this script
    python lessons/figures/make_03_probability_statistics.py --out DIR

Writes ``03_decision_boundaries.png``, ``03_losses.png``, ``03_beta_posterior.png`` and ``03_mle.png``. Every
probability, loss, gradient and density comes from :mod:`from_scratch.probability`. Seeds are fixed, so the figures
are reproducible. Runs in a few seconds on a laptop CPU.
"""
from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # runnable as a plain script without `pip install -e .`
    sys.path.insert(0, str(ROOT))

from benchmarks.figures import run_figure_script, save  # noqa: E402
from from_scratch.probability import (GaussianNB, LogisticRegression, beta_bernoulli_update,  # noqa: E402
                                      beta_log_prob, beta_mean_variance, binary_cross_entropy_with_logits,
                                      binary_cross_entropy_with_logits_backward, focal_loss, focal_loss_backward,
                                      huber_loss, huber_loss_backward, l1_loss, l1_loss_backward, mse_loss,
                                      mse_loss_backward, normal_fit, normal_log_prob)

HERE = Path(__file__).resolve().parent
CLASS_COLORS = ("#1f77b4", "#d62728", "#2ca02c")

# --- data ----------------------------------------------------------------------------------------------------------
BLOB_MEANS = np.array([[-2.0, -1.0], [2.0, -0.5], [0.0, 2.5]])
BLOB_COVS = np.array([[[0.6, 0.0], [0.0, 1.4]],  # axis-aligned: naive Bayes' assumption holds
                      [[1.2, 0.8], [0.8, 1.0]],  # correlated features: the assumption is violated
                      [[1.8, 0.0], [0.0, 0.35]]])


def three_blobs(n_per_class: int = 80, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """X (3n, 2) from three Gaussian blobs with different covariances, labels y (3n,) in {0, 1, 2}."""
    rng = np.random.default_rng(seed)
    X = np.concatenate([rng.multivariate_normal(m, c, n_per_class) for m, c in zip(BLOB_MEANS, BLOB_COVS)])
    return X, np.repeat(np.arange(3), n_per_class)


def coin_flips(n: int = 100, bias: float = 0.7, seed: int = 1) -> np.ndarray:
    """n flips (1 = heads) of a coin with the given bias."""
    return (np.random.default_rng(seed).random(n) < bias).astype(float)


def beta_interval(alpha: float, beta: float, mass: float = 0.95, n_grid: int = 20001) -> tuple[float, float]:
    """Equal-tailed credible interval of Beta(alpha, beta): the CDF by the trapezoid rule on exp(beta_log_prob)."""
    theta = np.linspace(0.0, 1.0, n_grid)[1:-1]
    dens = np.exp(beta_log_prob(theta, np.full_like(theta, alpha), np.full_like(theta, beta)))
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(theta))])
    cdf /= cdf[-1]
    tail = (1 - mass) / 2
    return float(np.interp(tail, cdf, theta)), float(np.interp(1 - tail, cdf, theta))


def _count(k: int, noun: str) -> str:
    return f"{k} {noun}" + ("" if k == 1 else "s")


# --- figures -------------------------------------------------------------------------------------------------------
def decision_boundaries(out: Path) -> Path:
    """Softmax logistic regression (linear boundaries) and Gaussian naive Bayes (quadratic ones) on three blobs."""
    X, y = three_blobs()
    models = [("Logistic regression (softmax, Newton, C = 1)", LogisticRegression(C=1.0).fit(X, y)),
              ("Gaussian naive Bayes", GaussianNB().fit(X, y))]
    g1, g2 = np.linspace(-5.5, 5.5, 301), np.linspace(-5, 6, 301)
    G1, G2 = np.meshgrid(g1, g2)
    grid = np.stack([G1.ravel(), G2.ravel()], 1)
    colors = np.array([to_rgb(c) for c in CLASS_COLORS])  # (3, 3)
    fig, axes = plt.subplots(1, 2, figsize=(13, 6.2))
    for ax, (name, model) in zip(axes, models):
        P = model.predict_proba(grid)  # (G, 3)
        rgb = 1 - 0.55 * (P @ (1 - colors))  # white where unsure between classes, tinted by the probabilities
        ax.imshow(rgb.reshape(*G1.shape, 3), origin="lower", extent=(g1[0], g1[-1], g2[0], g2[-1]),
                  aspect="auto", interpolation="bilinear")
        top = P.max(1).reshape(G1.shape)
        cs = ax.contour(G1, G2, top, levels=[0.5, 0.9, 0.99], colors="0.35", linewidths=0.7, linestyles=":")
        ax.clabel(cs, fmt=lambda v: f"max p = {v:g}", fontsize=7.5)
        label = P.argmax(1).reshape(G1.shape)
        ax.contour(G1, G2, label, levels=[0.5, 1.5], colors="k", linewidths=1.8)
        for k, c in enumerate(CLASS_COLORS):
            ax.scatter(*X[y == k].T, s=16, color=c, edgecolor="k", linewidth=0.4, label=f"class {k}")
        acc = float((model.predict(X) == y).mean())
        nll = float(-np.log(model.predict_proba(X)[np.arange(len(y)), y]).mean())
        ax.set_title(f"{name}\ntraining accuracy {100 * acc:.1f} %, mean log-loss {nll:.3f}", fontsize=11)
        ax.set_xlim(g1[0], g1[-1])
        ax.set_ylim(g2[0], g2[-1])
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        ax.legend(loc="upper left", fontsize=8.5, framealpha=0.9)
    fig.suptitle("Decision boundaries (black) and class probabilities (shading) on three Gaussian blobs "
                 f"({len(y)} points, seed 0);\nlogistic regression's boundaries are lines, naive Bayes' are conics; "
                 "the red class has correlated features, which naive Bayes cannot represent", fontsize=11.5)
    fig.tight_layout()
    return save(fig, out / "03_decision_boundaries.png")


def losses(out: Path) -> Path:
    """MSE, MAE, Huber against the residual, BCE and focal loss against the logit of a positive, with gradients."""
    d = np.linspace(-3, 3, 601)
    zero = np.zeros_like(d)
    ones = np.ones_like(d)
    fig, axes = plt.subplots(2, 2, figsize=(12.5, 8.6))
    reg = [("MSE $d^2$", mse_loss, mse_loss_backward, {}, "C0"),
           ("MAE $|d|$", l1_loss, l1_loss_backward, {}, "C1"),
           (r"Huber, $\delta=1$", huber_loss, huber_loss_backward, {"delta": 1.0}, "C2")]
    for name, f, fb, kw, color in reg:
        axes[0, 0].plot(d, f(d, zero, "none", **kw), color=color, lw=2, label=name)
        axes[0, 1].plot(d, fb(d, zero, ones, "none", **kw)["input"], color=color, lw=2, label=name)
    axes[0, 0].set_ylim(-0.1, 4.2)
    axes[0, 0].set_title("regression losses of the residual $d=$ input $-$ target\n(torch's conventions: MSE has "
                         r"no $\frac{1}{2}$, Huber has)", fontsize=10.5)
    axes[0, 1].set_title(r"their gradients $\partial\ell/\partial$input (the scratch *_backward):"
                         "\nan outlier pulls MSE in proportion to $d$, MAE and Huber by at most 1", fontsize=10.5)
    for ax in axes[0]:
        ax.axvspan(-1, 1, color="C2", alpha=0.07)
        ax.set_xlabel("residual $d$")
    axes[0, 1].set_ylim(-3.3, 3.3)

    x = np.linspace(-6, 6, 601)
    y = np.ones_like(x)
    axes[1, 0].plot(x, binary_cross_entropy_with_logits(x, y, "none"), color="k", lw=3.5, alpha=0.35,
                    label="BCE with logits")
    axes[1, 1].plot(x, binary_cross_entropy_with_logits_backward(x, y, ones, "none")["input"], color="k", lw=3.5,
                    alpha=0.35, label=r"BCE: $\sigma(x)-1$")
    for gamma, color in ((0.0, "C0"), (1.0, "C1"), (2.0, "C3")):
        axes[1, 0].plot(x, focal_loss(x, y, "none", gamma=gamma), "--" if gamma == 0 else "-", color=color, lw=1.8,
                        label=f"focal, $\\gamma={gamma:g}$")
        axes[1, 1].plot(x, focal_loss_backward(x, y, ones, "none", gamma=gamma)["input"],
                        "--" if gamma == 0 else "-", color=color, lw=1.8, label=f"focal, $\\gamma={gamma:g}$")
    axes[1, 0].set_yscale("log")
    axes[1, 0].set_ylim(1e-9, 20)
    axes[1, 0].set_title(r"binary losses of the logit $x$ for a positive label ($y=1$, $p=\sigma(x)$)"
                         "\nfocal $=(1-p)^\\gamma\\,$BCE (log scale): confident hits ($x\\gg0$) cost almost nothing",
                         fontsize=10.5)
    axes[1, 1].set_title(r"their gradients $\partial\ell/\partial x$: BCE's is $\sigma(x)-1\in(-1,0)$, bounded at "
                         "any $x$;\nfocal loss stops pushing examples that are already right", fontsize=10.5)
    axes[1, 1].set_ylim(-1.22, 0.08)
    for ax in axes[1]:
        ax.set_xlabel("logit $x$")
    for ax in axes.ravel():
        if ax is not axes[1, 0]:
            ax.axhline(0, color="0.6", lw=0.8)
        ax.axvline(0, color="0.6", lw=0.8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=9, loc="upper center" if ax is axes[0, 0] else "best")
    fig.suptitle("Loss functions (left) and their gradients (right), all from from_scratch.probability.losses",
                 fontsize=12)
    fig.tight_layout()
    return save(fig, out / "03_losses.png")


def beta_posterior(out: Path, prior: tuple[float, float] = (2.0, 2.0), bias: float = 0.7,
                   checkpoints: tuple[int, ...] = (0, 1, 5, 20, 100)) -> Path:
    """Beta(2, 2) prior updated by flips of a 0.7-coin: densities, posterior means and 95 % intervals."""
    flips = coin_flips(max(checkpoints), bias)
    theta = np.linspace(0.0, 1.0, 1001)[1:-1]
    fig, (ax, ax_ci) = plt.subplots(2, 1, figsize=(11, 8.4), gridspec_kw={"height_ratios": [2.3, 1]}, sharex=True)
    cmap = plt.get_cmap("viridis")
    for i, n in enumerate(checkpoints):
        a, b = beta_bernoulli_update(*prior, flips[:n]) if n else prior
        dens = np.exp(beta_log_prob(theta, np.full_like(theta, a), np.full_like(theta, b)))
        mean, var = beta_mean_variance(a, b)
        lo, hi = beta_interval(a, b)
        color = "0.45" if n == 0 else cmap(0.15 + 0.75 * i / (len(checkpoints) - 1))
        heads = int(flips[:n].sum())
        name = (f"prior Beta({a:g}, {b:g})" if n == 0 else
                f"n = {n}: {_count(heads, 'head')}, {_count(n - heads, 'tail')} → Beta({a:g}, {b:g})")
        ax.plot(theta, dens, color=color, lw=2.2, ls="--" if n == 0 else "-", label=name)
        inside = (theta >= lo) & (theta <= hi)
        ax.fill_between(theta[inside], dens[inside], color=color, alpha=0.12)
        ax.plot([mean], [np.exp(beta_log_prob(np.array([mean]), np.array([a]), np.array([b])))[0]], "o",
                color=color, ms=6, mec="k", mew=0.6)
        ax_ci.plot([lo, hi], [i, i], color=color, lw=4, solid_capstyle="butt")
        ax_ci.plot([mean], [i], "o", color=color, ms=8, mec="k", mew=0.8)
        ax_ci.text((lo + hi) / 2, i - 0.22, f"mean {mean:.3f}, sd {np.sqrt(var):.3f}, 95 % [{lo:.3f}, {hi:.3f}]",
                   ha="center", va="bottom", fontsize=8.5)
    for a_ in (ax, ax_ci):
        a_.axvline(bias, color="C3", lw=1.2, ls=":")
    ax.text(bias + 0.008, ax.get_ylim()[1] * 0.97, f"true bias {bias}", color="C3", va="top", fontsize=9.5)
    ax.set_ylabel(r"density $p(\theta\mid$ flips$)$")
    ax.set_title(r"Posterior of a coin's bias $\theta$: Beta prior × Bernoulli likelihood = Beta posterior "
                 r"$\mathrm{Beta}(\alpha+\#\mathrm{heads},\ \beta+\#\mathrm{tails})$" "\n"
                 "densities from beta_log_prob; dots: posterior means; shaded: equal-tailed 95 % credible intervals",
                 fontsize=11)
    ax.legend(loc="upper left", fontsize=9.5)
    ax.grid(alpha=0.3)
    ax_ci.set_yticks(range(len(checkpoints)), ["prior" if n == 0 else f"n = {n}" for n in checkpoints])
    ax_ci.set_ylim(len(checkpoints) - 0.6, -0.75)
    ax_ci.set_xlim(0, 1)
    ax_ci.set_xlabel(r"bias $\theta$ = P(heads)")
    ax_ci.set_title("posterior mean and 95 % interval after n flips: the interval shrinks like $1/\\sqrt{n}$",
                    fontsize=10.5)
    ax_ci.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return save(fig, out / "03_beta_posterior.png")


def mle(out: Path, loc: float = 2.0, scale: float = 1.5, n: int = 50, seed: int = 3) -> Path:
    """Log-likelihood of a Normal over (mu, sigma) for n samples, with the MLE; and its curvature in mu against n."""
    x = np.random.default_rng(seed).normal(loc, scale, n)
    mu_hat, sigma_hat = (float(v) for v in normal_fit(x))
    mus, sigmas = np.linspace(0.8, 3.3, 201), np.linspace(0.9, 2.9, 201)
    M, Sg = np.meshgrid(mus, sigmas)
    shape = (n,) + M.shape
    ll = normal_log_prob(np.broadcast_to(x[:, None, None], shape), np.broadcast_to(M, shape),
                         np.broadcast_to(Sg, shape)).sum(0)
    best = float(normal_log_prob(x, np.full(n, mu_hat), np.full(n, sigma_hat)).sum())
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 5.4), gridspec_kw={"width_ratios": [1.15, 1]})
    rel = ll - best  # <= 0, zero at the MLE
    levels = -np.array([60, 40, 25, 15, 8, 4, 2, 1, 0.5])
    cf = ax.contourf(M, Sg, rel, levels=np.r_[min(rel.min(), -80), levels, 0], cmap="viridis")
    cs = ax.contour(M, Sg, rel, levels=levels, colors="k", linewidths=0.6)
    ax.clabel(cs, fmt=lambda v: f"{v:g}", fontsize=8)
    fig.colorbar(cf, ax=ax, label=r"$\ell(\mu,\sigma)-\ell(\hat\mu,\hat\sigma)$, "
                                  r"$\ell=\sum_i\log N(x_i;\mu,\sigma)$")
    ax.plot(mu_hat, sigma_hat, "*", color="C3", ms=15, mec="k", label=rf"MLE $(\bar x,\hat\sigma)=({mu_hat:.3f}, "
                                                                      rf"{sigma_hat:.3f})$, $\ell={best:.2f}$")
    ax.plot(loc, scale, "P", color="C1", ms=11, mec="k", label=rf"true $(\mu,\sigma)=({loc:g}, {scale:g})$")
    ax.set_xlabel(r"$\mu$")
    ax.set_ylabel(r"$\sigma$")
    ax.set_title(f"log-likelihood of n = {n} samples of N({loc:g}, {scale:g}²) (seed {seed});\n"
                 "contours: difference from the maximum", fontsize=10.5)
    ax.legend(loc="upper right", fontsize=9)

    rng = np.random.default_rng(seed + 1)
    big = rng.normal(loc, scale, 5000)
    grid = np.linspace(0.5, 3.5, 601)
    for m, color in ((10, "C0"), (100, "C2"), (1000, "C3")):
        xs = big[:m]
        mh, sh = (float(v) for v in normal_fit(xs))
        G = np.broadcast_to(grid, (m, grid.size))
        curve = normal_log_prob(np.broadcast_to(xs[:, None], G.shape), np.array(G), np.full(G.shape, sh)).sum(0)
        peak = float(normal_log_prob(xs, np.full(m, mh), np.full(m, sh)).sum())
        se = sh / np.sqrt(m)
        ax2.plot(grid, curve - peak, color=color, lw=2, label=rf"n = {m}: $\hat\mu={mh:.3f}$, "
                                                             rf"$\hat\sigma/\sqrt{{n}}={se:.3f}$")
        ax2.plot([mh - 1.96 * se, mh + 1.96 * se], [-1.92, -1.92], color=color, lw=5, alpha=0.5,
                 solid_capstyle="butt")
    ax2.axhline(-1.92, color="0.5", lw=0.8, ls="--")
    ax2.text(0.55, -2.05, r"$-1.92=-\frac{1}{2}\cdot1.96^2$: the 95 % interval $\hat\mu\pm1.96\,\hat\sigma/\sqrt{n}$",
             fontsize=9, va="top", bbox=dict(fc="white", ec="none", alpha=0.8, pad=1))
    ax2.axvline(loc, color="C1", lw=1, ls=":")
    ax2.set_ylim(-8, 0.5)
    ax2.set_xlim(grid[0], grid[-1])
    ax2.set_xlabel(r"$\mu$ (with $\sigma=\hat\sigma$)")
    ax2.set_ylabel(r"$\ell(\mu)-\ell(\hat\mu)=-\frac{n(\mu-\hat\mu)^2}{2\hat\sigma^2}$")
    ax2.set_title("more data, sharper likelihood: the curvature $n/\\hat\\sigma^2$ is the Fisher information",
                  fontsize=10.5)
    ax2.legend(loc="lower center", fontsize=9)
    ax2.grid(alpha=0.3)
    fig.suptitle("Maximum likelihood for a Normal: the log-likelihood surface (left) and its sharpening with n (right)",
                 fontsize=12)
    fig.tight_layout()
    return save(fig, out / "03_mle.png")


def main(argv: list[str] | None = None) -> list[Path]:
    return run_figure_script(__doc__.splitlines()[0], (decision_boundaries, losses, beta_posterior, mle), HERE, argv)


if __name__ == "__main__":
    main()
