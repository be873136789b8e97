"""Mini-GPT benchmark: train a config end to end, then time a plain PyTorch loop on the same model and batches.

    python -m benchmarks.minigpt --config configs/minigpt_cpu.yaml                 # target val loss 1.88
    python -m benchmarks.minigpt --config configs/minigpt_shakespeare_gpu.yaml     # target 1.47 (one GPU)

Prints wall time, training tokens/s, the final validation loss, when the target was first reached, and the ratio
of Lightning's tokens/s to the plain loop's: tokens per step over the median step time, after the first ``--skip``
steps (compilation, allocator warm-up) and without validation — medians, because the machine may be shared. Saves JSON under ``--out``. Exit 1 if the target loss is missed or Lightning is more
than 10% slower than the plain loop. Extra arguments go to the CLI (e.g. ``--trainer.max_steps 500``).
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from pathlib import Path

import lightning as L
import torch

from from_scratch import chardata
from torch_versions.gpt_lightning import warmup_cosine
from torch_versions.train import main as train_main

TARGETS = {"minigpt_cpu": 1.88, "minigpt_shakespeare_gpu": 1.47}


class Recorder(L.Callback):
    """Validation losses against wall time, and the duration of every training step after the first ``skip``.

    A step's duration is the time between the ends of consecutive training batches; an interval that contains a
    validation is dropped. Medians of these durations compare throughputs robustly on a shared, noisy machine.
    """

    def __init__(self, skip: int) -> None:
        self.skip, self.history, self.step_seconds = skip, [], []
        self.start = self._last = None
        self.tokens_per_step = 0

    def on_train_start(self, trainer, pl_module) -> None:
        self.start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        now = time.perf_counter()
        if self._last is not None and trainer.global_step > self.skip:
            self.step_seconds.append(now - self._last)
        self._last = now
        self.tokens_per_step = batch[1].numel() * trainer.world_size

    def on_validation_start(self, trainer, pl_module) -> None:
        self._last = None

    def on_validation_end(self, trainer, pl_module) -> None:
        loss = trainer.callback_metrics.get("val/loss")
        if loss is not None and not trainer.sanity_checking:
            self.history.append({"step": trainer.global_step, "seconds": time.perf_counter() - self.start,
                                 "val_loss": float(loss)})
            print("step {step:6d}  {seconds:7.1f} s  val loss {val_loss:.4f}".format(**self.history[-1]), flush=True)

    def on_train_end(self, trainer, pl_module) -> None:
        _sync(pl_module.device)
        self.wall = time.perf_counter() - self.start


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def plain_loop(pl_module, datamodule, precision: str, steps: int, skip: int) -> list[float]:
    """Step durations of a hand-written loop: same model, batches, AdamW groups, schedule, clipping, autocast."""
    device = pl_module.device
    model = pl_module.model
    forward = pl_module._forward  # compiled if the config compiles
    optimizer = pl_module.configure_optimizers()["optimizer"]
    hp = pl_module.hparams
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: warmup_cosine(
        s, hp.warmup_steps, hp.lr_decay_steps or steps, hp.min_lr / hp.learning_rate))
    dtype = {"bf16": torch.bfloat16, "16": torch.float16}.get(str(precision).split("-")[0])
    scaler = torch.amp.GradScaler(device.type, enabled=dtype is torch.float16)
    model.train()
    durations, last = [], None
    for step in range(steps + skip):
        x, y = (torch.from_numpy(a).to(device) for a in chardata.step_batches(
            datamodule.train_ids, 10_000 + step, datamodule.batch_size, datamodule.block_size, seed=datamodule.seed)[0])
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            _, loss = forward(x, y)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        schedule.step()
        now = time.perf_counter()
        if last is not None and step > skip:
            durations.append(now - last)
        last = now
    _sync(device)
    return durations


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--plain-steps", type=int, default=300, help="timed steps of the plain loop")
    parser.add_argument("--skip", type=int, default=20, help="warm-up steps excluded from both throughputs")
    parser.add_argument("--target", type=float, default=None, help="val loss to reach (default: per config)")
    parser.add_argument("--out", default="results/minigpt")
    args, cli_args = parser.parse_known_args(argv)
    name = Path(args.config).stem
    target = args.target if args.target is not None else TARGETS.get(name, math.inf)

    recorder = Recorder(args.skip)
    cli = train_main(["--config", args.config, *cli_args], run=False)
    cli.trainer.callbacks.append(recorder)
    cli.trainer.fit(cli.model, cli.datamodule)
    final = recorder.history[-1]["val_loss"] if recorder.history else float("nan")
    reached = next((h for h in recorder.history if h["val_loss"] <= target), None)
    tokens = recorder.tokens_per_step
    lightning_tps = tokens / statistics.median(recorder.step_seconds)
    plain_tps = tokens / statistics.median(
        plain_loop(cli.model, cli.datamodule, cli.trainer.precision, args.plain_steps, args.skip))
    row = {"config": name, "device": str(cli.model.device), "device_name": _device_name(cli.model.device),
           "steps": cli.trainer.global_step, "wall_seconds": recorder.wall, "final_val_loss": final,
           "target": target, "reached_target": reached, "lightning_tokens_per_sec": lightning_tps,
           "plain_tokens_per_sec": plain_tps, "lightning_over_plain": lightning_tps / plain_tps,
           "threads": torch.get_num_threads(), "history": recorder.history, "log_dir": cli.trainer.log_dir}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(row, indent=2))
    print(f"\n{name} on {row['device_name']}: {row['steps']} steps in {recorder.wall:.0f} s")
    print(f"  final val loss {final:.4f} (target {target}); "
          + (f"first <= target at step {reached['step']} after {reached['seconds']:.0f} s" if reached else "target not reached"))
    print(f"  tokens/s: Lightning {lightning_tps:,.0f}, plain loop {plain_tps:,.0f} "
          f"(ratio {row['lightning_over_plain']:.3f}); results in {out / (name + '.json')}")
    return 0 if final <= target and row["lightning_over_plain"] >= 0.9 else 1


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({torch.get_num_threads()} threads)"


if __name__ == "__main__":
    raise SystemExit(main())
