"""Shared fixtures: the ``device`` fixture runs device-aware tests on CPU and, when present, on CUDA.

    pytest                    # cpu, plus cuda if torch.cuda.is_available()
    pytest --device cuda      # only cuda (fails clearly if CUDA is absent)
"""
from __future__ import annotations

import pytest
import torch

# The suite's tensors are tiny: one intra-op thread is faster, and immune to the 10-50x slowdowns that two threads
# suffer when another process shares this 2-core machine. Benchmarks choose their own thread counts.
torch.set_num_threads(1)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--device", default="auto", help="cpu, cuda[:N] or auto (cpu plus cuda when available)")


def _devices(config: pytest.Config) -> list[str]:
    choice = config.getoption("--device")
    if choice == "auto":
        return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    if choice.startswith("cuda") and not torch.cuda.is_available():
        raise pytest.UsageError(f"--device {choice} given but CUDA is not available")
    return [choice]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "device" in metafunc.fixturenames:
        metafunc.parametrize("device", _devices(metafunc.config))
    if "impl" in metafunc.fixturenames:
        # A test module sets LESSON_MODULE = "linear_algebra" (etc.); `impl` is then the scratch side and the
        # torch side on every device under test.
        from tests.helpers import implementations

        impls = implementations(metafunc.module.LESSON_MODULE, tuple(_devices(metafunc.config)))
        metafunc.parametrize("impl", impls, ids=[i.name for i in impls])


@pytest.fixture
def rng():
    import numpy as np

    return np.random.default_rng(20261126)
