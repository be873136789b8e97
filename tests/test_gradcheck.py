"""Finite differences actually run: every scratch backward against central differences, and every torch twin
through ``torch.autograd.gradcheck`` (float64)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from benchmarks.agreement import _as_tuple
from benchmarks.registry import all_concepts
from from_scratch.gradcheck import gradient_error, numerical_gradient

WITH_GRAD = [c for c in all_concepts() if c.has_gradient]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("concept", WITH_GRAD, ids=[c.name for c in WITH_GRAD])
def test_scratch_backward_matches_finite_differences(concept, seed) -> None:
    rng = np.random.default_rng(seed)
    inputs = concept.make_inputs(rng)
    outputs = _as_tuple(concept.scratch(**inputs))
    upstream = tuple(rng.standard_normal(np.shape(o)) for o in outputs)
    analytic = concept.scratch_backward(inputs, outputs, upstream)
    for name in concept.grad_wrt:
        numeric = numerical_gradient(concept.scratch, inputs, name, upstream)
        assert analytic[name].shape == numeric.shape, f"{concept.name}: grad {name!r} shape"
        err = gradient_error(analytic[name], numeric)
        assert err < 1e-6, f"{concept.name}: grad {name!r} differs from central differences by {err:.2e}"


@pytest.mark.parametrize("concept", WITH_GRAD, ids=[c.name for c in WITH_GRAD])
def test_torch_twin_passes_gradcheck(concept) -> None:
    inputs = concept.make_inputs(np.random.default_rng(7))
    names = list(concept.grad_wrt)
    tensors = [torch.tensor(inputs[n], dtype=torch.float64, requires_grad=True) for n in names]
    rest = {k: (torch.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in inputs.items() if k not in names}
    fn = lambda *xs: concept.torch(**rest, **dict(zip(names, xs)))  # noqa: E731
    assert torch.autograd.gradcheck(fn, tensors, eps=1e-6, atol=1e-6, rtol=1e-5)


def test_numerical_gradient_detects_a_wrong_gradient() -> None:
    x = np.linspace(-1, 1, 7)
    numeric = numerical_gradient(lambda x: np.sin(x), {"x": x}, "x", (np.ones(7),))
    assert gradient_error(np.cos(x), numeric) < 1e-9
    assert gradient_error(-np.cos(x), numeric) > 0.5
