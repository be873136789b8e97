r"""A neural-network layer is a matrix operation: :math:`y=xW^\top+b` is ``torch.nn.Linear`` / ``F.linear``.
Twin of :mod:`from_scratch.linear_algebra.layer`; autograd supplies :math:`\bar x=\bar yW`, :math:`\bar W=\bar y^\top x`,
:math:`\bar b=\sum\bar y`."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from from_scratch.validation import check_linear

Linear = nn.Linear


def linear_forward(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """x (..., in), weight (out, in), bias (out,) -> (..., out) via ``F.linear``."""
    check_linear(x, weight, bias)
    return F.linear(x, weight, bias)
