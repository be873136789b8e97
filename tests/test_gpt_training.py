"""Training the mini-GPT through the real CLI on a small generated corpus: learning, TensorBoard, checkpoints,
resume, gradient accumulation, torch.compile, sampling, DDP and configuration errors (CPU, seconds each)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from torch_versions import sample, train
from torch_versions.gpt_lightning import CharDataModule, GPTLightning, load_gpt

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--model.n_layer", "2", "--model.n_head", "2", "--model.n_embd", "32", "--model.warmup_steps", "2",
        "--data.block_size", "16", "--data.batch_size", "8", "--data.val_batches", "4",
        "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false",
        "--trainer.accelerator", "cpu", "--samples.max_new_tokens", "20", "--monitor.log_every_n_steps", "5",
        "--trainer.log_every_n_steps", "5"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    rng = np.random.default_rng(0)
    words = ["the", "king", "queen", "speaks", "to", "his", "her", "people", "and", "sleeps", "now", "we", "go"]
    lines = [" ".join(rng.choice(words, size=rng.integers(3, 9))).capitalize() + "." for _ in range(1500)]
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def cpu_config(corpus: Path, runs: Path) -> list[str]:
    """The CPU config shrunk to TINY, on the generated corpus, logging under ``runs``."""
    return ["--config", str(ROOT / "configs" / "minigpt_cpu.yaml"), *TINY, "--data.corpus_path", str(corpus),
            "--trainer.logger.init_args.save_dir", str(runs)]


def fit(corpus: Path, runs: Path, *extra: str, steps: int = 20, every: int = 10) -> None:
    train.main(["fit", *cpu_config(corpus, runs), "--trainer.max_steps", str(steps), "--model.lr_decay_steps", "40",
                "--trainer.val_check_interval", str(every), *extra])


def scalars(run: Path) -> tuple[EventAccumulator, dict[str, list[tuple[int, float]]]]:
    events = EventAccumulator(str(run), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    events.Reload()
    return events, {t: [(e.step, e.value) for e in events.Scalars(t)] for t in events.Tags()["scalars"]}


@pytest.fixture(scope="module")
def trained(corpus, tmp_path_factory) -> Path:
    runs = tmp_path_factory.mktemp("runs")
    fit(corpus, runs, "--model.learning_rate", "1e-2", steps=40)
    return runs / "minigpt_cpu" / "version_0"


def test_training_learns_and_writes_a_run(trained) -> None:
    assert {p.name for p in (trained / "checkpoints").iterdir()} == {"best.ckpt", "last.ckpt"}
    assert (trained / "config.yaml").is_file() and (trained / "vocab.json").is_file()
    events, series = scalars(trained)
    for tag in ("train/loss", "val/loss", "train/lr", "train/grad_norm", "train/tokens_per_sec"):
        assert series.get(tag), f"TensorBoard tag {tag} missing; have {sorted(series)}"
    assert {"attention/layer0_head0", "attention/layer1_head0"} <= set(events.Tags()["images"])
    assert "samples/text/text_summary" in events.Tags()["tensors"]
    val = [v for _, v in series["val/loss"]]
    assert len(val) == 4 and val[-1] < val[0] - 0.5, val   # from ln 20 ≈ 3.0 towards the corpus's entropy
    assert series["train/tokens_per_sec"][-1][1] > 0


def test_resume_equals_uninterrupted(corpus, tmp_path) -> None:
    fit(corpus, tmp_path / "a", steps=20)
    fit(corpus, tmp_path / "b", steps=10)
    fit(corpus, tmp_path / "b", "--ckpt_path", "last", steps=20)
    assert [p.name for p in (tmp_path / "b" / "minigpt_cpu").iterdir()] == ["version_0"]  # one run, not two
    a, b = (torch.load(tmp_path / r / "minigpt_cpu" / "version_0" / "checkpoints" / "last.ckpt", weights_only=True)
            for r in ("a", "b"))
    assert a["global_step"] == b["global_step"] == 20
    for name, tensor in a["state_dict"].items():
        torch.testing.assert_close(b["state_dict"][name], tensor, rtol=1e-6, atol=1e-7, msg=name)
    _, sa = scalars(tmp_path / "a" / "minigpt_cpu" / "version_0")
    _, sb = scalars(tmp_path / "b" / "minigpt_cpu" / "version_0")
    assert [s for s, _ in sb["train/loss"]] == [s for s, _ in sa["train/loss"]]  # steps continue, no restart at 0
    np.testing.assert_allclose([v for _, v in sb["val/loss"]], [v for _, v in sa["val/loss"]], rtol=1e-5)


class GradCapture(L.Callback):
    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        self.grads = {n: p.grad.detach().clone() for n, p in pl_module.named_parameters()}


def one_step_gradients(corpus: Path, batch_size: int, accumulate: int) -> dict[str, torch.Tensor]:
    data = CharDataModule(str(corpus), block_size=16, batch_size=batch_size)
    torch.manual_seed(0)
    model = GPTLightning(vocab_size=data.vocab_size, block_size=16, n_layer=2, n_head=2, n_embd=32, warmup_steps=2,
                         lr_decay_steps=10)
    capture = GradCapture()
    trainer = L.Trainer(accelerator="cpu", max_steps=1, accumulate_grad_batches=accumulate, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                        limit_val_batches=0, callbacks=[capture])
    trainer.fit(model, data)
    return capture.grads


def test_gradient_accumulation_equals_the_large_batch(corpus) -> None:
    """4 micro-batches of 2 rows give the gradient of one batch of 8 rows: the mean over all 8·T tokens."""
    big, accumulated = one_step_gradients(corpus, 8, 1), one_step_gradients(corpus, 2, 4)
    for name, grad in big.items():
        torch.testing.assert_close(accumulated[name], grad, rtol=1e-5, atol=1e-7, msg=name)


def test_compiled_model_checkpoints_without_prefix(corpus, tmp_path) -> None:
    fit(corpus, tmp_path, "--model.compile", "true", "--model.compile_backend", "eager", steps=3, every=3)
    ckpt = tmp_path / "minigpt_cpu" / "version_0" / "checkpoints" / "last.ckpt"
    keys = torch.load(ckpt, weights_only=True)["state_dict"].keys()
    assert not [k for k in keys if "_orig_mod" in k] and "model.lm_head.weight" in keys
    model, tokenizer = load_gpt(ckpt)
    assert model.config.n_embd == 32 and tokenizer.vocab_size == len(set(corpus.read_text()))


def test_sampling_cli(trained, capsys) -> None:
    ckpt = trained / "checkpoints" / "best.ckpt"
    assert sample.main(["--ckpt", str(ckpt), "--prompt", "The king", "--max-new-tokens", "60", "--device", "cpu"]) == 0
    out, err = capsys.readouterr()
    text = out.removesuffix("\n")
    vocab = set(load_gpt(ckpt)[1].chars)
    assert len(text) == len("The king") + 60 and text.startswith("The king") and set(text) <= vocab
    assert "KV cache" in err and "tokens/s" in err
    assert sample.main(["--ckpt", str(ckpt), "--prompt", "ROMEO:", "--device", "cpu"]) == 2
    assert "outside the vocabulary" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        sample.main(["--ckpt", str(ckpt), "--top-p", "1.5"])


def test_bad_configuration_fails_before_training(corpus, tmp_path, capsys) -> None:
    with pytest.raises(ValueError, match=r"n_embd \(30\) must be divisible by n_head \(4\)"):
        fit(corpus, tmp_path, "--model.n_embd", "30", "--model.n_head", "4")
    with pytest.raises(ValueError, match="fewer than block_size"):
        fit(corpus, tmp_path, "--data.block_size", "100000")
    with pytest.raises(SystemExit):
        fit(corpus, tmp_path, "--model.n_layers", "3")
    assert "n_layers" in capsys.readouterr().err
    assert not (tmp_path / "minigpt_cpu").exists() or not list((tmp_path / "minigpt_cpu").rglob("*.ckpt"))


def test_one_seed_sets_initialisation_and_batch_order(corpus, tmp_path) -> None:
    def datamodule_seed(*extra: str) -> int:
        return train.main([*cpu_config(corpus, tmp_path), *extra], run=False).datamodule.seed

    assert datamodule_seed() == 1337                                  # the config's seed_everything
    assert datamodule_seed("--seed_everything", "7") == 7
    assert datamodule_seed("--seed_everything", "7", "--data.seed", "3") == 3  # an explicit batch seed wins


def test_two_process_cpu_ddp(corpus, tmp_path) -> None:
    cmd = [sys.executable, "-m", "torch_versions.train", "fit", *cpu_config(corpus, tmp_path), "--trainer.devices", "2",
           "--trainer.strategy", "ddp", "--trainer.max_steps", "4", "--trainer.val_check_interval", "2",
           "--model.lr_decay_steps", "10"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    ckpt = torch.load(tmp_path / "minigpt_cpu" / "version_0" / "checkpoints" / "last.ckpt", weights_only=True)
    assert ckpt["global_step"] == 4


def test_bf16_needs_hardware_support(monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    with pytest.raises(ValueError, match="bfloat16 support .* 16-mixed"):
        train.check_precision("bf16-mixed", "auto")
    train.check_precision("16-mixed", "auto")
    train.check_precision("bf16-mixed", "cpu")  # CPU autocast runs bf16


def test_checkpoint_loads_onto_the_device(trained, device) -> None:
    model, tokenizer = load_gpt(trained / "checkpoints" / "best.ckpt", map_location=device)
    assert all(p.device.type == torch.device(device).type for p in model.parameters())
    idx = torch.tensor(tokenizer.encode("The")[None, :], device=device)
    out = model.generate(idx, 5, temperature=0)
    assert out.shape == (1, 8) and out.device.type == torch.device(device).type


def benchmark_args(corpus: Path, tmp_path: Path, steps: int = 30) -> list[str]:
    return [*cpu_config(corpus, tmp_path / "runs"), "--trainer.max_steps", str(steps),
            "--trainer.val_check_interval", "10", "--model.lr_decay_steps", str(steps), "--probes", "2",
            "--probe-steps", "4", "--skip", "2", "--out", str(tmp_path / "out")]


def test_minigpt_benchmark_smoke(corpus, tmp_path) -> None:
    """`python -m benchmarks.minigpt` on a tiny setting: JSON fields, val-loss history, both throughputs."""
    import json

    from benchmarks import minigpt

    code = minigpt.main([*benchmark_args(corpus, tmp_path), "--target", "10"])
    row = json.loads((tmp_path / "out" / "minigpt_cpu.json").read_text())
    assert [h["step"] for h in row["history"]] == [10, 20, 30]
    assert row["reached_target"]["step"] == 10 and row["final_val_loss"] == row["history"][-1]["val_loss"]
    assert row["lightning_tokens_per_sec"] > 0 and row["plain_tokens_per_sec"] > 0 and row["plain_steps_timed"] == 6
    assert code == (0 if row["lightning_over_plain"] >= 0.9 else 1)


def test_minigpt_benchmark_seed_spread(corpus, tmp_path) -> None:
    """`--seeds`: one run per seed (different initialisation and batches), and their mean ± std."""
    import json
    import statistics

    from benchmarks import minigpt

    code = minigpt.main([*benchmark_args(corpus, tmp_path, steps=10), "--seeds", "1", "2", "--target", "0.5"])
    runs = [json.loads((tmp_path / "out" / f"minigpt_cpu_seed{s}.json").read_text()) for s in (1, 2)]
    summary = json.loads((tmp_path / "out" / "minigpt_cpu_seeds.json").read_text())
    finals = [r["final_val_loss"] for r in runs]
    assert [r["seed"] for r in runs] == [1, 2] and finals[0] != finals[1]
    for key, values in (("final_val_loss", finals), ("best_val_loss", [r["best"]["val_loss"] for r in runs])):
        stats = summary[key]
        assert stats["values"] == values and stats["mean"] == pytest.approx(statistics.mean(values))
        assert stats["std"] == pytest.approx(statistics.stdev(values)) and stats["seeds_reaching_target"] == []
    assert code == 1  # a mean above the target fails
