"""What the mini-GPT writes to TensorBoard besides the losses: learning rate, gradient norm, tokens per second,
generated text at each validation, and attention maps of one head as images. Also saves the vocabulary with the run.
"""
from __future__ import annotations

import time
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.utilities import rank_zero_only


def _tensorboard(trainer: L.Trainer):
    """The ``SummaryWriter`` of the trainer's TensorBoard logger, or ``None``."""
    for logger in trainer.loggers:
        if isinstance(logger, L.pytorch.loggers.TensorBoardLogger):
            return logger.experiment
    return None


class TrainingMonitor(L.Callback):
    """Logs ``train/lr``, ``train/grad_norm`` (before clipping) and ``train/tokens_per_sec``.

    Tokens per second count every micro-batch on every process and exclude the time spent in validation; the
    totals (``tokens``, ``seconds``) stay on the callback for benchmarks.
    """

    def __init__(self, log_every_n_steps: int = 10) -> None:
        self.log_every_n_steps = log_every_n_steps
        self.tokens = 0
        self.seconds = 0.0
        self._window_tokens, self._window_seconds, self._last = 0, 0.0, None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if self._last is None:
            self._last = time.perf_counter()

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        if trainer.global_step % self.log_every_n_steps:
            return  # the common case costs nothing: this hook runs before every optimizer step
        grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        if grads:
            norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.float()) for g in grads]))
            pl_module.log("train/grad_norm", norm, on_step=True, on_epoch=False)
            pl_module.log("train/lr", optimizer.param_groups[0]["lr"], on_step=True, on_epoch=False)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        now = time.perf_counter()
        elapsed, self._last = now - self._last, now
        tokens = batch[1].numel() * trainer.world_size
        self.tokens += tokens
        self.seconds += elapsed
        self._window_tokens += tokens
        self._window_seconds += elapsed
        step_done = (batch_idx + 1) % trainer.accumulate_grad_batches == 0
        if step_done and trainer.global_step % self.log_every_n_steps == 0 and self._window_seconds > 0:
            pl_module.log("train/tokens_per_sec", self._window_tokens / self._window_seconds, on_step=True,
                          on_epoch=False)
            self._window_tokens, self._window_seconds = 0, 0.0

    def on_validation_end(self, trainer, pl_module) -> None:
        self._last = None  # the next training batch restarts the clock: validation time is not training time

    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else float("nan")


class SampleAndAttention(L.Callback):
    """At each validation (not the sanity check): a text sample and the attention maps of ``head`` in the first
    and last layer, computed on the first validation block. Uses its own RNG, so training randomness is untouched.
    """

    def __init__(self, prompt: str = "\n", max_new_tokens: int = 200, temperature: float = 0.8,
                 top_k: int | None = 200, head: int = 0, seed: int = 0) -> None:
        self.prompt, self.max_new_tokens, self.temperature = prompt, max_new_tokens, temperature
        self.top_k, self.head, self.seed = top_k, head, seed

    def on_fit_start(self, trainer, pl_module) -> None:
        log_dir, datamodule = trainer.log_dir, trainer.datamodule  # every rank: log_dir is a collective broadcast
        if trainer.is_global_zero and log_dir and datamodule is not None and hasattr(datamodule, "tokenizer"):
            Path(log_dir).mkdir(parents=True, exist_ok=True)
            datamodule.tokenizer.save(Path(log_dir) / "vocab.json")

    @rank_zero_only
    def on_validation_end(self, trainer, pl_module) -> None:
        writer, datamodule = _tensorboard(trainer), trainer.datamodule
        if trainer.sanity_checking or writer is None or datamodule is None:
            return
        step, model = trainer.global_step, pl_module.model
        was_training = model.training
        model.eval()
        try:
            tokenizer = datamodule.tokenizer
            prompt = "".join(c for c in self.prompt if c in tokenizer.chars) or tokenizer.chars[0]
            idx = torch.tensor(tokenizer.encode(prompt)[None, :], device=pl_module.device)
            generator = torch.Generator(device=pl_module.device).manual_seed(self.seed)
            out = model.generate(idx, self.max_new_tokens, self.temperature, self.top_k, generator=generator)
            writer.add_text("samples/text", "```\n" + tokenizer.decode(out[0].cpu().numpy()) + "\n```", step)
            first = torch.from_numpy(datamodule.val_ids[: model.config.block_size][None, :]).to(pl_module.device)
            maps = model.attention_maps(first)  # (L, 1, H, T, T)
            head = min(self.head, maps.size(2) - 1)
            for layer in sorted({0, maps.size(0) - 1}):
                image = maps[layer, 0, head].float()
                writer.add_image(f"attention/layer{layer}_head{head}", image / image.max(), step, dataformats="HW")
        finally:
            model.train(was_training)
