"""Training the mini-GPT with Lightning: the data module, the LightningModule and the learning-rate schedule.

    lr(s) = lr_max · (s+1)/warmup                                          for s < warmup
    lr(s) = min_lr + ½(lr_max − min_lr)(1 + cos(π (s − warmup)/(decay − warmup)))   up to s = decay, then min_lr

AdamW decays only the matrices of the linear layers; biases, LayerNorm parameters and the embeddings (the token
embedding is also the tied output head) are not decayed. The loss of one optimizer step is the mean over all of
its ``k·b·T`` target tokens: every micro-batch holds ``b·T`` tokens, so Lightning's division of each micro-batch
mean by ``k`` is that token-weighted mean exactly (``tests/test_gpt_training.py`` checks the gradients).
"""
from __future__ import annotations

import math
import os
import random
from pathlib import Path

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset

from from_scratch import chardata
from torch_versions.gpt import GPT, GPTConfig

DEFAULT_SEED = 1337  # the batch-order seed when none is given (nanoGPT's)


class StepBatches(IterableDataset):
    """Micro-batches ``(x, y)`` of optimizer steps ``start, start+1, …`` (see :func:`chardata.step_batches`)."""

    def __init__(self, data: np.ndarray, batch_size: int, block_size: int, accumulate: int, seed: int,
                 rank: int, start: int) -> None:
        self.data, self.batch_size, self.block_size = data, batch_size, block_size
        self.accumulate, self.seed, self.rank, self.start = accumulate, seed, rank, start

    def __iter__(self):
        step = self.start
        while True:
            for x, y in chardata.step_batches(self.data, step, self.batch_size, self.block_size, self.accumulate,
                                              self.seed, self.rank):
                yield torch.from_numpy(x), torch.from_numpy(y)
            step += 1


class CharDataModule(L.LightningDataModule):
    """A character corpus split 90/10; random contiguous blocks for training, a fixed block set for validation.

    Args:
        corpus_path: a UTF-8 text file; default ``$AIMATH_CORPUS_PATH``, else tiny Shakespeare (downloaded once).
        block_size: context length ``T`` (linked to ``model.block_size``).
        batch_size: rows per micro-batch ``b``.
        val_batches: blocks of ``b`` rows averaged per validation.
        seed: seeds the batch order (batches are a pure function of seed, step and rank); ``None`` follows the CLI's
            ``seed_everything``, so one number sets both the initialisation and the batches (1337 outside the CLI).
    """

    def __init__(self, corpus_path: str | None = None, block_size: int = 64, batch_size: int = 12,
                 val_fraction: float = 0.1, val_batches: int = 20, seed: int | None = None) -> None:
        super().__init__()
        for name, value in (("block_size", block_size), ("batch_size", batch_size), ("val_batches", val_batches)):
            if value < 1:
                raise ValueError(f"data.{name} must be a positive integer, got {value}")
        self.corpus_path, self.block_size, self.batch_size = corpus_path, block_size, batch_size
        self.val_fraction, self.val_batches = val_fraction, val_batches
        self.seed = DEFAULT_SEED if seed is None else seed
        self.path = chardata.resolve_corpus(corpus_path)
        self.text = chardata.read_corpus(self.path)
        self.tokenizer = chardata.CharTokenizer.from_text(self.text)
        self.train_ids, self.val_ids = chardata.train_val_split(self.tokenizer.encode(self.text), val_fraction)
        chardata.check_block_size("training", self.train_ids, block_size)
        chardata.check_block_size("validation", self.val_ids, block_size)

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.vocab_size

    @property
    def vocab(self) -> str:
        """The vocabulary's characters in id order (saved in every checkpoint for sampling)."""
        return self.tokenizer.chars

    def train_dataloader(self) -> DataLoader:
        trainer = self.trainer
        start = trainer.global_step if trainer is not None else 0  # restored before this is called on resume
        rank = trainer.global_rank if trainer is not None else 0
        accumulate = trainer.accumulate_grad_batches if trainer is not None else 1
        dataset = StepBatches(self.train_ids, self.batch_size, self.block_size, accumulate, self.seed, rank, start)
        return DataLoader(dataset, batch_size=None)

    def val_dataloader(self) -> DataLoader:
        batches = chardata.eval_batches(self.val_ids, self.val_batches, self.batch_size, self.block_size)
        return DataLoader([(torch.from_numpy(x), torch.from_numpy(y)) for x, y in batches], batch_size=None)


def warmup_cosine(step: int, warmup_steps: int, decay_steps: int, min_ratio: float) -> float:
    """The learning-rate multiplier of the module docstring's schedule (``lr(s) / lr_max``)."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    if step >= decay_steps:
        return min_ratio
    progress = (step - warmup_steps) / max(1, decay_steps - warmup_steps)
    return min_ratio + 0.5 * (1.0 - min_ratio) * (1.0 + math.cos(math.pi * progress))


def configure_adamw(model: GPT, lr: float, betas: tuple[float, float], weight_decay: float, warmup_steps: int,
                    decay_steps: int, min_lr: float):
    """AdamW that decays only the linear layers' matrices, and its warm-up + cosine ``LambdaLR`` (per step)."""
    decay, no_decay, seen = [], [], set()
    for module in model.modules():
        for name, p in module.named_parameters(recurse=False):
            if id(p) in seen:  # the head's weight is the token embedding: one parameter, listed once
                continue
            seen.add(id(p))
            is_matrix = isinstance(module, torch.nn.Linear) and name == "weight" and module is not model.lm_head
            (decay if is_matrix else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    # Not `fused=True`: Lightning's mixed-precision plugin cannot clip the gradients of a fused optimizer.
    optimizer = torch.optim.AdamW(groups, lr=lr, betas=betas)
    ratio = min_lr / lr
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: warmup_cosine(s, warmup_steps, decay_steps, ratio))
    return optimizer, schedule


class GPTLightning(L.LightningModule):
    """The mini-GPT as a LightningModule. ``vocab_size`` and ``block_size`` are linked from the data module.

    Args:
        n_layer, n_head, n_embd, dropout, bias: the :class:`GPTConfig`.
        learning_rate, min_lr: peak and final learning rate; ``warmup_steps``, ``lr_decay_steps`` the schedule
            (``lr_decay_steps`` defaults to the trainer's ``max_steps``).
        weight_decay, betas: AdamW's.
        compile: wrap the model in ``torch.compile`` (checkpoints keep the plain parameter names).
    """

    def __init__(self, vocab_size: int = 65, block_size: int = 64, n_layer: int = 4, n_head: int = 4,
                 n_embd: int = 128, dropout: float = 0.0, bias: bool = False, learning_rate: float = 1e-3,
                 min_lr: float = 1e-4, warmup_steps: int = 100, lr_decay_steps: int | None = None,
                 weight_decay: float = 0.1, betas: tuple[float, float] = (0.9, 0.99), compile: bool = False,
                 compile_backend: str = "inductor", vocab: str | None = None) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.config = GPTConfig(vocab_size, block_size, n_layer, n_head, n_embd, dropout, bias)
        if not 0 < min_lr <= learning_rate:
            raise ValueError(f"need 0 < model.min_lr <= model.learning_rate, got {min_lr} and {learning_rate}")
        if warmup_steps < 0 or (lr_decay_steps is not None and lr_decay_steps <= warmup_steps):
            raise ValueError(f"need 0 <= model.warmup_steps < model.lr_decay_steps, got {warmup_steps} and {lr_decay_steps}")
        self.model = GPT(self.config)
        self._forward = self.model

    def configure_model(self) -> None:
        if self.hparams.compile and self._forward is self.model:
            # Held outside the module tree, so the state dict keeps the names of `self.model` (no `_orig_mod.`).
            object.__setattr__(self, "_forward", torch.compile(self.model, backend=self.hparams.compile_backend))

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):
        return self._forward(idx, targets)

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        x, y = batch
        _, loss = self(x, y)  # mean over the b·T tokens of this micro-batch
        if self.global_step % self.trainer.log_every_n_steps == 0:  # self.log costs ~1 ms: call it when it is written
            self.log("train/loss", loss, prog_bar=True, on_step=True)
        return loss

    def validation_step(self, batch, batch_idx: int) -> None:
        x, y = batch
        _, loss = self(x, y)
        self.log("val/loss", loss, prog_bar=True, on_epoch=True, sync_dist=True)

    def configure_optimizers(self):
        hp = self.hparams
        decay_steps = hp.lr_decay_steps or self.trainer.max_steps
        if decay_steps is None or decay_steps <= hp.warmup_steps:
            raise ValueError(f"the cosine schedule needs lr_decay_steps (or trainer.max_steps) > warmup_steps "
                             f"({hp.warmup_steps}), got {decay_steps}")
        optimizer, schedule = configure_adamw(self.model, hp.learning_rate, tuple(hp.betas), hp.weight_decay,
                                              hp.warmup_steps, decay_steps, hp.min_lr)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        # RNG states (dropout masks, sampling) so that a resumed run continues the same random stream.
        checkpoint["rng_states"] = {"torch": torch.get_rng_state(), "python": list(random.getstate()[1]),
                                    "python_version": random.getstate()[0], "python_gauss": random.getstate()[2]}
        if torch.cuda.is_available():
            checkpoint["rng_states"]["cuda"] = torch.cuda.get_rng_state_all()

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        states = checkpoint.get("rng_states")
        if states:
            torch.set_rng_state(states["torch"])
            random.setstate((states["python_version"], tuple(states["python"]), states["python_gauss"]))
            if "cuda" in states and torch.cuda.is_available() and len(states["cuda"]) == torch.cuda.device_count():
                torch.cuda.set_rng_state_all(states["cuda"])


def load_gpt(ckpt_path: str | os.PathLike, map_location: str | torch.device = "cpu") -> tuple[GPT, chardata.CharTokenizer]:
    """The model and tokenizer of a Lightning checkpoint, loaded with ``weights_only=True`` (no code runs)."""
    path = Path(ckpt_path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    hp = checkpoint["hyper_parameters"]
    if not hp.get("vocab"):
        raise ValueError(f"checkpoint {path} holds no vocabulary (hyper_parameters['vocab'])")
    config = GPTConfig(hp["vocab_size"], hp["block_size"], hp["n_layer"], hp["n_head"], hp["n_embd"], 0.0, hp["bias"])
    model = GPT(config)
    state = {k.removeprefix("model."): v for k, v in checkpoint["state_dict"].items() if k.startswith("model.")}
    model.load_state_dict(state)
    return model.to(map_location).eval(), chardata.CharTokenizer(hp["vocab"])
