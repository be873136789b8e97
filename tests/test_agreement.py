"""Every registry concept: scratch (NumPy) vs torch twin, values and every gradient, float64 and float32,
on every device under test, over several seeds (random shapes each time)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from benchmarks.agreement import compare, compare_once
from benchmarks.registry import Concept, Tolerance, all_concepts

CONCEPTS = all_concepts()
SEEDS = range(5)


CASES = [(c, dt) for c in CONCEPTS for dt in c.dtypes]  # float32 too wherever a concept has floating inputs


@pytest.mark.parametrize("concept,dtype", CASES, ids=[f"{c.name}-{dt}" for c, dt in CASES])
def test_scratch_matches_torch(concept: Concept, dtype: str, device: str) -> None:
    result = compare(concept, dtype, device, SEEDS)
    assert result.ok, result.report()


def test_float64_tolerances_are_tight() -> None:
    for c in CONCEPTS:
        tol = c.tolerances["float64"]
        bound = 1e-10 if c.exact else 1e-5  # approximations (finite differences) are judged at their own error
        assert tol.rtol <= bound and max(tol.gradient) <= bound, f"{c.name}: float64 tolerance too loose: {tol}"
        inputs = c.make_inputs(np.random.default_rng(0))
        if any(isinstance(v, np.ndarray) and np.issubdtype(v.dtype, np.floating) for v in inputs.values()):
            assert "float32" in c.tolerances, f"{c.name}: no float32 tolerance"


def test_harness_catches_a_wrong_value_and_a_wrong_gradient() -> None:
    """A registry entry with a deliberately wrong scratch side must fail, naming the tensor."""
    def inputs(rng):
        return {"x": rng.standard_normal(5)}

    off_by_ulps = Concept("scaled", 0, lambda x: x * (1 + 1e-9), lambda x: x, inputs, ("y",), ("x",),
                          lambda i, o, u: {"x": u[0]})
    result = compare_once(off_by_ulps)
    assert not result.ok and "output 'y'" in result.report()

    bad_grad = Concept("square", 0, lambda x: x * x, lambda x: x * x, inputs, ("y",), ("x",),
                       lambda i, o, u: {"x": u[0] * i["x"]})  # missing factor 2
    result = compare_once(bad_grad)
    assert not result.ok and "grad 'x'" in result.report()

    upcast = Concept("upcast", 0, lambda x: x.astype(np.float64), lambda x: x, inputs, ("y",),
                     tolerances={"float32": Tolerance(1e-3, 1e-3)})
    result = compare_once(upcast, "float32")
    assert not result.ok and "dtype float64" in result.report()


def test_every_output_of_every_concept_is_checked(device: str) -> None:
    """Outputs and gradients come back with the right count and on the requested device."""
    for c in CONCEPTS[:3]:
        r = compare_once(c, "float64", device)
        assert r.device == str(torch.device(device)) or r.device == device
        assert (r.grad_max_abs_err is None) == (not c.has_gradient)
