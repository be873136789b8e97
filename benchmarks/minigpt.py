"""Mini-GPT benchmark: train a config end to end, timing a plain PyTorch loop on the same model and batches beside it.

    python -m benchmarks.minigpt --config configs/minigpt_cpu.yaml                 # target val loss 1.88
    python -m benchmarks.minigpt --config configs/minigpt_shakespeare_gpu.yaml     # target 1.47 (one GPU)

Prints wall time, training tokens/s, the final and best validation loss, when the target was first reached, and
the ratio of Lightning's tokens/s to the plain loop's. The plain loop trains a copy of the model in bursts spread over
the Lightning run (``--probes`` × ``--probe-steps``), so load on a shared machine hits both alike; throughput is
tokens per step over the median step time, after ``--skip`` warm-up steps (compilation) and without validation.
Saves JSON under ``--out``. Exit 1 if the target loss is never reached or Lightning is more than 10% slower than
the plain loop. Extra arguments go to the CLI (e.g. ``--trainer.max_steps 500``). ``--seeds 1337 3 4`` trains
once per seed (``seed_everything``: initialisation and batch order) and reports the mean ± standard deviation of the
final and of the best validation loss — how far a single run's figure can be trusted (exit 1 if the mean misses the target).
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import time
import warnings
from pathlib import Path

import lightning as L
import torch

from from_scratch import chardata
from torch_versions.gpt import GPT
from torch_versions.gpt_lightning import configure_adamw
from torch_versions.train import main as train_main

TARGETS = {"minigpt_cpu": 1.88, "minigpt_shakespeare_gpu": 1.47}


class PlainLoop:
    """A hand-written training loop on a copy of the model: same batches, AdamW groups, schedule, clipping, autocast."""

    def __init__(self, pl_module, datamodule, precision: str) -> None:
        hp = pl_module.hparams
        self.model = GPT(pl_module.model.config).to(pl_module.device)  # a fresh model, as a plain script builds it
        self.model.load_state_dict(pl_module.model.state_dict())
        self.forward = torch.compile(self.model, backend=hp.compile_backend) if hp.compile else self.model
        self.optimizer, self.schedule = configure_adamw(self.model, hp.learning_rate, tuple(hp.betas),
                                                        hp.weight_decay, hp.warmup_steps, hp.lr_decay_steps or 10**9,
                                                        hp.min_lr)
        self.dtype = {"bf16": torch.bfloat16, "16": torch.float16}.get(str(precision).split("-")[0])
        self.device = next(self.model.parameters()).device
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.dtype is torch.float16)
        self.data, self.step = datamodule, 0

    def run(self, steps: int) -> list[float]:
        """Train ``steps`` steps; the durations between consecutive step ends (the first step is not timed)."""
        d, durations, last = self.data, [], None
        self.model.train()
        for _ in range(steps):
            x, y = (torch.from_numpy(a).to(self.device) for a in chardata.step_batches(
                d.train_ids, 10**6 + self.step, d.batch_size, d.block_size, seed=d.seed)[0])
            with torch.autocast(self.device.type, dtype=self.dtype, enabled=self.dtype is not None):
                _, loss = self.forward(x, y)
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
            self.scaler.step(self.optimizer)
            self.scaler.update()
            self.optimizer.zero_grad(set_to_none=True)
            self.schedule.step()
            self.step += 1
            now = time.perf_counter()
            if last is not None:
                durations.append(now - last)
            last = now
        _sync(self.device)
        return durations


class Recorder(L.Callback):
    """Validation losses against wall time; training step durations of Lightning and of the plain loop.

    A Lightning step lasts from the end of one training batch to the end of the next; intervals that contain a
    validation or a probe are dropped. Every ``probe_every`` steps the plain loop trains ``probe_steps`` steps on
    a copy of the model, so both are sampled over the same stretch of time: on a shared machine, load that comes
    and goes affects both alike. Throughputs are tokens per step over the median duration.
    """

    def __init__(self, skip: int, probe_every: int, probe_steps: int, precision: str) -> None:
        self.skip, self.probe_every, self.probe_steps, self.precision = skip, probe_every, probe_steps, precision
        self.history, self.step_seconds, self.plain_seconds = [], [], []
        self.start = self._last = self.plain = None
        self.tokens_per_step, self.probe_wall = 0, 0.0

    def on_train_start(self, trainer, pl_module) -> None:
        self.start, self.device = time.perf_counter(), pl_module.device  # fit's teardown moves the model to CPU

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        now = time.perf_counter()
        step = trainer.global_step
        if self._last is not None and step > self.skip:
            self.step_seconds.append(now - self._last)
        self._last = now
        self.tokens_per_step = batch[1].numel() * trainer.world_size
        if step > self.skip and step % self.probe_every == 0 and (batch_idx + 1) % trainer.accumulate_grad_batches == 0:
            if self.plain is None:
                self.plain = PlainLoop(pl_module, trainer.datamodule, self.precision)
                self.plain.run(self.skip)  # its own warm-up (compilation), untimed
            probe_start = time.perf_counter()
            self.plain_seconds += self.plain.run(self.probe_steps)
            self.probe_wall += time.perf_counter() - probe_start
            self._last = None

    def on_validation_start(self, trainer, pl_module) -> None:
        self._last = None

    def on_validation_end(self, trainer, pl_module) -> None:
        loss = trainer.callback_metrics.get("val/loss")
        if loss is not None and not trainer.sanity_checking:
            self.history.append({"step": trainer.global_step,
                                 "seconds": time.perf_counter() - self.start - self.probe_wall,
                                 "val_loss": float(loss)})
            print("step {step:6d}  {seconds:7.1f} s  val loss {val_loss:.4f}".format(**self.history[-1]), flush=True)

    def on_train_end(self, trainer, pl_module) -> None:
        _sync(pl_module.device)
        self.wall = time.perf_counter() - self.start - self.probe_wall  # the run as it would be without the probes


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--probes", type=int, default=20, help="plain-loop bursts spread over the run")
    parser.add_argument("--probe-steps", type=int, default=15, help="steps per plain-loop burst")
    parser.add_argument("--skip", type=int, default=20, help="warm-up steps excluded from both throughputs")
    parser.add_argument("--target", type=float, default=None, help="val loss to reach (default: per config)")
    parser.add_argument("--seeds", type=int, nargs="+", default=None,
                        help="train once per seed (initialisation and batch order) and summarise the spread")
    parser.add_argument("--out", default="results/minigpt")
    args, cli_args = parser.parse_known_args(argv)
    # The CLI's arguments are the ones this script did not parse, so LightningCLI's "args and sys.argv" notice is noise.
    warnings.filterwarnings("ignore", message="LightningCLI's args parameter is intended")
    name = Path(args.config).stem
    target = args.target if args.target is not None else TARGETS.get(name, math.inf)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if not args.seeds:
        row = train_and_time(args, cli_args, target)
        (out / f"{name}.json").write_text(json.dumps(row, indent=2))
        print(f"  results in {out / (name + '.json')}")
        return 0 if row["reached_target"] is not None and row["lightning_over_plain"] >= 0.9 else 1
    rows = []
    for seed in args.seeds:
        rows.append(train_and_time(args, [*cli_args, "--seed_everything", str(seed)], target))
        (out / f"{name}_seed{seed}.json").write_text(json.dumps(rows[-1], indent=2))
    summary = {"config": name, "seeds": args.seeds, "target": target}
    for key, values in (("final_val_loss", [r["final_val_loss"] for r in rows]),
                        ("best_val_loss", [r["best"]["val_loss"] for r in rows])):
        mean, std = statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0
        summary[key] = {"values": values, "mean": mean, "std": std,
                        "seeds_reaching_target": [s for s, v in zip(args.seeds, values) if v <= target]}
        print(f"\n{name}: {key.replace('_', ' ')} over {len(values)} seeds {mean:.4f} ± {std:.4f} "
              f"(min {min(values):.4f}, max {max(values):.4f}); <= {target} for seeds "
              f"{summary[key]['seeds_reaching_target'] or 'none'}")
    (out / f"{name}_seeds.json").write_text(json.dumps(summary, indent=2))
    mean = summary["final_val_loss"]["mean"]
    return 0 if mean <= target else 1


def train_and_time(args: argparse.Namespace, cli_args: list[str], target: float) -> dict:
    """One run of the config through the CLI with the plain-loop probes; the result row (also printed)."""
    name = Path(args.config).stem
    cli = train_main(["--config", args.config, *cli_args], run=False)
    max_steps = cli.trainer.max_steps
    recorder = Recorder(args.skip, max(1, max_steps // args.probes), args.probe_steps, cli.trainer.precision)
    cli.trainer.callbacks.append(recorder)
    cli.trainer.fit(cli.model, cli.datamodule)
    final = recorder.history[-1]["val_loss"] if recorder.history else float("nan")
    reached = next((h for h in recorder.history if h["val_loss"] <= target), None)
    best = min(recorder.history, key=lambda h: h["val_loss"]) if recorder.history else None
    tokens = recorder.tokens_per_step
    lightning_tps = tokens / statistics.median(recorder.step_seconds)
    plain_tps = tokens / statistics.median(recorder.plain_seconds)
    row = {"config": name, "seed": cli.datamodule.seed, "device": str(recorder.device),
           "device_name": _device_name(recorder.device), "steps": cli.trainer.global_step,
           "wall_seconds": recorder.wall, "final_val_loss": final, "target": target, "reached_target": reached,
           "best": best, "lightning_tokens_per_sec": lightning_tps, "plain_tokens_per_sec": plain_tps,
           "lightning_steps_timed": len(recorder.step_seconds), "plain_steps_timed": len(recorder.plain_seconds),
           "lightning_over_plain": lightning_tps / plain_tps, "threads": torch.get_num_threads(),
           "history": recorder.history, "log_dir": cli.trainer.log_dir}
    print(f"\n{name} on {row['device_name']} (seed {row['seed']}): {row['steps']} steps in {recorder.wall:.0f} s")
    print(f"  final val loss {final:.4f}, best {best['val_loss']:.4f} at step {best['step']} (target {target}); "
          + (f"first <= target at step {reached['step']} after {reached['seconds']:.0f} s" if reached else "target not reached"))
    print(f"  tokens/s: Lightning {lightning_tps:,.0f}, plain loop {plain_tps:,.0f} (ratio {row['lightning_over_plain']:.3f})")
    return row


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({torch.get_num_threads()} threads)"


if __name__ == "__main__":
    raise SystemExit(main())
