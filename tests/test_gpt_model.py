"""The GPT module: shapes, causality, initialisation, parameter count, attention maps, KV cache, sampling, autocast."""
from __future__ import annotations

import math

import pytest
import torch

from torch_versions.gpt import GPT, GPTConfig, KVCache, sample_next


def small(**overrides) -> GPT:
    torch.manual_seed(0)
    config = dict(vocab_size=11, block_size=16, n_layer=2, n_head=4, n_embd=32, dropout=0.0, bias=True)
    config.update(overrides)
    return GPT(GPTConfig(**config)).eval()


def tokens(B: int, T: int, V: int = 11, seed: int = 0, device="cpu") -> torch.Tensor:
    return torch.randint(0, V, (B, T), generator=torch.Generator().manual_seed(seed)).to(device)


def test_config_errors() -> None:
    with pytest.raises(ValueError, match=r"n_embd \(30\) must be divisible by n_head \(4\)"):
        GPTConfig(n_embd=30, n_head=4)
    with pytest.raises(ValueError, match="n_layer must be a positive integer"):
        GPTConfig(n_layer=0)
    with pytest.raises(ValueError, match="dropout"):
        GPTConfig(dropout=1.0)


def test_forward_shapes_and_initial_loss(device) -> None:
    model = small().to(device)
    idx, targets = tokens(3, 16, device=device), tokens(3, 16, seed=1, device=device)
    logits, loss = model(idx, targets)
    assert logits.shape == (3, 16, 11) and loss.ndim == 0
    # Small initial weights give nearly uniform predictions: the loss starts at about ln V.
    assert abs(loss.item() - math.log(11)) < 0.1
    with pytest.raises(ValueError, match="exceeds block_size 16"):
        model(tokens(1, 17, device=device))
    with pytest.raises(ValueError, match=r"\(B, T\) integer tensor"):
        model(idx.float())


def test_causality(device) -> None:
    """Changing token t changes no logit at positions before t."""
    model = small().to(device)
    idx = tokens(2, 16, device=device)
    changed = idx.clone()
    changed[:, 10] = (changed[:, 10] + 1) % 11
    a, b = model(idx)[0], model(changed)[0]
    torch.testing.assert_close(a[:, :10], b[:, :10], rtol=0, atol=1e-6)
    assert (a[:, 10:] - b[:, 10:]).abs().max() > 1e-4


def test_parameter_count_and_initialisation() -> None:
    L, C, V, T = 3, 48, 13, 20
    model = GPT(GPTConfig(vocab_size=V, block_size=T, n_layer=L, n_head=4, n_embd=C, bias=False))
    # per block: W_QKV 3C², W_O C², MLP 8C², two LayerNorm weights 2C; plus the tied embedding VC and ln_f C
    assert model.num_parameters() == L * (12 * C * C + 2 * C) + V * C + C
    assert model.num_parameters(non_embedding=False) == model.num_parameters() + T * C
    assert model.lm_head.weight is model.transformer.wte.weight
    torch.manual_seed(0)
    big = GPT(GPTConfig(vocab_size=64, block_size=8, n_layer=4, n_head=4, n_embd=256))
    assert abs(big.transformer.h[0].mlp.c_fc.weight.std().item() - 0.02) < 0.001
    assert abs(big.transformer.h[0].mlp.c_proj.weight.std().item() - 0.02 / math.sqrt(8)) < 0.0005


def test_attention_maps_are_what_sdpa_applies() -> None:
    model = small()
    idx = tokens(2, 12)
    maps = model.attention_maps(idx)  # (L, B, H, T, T)
    assert maps.shape == (2, 2, 4, 12, 12)
    torch.testing.assert_close(maps.sum(-1), torch.ones(2, 2, 4, 12))
    assert maps.triu(1).abs().max() == 0  # causal
    attn = model.transformer.h[0].attn
    x = model.transformer.wte(idx) + model.transformer.wpe(torch.arange(12))
    h = model.transformer.h[0].ln_1(x)
    _, _, v = attn.qkv(h)
    by_hand = attn.c_proj((maps[0] @ v).transpose(1, 2).reshape(2, 12, 32))
    torch.testing.assert_close(by_hand, attn(h), rtol=1e-5, atol=1e-6)


def test_kv_cache_matches_full_forward(device) -> None:
    model = small().to(device)
    idx = tokens(2, 16, device=device)
    full = model(idx)[0]
    cache = KVCache(model.config.n_layer)
    parts = [model(idx[:, :5], cache=cache)[0], model(idx[:, 5:6], cache=cache)[0], model(idx[:, 6:16], cache=cache)[0]]
    torch.testing.assert_close(torch.cat(parts, dim=1), full, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="exceeds block_size"):
        model(idx[:, :1], cache=cache)


def test_cached_and_uncached_greedy_generation_agree(device) -> None:
    model = small().to(device)
    prompt = tokens(2, 3, device=device)
    # 40 new tokens run past the 16-token context, through the cache's fallback path too.
    cached = model.generate(prompt, 40, temperature=0, use_cache=True)
    uncached = model.generate(prompt, 40, temperature=0, use_cache=False)
    assert cached.shape == (2, 43)
    torch.testing.assert_close(cached, uncached, rtol=0, atol=0)
    g1, g2 = (torch.Generator(device=device).manual_seed(5) for _ in range(2))
    s1 = model.generate(prompt, 10, temperature=1.0, top_k=5, generator=g1)
    s2 = model.generate(prompt, 10, temperature=1.0, top_k=5, generator=g2)
    torch.testing.assert_close(s1, s2, rtol=0, atol=0)  # seeded sampling is reproducible


def test_top_k_and_top_p() -> None:
    logits = torch.tensor([[0.0, 3.0, 1.0, 2.0]])
    assert sample_next(logits, 0, None, None).item() == 1
    assert sample_next(logits, 1.0, 1, None).item() == 1                 # top-k 1 is greedy
    assert sample_next(logits, 1.0, None, 1e-6).item() == 1              # a tiny nucleus holds only the argmax
    g = torch.Generator().manual_seed(0)
    draws = sample_next(logits.expand(4000, 4), 1.0, 2, None, g)
    assert set(draws.unique().tolist()) == {1, 3}                        # top-k 2 keeps the two largest
    p = logits.softmax(-1)[0]
    nucleus = sample_next(logits.expand(4000, 4), 1.0, None, float(p[1] + 0.01), g)
    assert set(nucleus.unique().tolist()) == {1, 3}                      # top-p keeps the smallest set reaching p
    with pytest.raises(ValueError, match="top_p"):
        small().generate(tokens(1, 2), 1, top_p=0.0)


def test_autocast(device) -> None:
    """bf16 autocast everywhere; fp16 autocast on CUDA (the CPU runs of this project use bf16)."""
    dtypes = [torch.bfloat16] + ([torch.float16] if device.startswith("cuda") else [])
    for dtype in dtypes:
        model = small().to(device)
        idx, targets = tokens(2, 16, device=device), tokens(2, 16, seed=1, device=device)
        reference = model(idx, targets)[1]
        with torch.autocast(device_type=torch.device(device).type, dtype=dtype):
            logits, loss = model(idx, targets)
        assert logits.dtype == dtype and loss.dtype == torch.float32, dtype
        assert abs(loss.item() - reference.item()) < 0.02, dtype
        loss.backward()
        assert all(torch.isfinite(p.grad).all() for p in model.parameters()), dtype
