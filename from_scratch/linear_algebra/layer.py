r"""A neural-network layer is a matrix operation (lesson 1): :math:`y=xW^\top+b`.

Shapes follow PyTorch's ``nn.Linear``: x (..., in), weight (out, in), bias (out,), y (..., out). The backward pass
is three matrix products: :math:`\bar x=\bar yW`, :math:`\bar W=\bar y^\top x`, :math:`\bar b=\sum\bar y`
(batch dimensions flattened).

See also: :mod:`torch_versions.linear_algebra.layer` (``torch.nn.Linear``), ``lessons/01_linear_algebra.md``.
"""
from __future__ import annotations

import numpy as np

from from_scratch.validation import check_linear


def linear_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    r""":math:`y=xW^\top+b`: x (..., in), weight (out, in), bias (out,) -> (..., out)."""
    check_linear(x, weight, bias)
    y = x @ weight.T
    return y if bias is None else y + bias


def linear_backward(x: np.ndarray, weight: np.ndarray, grad_out: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Gradients (grad_x, grad_weight, grad_bias) of :func:`linear_forward` for upstream grad_out (..., out)."""
    g2 = grad_out.reshape(-1, grad_out.shape[-1])
    x2 = x.reshape(-1, x.shape[-1])
    return grad_out @ weight, g2.T @ x2, g2.sum(0)


class Linear:
    """A linear layer holding ``weight`` (out, in) and ``bias`` (out,), caching its input for :meth:`backward`.

    Initialized like ``torch.nn.Linear``: weight and bias uniform in :math:`\\pm1/\\sqrt{in}`.
    After :meth:`backward`, ``grad_weight`` and ``grad_bias`` hold the parameter gradients.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, rng: np.random.Generator | None = None,
                 dtype=np.float64) -> None:
        if in_features < 1 or out_features < 1:
            raise ValueError(f"in_features and out_features must be >= 1, got {in_features} and {out_features}")
        rng = np.random.default_rng() if rng is None else rng
        bound = 1 / np.sqrt(in_features)
        self.weight = rng.uniform(-bound, bound, (out_features, in_features)).astype(dtype)
        self.bias = rng.uniform(-bound, bound, out_features).astype(dtype) if bias else None
        self._x: np.ndarray | None = None

    def load_state_dict(self, state: dict) -> None:
        """Copy ``weight`` and ``bias`` from a mapping of arrays (e.g. a torch state dict turned into NumPy)."""
        for name in ("weight", "bias"):
            if getattr(self, name) is not None:
                value = np.asarray(state[name], dtype=self.weight.dtype)
                if value.shape != getattr(self, name).shape:
                    raise ValueError(f"{name} must have shape {getattr(self, name).shape}, got {value.shape}")
                setattr(self, name, value.copy())

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x
        return linear_forward(x, self.weight, self.bias)

    __call__ = forward

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        if self._x is None:
            raise RuntimeError("backward called before forward")
        grad_x, self.grad_weight, grad_b = linear_backward(self._x, self.weight, grad_out)
        self.grad_bias = grad_b if self.bias is not None else None
        return grad_x
