"""Figures for lesson 2 (``lessons/02_calculus_gradients.md``), drawn with the from-scratch NumPy implementation.

    python lessons/figures/make_02_calculus_gradients.py             # writes the PNGs next to this script
    python lessons/figures/make_02_calculus_gradients.py --out DIR

Writes ``02_finite_difference_error.png``, ``02_computational_graph.png``, ``02_gd_trajectories.png`` and
``02_training_curves.png``. Every number comes from :mod:`from_scratch.calculus`; the training figure also runs
the torch twin from the same initial weights on the same mini-batches, to show that the two curves coincide.
Seeds are fixed, so the figures are reproducible. Runs in under 15 seconds on a laptop CPU.
"""
from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # runnable as a plain script without `pip install -e .`
    sys.path.insert(0, str(ROOT))

from benchmarks.figures import run_figure_script, save  # noqa: E402
from from_scratch.calculus import (TwoLayerNet, Value, accuracy, cross_entropy, gradient_descent,  # noqa: E402
                                   jacobian, quadratic, rosenbrock, rosenbrock_backward, step_size_errors,
                                   topological_order, train_sgd)

HERE = Path(__file__).resolve().parent
EPS = float(np.finfo(np.float64).eps)


def finite_difference_error(out: Path) -> Path:
    """|forward - f'| and |central - f'| against h for f = exp at x = 1, with the error model of the lesson."""
    x, f = 1.0, np.exp(1.0)  # f = f' = f'' = f''' = e
    h = np.logspace(-16, 0, 161)
    err = step_size_errors(np.exp, np.exp, x, h)
    fig, ax = plt.subplots(figsize=(9.2, 5.8))
    for name, color in (("forward", "C0"), ("central", "C3")):
        e = np.maximum(err[name], 1e-17)  # exact zeros (lucky rounding) would vanish from a log plot
        ax.loglog(h, e, color=color, lw=1.6, label=f"{name} difference, measured")
    ax.loglog(h, h / 2 * f, ":", color="C0", lw=1.5, label=r"truncation $\frac{h}{2}|f''|$ (slope 1)")
    ax.loglog(h, h ** 2 / 6 * f, ":", color="C3", lw=1.5, label=r"truncation $\frac{h^2}{6}|f'''|$ (slope 2)")
    ax.loglog(h, 2 * EPS * f / h, "--", color="C0", lw=1, label=r"round-off $2\varepsilon|f|/h$ (slope $-1$)")
    ax.loglog(h, EPS * f / h, "--", color="C3", lw=1, label=r"round-off $\varepsilon|f|/h$")
    optima = (("forward", EPS ** 0.5, r"$\varepsilon^{1/2}$", "C0"),
              ("central", EPS ** (1 / 3), r"$\varepsilon^{1/3}$", "C3"))
    for name, h_opt, symbol, color in optima:
        ax.axvline(h_opt, color=color, lw=1, alpha=0.6)
        ax.text(h_opt * 1.3, 3e1, f"h = {symbol}\n= {h_opt:.1e}", color=color, fontsize=10, va="top")
        e_opt = step_size_errors(np.exp, np.exp, x, np.array([h_opt]))[name][0]
        ax.plot(h_opt, e_opt, "o", color=color, ms=8, mfc="white", mew=2, zorder=5)
        ax.annotate(f"{name} at h = {h_opt:.1e}:\nerror {e_opt:.1e}", (h_opt, e_opt),
                    xytext=(14, -42) if name == "central" else (-60, -95), arrowprops=dict(arrowstyle="-", color=color),
                    textcoords="offset points", color=color, fontsize=9.5,
                    bbox=dict(fc="white", ec="none", alpha=0.85, pad=1))
    ax.set_ylim(1e-14, 1e2)
    ax.set_xlim(1e-16, 1)
    ax.set_xlabel("step h (log scale)")
    ax.set_ylabel(r"$|\,$difference quotient $-\,f'(x)\,|$ (log scale)")
    ax.set_title(r"Error of finite differences for $f=\exp$ at $x=1$ in float64 ($\varepsilon=2.2\cdot10^{-16}$):"
                 "\nround-off falls like 1/h, truncation grows like h or $h^2$; step_size_errors", fontsize=11)
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="lower left", fontsize=9, framealpha=0.95)
    return save(fig, out / "02_finite_difference_error.png")


def computational_graph(out: Path) -> Path:
    """f = (x*y + tanh(x))**2 at x = 0.5, y = 2 as built by the scratch Value engine, with data and grad."""
    x, y = Value(0.5, "x"), Value(2.0, "y")
    xy, th = x * y, x.tanh()
    s = xy + th
    f = s ** 2
    xy.label, th.label, s.label, f.label = "u = x·y", "v = tanh x", "s = u + v", "f = s²"
    f.backward()
    nodes = topological_order(f)
    pos = {x: (0.0, 1.7), y: (0.0, -1.7), th: (4.6, 2.5), xy: (4.6, -0.9), s: (9.2, 0.8), f: (13.6, 0.8)}
    assert set(pos) == set(nodes), "the graph has other nodes than expected"
    fig, ax = plt.subplots(figsize=(13, 6.2))
    w, hgt = 2.3, 1.35
    for node in nodes:
        for parent, local in zip(node._prev, node._local):
            (x0, y0), (x1, y1) = pos[parent], pos[node]
            ax.annotate("", xy=(x1 - w / 2, y1), xytext=(x0 + w / 2, y0),
                        arrowprops=dict(arrowstyle="-|>", color="0.35", lw=1.6, mutation_scale=16,
                                        shrinkA=0, shrinkB=0))
            mx, my = (x0 + x1) / 2, (y0 + y1) / 2  # x0 + w/2 and x1 - w/2 have the same midpoint
            name = f"∂{node.label.split(' =')[0]}/∂{parent.label.split(' =')[0]}"
            value = f"{local:.4f}".rstrip("0").rstrip(".")
            ax.text(mx, my, f"{name} = {value}", fontsize=10.5, ha="center", va="center", color="C2",
                    bbox=dict(fc="white", ec="C2", lw=0.6, boxstyle="round,pad=0.25"))
    for node in nodes:
        cx, cy = pos[node]
        leaf = not node._prev
        ax.add_patch(FancyBboxPatch((cx - w / 2, cy - hgt / 2), w, hgt, boxstyle="round,pad=0.05",
                                    fc="#e8f0fb" if leaf else "#fdf1e2", ec="C0" if leaf else "C1", lw=1.8))
        ax.text(cx, cy + 0.36, node.label, ha="center", va="center", fontsize=12.5, weight="bold")
        ax.text(cx, cy - 0.05, f"data = {node.data:.4f}", ha="center", va="center", fontsize=11)
        ax.text(cx, cy - 0.38, f"grad = {node.grad:.4f}", ha="center", va="center", fontsize=11, color="C3")
    terms = f" = {xy.grad * y.data:.4f} + {th.grad * (1 - th.data ** 2):.4f}"
    ax.text(0.0, 2.55, "x is used twice, so its grad is a sum:\n" + r"$\bar x=\bar u\,y+\bar v\,(1-\tanh^2x)$" + terms,
            ha="center", va="bottom", fontsize=10.5, color="C3")
    ax.text(11.2, -1.5, "forward: leaves → f, storing each local derivative\n"
            "backward: f → leaves, parent.grad += node.grad × local derivative,\n"
            f"visiting nodes in reverse topological order: {', '.join(n.label[0] for n in reversed(nodes))}",
            ha="center", va="center", fontsize=10, bbox=dict(fc="0.96", ec="0.7", boxstyle="round,pad=0.4"))
    ax.set_xlim(-1.5, 15.0)
    ax.set_ylim(-2.6, 3.6)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(r"$f=(xy+\tanh x)^2$ at $x=0.5$, $y=2$: values (black), local derivatives on the edges (green), "
                 "\ngradients $\\partial f/\\partial\\,$node from one reverse sweep (red) — the scratch Value engine",
                 fontsize=11.5)
    return save(fig, out / "02_computational_graph.png")


def _run(objective: str, x0: np.ndarray, lr: float, n_steps: int, **params) -> np.ndarray:
    """The trajectory of gradient_descent; a run long enough to overflow is retried with half the steps."""
    try:
        return gradient_descent(objective, x0, lr, n_steps, **params).trajectory
    except FloatingPointError:  # only for a run long enough to overflow: then retry with fewer steps
        return _run(objective, x0, lr, n_steps // 2, **params)


def gd_trajectories(out: Path) -> Path:
    """Gradient descent on an ill-conditioned quadratic (four learning rates) and on the Rosenbrock valley."""
    theta = np.deg2rad(30)
    Q = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    lam = np.array([1.0, 10.0])
    A, b = (Q * lam) @ Q.T, np.zeros(2)  # eigenvalues 1 and 10, minimizer x* = 0
    x0 = np.array([-4.0, 2.5])
    lr_opt = 2 / (lam.min() + lam.max())
    runs = [(0.05, "small"), (lr_opt, r"optimal $2/(\lambda_{\min}+\lambda_{\max})$"),
            (0.19, r"near $2/\lambda_{\max}$: oscillates"), (0.21, r"above $2/\lambda_{\max}=0.2$: diverges")]
    n_steps = 30
    fig = plt.figure(figsize=(15, 9.2))
    top = fig.add_gridspec(1, 4, top=0.9, bottom=0.54, wspace=0.28)
    bottom = fig.add_gridspec(1, 3, top=0.43, bottom=0.05, wspace=0.28)
    g1 = np.linspace(-5, 5, 201)
    X1, X2 = np.meshgrid(g1, g1)
    pts = np.stack([X1.ravel(), X2.ravel()], 1)
    F = 0.5 * np.einsum("ni,ij,nj->n", pts, A, pts).reshape(X1.shape)
    assert np.isclose(F[0, 0], quadratic(pts[0], A, b))
    ax_err = fig.add_subplot(bottom[0])
    for i, (lr, name) in enumerate(runs):
        ax = fig.add_subplot(top[i])
        ax.contour(X1, X2, F, levels=np.geomspace(0.05, 120, 14), colors="0.6", linewidths=0.7)
        traj = _run("quadratic", x0, lr, n_steps, A=A, b=b)
        ax.plot(traj[:, 0], traj[:, 1], "-o", color=f"C{i}", ms=3, lw=1.2)
        ax.plot(*x0, "s", color="k", ms=6)
        ax.plot(0, 0, "*", color="k", ms=11)
        rate = np.abs(1 - lr * lam).max()
        ax.set_title(f"η = {lr:.4g}: {name}\nrate max|1-ηλ| = {rate:.3f}", fontsize=10)
        ax.set_xlim(-5, 5)
        ax.set_ylim(-5, 5)
        ax.set_aspect("equal")
        ax.tick_params(labelsize=8)
        t = np.arange(len(traj))
        ax_err.semilogy(t, np.linalg.norm(traj, axis=1), "-o", color=f"C{i}", ms=3, lw=1.2, label=f"η = {lr:.4g}")
        ax_err.semilogy(t, np.linalg.norm(x0) * rate ** t, "--", color=f"C{i}", lw=1)
    ax_err.set_xlabel("step t")
    ax_err.set_ylabel(r"$\Vert x_t-x^\ast\Vert$ (log scale)")
    ax_err.set_title("quadratic: error per step; dashed: the bound\n"
                     r"$\Vert x_0-x^\ast\Vert\,(\max_i|1-\eta\lambda_i|)^t$", fontsize=10)
    ax_err.grid(alpha=0.3, which="both")
    ax_err.legend(fontsize=9, loc="lower left")

    r0, steps_r = np.array([-1.2, 1.0]), 20000
    ax_r, ax_v = fig.add_subplot(bottom[1]), fig.add_subplot(bottom[2])
    r1, r2 = np.linspace(-1.6, 1.6, 241), np.linspace(-0.4, 1.6, 161)
    R1, R2 = np.meshgrid(r1, r2)
    FR = 100 * (R2 - R1 ** 2) ** 2 + (1 - R1) ** 2
    assert np.isclose(FR[0, 0], rosenbrock(np.array([r1[0], r2[0]])))
    ax_r.contour(R1, R2, FR, levels=np.geomspace(0.01, 600, 16), colors="0.6", linewidths=0.7)
    runs_r = [(1e-3, "tab:purple"), (1.5e-3, "tab:olive"), (2e-3, "tab:pink"), (2.5e-3, "tab:brown")]
    for lr, color in runs_r[::-1]:  # the trapped run first, underneath
        res = gradient_descent("rosenbrock", r0, lr, steps_r)
        tr = res.trajectory
        ax_r.plot(tr[:, 0], tr[:, 1], "-", color=color, lw=1.1, alpha=0.9, label=f"η = {lr:g}")
        ax_r.plot(tr[::1000, 0], tr[::1000, 1], "o", color=color, ms=3.5)
        ax_v.semilogy(np.arange(steps_r + 1), res.values, color=color, lw=1.4,
                      label=f"η = {lr:g}: final f = {res.values[-1]:.1e}")
    ax_r.plot(*r0, "s", color="k", ms=6)
    ax_r.plot(1, 1, "*", color="k", ms=12)
    ax_r.set_xlim(-1.6, 1.6)
    ax_r.set_ylim(-0.4, 1.6)
    ax_r.set_title("Rosenbrock $100(x_2-x_1^2)^2+(1-x_1)^2$ from $(-1.2, 1)$\n"
                   f"{steps_r} steps (dots every 1000); minimum ★ at (1, 1)", fontsize=10)
    handles, labels = ax_r.get_legend_handles_labels()
    ax_r.legend(handles[::-1], labels[::-1], fontsize=9, loc="lower right")
    ax_v.set_xlabel("step t")
    ax_v.set_ylabel("f(x_t) (log scale)")
    H = jacobian(lambda z: rosenbrock_backward(z, 1.0), np.ones(2))  # Hessian at (1, 1): [[802, -400], [-400, 200]]
    lam_max = float(np.linalg.eigvalsh(0.5 * (H + H.T)).max())
    ax_v.set_title(f"Rosenbrock: value per step. At (1, 1) the Hessian has\n$\\lambda_{{\\max}}={lam_max:.1f}$: "
                   f"GD is stable there only if $\\eta<2/\\lambda_{{\\max}}={2 / lam_max:.5g}$", fontsize=10)
    ax_v.grid(alpha=0.3, which="both")
    handles, labels = ax_v.get_legend_handles_labels()
    ax_v.legend(handles[::-1], labels[::-1], fontsize=8.5, loc="lower left")
    fig.suptitle(r"Gradient descent $x_{t+1}=x_t-\eta\nabla f(x_t)$ (from_scratch gradient_descent). "
                 r"Top: $f=\frac{1}{2}x^\top Ax$, eigenvalues 1 and 10 ($\kappa=10$), axes rotated by 30°, "
                 f"{n_steps} steps", fontsize=12, y=0.97)
    return save(fig, out / "02_gd_trajectories.png")


def _train_twins(hidden: int, lr: float, epochs: int, batch_size: int) -> dict:
    """Train the scratch net and its torch twin from the same weights on the same mini-batches, one epoch per
    ``train_sgd`` call (seed = epoch), recording the loss of every step and the accuracies after every epoch."""
    import torch

    import torch_versions.calculus as T
    from benchmarks.train_digits import digits_split

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: one thread is fastest, and steady when other jobs share the CPU
    try:
        torch.manual_seed(0)
        X_tr, X_te, y_tr, y_te = digits_split(0)
        net_t = T.TwoLayerNet(X_tr.shape[1], hidden, 10)
        net_s = TwoLayerNet(X_tr.shape[1], hidden, 10)
        net_s.load_state_dict({k: v.detach().numpy() for k, v in net_t.state_dict().items()})
        Xt_tr, yt_tr, Xt_te = torch.from_numpy(X_tr), torch.from_numpy(y_tr), torch.from_numpy(X_te)
        per_epoch = len(X_tr) // batch_size
        r = {"scratch": [], "torch": [], "train": [], "loss_s": [], "loss_t": [], "per_epoch": per_epoch,
             "n_train": len(y_tr), "n_test": len(y_te)}
        for epoch in range(epochs):
            r["loss_s"].append(train_sgd(net_s, X_tr, y_tr, lr, per_epoch, batch_size, seed=epoch))
            r["loss_t"].append(T.train_sgd(net_t, Xt_tr, yt_tr, lr, per_epoch, batch_size, seed=epoch).numpy())
            r["scratch"].append(accuracy(net_s(X_te), y_te))
            r["train"].append(accuracy(net_s(X_tr), y_tr))
            with torch.no_grad():
                r["torch"].append(T.accuracy(net_t(Xt_te), torch.from_numpy(y_te)))
        r["final_train_loss"] = float(cross_entropy(net_s(X_tr), y_tr))
        return r
    finally:
        torch.set_num_threads(threads)


def training_curves(out: Path, hidden: int = 128, lr: float = 0.1, epochs: int = 30, batch_size: int = 32) -> Path:
    """Loss per step and accuracy per epoch of the 2-layer net on scikit-learn digits, scratch and torch twin."""
    r = _train_twins(hidden, lr, epochs, batch_size)
    acc, per_epoch = r, r["per_epoch"]
    loss_s, loss_t = np.concatenate(r["loss_s"]), np.concatenate(r["loss_t"])
    diff = float(np.abs(loss_s - loss_t).max())
    final_train_loss = r["final_train_loss"]

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12.5, 4.8))
    steps = np.arange(1, len(loss_s) + 1)
    ax1.semilogy(steps, loss_s, color="C0", lw=0.5, alpha=0.35)
    smooth = lambda v: np.convolve(v, np.ones(per_epoch) / per_epoch, mode="valid")  # noqa: E731
    ax1.semilogy(steps[per_epoch - 1:], smooth(loss_s), color="C0", lw=3, label="from scratch (NumPy)")
    ax1.semilogy(steps[per_epoch - 1:], smooth(loss_t), "--", color="C1", lw=1.6, label="torch twin")
    ax1.set_xlabel(f"SGD step (batch {batch_size}, {per_epoch} steps per epoch)")
    ax1.set_ylabel("mini-batch cross-entropy (log scale)")
    ax1.set_title(f"training loss: faint = per step, bold = 1-epoch mean\nmax |scratch - torch| over "
                  f"{len(loss_s)} steps = {diff:.1e}", fontsize=10)
    ax1.grid(alpha=0.3, which="both")
    ax1.legend()
    ep = np.arange(1, epochs + 1)
    ax2.plot(ep, 100 * np.array(acc["train"]), ":", color="0.4", lw=1.5, label="train, from scratch")
    ax2.plot(ep, 100 * np.array(acc["scratch"]), "-o", color="C0", lw=3, ms=5, label="test, from scratch")
    ax2.plot(ep, 100 * np.array(acc["torch"]), "--s", color="C1", lw=1.6, ms=3, label="test, torch twin")
    ax2.axhline(95, color="C3", lw=1, alpha=0.7)
    ax2.text(0.3, 95.3, "95 %", color="C3", ha="left", va="bottom")
    ax2.set_ylim(5 * np.floor(20 * min(acc["scratch"][0], acc["train"][0]) - 1), 100.5)
    ax2.set_xlim(0, epochs + 0.5)
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("accuracy (%)")
    ax2.set_title(f"accuracy after each epoch: test {100 * acc['scratch'][-1]:.2f} % (scratch), "
                  f"{100 * acc['torch'][-1]:.2f} % (torch)\non {r['n_test']} held-out images", fontsize=10)
    ax2.grid(alpha=0.3)
    ax2.legend(loc="lower right")
    fig.suptitle(f"2-layer net 64 → {hidden} (ReLU) → 10 on scikit-learn digits ({r['n_train']} train images), "
                 f"SGD η = {lr}, same initial weights and mini-batches on both sides; "
                 f"final train loss {final_train_loss:.3f}", fontsize=11)
    fig.tight_layout()
    return save(fig, out / "02_training_curves.png")


def main(argv: list[str] | None = None) -> list[Path]:
    return run_figure_script(__doc__.splitlines()[0], (finite_difference_error, computational_graph, gd_trajectories, training_curves), HERE, argv)


if __name__ == "__main__":
    main()
