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


def check_exercise_sheet(sheet, modules) -> None:
    """An exercise sheet states >= 6 problems numbered 1..n, each with hints and a pointer
    `exercises.solutions.<module>.<name>` that resolves; every public function or class of the solution
    ``modules`` (NamedTuple result types aside) is named in the sheet."""
    import importlib
    import inspect
    import re

    text = sheet.read_text()
    problems = re.findall(r"^## Problem (\d+)", text, flags=re.M)
    assert len(problems) >= 6, f"{sheet.name} must state at least 6 problems, found {len(problems)}"
    assert problems == [str(i + 1) for i in range(len(problems))], f"problems must be numbered 1..n, got {problems}"
    refs = re.findall(r"`(exercises\.solutions\.\w+)\.(\w+)`", text)
    assert refs, "the sheet must point to its worked solutions as `exercises.solutions.<module>.<function>`"
    for module, name in refs:
        obj = getattr(importlib.import_module(module), name, None)
        assert callable(obj), f"{sheet.name} names {module}.{name}, which does not exist"
    for section in re.split(r"^## Problem \d+", text, flags=re.M)[1:]:
        assert re.search(r"`exercises\.solutions\.\w+\.\w+`", section), f"no solution pointer in:\n{section[:200]}"
        assert "Hint" in section, f"a problem has no hints:\n{section[:200]}"
    referenced = {name for _, name in refs}
    for module in modules:
        public = {n for n, f in inspect.getmembers(module, lambda o: inspect.isfunction(o) or inspect.isclass(o))
                  if f.__module__ == module.__name__ and not n.startswith("_")}
        public -= {n for n, c in inspect.getmembers(module, inspect.isclass) if issubclass(c, tuple)}  # result types
        assert public <= referenced, f"{module.__name__}: solutions never named in the sheet: {sorted(public - referenced)}"
