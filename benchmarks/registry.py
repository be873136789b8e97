"""The one registry of concept pairs: scratch (NumPy) callable <-> torch callable.

It drives ``tests/test_agreement.py``, ``python -m benchmarks.compare`` and the precision/speed benchmarks.
Each lesson contributes a module under :mod:`benchmarks.concepts` whose ``CONCEPTS`` list holds
:class:`Concept` entries; adding a concept is adding one entry there (see ARCHITECTURE.md).
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np


@dataclass(frozen=True)
class Tolerance:
    """Elementwise ``|scratch - torch| <= atol + rtol * |torch|`` for outputs, and the grad_* pair for gradients."""

    rtol: float
    atol: float
    grad_rtol: float | None = None
    grad_atol: float | None = None

    @property
    def gradient(self) -> tuple[float, float]:
        return (self.rtol if self.grad_rtol is None else self.grad_rtol,
                self.atol if self.grad_atol is None else self.grad_atol)


#: Defaults: float64 is judged at round-off (rtol 1e-10); float32 at a few hundred ulps of an O(1) result.
DEFAULT_TOLERANCES: Mapping[str, Tolerance] = {
    "float64": Tolerance(rtol=1e-10, atol=1e-12),
    "float32": Tolerance(rtol=2e-4, atol=2e-5),
}

Inputs = dict[str, Any]
#: scratch_backward(inputs, outputs, upstream) -> {input name: gradient}, all NumPy.
ScratchBackward = Callable[[Inputs, tuple, tuple], Mapping[str, np.ndarray]]


@dataclass(frozen=True)
class Concept:
    """One concept implemented twice.

    * ``scratch(**inputs)`` and ``torch(**inputs)`` take the same keyword arguments (NumPy arrays resp. tensors for
      the floating-point inputs; other values passed unchanged) and return an array/tensor or a tuple of them,
      named by ``outputs``.
    * ``make_inputs(rng)`` draws float64 inputs with random shapes from a ``numpy.random.Generator``; the harness
      casts them to the dtype under test.
    * ``grad_wrt`` names the inputs whose gradients are compared; ``scratch_backward`` computes them by hand
      (autograd gives the torch side) for a random upstream gradient of every output.
    """

    name: str
    lesson: int
    scratch: Callable[..., Any]
    torch: Callable[..., Any]
    make_inputs: Callable[[np.random.Generator], Inputs]
    outputs: tuple[str, ...]
    grad_wrt: tuple[str, ...] = ()
    scratch_backward: ScratchBackward | None = None
    tolerances: Mapping[str, Tolerance] = field(default_factory=lambda: dict(DEFAULT_TOLERANCES))
    description: str = ""
    #: False where the scratch side approximates what torch computes exactly (finite differences): its
    #: tolerances then bound the approximation error rather than round-off.
    exact: bool = True

    def __post_init__(self) -> None:
        if bool(self.grad_wrt) != (self.scratch_backward is not None):
            raise ValueError(f"concept {self.name!r}: grad_wrt and scratch_backward must be given together")

    @property
    def has_gradient(self) -> bool:
        return bool(self.grad_wrt)

    @property
    def dtypes(self) -> tuple[str, ...]:
        return tuple(self.tolerances)


def all_concepts(lesson: int | None = None) -> list[Concept]:
    """Every registered concept (optionally of one lesson), in lesson order; names are unique."""
    from benchmarks import concepts as pkg

    found: list[Concept] = []
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        found.extend(importlib.import_module(f"{pkg.__name__}.{info.name}").CONCEPTS)
    names = [c.name for c in found]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ValueError(f"duplicate concept names in the registry: {sorted(dupes)}")
    return [c for c in found if lesson is None or c.lesson == lesson]


def get_concept(name: str) -> Concept:
    for c in all_concepts():
        if c.name == name:
            return c
    raise KeyError(f"no concept named {name!r}; known: {[c.name for c in all_concepts()]}")
