r"""The workloads of ``python -m benchmarks.speed``: what one timed call does, its FLOP count and memory estimate.

* ``matmul`` (n): :math:`C=AB`, A, B (n, n) random normal; :math:`2n^3` FLOPs. NumPy (``from_scratch``'s
  ``linear_forward``, i.e. BLAS through NumPy) versus ``torch.matmul``.
* ``attention`` (T): :math:`\operatorname{softmax}(QK^\top/\sqrt d)V`, (B, H, T, d) = (1, 8, T, 64), no mask,
  forward only; :math:`4BHT^2d` FLOPs. *naive* materializes the (B, H, T, T) scores (NumPy: the benchmark's own
  reference, a from-scratch attention comes with lesson 5; torch: ``softmax(q @ k.T) @ v``) versus
  ``F.scaled_dot_product_attention`` (flash / memory-efficient kernels on CUDA: no T x T matrix).
* ``mlp`` (n): one SGD step of lesson 2's 2-layer net, batch = in = hidden = classes = n: forward, backward, update;
  :math:`6\cdot N\cdot\#\text{weights}=12n^3` FLOPs. ``from_scratch.calculus.TwoLayerNet`` (hand-written
  backward) versus ``torch_versions.calculus.TwoLayerNet`` with autograd and ``torch.optim.SGD``.
* ``block`` (d): one AdamW step of a pre-LN transformer block (written here with ``torch.nn``; the mini-GPT's block
  lives in ``torch_versions``), batch (B, T) tokens, d/64 heads, causal SDPA; FLOPs
  :math:`3\,(24BTd^2+4BT^2d)` (attention counted in full, as nanoGPT's MFU estimate does). torch only.

bf16/fp16 training steps use ``torch.autocast`` (fp32 weights); matmul and attention run in the dtype itself.
"tf32" is float32 with TensorFloat-32 tensor-core matmuls (CUDA only).
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import from_scratch.calculus as S
import torch_versions.calculus as T
from benchmarks.precision_kernels import naive_attention
from benchmarks.reporting import DTYPES
from from_scratch.linear_algebra.layer import linear_forward

HEADS, HEAD_DIM = 8, 64
BLOCK_TOKENS = {"full": (8, 1024), "quick": (4, 128), "smoke": (2, 16)}  # (batch, sequence length)


@dataclass(frozen=True)
class Case:
    name: str
    size_label: str
    sizes: dict  # mode -> sizes
    impls: tuple[str, ...]
    order: float  # time grows like size**order (used to predict the next size's time)
    flops: Callable[[int, str], float]  # (size, mode) -> FLOPs of one call
    nbytes: Callable[[str, int, int, str], int]  # (impl, size, itemsize, mode) -> working-set estimate
    build: Callable[..., Callable[[], object]]  # (impl, size, dtype, device, rng, mode) -> one timed call


def _pow2(lo: int, hi: int) -> list[int]:
    return [2**k for k in range(lo, hi + 1)]


@contextlib.contextmanager
def matmul_precision(dtype: str):
    """TF32 tensor-core matmuls for float32 inside the block when ``dtype == "tf32"``; full fp32 otherwise."""
    before = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("high" if dtype == "tf32" else "highest")
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(before)


def _randn(rng: np.random.Generator, shape, dtype: str, device: str, impl: str):
    """Random normal data (never zeros: some kernels shortcut them) as a NumPy array or a tensor on ``device``."""
    if impl.startswith("numpy"):
        return rng.standard_normal(shape).astype(DTYPES[dtype][1])
    gen = torch.Generator(device=device).manual_seed(int(rng.integers(2**31)))
    return torch.randn(shape, generator=gen, device=device, dtype=DTYPES[dtype][0])


def _autocast(device: str, dtype: str):
    low = dtype in ("bfloat16", "float16")
    return torch.autocast(torch.device(device).type, dtype=DTYPES[dtype][0] if low else None, enabled=low)


def _param(dtype: str) -> str:
    """Weights (and inputs) of a training step: float32 for tf32 and under autocast (fp32 master weights)."""
    return "float32" if dtype in ("bfloat16", "float16", "tf32") else dtype


# --- matmul ---------------------------------------------------------------------------------------------------
def _matmul(impl, n, dtype, device, rng, mode):
    a, b = (_randn(rng, (n, n), dtype, device, impl) for _ in range(2))
    if impl == "numpy":
        bt = np.ascontiguousarray(b.T)
        return lambda: linear_forward(a, bt)  # a @ bt.T = a @ b
    return lambda: a @ b


# --- attention ------------------------------------------------------------------------------------------------
def _naive_torch(q, k, v):
    scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.size(-1)))  # (B, H, T, T)
    return torch.softmax(scores, dim=-1) @ v  # (B, H, T, d)


def _attention(impl, t, dtype, device, rng, mode):
    q, k, v = (_randn(rng, (1, HEADS, t, HEAD_DIM), dtype, device, impl) for _ in range(3))
    fn = {"numpy-naive": naive_attention, "torch-naive": _naive_torch, "torch-sdpa": F.scaled_dot_product_attention}[impl]
    return lambda: fn(q, k, v)


def _attention_bytes(impl, t, itemsize, mode):
    qkvo = 4 * HEADS * t * HEAD_DIM * itemsize
    return qkvo + (2 * HEADS * t * t * itemsize if impl.endswith("naive") else 0)  # scores + probabilities


# --- 2-layer MLP step -----------------------------------------------------------------------------------------
def _mlp(impl, n, dtype, device, rng, mode):
    labels = rng.integers(0, n, n)
    if impl == "numpy":
        net = S.TwoLayerNet(n, n, n, rng=rng, dtype=DTYPES[dtype][1])
        x = _randn(rng, (n, n), dtype, device, impl)

        def step():
            net.loss(x, labels)
            net.backward()
            net.sgd_step(0.01)
        return step
    model = T.TwoLayerNet(n, n, n, dtype=DTYPES[_param(dtype)][0], device=device)
    x, y = _randn(rng, (n, n), _param(dtype), device, impl), torch.as_tensor(labels, device=device)
    return _torch_step(model, torch.optim.SGD(model.parameters(), lr=0.01), lambda: F.cross_entropy(model(x), y),
                       device, dtype)


def _torch_step(model: nn.Module, opt: torch.optim.Optimizer, loss_fn, device: str, dtype: str):
    def step():
        opt.zero_grad(set_to_none=True)
        with _autocast(device, dtype):
            loss = loss_fn()
        loss.backward()
        opt.step()
    return step


# --- transformer block step -----------------------------------------------------------------------------------
class Block(nn.Module):
    """Pre-LN transformer block: x + attn(ln1(x)), then x + mlp(ln2(x)); causal SDPA, GELU MLP of width 4d."""

    def __init__(self, d: int, n_head: int) -> None:
        super().__init__()
        self.n_head = n_head
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T_, C = x.shape  # (B, T, C)
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T_, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))  # (B, nh, T, hs)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(B, T_, C)
        x = x + self.proj(y)
        return x + self.mlp(self.ln2(x))  # (B, T, C)


def _block(impl, d, dtype, device, rng, mode):
    b, t = BLOCK_TOKENS[mode]
    torch.manual_seed(int(rng.integers(2**31)))
    model = Block(d, max(1, d // HEAD_DIM)).to(device=device, dtype=DTYPES[_param(dtype)][0])
    x = _randn(rng, (b, t, d), _param(dtype), device, impl)  # (B, T, C)
    return _torch_step(model, torch.optim.AdamW(model.parameters(), lr=1e-4), lambda: model(x).float().pow(2).mean(),
                       device, dtype)


def _block_flops(d, mode):
    b, t = BLOCK_TOKENS[mode]
    return 3 * (24 * b * t * d * d + 4 * b * t * t * d)


def _block_bytes(impl, d, itemsize, mode):
    b, t = BLOCK_TOKENS[mode]
    return 16 * 12 * d * d + 40 * b * t * d * itemsize  # weights + AdamW state (fp32), saved activations


CASES = {
    "matmul": Case("matmul", "n", {"full": _pow2(8, 13), "quick": _pow2(8, 11), "smoke": [32, 64]},
                   ("numpy", "torch"), 3, lambda n, m: 2.0 * n**3, lambda i, n, s, m: 3 * n * n * s, _matmul),
    "attention": Case("attention", "T (tokens)", {"full": _pow2(8, 13), "quick": _pow2(8, 11), "smoke": [16, 32]},
                      ("numpy-naive", "torch-naive", "torch-sdpa"), 2, lambda t, m: 4.0 * HEADS * t * t * HEAD_DIM,
                      _attention_bytes, _attention),
    "mlp": Case("mlp", "n (batch = width)", {"full": _pow2(8, 13), "quick": _pow2(8, 10), "smoke": [16, 32]},
                ("numpy", "torch"), 3, lambda n, m: 12.0 * n**3, lambda i, n, s, m: 12 * n * n * max(s, 4), _mlp),
    "block": Case("block", "d (model width)", {"full": _pow2(8, 11), "quick": _pow2(7, 9), "smoke": [32, 64]},
                  ("torch",), 2.5, _block_flops, _block_bytes, _block),
}


def unsupported(impl: str, dtype: str, device: str) -> str | None:
    """Why ``impl`` cannot run in ``dtype`` on ``device`` (None if it can)."""
    if impl.startswith("numpy"):
        if device != "cpu":
            return "NumPy runs on the CPU only"
        if dtype == "float16":
            return "NumPy float16 has no BLAS path (scalar loops, ~1000x slower): not timed"
        if DTYPES[dtype][1] is None:
            return f"NumPy has no {dtype}"
    if dtype == "tf32" and torch.device(device).type != "cuda":
        return "TF32 is a CUDA tensor-core mode"
    return None
