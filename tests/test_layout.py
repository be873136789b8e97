"""The project's shape: from_scratch never imports torch, the twins mirror each other's public names, the
registry covers every public scratch function, and the README's commands exist."""
from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import from_scratch
from benchmarks.registry import all_concepts

ROOT = Path(__file__).resolve().parents[1]
#: Public scratch functions that are helpers of registered concepts rather than concepts themselves.
HELPERS = {
    "lipschitz_step", "numerical_rank",  # lesson 1: used inside registered concepts, tested in test_linear_algebra
    "accuracy", "activation", "batch_indices", "default_step", "step_size_errors",  # lesson 2: test_calculus
    "topological_order",  # lesson 2: the Value engine's graph walk, tested in test_autodiff
    "beta_bernoulli_update", "beta_mean_variance",  # lesson 3: scalar arithmetic, tested in test_distributions
    "theoretical_rate",  # lesson 4: closed-form rates, tested in test_convergence
}


#: Shared NumPy modules that are tools rather than lesson concepts (input checks, gradient checks, the text data
#: pipeline that the PyTorch and any from-scratch GPT share; tested in tests/test_chardata.py).
SHARED = {"validation", "gradcheck", "chardata"}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_from_scratch_never_imports_torch() -> None:
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "from_scratch").rglob("*.py")
                 if _imports(p) & {"torch", "torchvision", "lightning", "pytorch_lightning"}]
    assert not offenders, f"from_scratch/ must stay NumPy-only; these import torch: {offenders}"
    code = "import sys, from_scratch, pkgutil, importlib\n" \
           "[importlib.import_module(m.name) for m in pkgutil.walk_packages(from_scratch.__path__, 'from_scratch.')]\n" \
           "assert 'torch' not in sys.modules, 'torch was imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def _lesson_packages() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(from_scratch.__path__) if m.ispkg or m.name not in SHARED)


def _public(module) -> set[str]:
    return {n for n in getattr(module, "__all__", dir(module)) if not n.startswith("_")}


@pytest.mark.parametrize("name", _lesson_packages())
def test_twins_have_the_same_public_names(name: str) -> None:
    scratch = importlib.import_module(f"from_scratch.{name}")
    twin = importlib.import_module(f"torch_versions.{name}")
    expected = {n for n in _public(scratch) if not n.endswith("_backward")}
    assert expected == _public(twin), (f"from_scratch.{name} and torch_versions.{name} differ: only scratch "
                                       f"{sorted(expected - _public(twin))}, only torch {sorted(_public(twin) - expected)}")
    for n in expected:
        a, b = getattr(scratch, n), getattr(twin, n)
        if inspect.isfunction(a) and inspect.isfunction(b):
            # Same leading parameters; the scratch side may add knobs of its own algorithm (e.g. Jacobi's tol,
            # max_sweeps) that the LAPACK-backed torch call does not have.
            pa, pb = list(inspect.signature(a).parameters), list(inspect.signature(b).parameters)
            assert pa[:len(pb)] == pb, f"{name}.{n}: torch signature {pb} is not a prefix of scratch {pa}"


@pytest.mark.parametrize("name", _lesson_packages())
def test_registry_covers_every_public_scratch_function(name: str) -> None:
    scratch = importlib.import_module(f"from_scratch.{name}")
    registered = {c.name for c in all_concepts()}
    functions = {n for n in _public(scratch) if inspect.isfunction(getattr(scratch, n)) and not n.endswith("_backward")}
    missing = {f for f in functions - HELPERS if not any(r == f or r.startswith(f + "_") for r in registered)}
    assert not missing, f"from_scratch.{name}: public functions with no registry concept: {sorted(missing)}"


def test_every_backward_is_used_by_the_registry() -> None:
    """Run every registry entry's scratch backward once under a profiler and record which functions it calls:
    each public ``*_backward`` must be among them, so no hand-written gradient goes unchecked against torch."""
    import numpy as np

    from benchmarks.agreement import _as_tuple

    called: set = set()

    def record(frame, event, arg):
        if event == "call":
            called.add(frame.f_code)

    for c in (c for c in all_concepts() if c.has_gradient):
        inputs = c.make_inputs(np.random.default_rng(0))
        outputs = _as_tuple(c.scratch(**inputs))
        upstream = tuple(np.ones(np.shape(o)) for o in outputs)
        sys.setprofile(record)
        try:
            c.scratch_backward(inputs, outputs, upstream)
        finally:
            sys.setprofile(None)
    for name in _lesson_packages():
        scratch = importlib.import_module(f"from_scratch.{name}")
        unused = [n for n in _public(scratch) if n.endswith("_backward") and getattr(scratch, n).__code__ not in called]
        assert not unused, f"from_scratch.{name}: backward passes no registry entry calls: {unused}"


def test_readme_commands_and_layout() -> None:
    readme = (ROOT / "README.md").read_text()
    for cmd in ("pip install -r requirements.txt", "pytest", "python -m benchmarks.compare"):
        assert cmd in readme, f"README.md must show `{cmd}`"
    for folder in ("lessons", "from_scratch", "torch_versions", "benchmarks", "tests", "configs", "exercises",
                   "notebooks", "data"):
        assert (ROOT / folder).is_dir(), f"missing folder {folder}/"
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pip install -r requirements.txt" in ci and "\npytest" in ci


def test_requirements_admit_the_local_torch() -> None:
    from packaging.requirements import Requirement

    reqs = [Requirement(l.split("#")[0].strip()) for l in (ROOT / "requirements.txt").read_text().splitlines()
            if l.split("#")[0].strip() and not l.startswith("-")]
    torch_req = next(r for r in reqs if r.name == "torch")
    assert torch_req.specifier.contains("2.13.0"), torch_req
    names = {r.name for r in reqs}
    for needed in ("numpy", "matplotlib", "pytest", "tensorboard", "lightning", "scikit-learn", "nbclient", "ipykernel"):
        assert needed in names, f"requirements.txt lacks {needed}"
