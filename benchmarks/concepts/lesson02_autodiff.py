"""Lesson 2 concept pairs for the scalar autodiff engine: from_scratch.calculus.autodiff <-> its torch twin.

Both sides run the same random straight-line program (:mod:`benchmarks.expressions`) on the elements of
``leaves``: the scratch side on Python floats (its Values are always double precision; float32 leaves are
rounded to float32 first and the result is cast back), the torch side on ``leaves.unbind()``, so autograd flows
back to the ``leaves`` tensor and float32 leaves run in float32. The gradient compared is the one
``Value.backward`` accumulates on each leaf Value, times the upstream gradient.
"""
from __future__ import annotations

import numpy as np

import from_scratch.calculus.autodiff as S
import torch_versions.calculus.autodiff as T
from benchmarks.expressions import chain_program, evaluate, random_program
from benchmarks.inputs import dims
from benchmarks.registry import Concept, Tolerance

# float32: the torch side rounds every op in float32, the scratch side in float64; with node magnitudes
# bounded by 10 (random programs) or a contraction (the chain), the difference stays at a few hundred ulps.
TOLERANCES = {"float64": Tolerance(1e-12, 1e-12), "float32": Tolerance(2e-4, 2e-5)}


def _scratch(leaves: np.ndarray, program) -> np.ndarray:
    out = evaluate(program, leaves.tolist(), S)
    return np.asarray(out.data, dtype=leaves.dtype)  # 0-d, the dtype of the leaves


def _torch(leaves, program):
    return evaluate(program, leaves.unbind(), T).tensor  # 0-d, attached to `leaves`


def _scratch_backward(inputs, outputs, upstream) -> dict[str, np.ndarray]:
    leaves = inputs["leaves"]
    xs = [S.Value(x) for x in leaves.tolist()]
    evaluate(inputs["program"], xs, S).backward()
    return {"leaves": (np.array([x.grad for x in xs]) * upstream[0]).astype(leaves.dtype)}


def _random_inputs(rng: np.random.Generator) -> dict:
    n = dims(rng, 1, 8)
    return {"leaves": rng.uniform(-2.0, 2.0, n), "program": random_program(rng, n, dims(rng, n, 40))}


def _chain_inputs(rng: np.random.Generator) -> dict:
    return {"leaves": rng.uniform(-2.0, 2.0, 5), "program": chain_program(rng, 5, 2000)}


CONCEPTS: list[Concept] = [
    Concept("value_autodiff", 2, _scratch, _torch, _random_inputs, outputs=("out",), grad_wrt=("leaves",),
            scratch_backward=_scratch_backward, tolerances=TOLERANCES,
            description="scalar engine on a random program with reused nodes vs the same program on torch Values"),
    Concept("value_autodiff_deep_chain", 2, _scratch, _torch, _chain_inputs, outputs=("out",),
            grad_wrt=("leaves",), scratch_backward=_scratch_backward, tolerances=TOLERANCES,
            description="a 2000-op chain (each leaf reused ~130 times): the iterative topological sort"),
]
