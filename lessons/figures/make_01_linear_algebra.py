"""Figures for lesson 1 (``lessons/01_linear_algebra.md``), drawn with the from-scratch NumPy implementation.

    python lessons/figures/make_01_linear_algebra.py             # writes the PNGs next to this script
    python lessons/figures/make_01_linear_algebra.py --out DIR

Writes ``01_pca_digits.png``, ``01_low_rank_error.png``, ``01_power_iteration.png`` and ``01_projection.png``.
Every number comes from :mod:`from_scratch.linear_algebra`; seeds are fixed, so the figures are reproducible.
Runs in a few seconds on a laptop CPU.
"""
from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # runnable as a plain script without `pip install -e .`
    sys.path.insert(0, str(ROOT))

from benchmarks.figures import run_figure_script, save  # noqa: E402
from from_scratch.linear_algebra import (eigh, householder_qr, low_rank_approximation, matrix_norm,  # noqa: E402
                                         numerical_rank, pca_fit, pca_transform, power_iteration,
                                         project_onto_column_space, project_onto_vector, svd)

HERE = Path(__file__).resolve().parent


def pca_digits(out: Path) -> Path:
    """The 1797 8x8 digits (64 features) projected onto their first two principal components."""
    digits = load_digits()
    X, labels = digits.data.astype(np.float64), digits.target
    fit = pca_fit(X, 2)
    Z = pca_transform(X, fit.mean, fit.components)  # (N, 2)
    r1, r2 = fit.explained_variance_ratio
    fig, ax = plt.subplots(figsize=(7.0, 5.6))
    sc = ax.scatter(Z[:, 0], Z[:, 1], c=labels, cmap="tab10", s=7, vmin=-0.5, vmax=9.5)
    for d in range(10):  # label each class at its centroid
        cx, cy = Z[labels == d].mean(0)
        ax.text(cx, cy, str(d), fontsize=15, weight="bold", ha="center", va="center",
                bbox=dict(boxstyle="circle,pad=0.2", fc="white", ec=plt.cm.tab10(d), alpha=0.85))
    cbar = fig.colorbar(sc, ax=ax, ticks=range(10))
    cbar.set_label("digit label")
    ax.set_xlabel(f"PC 1 ({100 * r1:.1f}% of the variance)")
    ax.set_ylabel(f"PC 2 ({100 * r2:.1f}% of the variance)")
    ax.set_title(f"PCA of scikit-learn digits: {X.shape[0]} images x {X.shape[1]} pixels -> 2-D\n"
                 f"(from_scratch pca_fit; the two components keep {100 * (r1 + r2):.1f}% of the variance)")
    ax.grid(alpha=0.3)
    return save(fig, out / "01_pca_digits.png")


def low_rank_error(out: Path) -> Path:
    """Eckart-Young on a stack of 100 digit images: ||A - A_k|| against the tail singular values."""
    A = load_digits().data[:100].astype(np.float64)  # (100, 64)
    _, s, _ = svd(A)
    rank = numerical_rank(s, A.shape)
    ks = [k for k in (1, 2, 4, 6, 10, 15, 20, 30, 40, 50) if k < rank]  # one SVD per k: a few ranks suffice
    fro, spec, approx = [], [], {}
    for k in ks:
        Ak = low_rank_approximation(A, k)
        fro.append(matrix_norm(A - Ak, "fro"))
        spec.append(matrix_norm(A - Ak, 2))
        approx[k] = Ak
    tail = np.sqrt(np.cumsum((s ** 2)[::-1])[::-1])  # tail[k] = sqrt(sum of s[k:]^2)

    fig = plt.figure(figsize=(10.5, 6.4))
    grid = fig.add_gridspec(2, 6, height_ratios=[3.2, 1], hspace=0.45, wspace=0.6)
    ax1, ax2 = fig.add_subplot(grid[0, :3]), fig.add_subplot(grid[0, 3:])
    kk = np.arange(1, rank)
    ax1.semilogy(kk, tail[kk], "-", color="C0", lw=2, label=r"Eckart-Young: $\sqrt{\sum_{i>k}\sigma_i^2}$")
    ax1.semilogy(ks, fro, "o", color="C1", ms=5, label=r"measured $\|A-A_k\|_F$")
    ax1.set_title("Frobenius error")
    ax2.semilogy(kk, s[kk], "-", color="C0", lw=2, label=r"Eckart-Young: $\sigma_{k+1}$")
    ax2.semilogy(ks, spec, "s", color="C3", ms=5, label=r"measured $\|A-A_k\|_2$")
    ax2.set_title("spectral error")
    for ax in (ax1, ax2):
        ax.set_xlabel("rank k of the approximation")
        ax.set_ylabel("error (log scale)")
        ax.grid(alpha=0.3, which="both")
        ax.legend()
    fig.suptitle(f"Best rank-k approximation of {A.shape[0]} digit images ({A.shape[0]}x{A.shape[1]}, rank {rank}) "
                 "with low_rank_approximation", fontsize=12)
    shows = [1, 2, 4, 10, 20]
    for i, k in enumerate(shows):
        ax = fig.add_subplot(grid[1, i])
        ax.imshow(approx[k][0].reshape(8, 8), cmap="gray_r")
        ax.set_title(f"k = {k}", fontsize=10)
        ax.axis("off")
    ax = fig.add_subplot(grid[1, len(shows)])
    ax.imshow(A[0].reshape(8, 8), cmap="gray_r")
    ax.set_title("original", fontsize=10)
    ax.axis("off")
    return save(fig, out / "01_low_rank_error.png")


def _symmetric_with_spectrum(lam: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A = Q diag(lam) Q^T with a random orthogonal Q (Householder QR of a Gaussian matrix)."""
    Q, _ = householder_qr(rng.standard_normal((lam.size, lam.size)))
    return (Q * lam) @ Q.T, Q


def power_iteration_rates(out: Path, n: int = 30, t_max: int = 100) -> Path:
    """Errors of power iteration, step by step, for several gaps |lambda_2 / lambda_1|, against r^t and r^(2t)."""
    rng = np.random.default_rng(0)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.6))
    t = np.arange(t_max + 1)
    for i, r in enumerate([0.5, 0.8, 0.9, 0.95]):
        lam = np.concatenate([[1.0, r], r * np.linspace(0.9, 0.05, n - 2)])  # lambda_1 = 1, |lambda_2| = r
        A, _ = _symmetric_with_spectrum(lam, rng)
        w, V = eigh(A)  # the from-scratch Jacobi solver gives the reference eigenpair
        lam1, v1 = w[-1], V[:, -1]
        v = np.ones(n) / np.sqrt(n)  # the same start as power_iteration's default
        vec_err, val_err = [], []
        for _ in t:
            vec_err.append(np.linalg.norm(v - (v1 @ v) * v1))  # sin of the angle to v1, without cancellation
            val_err.append(abs(lam1 - v @ A @ v))
            v = A @ v
            v /= np.linalg.norm(v)
        ours = power_iteration(A, num_iters=t_max, tol=0.0)  # same iteration; final vector must match the loop's
        assert np.allclose(abs(ours.eigenvector @ v), 1.0), "manual loop and power_iteration disagree"
        tan0 = vec_err[0] / abs(v1 @ np.ones(n) / np.sqrt(n))
        vec_err, val_err = np.array(vec_err), np.array(val_err)
        keep = vec_err > 1e-15
        ax1.semilogy(t[keep], vec_err[keep], color=f"C{i}", lw=2, label=rf"$|\lambda_2/\lambda_1|={r}$")
        ax1.semilogy(t, tan0 * r ** t, "--", color=f"C{i}", lw=1)
        keep = val_err > 1e-15
        ax2.semilogy(t[keep], val_err[keep], color=f"C{i}", lw=2, label=rf"$|\lambda_2/\lambda_1|={r}$")
        ax2.semilogy(t, (lam1 - lam.min()) * tan0 ** 2 * r ** (2 * t), "--", color=f"C{i}", lw=1)
    ax1.set_title(r"eigenvector error $\sin\angle(v_t, v_1)$; dashed: $\tan\theta_0\,|\lambda_2/\lambda_1|^t$")
    ax2.set_title(r"eigenvalue error $|\lambda_1-v_t^\top Av_t|$; dashed: bound $\propto|\lambda_2/\lambda_1|^{2t}$")
    for ax in (ax1, ax2):
        ax.set_xlabel("iteration t")
        ax.set_ylabel("error (log scale)")
        ax.set_ylim(1e-16, 10)
        ax.grid(alpha=0.3, which="both")
        ax.legend(loc="lower left", fontsize=9)
    fig.suptitle(f"Power iteration on symmetric {n}x{n} matrices with "
                 r"$\lambda_1=1$: the gap $|\lambda_2/\lambda_1|$ sets the rate", fontsize=12)
    fig.tight_layout()
    return save(fig, out / "01_power_iteration.png")


def projection(out: Path) -> Path:
    """Left: b projected onto the line through a (2-D). Right: b projected onto the plane col(A) (3-D)."""
    a, b = np.array([3.0, 1.0]), np.array([1.0, 2.0])
    p = project_onto_vector(b, a)
    fig = plt.figure(figsize=(11, 5))
    ax = fig.add_subplot(1, 2, 1)
    ax.plot([-0.6 * a[0], 1.25 * a[0]], [-0.6 * a[1], 1.25 * a[1]], color="0.75", lw=1, zorder=0)
    arrows = [(a, "C0", "a"), (b, "C1", "b"), (p, "C2", r"$p=\frac{a^\top b}{a^\top a}a$")]
    for vec, color, name in arrows:
        ax.annotate("", xy=vec, xytext=(0, 0), arrowprops=dict(arrowstyle="-|>", color=color, lw=2.2))
    ax.annotate("", xy=b, xytext=p, arrowprops=dict(arrowstyle="-|>", color="C3", lw=1.8, ls="--"))
    ax.text(*(a + [0.08, -0.18]), "a", color="C0", fontsize=14)
    ax.text(*(b + [0.05, 0.08]), "b", color="C1", fontsize=14)
    ax.text(*(p + [0.1, -0.35]), rf"$p=\frac{{a^\top b}}{{a^\top a}}a=({p[0]:g},{p[1]:g})$", color="C2", fontsize=12)
    ax.text(*((b + p) / 2 + [0.08, 0]), r"$r=b-p\perp a$", color="C3", fontsize=12)
    u, n_ = a / np.linalg.norm(a), (b - p) / np.linalg.norm(b - p)
    c = 0.15  # right-angle marker at p
    ax.plot(*np.array([p + c * n_, p + c * (n_ - u), p - c * u]).T, color="k", lw=1)
    ax.set_aspect("equal")
    ax.set_xlim(-0.5, 3.6)
    ax.set_ylim(-0.6, 2.4)
    ax.grid(alpha=0.3)
    ax.set_title(r"onto a line: $a=(3,1)$, $b=(1,2)$")

    A = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])  # columns a1, a2 span the plane x3 = x1 + x2
    b3 = np.array([1.0, 0.0, 4.0])
    p3 = np.round(project_onto_column_space(b3, A), 12) + 0.0  # (2, 1, 3); + 0.0 turns -0.0 into 0.0
    ax = fig.add_subplot(1, 2, 2, projection="3d")
    g = np.linspace(-0.5, 2.5, 7)
    s1, s2 = np.meshgrid(g, g)
    ax.plot_surface(s1, s2, s1 + s2, alpha=0.15, color="C0", edgecolor="C0", linewidth=0.3)
    labels = [(b3, "C1", "b", (0.1, 0, 0.15)), (p3, "C2", "p", (0.1, 0.1, -0.5)),
              (A[:, 0], "C0", "$a_1$", (0.25, -0.2, -0.45)), (A[:, 1], "C0", "$a_2$", (-0.2, 0.1, 0.25))]
    for vec, color, name, shift in labels:
        ax.quiver(0, 0, 0, *vec, color=color, lw=2, arrow_length_ratio=0.1)
        ax.text(*(vec + shift), name, color=color, fontsize=13)
    ax.plot(*np.array([p3, b3]).T, "--", color="C3", lw=1.8)
    ax.text(*((p3 + b3) / 2 + (0.1, 0, 0.1)), r"$b-p\perp$ plane", color="C3", fontsize=11)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_zlabel("$x_3$")
    ax.view_init(elev=12, azim=-50)
    ax.set_title(r"onto col(A), $a_1=(1,0,1)$, $a_2=(0,1,1)$, $b=(1,0,4)$:" + "\n"
                 + r"$p=A(A^\top A)^{-1}A^\top b=$" + f"({p3[0]:g}, {p3[1]:g}, {p3[2]:g})")
    fig.suptitle("Orthogonal projection: the residual is perpendicular to the subspace", fontsize=12)
    fig.tight_layout()
    return save(fig, out / "01_projection.png")


def main(argv: list[str] | None = None) -> list[Path]:
    return run_figure_script(__doc__.splitlines()[0], (pca_digits, low_rank_error, power_iteration_rates, projection), HERE, argv)


if __name__ == "__main__":
    main()
