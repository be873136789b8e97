"""Figures for lesson 7 (``lessons/07_mini_gpt.md``), drawn with the mini-GPT of :mod:`torch_versions.gpt`.

    python lessons/figures/make_07_mini_gpt.py             # writes the PNGs next to this script
    python lessons/figures/make_07_mini_gpt.py --out DIR

Writes ``07_lr_schedule.png`` (``gpt_lightning.warmup_cosine`` for both configs), ``07_attention_maps.png`` (a tiny
GPT trained for 400 steps on a generated copy corpus, next to the same model untrained) and ``07_kv_cache.png``
(positions fed to the model per generated token, counted while ``GPT.generate`` runs, and the forward FLOPs they
imply). No download and no tiny Shakespeare: the corpus is generated here. One CPU thread, seeds fixed; about
10 seconds on a laptop CPU. The numbers the lesson quotes from these runs are printed.
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # runnable as a plain script without `pip install -e .`
    sys.path.insert(0, str(ROOT))

from benchmarks.figures import run_figure_script, save  # noqa: E402
from from_scratch import chardata  # noqa: E402
from torch_versions.gpt import GPT, GPTConfig  # noqa: E402
from torch_versions.gpt_lightning import GPTLightning, warmup_cosine  # noqa: E402

HERE = Path(__file__).resolve().parent

# The model and schedule settings of configs/minigpt_cpu.yaml and configs/minigpt_shakespeare_gpu.yaml.
CONFIGS = {"minigpt_cpu": dict(n_layer=4, n_head=4, n_embd=128, block_size=64, warmup=100, decay=2000, batch=12),
           "minigpt_shakespeare_gpu": dict(n_layer=6, n_head=6, n_embd=384, block_size=256, warmup=100, decay=5000,
                                           batch=64)}
LR, MIN_LR, VOCAB = 1e-3, 1e-4, 65  # both configs; tiny Shakespeare has 65 distinct characters

# The copy corpus of the attention figure: lines "wxyz=wxyz" of 4 random letters, so after "=" every character is
# a copy of the one 5 positions back, and only the 4 letters before "=" are unpredictable.
WORD, LINES = 4, 3000
COPY = dict(n_layer=2, n_head=4, n_embd=64, block_size=32, batch=32, steps=400, lr=5e-3, warmup=20)


def schedule(name: str, steps: int) -> np.ndarray:
    """Learning rate at optimizer steps 0..steps-1 of a config: lr_max * warmup_cosine(step, ...)."""
    c = CONFIGS[name]
    return np.array([LR * warmup_cosine(s, c["warmup"], c["decay"], MIN_LR / LR) for s in range(steps)])


def lr_schedule(out: Path) -> Path:
    """Warm-up + cosine of both configs over their whole run, and the first 150 steps."""
    fig, (ax, ax_w) = plt.subplots(1, 2, figsize=(13, 4.3), gridspec_kw={"width_ratios": [1.6, 1]})
    for (name, c), color in zip(CONFIGS.items(), ("C0", "C1")):
        lrs = schedule(name, c["decay"] + 200)
        label = f"{name}: warm-up {c['warmup']}, cosine to step {c['decay']}"
        ax.plot(lrs, color=color, lw=2, label=label)
        ax_w.plot(lrs[:150], color=color, lw=4 if color == "C0" else 1.5, ls="-" if color == "C0" else "--",
                  label=label)  # the same warm-up in both configs: the lines coincide
        mid = (c["warmup"] + c["decay"]) // 2
        ax.plot(mid, lrs[mid], "o", color=color, ms=5)
        ax.annotate(f"step {mid}: {lrs[mid]:.2e}", (mid, lrs[mid]), xytext=(8, 6), textcoords="offset points",
                    fontsize=8, color=color)
        print(f"{name}: lr {lrs[0]:.1e} at step 0, {lrs[c['warmup'] - 1]:.1e} at step {c['warmup'] - 1}, "
              f"{lrs[mid]:.2e} at step {mid}, {lrs[c['decay']]:.1e} from step {c['decay']}")
    ax.axhline(MIN_LR, color="0.5", ls=":", lw=1)
    ax.text(5300, MIN_LR * 1.4, "min_lr", fontsize=8, color="0.4", ha="right")
    ax.set(xlabel="optimizer step", ylabel="learning rate",
           title="gpt_lightning.warmup_cosine × learning_rate (LambdaLR, one value per optimizer step)")
    ax_w.set(xlabel="optimizer step", ylabel="learning rate", title="the warm-up: lr_max·(s+1)/warmup, then the peak")
    for a, loc in ((ax, "upper right"), (ax_w, "lower right")):
        a.grid(alpha=0.3)
        a.legend(fontsize=8, loc=loc)
    fig.tight_layout()
    return save(fig, out / "07_lr_schedule.png")


def copy_corpus(seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    words = rng.choice(np.array(list("abcdefghijklmnopqrstuvwxyz")), size=(LINES, WORD))
    return "\n".join("".join(w) + "=" + "".join(w) for w in words) + "\n"


def train_copy_model(seed: int = 0) -> tuple[GPT, GPT, chardata.CharTokenizer, np.ndarray, list[tuple[int, float]]]:
    """A tiny GPT trained on the copy corpus with the project's optimizer and schedule
    (``GPTLightning.configure_optimizers``), batches from ``chardata.step_batches`` and clipping at 1.0, in a plain
    loop. Returns the untrained copy, the trained model, the tokenizer, the validation ids and (step, val loss)."""
    text = copy_corpus(seed)
    tokenizer = chardata.CharTokenizer.from_text(text)
    train_ids, val_ids = chardata.train_val_split(tokenizer.encode(text))
    c = COPY
    torch.manual_seed(seed)
    module = GPTLightning(vocab_size=tokenizer.vocab_size, block_size=c["block_size"], n_layer=c["n_layer"],
                          n_head=c["n_head"], n_embd=c["n_embd"], learning_rate=c["lr"], min_lr=c["lr"] / 10,
                          warmup_steps=c["warmup"], lr_decay_steps=c["steps"])
    model = module.model
    untrained = GPT(model.config)
    untrained.load_state_dict(model.state_dict())
    setup = module.configure_optimizers()
    optimizer, scheduler = setup["optimizer"], setup["lr_scheduler"]["scheduler"]
    val_batches = [(torch.from_numpy(x), torch.from_numpy(y))
                   for x, y in chardata.eval_batches(val_ids, 4, 16, c["block_size"])]

    def val_loss() -> float:
        model.eval()
        with torch.no_grad():
            loss = float(np.mean([model(x, y)[1].item() for x, y in val_batches]))
        model.train()
        return loss

    history = [(0, val_loss())]
    for step in range(c["steps"]):
        (x, y), = chardata.step_batches(train_ids, step, c["batch"], c["block_size"], 1, seed=seed)
        _, loss = model(torch.from_numpy(x), torch.from_numpy(y))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        if (step + 1) % 25 == 0:
            history.append((step + 1, val_loss()))
    return untrained.eval(), model.eval(), tokenizer, val_ids, history


def attention_maps(out: Path) -> Path:
    """Untrained vs trained attention probabilities on one validation block, and the validation loss curve."""
    untrained, model, tokenizer, val_ids, history = train_copy_model()
    V = tokenizer.vocab_size
    floor = WORD * math.log(26) / (2 * WORD + 2)  # nats per character if every predictable character is predicted
    print(f"copy corpus: V = {V}, ln V = {math.log(V):.3f}, entropy floor {floor:.3f} nats/char; val loss "
          f"{history[0][1]:.3f} at step 0, {history[-1][1]:.3f} at step {history[-1][0]}")
    start = int(np.flatnonzero(val_ids == tokenizer.encode("\n")[0])[0]) + 1  # a block starting at a line
    idx = torch.from_numpy(val_ids[start:start + COPY["block_size"]][None, :])
    labels = [repr(ch)[1:-1] for ch in tokenizer.decode(idx[0].numpy())]
    before, after = untrained.attention_maps(idx)[:, 0], model.attention_maps(idx)[:, 0]  # (L, H, T, T)
    H = COPY["n_head"]
    fig = plt.figure(figsize=(3.4 * (H + 1), 8.2))
    grid = fig.add_gridspec(2, H + 1)

    def show(ax, m, title):
        ax.imshow(m.numpy(), cmap="viridis", vmin=0, vmax=1)
        ax.set_title(title, fontsize=9)
        ax.set_xticks(range(len(labels)), labels, fontsize=5.5, family="monospace")
        ax.set_yticks(range(len(labels)), labels, fontsize=5.5, family="monospace")
        ax.tick_params(length=0)

    show(fig.add_subplot(grid[0, 0]), before[0, 0], "untrained, layer 0 head 0\n(row t: about 1/(t+1) each)")
    for layer in range(2):
        for h in range(H):
            show(fig.add_subplot(grid[layer, h + 1]), after[layer, h], f"trained 400 steps, layer {layer} head {h}")
    ax = fig.add_subplot(grid[1, 0])
    steps, losses = zip(*history)
    ax.plot(steps, losses, "o-", color="C0", ms=3, label="validation loss")
    ax.axhline(math.log(V), color="C3", ls="--", lw=1, label=f"ln V = ln {V} = {math.log(V):.2f}")
    ax.axhline(floor, color="C2", ls=":", lw=1.2, label=f"entropy floor {floor:.2f}")
    ax.set(xlabel="optimizer step", ylabel="cross-entropy (nats/char)", ylim=(0, 3.6))
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.suptitle("softmax(QKᵀ/√D + M) of GPT.attention_maps on a validation block of the copy corpus "
                 "(row = query position, column = key position; lines 'wxyz=wxyz')", fontsize=11)
    fig.tight_layout()
    return save(fig, out / "07_attention_maps.png")


def fed_positions(use_cache: bool, n_new: int, block_size: int) -> list[tuple[int, int]]:
    """(new positions fed, positions already in the cache) of every forward call ``GPT.generate`` makes, recorded
    by a forward pre-hook. The counts depend on block_size only, so a narrow model records them quickly."""
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=VOCAB, block_size=block_size, n_layer=1, n_head=1, n_embd=8)).eval()
    calls: list[tuple[int, int]] = []

    def hook(module, args, kwargs):
        cache = kwargs.get("cache")
        calls.append((args[0].size(1), cache.pos if cache is not None else 0))

    handle = model.register_forward_pre_hook(hook, with_kwargs=True)
    model.generate(torch.zeros(1, 1, dtype=torch.long), n_new, temperature=0, use_cache=use_cache)
    handle.remove()
    return calls


def forward_flops(fed: int, cached: int, n_params: int, n_layer: int, n_embd: int) -> float:
    """2N per position fed (every weight matrix once, the tied head included) plus 4C per layer for each allowed
    (query, key) pair: 2C for q·k and 2C for the weighted sum of values."""
    pairs = fed * cached + fed * (fed + 1) // 2
    return 2.0 * n_params * fed + 4.0 * n_layer * n_embd * pairs


def kv_cache(out: Path) -> Path:
    """Positions fed per generated token (counted) and forward FLOPs per token and in total (analytic, from the
    counts) for the minigpt_cpu model, generating 3 x block_size tokens from a one-token prompt."""
    c = CONFIGS["minigpt_cpu"]
    T, n_new = c["block_size"], 3 * c["block_size"]
    model = GPT(GPTConfig(vocab_size=VOCAB, block_size=T, n_layer=c["n_layer"], n_head=c["n_head"],
                          n_embd=c["n_embd"]))
    N = model.num_parameters()
    fig, (ax_p, ax_f, ax_c) = plt.subplots(1, 3, figsize=(17, 4.6))
    tokens = np.arange(1, n_new + 1)
    totals = {}
    for use_cache, color, name in ((False, "C3", "use_cache=False"), (True, "C0", "use_cache=True (KV cache)")):
        calls = fed_positions(use_cache, n_new, T)
        fed = np.array([f for f, _ in calls])
        flops = np.array([forward_flops(f, p, N, c["n_layer"], c["n_embd"]) for f, p in calls])
        totals[use_cache] = flops.cumsum()
        ax_p.plot(tokens, fed, color=color, lw=2, label=name)
        ax_f.semilogy(tokens, flops, color=color, lw=2, label=name)
        ax_c.plot(tokens, totals[use_cache] / 1e9, color=color, lw=2, label=name)
    for n in (T - 1, n_new):
        print(f"KV cache, minigpt_cpu (N = {N:,}): {n} tokens from a 1-token prompt: "
              f"{totals[False][n - 1] / 1e9:.3f} GFLOP without the cache, {totals[True][n - 1] / 1e9:.3f} with "
              f"({totals[False][n - 1] / totals[True][n - 1]:.1f}x)")
    for ax in (ax_p, ax_f, ax_c):
        ax.axvline(T, color="0.5", ls=":", lw=1)
        ax.set_xlabel("generated token (prompt: 1 token)")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8, loc="upper left")
    ax_p.text(T + 2, 3, f"context > block_size = {T}:\nthe cache is dropped and the\nlast {T} tokens re-encoded",
              fontsize=8)
    ax_p.set(ylabel="positions fed to the model", title="counted: a forward pre-hook on GPT while GPT.generate runs")
    ax_f.set(ylabel="forward FLOPs for this token", title="analytic from the counts: 2N·fed + 4·L·C·(query, key) pairs")
    ax_c.set(ylabel="cumulative forward GFLOPs", title=f"total (minigpt_cpu: L = {c['n_layer']}, C = {c['n_embd']}, "
             f"N = {N:,})")
    fig.tight_layout()
    return save(fig, out / "07_kv_cache.png")


def main(argv: list[str] | None = None) -> list[Path]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small tensors: one thread is as fast, and the machine may be shared
    try:
        return run_figure_script(__doc__.splitlines()[0], (lr_schedule, attention_maps, kv_cache), HERE, argv)
    finally:
        torch.set_num_threads(threads)


if __name__ == "__main__":
    main()
