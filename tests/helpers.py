"""Test helpers: run the same check on both implementations."""
from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable

import numpy as np
import torch


@dataclass(frozen=True)
class Impl:
    """One side of a twin pair: its module, how to turn a float64 NumPy array into its input, and back."""

    name: str
    module: ModuleType
    to_input: Callable[[np.ndarray], Any]

    def __call__(self, fn: str, *args, **kwargs):
        conv = lambda a: self.to_input(a) if isinstance(a, np.ndarray) else a  # noqa: E731
        return getattr(self.module, fn)(*map(conv, args), **{k: conv(v) for k, v in kwargs.items()})


def to_numpy(x) -> np.ndarray | Any:
    """Tensor -> NumPy (detached, on CPU); NumPy and scalars pass through; tuples map element-wise."""
    if isinstance(x, (tuple, list)):
        return type(x)(to_numpy(v) for v in x) if not hasattr(x, "_fields") else type(x)(*(to_numpy(v) for v in x))
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return x


def implementations(lesson_module: str, devices: tuple[str, ...] = ("cpu",)) -> list[Impl]:
    """The scratch side, and the torch side once per device (inputs moved there with ``.to(device)``)."""
    import importlib

    scratch = importlib.import_module(f"from_scratch.{lesson_module}")
    twin = importlib.import_module(f"torch_versions.{lesson_module}")
    return [Impl("scratch", scratch, lambda a: a)] + [
        Impl(f"torch-{d}", twin, lambda a, d=d: torch.from_numpy(a).to(d)) for d in devices]


def align_signs(A: np.ndarray, B: np.ndarray, axis: int = 0) -> np.ndarray:
    """Flip the rows (axis=0) or columns (axis=1) of A so that each has a non-negative dot product with B's."""
    dots = (A * B).sum(axis=1 - axis)
    signs = np.where(dots < 0, -1.0, 1.0)
    return A * (signs[:, None] if axis == 0 else signs[None, :])
