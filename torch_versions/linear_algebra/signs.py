"""The sign convention shared with :mod:`from_scratch.linear_algebra.jacobi`: each eigen/singular vector is
flipped so that its largest-magnitude entry is positive. The signs are piecewise constant, so autograd passes
straight through them."""
from __future__ import annotations

import torch


def canonical_signs(V: torch.Tensor) -> torch.Tensor:
    """Per-column signs (+1/-1) that make each column's largest-magnitude entry positive. V (n, k) -> (k,)."""
    idx = V.detach().abs().argmax(dim=0, keepdim=True)
    lead = V.detach().gather(0, idx).squeeze(0)
    return torch.where(lead < 0, -1.0, 1.0).to(V.dtype)
