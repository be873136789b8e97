"""Train the lesson-2 two-layer network on scikit-learn's digits, from scratch and in PyTorch, side by side.

    python -m benchmarks.train_digits                       # 64 -> 128 (relu) -> 10, SGD lr 0.1, 30 epochs
    python -m benchmarks.train_digits --activation tanh --epochs 50 --out results/digits

Both models start from the same weights (the torch model's state dict loaded into the scratch one) and see the
same mini-batches, so in float64 their loss curves coincide. Prints test accuracy, wall time and throughput of
each, saves ``digits.json`` and ``digits.png`` under ``--out``; exits 1 if either accuracy is below ``--target``.
"""
from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

import from_scratch.calculus as S
import torch_versions.calculus as T


def digits_split(seed: int = 0, test_size: float = 0.25):
    """Digits scaled to [0, 1] (pixels / 16), stratified train/test split: X (N, 64) float64, y (N,) int64."""
    digits = load_digits()
    X, y = digits.data / 16.0, digits.target.astype(np.int64)
    return train_test_split(X, y, test_size=test_size, random_state=seed, stratify=y)


def train_both(hidden: int = 128, activation: str = "relu", lr: float = 0.1, epochs: int = 30, batch_size: int = 32,
               seed: int = 0) -> dict:
    """Train both twins from the same initialization; return losses, accuracies and timings."""
    X_tr, X_te, y_tr, y_te = digits_split(seed)
    n_steps = epochs * (len(X_tr) // batch_size)
    torch.manual_seed(seed)
    net_t = T.TwoLayerNet(X_tr.shape[1], hidden, 10, activation)
    net_s = S.TwoLayerNet(X_tr.shape[1], hidden, 10, activation)
    net_s.load_state_dict({k: v.detach().numpy() for k, v in net_t.state_dict().items()})

    Xt_tr, yt_tr = torch.from_numpy(X_tr), torch.from_numpy(y_tr)
    warm = min(20, n_steps)  # warm up (allocator, dispatch caches) on throwaway copies, then time
    S.train_sgd(copy.deepcopy(net_s), X_tr, y_tr, lr, warm, batch_size, seed)
    T.train_sgd(copy.deepcopy(net_t), Xt_tr, yt_tr, lr, warm, batch_size, seed)
    start = time.perf_counter()
    loss_s = S.train_sgd(net_s, X_tr, y_tr, lr, n_steps, batch_size, seed)
    time_s = time.perf_counter() - start
    start = time.perf_counter()
    loss_t = T.train_sgd(net_t, Xt_tr, yt_tr, lr, n_steps, batch_size, seed).numpy()
    time_t = time.perf_counter() - start
    with torch.no_grad():
        acc_t = T.accuracy(net_t(torch.from_numpy(X_te)), torch.from_numpy(y_te))
    acc_s = S.accuracy(net_s(X_te), y_te)
    return {"hidden": hidden, "activation": activation, "lr": lr, "epochs": epochs, "batch_size": batch_size,
            "steps": n_steps, "test_size": len(X_te), "scratch": {"test_accuracy": acc_s, "seconds": time_s,
            "samples_per_s": n_steps * batch_size / time_s, "losses": loss_s.tolist()},
            "torch": {"test_accuracy": acc_t, "seconds": time_t, "samples_per_s": n_steps * batch_size / time_t,
                      "losses": loss_t.tolist()}, "max_loss_diff": float(np.abs(loss_s - loss_t).max())}


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for side, style in (("scratch", "-"), ("torch", "--")):
        losses = np.array(result[side]["losses"])
        smooth = np.convolve(losses, np.ones(20) / 20, mode="valid")
        ax.plot(smooth, style, label=f"{side} (test acc {result[side]['test_accuracy']:.1%})")
    ax.set(xlabel="SGD step", ylabel="cross-entropy (20-step mean)", yscale="log",
           title=f"2-layer net on digits: max |loss diff| = {result['max_loss_diff']:.1e}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.train_digits", description=__doc__.splitlines()[0])
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--activation", default="relu", choices=["relu", "tanh", "sigmoid"])
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--target", type=float, default=0.95, help="minimum test accuracy for exit status 0")
    p.add_argument("--out", type=Path, default=Path("results/train_digits"))
    p.add_argument("--threads", type=int, default=1,
                   help="CPU threads for torch and NumPy's BLAS (default 1: these matrices are small, and one thread "
                        "is not slowed down by other processes sharing the cores)")
    args = p.parse_args(argv)
    for name in ("hidden", "epochs", "batch_size"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.threads < 1:
        p.error("--threads must be >= 1")
    torch.set_num_threads(args.threads)
    with threadpool_limits(args.threads):
        r = train_both(args.hidden, args.activation, args.lr, args.epochs, args.batch_size, args.seed)
    print(f"2-layer net 64 -> {r['hidden']} ({r['activation']}) -> 10 on digits: {r['steps']} SGD steps, "
          f"batch {r['batch_size']}, lr {r['lr']}, {r['test_size']} test images")
    for side in ("scratch", "torch"):
        s = r[side]
        print(f"  {side:8s} test accuracy {s['test_accuracy']:.2%}   {s['seconds']:.2f} s   {s['samples_per_s']:,.0f} samples/s")
    print(f"  max |loss_scratch - loss_torch| over all steps: {r['max_loss_diff']:.2e}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "digits.json").write_text(json.dumps(r, indent=1))
    plot(r, args.out / "digits.png")
    print(f"wrote {args.out / 'digits.json'} and {args.out / 'digits.png'}")
    ok = min(r["scratch"]["test_accuracy"], r["torch"]["test_accuracy"]) >= args.target
    if not ok:
        print(f"below the target accuracy {args.target:.0%}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
