"""Train the mini-GPT from a YAML config (LightningCLI):

    python -m torch_versions.train fit --config configs/minigpt_cpu.yaml
    python -m torch_versions.train fit --config configs/minigpt_cpu.yaml --model.n_layer 6 --trainer.max_steps 500
    python -m torch_versions.train fit --config configs/minigpt_cpu.yaml --ckpt_path last     # resume
    tensorboard --logdir runs

A run lives in ``runs/<name>/version_<n>/``: TensorBoard events, the resolved ``config.yaml``, ``vocab.json`` and
``checkpoints/{best,last}.ckpt``. ``--ckpt_path last`` resumes the newest ``last.ckpt`` of ``<name>`` *into the
same folder*, so the TensorBoard curves continue at the restored step instead of starting a new version at 0.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path

# Lightning 2.6's LightningCLI calls jsonargparse APIs deprecated in 4.49; the notices are not actionable here.
os.environ.setdefault("JSONARGPARSE_DEPRECATION_WARNINGS", "off")

import torch
from jsonargparse import dict_to_namespace
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn

from torch_versions.gpt_callbacks import SampleAndAttention, TrainingMonitor
from torch_versions.gpt_lightning import CharDataModule, GPTLightning

DEFAULT_LOGGER = {"class_path": "lightning.pytorch.loggers.TensorBoardLogger",
                  "init_args": {"save_dir": "runs", "name": "minigpt"}}


def find_last_checkpoint(run_root: Path) -> Path | None:
    """The most recently written ``version_*/checkpoints/last.ckpt`` under ``run_root`` (``runs/<name>``)."""
    candidates = list(run_root.glob("version_*/checkpoints/last.ckpt"))
    return max(candidates, key=lambda p: p.stat().st_mtime) if candidates else None


def check_precision(precision: str | None, accelerator: str | None) -> None:
    """bf16 needs hardware support on CUDA; say so before training rather than fail inside a kernel."""
    wants_cuda = accelerator in ("cuda", "gpu") or (accelerator in (None, "auto") and torch.cuda.is_available())
    if precision and str(precision).startswith("bf16") and wants_cuda and not torch.cuda.is_bf16_supported():
        raise ValueError(f"trainer.precision={precision} needs a GPU with bfloat16 support (Ampere or newer); "
                         f"this one has none — use --trainer.precision 16-mixed (fp16 with a GradScaler) or 32")


class GPTCLI(LightningCLI):
    def add_arguments_to_parser(self, parser) -> None:
        parser.add_lightning_class_args(ModelCheckpoint, "checkpoint")
        parser.set_defaults({"checkpoint.monitor": "val/loss", "checkpoint.mode": "min",
                             "checkpoint.filename": "best", "checkpoint.save_top_k": 1,
                             "checkpoint.save_last": True, "checkpoint.enable_version_counter": False})
        parser.add_lightning_class_args(TrainingMonitor, "monitor")
        parser.add_lightning_class_args(SampleAndAttention, "samples")
        parser.link_arguments("data.block_size", "model.block_size")
        parser.link_arguments("data.vocab_size", "model.vocab_size", apply_on="instantiate")
        parser.link_arguments("data.vocab", "model.vocab", apply_on="instantiate")

    def before_instantiate_classes(self) -> None:
        config = self.config[self.subcommand] if self.subcommand else self.config  # run=False: no subcommand
        trainer = config.trainer
        check_precision(trainer.precision, trainer.accelerator)
        seed = config.get("seed_everything")
        if config.data.seed is None and isinstance(seed, int) and not isinstance(seed, bool):
            config.data.seed = seed  # one seed for initialisation and batch order (saved resolved, for resume)
        if "weights_only" in config and config.weights_only is None:
            config.weights_only = True  # resuming reads tensors and plain types only: no code from the file runs
        logger = trainer.logger
        if logger in (None, True):
            trainer.logger = logger = dict_to_namespace(DEFAULT_LOGGER)
        if self.subcommand != "fit" or not config.get("ckpt_path") or isinstance(logger, (bool, list)):
            return
        args = logger.init_args
        run_root = Path(args.save_dir) / (args.name or "")
        ckpt = config.ckpt_path
        if ckpt == "last":
            found = find_last_checkpoint(run_root)
            if found is None:
                rank_zero_warn(f"--ckpt_path last: no {run_root}/version_*/checkpoints/last.ckpt yet; starting fresh")
                config.ckpt_path = None
                return
            ckpt = config.ckpt_path = str(found)
        path = Path(ckpt).resolve()
        if path.parent.name == "checkpoints" and path.parents[2] == run_root.resolve():
            args.version = path.parents[1].name  # keep logging into the run the checkpoint came from
            # Its checkpoints folder is not empty by design: best/last are overwritten atomically as training goes on.
            warnings.filterwarnings("ignore", message="Checkpoint directory .* exists and is not empty")
            rank_zero_info(f"resuming {path} into {path.parents[1]}")


def main(args: list[str] | None = None, run: bool = True) -> GPTCLI:
    """Parse ``args`` (default ``sys.argv``); with ``run=False`` only instantiate (no subcommand) and return."""
    # Deprecation notices from inside Lightning 2.6 itself (not actionable here) would bury the run's output.
    warnings.filterwarnings("ignore", message=".*LeafSpec.* is deprecated")
    return GPTCLI(GPTLightning, CharDataModule, args=args, run=run, save_config_kwargs={"overwrite": True})


if __name__ == "__main__":
    main()
