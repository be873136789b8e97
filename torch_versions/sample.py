"""Sample text from a trained mini-GPT checkpoint, and time generation with and without the KV cache.

    python -m torch_versions.sample --ckpt runs/minigpt_cpu/version_0/checkpoints/best.ckpt \
        --prompt "ROMEO:" --max-new-tokens 500 --temperature 0.8 --top-k 200

The text (prompt included) goes to stdout; the timing report to stderr. The checkpoint is read with
``torch.load(weights_only=True)``, which never executes code from the file.
"""
from __future__ import annotations

import argparse
import sys
import time

import torch

from torch_versions.gpt_lightning import load_gpt


def default_device() -> str:
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def timed_generate(model, idx: torch.Tensor, args: argparse.Namespace, use_cache: bool) -> tuple[torch.Tensor, float]:
    generator = torch.Generator(device=idx.device).manual_seed(args.seed)
    if idx.device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    out = model.generate(idx, args.max_new_tokens, args.temperature, args.top_k, args.top_p, use_cache=use_cache,
                         generator=generator)
    if idx.device.type == "cuda":
        torch.cuda.synchronize()
    return out, time.perf_counter() - start


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ckpt", required=True, help="a .ckpt written by torch_versions.train")
    p.add_argument("--prompt", default="\n")
    p.add_argument("--max-new-tokens", type=int, default=500)
    p.add_argument("--temperature", type=float, default=0.8, help="0 = greedy")
    p.add_argument("--top-k", type=int, default=200)
    p.add_argument("--top-p", type=float, default=None)
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--device", default=None, help="cpu, cuda, mps (default: the best available)")
    p.add_argument("--no-compare", action="store_true", help="skip the uncached timing run")
    args = p.parse_args(argv)
    if args.max_new_tokens < 0:
        p.error(f"--max-new-tokens must be >= 0, got {args.max_new_tokens}")
    if args.temperature < 0:
        p.error(f"--temperature must be >= 0, got {args.temperature}")
    if args.top_k is not None and args.top_k < 1:
        p.error(f"--top-k must be >= 1, got {args.top_k}")
    if args.top_p is not None and not 0 < args.top_p <= 1:
        p.error(f"--top-p must lie in (0, 1], got {args.top_p}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    device = torch.device(args.device or default_device())
    try:
        model, tokenizer = load_gpt(args.ckpt, map_location=device)
        ids = tokenizer.encode(args.prompt)
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if len(ids) == 0:
        print("error: --prompt must hold at least one character", file=sys.stderr)
        return 2
    idx = torch.tensor(ids[None, :], device=device)
    out, cached = timed_generate(model, idx, args, use_cache=True)
    print(tokenizer.decode(out[0].cpu().numpy()))
    n = args.max_new_tokens
    report = f"{n} tokens on {device}: KV cache {n / cached:,.0f} tokens/s"
    if not args.no_compare:
        _, uncached = timed_generate(model, idx, args, use_cache=False)
        report += f", without {n / uncached:,.0f} tokens/s ({uncached / cached:.2f}x)"
    print(report, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
