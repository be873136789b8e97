"""A GPT in idiomatic PyTorch (lesson 7): pre-LayerNorm blocks, causal SDPA attention, tied head, KV cache.

Shapes: ``B`` batch, ``T`` time, ``C = n_embd`` channels, ``H = n_head`` heads, ``D = C / H`` head size,
``V`` vocabulary. One block computes

    x ← x + Attn(LN₁(x)),   Attn = softmax(Q Kᵀ / √D + causal mask) V,  heads concatenated, then W_O
    x ← x + MLP(LN₂(x)),    MLP = W₂ GELU(W₁ ·)  with a 4C hidden layer

and the logits are ``LN_f(x) W_teᵀ`` (the head shares the token embedding). Initialisation follows GPT-2:
``N(0, 0.02)`` everywhere and ``N(0, 0.02/√(2L))`` for the two residual projections of each of the ``L`` blocks, so
the residual stream's variance does not grow with depth.

See also: :mod:`torch_versions.gpt_lightning` (training) and lessons/07 (the math).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class GPTConfig:
    vocab_size: int = 65
    block_size: int = 64
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = False

    def __post_init__(self) -> None:
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head})")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {self.dropout}")


class KVCache:
    """Keys and values of every layer for positions ``0 … pos-1``: ``(B, H, block_size, D)`` per layer."""

    def __init__(self, n_layer: int) -> None:
        self.keys: list[torch.Tensor | None] = [None] * n_layer
        self.values: list[torch.Tensor | None] = [None] * n_layer
        self.pos = 0

    def update(self, layer: int, k: torch.Tensor, v: torch.Tensor, block_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Write the new ``(B, H, T, D)`` keys/values at ``pos`` and return those of positions ``0 … pos+T-1``."""
        B, H, T, D = k.shape
        if self.keys[layer] is None:
            self.keys[layer] = k.new_empty(B, H, block_size, D)
            self.values[layer] = v.new_empty(B, H, block_size, D)
        end = self.pos + T
        self.keys[layer][:, :, self.pos:end] = k
        self.values[layer][:, :, self.pos:end] = v
        return self.keys[layer][:, :, :end], self.values[layer][:, :, :end]


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.n_head, self.dropout = config.n_head, config.dropout
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)  # W_Q, W_K, W_V stacked
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)      # W_O
        self.resid_dropout = nn.Dropout(config.dropout)

    def qkv(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        heads = lambda t: t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, H, T, D)
        return heads(q), heads(k), heads(v)

    def forward(self, x: torch.Tensor, cache: KVCache | None = None, layer: int = 0,
                block_size: int = 0) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(x)
        if cache is None or cache.pos == 0:
            if cache is not None:
                cache.update(layer, k, v, block_size)
            mask, causal = None, True
        else:  # new queries at positions pos … pos+T-1 see every cached key up to their own position
            k, v = cache.update(layer, k, v, block_size)
            S = k.size(2)
            mask = torch.ones(T, S, dtype=torch.bool, device=x.device).tril(S - T) if T > 1 else None
            causal = False
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal,
                                           dropout_p=self.dropout if self.training else 0.0)  # (B, H, T, D)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))

    def attention_probs(self, x: torch.Tensor) -> torch.Tensor:
        """The ``(B, H, T, T)`` matrix ``softmax(QKᵀ/√D + mask)`` that SDPA applies without materializing it."""
        q, k, _ = self.qkv(x)
        T = q.size(2)
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
        mask = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
        return scores.masked_fill(~mask, float("-inf")).softmax(dim=-1)


class MLP(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor, cache: KVCache | None = None, layer: int = 0, block_size: int = 0):
        x = x + self.attn(self.ln_1(x), cache, layer, block_size)
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),
            wpe=nn.Embedding(config.block_size, config.n_embd),
            drop=nn.Dropout(config.dropout),
            h=nn.ModuleList(Block(config) for _ in range(config.n_layer)),
            ln_f=nn.LayerNorm(config.n_embd, bias=config.bias),
        ))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # weight tying: logits = h W_teᵀ
        self.apply(self._init_weights)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):  # residual projections: std 0.02 / √(2L)
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def num_parameters(self, non_embedding: bool = True) -> int:
        """Parameter count (the tied head counted once); without the position embedding by default, as GPT-2."""
        n = sum(p.numel() for p in self.parameters())
        return n - self.transformer.wpe.weight.numel() if non_embedding else n

    def _check_idx(self, idx: torch.Tensor, start: int = 0) -> None:
        if idx.dtype not in (torch.int64, torch.int32) or idx.ndim != 2:
            raise ValueError(f"idx must be a (B, T) integer tensor, got shape {tuple(idx.shape)} dtype {idx.dtype}")
        if start + idx.size(1) > self.config.block_size:
            raise ValueError(f"sequence of {start + idx.size(1)} tokens exceeds block_size {self.config.block_size}")

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None, cache: KVCache | None = None,
                reduction: str = "mean"):
        """Logits ``(B, T, V)`` for token ids ``idx`` ``(B, T)``, and the cross-entropy against ``targets``."""
        start = cache.pos if cache is not None else 0
        self._check_idx(idx, start)
        pos = torch.arange(start, start + idx.size(1), device=idx.device)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))  # (B, T, C)
        for i, block in enumerate(self.transformer.h):
            x = block(x, cache, i, self.config.block_size)
        if cache is not None:
            cache.pos += idx.size(1)
        logits = self.lm_head(self.transformer.ln_f(x))  # (B, T, V)
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten(), reduction=reduction)
        return logits, loss

    @torch.no_grad()
    def attention_maps(self, idx: torch.Tensor) -> torch.Tensor:
        """Attention probabilities of every layer and head, ``(L, B, H, T, T)`` — for TensorBoard images."""
        self._check_idx(idx)
        pos = torch.arange(idx.size(1), device=idx.device)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)
        maps = []
        for block in self.transformer.h:
            maps.append(block.attn.attention_probs(block.ln_1(x)))
            x = block(x)
        return torch.stack(maps)

    @torch.no_grad()
    def generate(self, idx: torch.Tensor, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float | None = None, use_cache: bool = True,
                 generator: torch.Generator | None = None) -> torch.Tensor:
        """Append ``max_new_tokens`` sampled tokens to ``idx`` ``(B, T)``; ``temperature=0`` is greedy decoding.

        With ``use_cache`` the keys and values of earlier positions are kept, so each new token costs one position
        instead of the whole context. Positions are absolute, so once the context is full (``block_size``) every
        step re-encodes the last ``block_size`` tokens, exactly as the uncached path: both give identical tokens.
        """
        if max_new_tokens < 0:
            raise ValueError(f"max_new_tokens must be >= 0, got {max_new_tokens}")
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        if top_k is not None and top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        if top_p is not None and not 0.0 < top_p <= 1.0:
            raise ValueError(f"top_p must lie in (0, 1], got {top_p}")
        block = self.config.block_size
        cache, fed = None, 0  # `fed`: how many tokens of idx the cache already holds
        for _ in range(max_new_tokens):
            if not use_cache or idx.size(1) > block:
                cache, logits = None, self(idx[:, -block:])[0]
            else:
                if cache is None:
                    cache, fed = KVCache(self.config.n_layer), 0
                logits = self(idx[:, fed:], cache=cache)[0]
                fed = idx.size(1)
            idx = torch.cat((idx, sample_next(logits[:, -1, :].float(), temperature, top_k, top_p, generator)), dim=1)
        return idx


def sample_next(logits: torch.Tensor, temperature: float, top_k: int | None, top_p: float | None,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """One token id per row ``(B, 1)`` from logits ``(B, V)``: argmax at temperature 0, else top-k / top-p sampling."""
    if temperature == 0:
        return logits.argmax(dim=-1, keepdim=True)
    logits = logits / temperature
    if top_k is not None:
        kth = torch.topk(logits, min(top_k, logits.size(-1))).values[:, [-1]]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None:  # keep the smallest set of tokens whose probability reaches top_p
        sorted_logits, order = logits.sort(dim=-1, descending=True)
        mass_before = sorted_logits.softmax(dim=-1).cumsum(dim=-1) - sorted_logits.softmax(dim=-1)
        sorted_logits = sorted_logits.masked_fill(mass_before >= top_p, float("-inf"))
        logits = torch.full_like(logits, float("-inf")).scatter(-1, order, sorted_logits)
    probs = logits.softmax(dim=-1)
    return torch.multinomial(probs, num_samples=1, generator=generator)
