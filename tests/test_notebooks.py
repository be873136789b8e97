"""Every ``notebooks/*.ipynb`` executes top to bottom, offline, in a fresh ``python3`` kernel.

The kernel is started from a kernelspec written into a temporary folder with ``ipykernel``'s own helper, so it
runs on this interpreter (``sys.executable``) whatever kernelspecs are or are not installed, with the repository
on ``PYTHONPATH``, the notebooks folder as its working directory and matplotlib on the non-interactive Agg backend.
A failing cell fails the test with its index, source and traceback.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest
from ipykernel.kernelspec import write_kernel_spec
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT_S = 120
KERNEL_NAME = "python3"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

# An empty folder must fail, not skip (pytest skips an empty parameter list), hence the placeholder.
PARAMS = [pytest.param(p, id=p.name) for p in NOTEBOOKS] or [pytest.param(None, id="no-notebooks")]


@pytest.fixture(scope="module")
def kernel_spec_manager(tmp_path_factory: pytest.TempPathFactory) -> KernelSpecManager:
    """A kernelspec manager that only knows one ``python3`` spec: this interpreter, Agg backend, repo importable."""
    kernels = tmp_path_factory.mktemp("kernels")
    pythonpath = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {"MPLBACKEND": "Agg", "PYTHONPATH": pythonpath, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    write_kernel_spec(kernels / KERNEL_NAME, overrides={"env": env, "display_name": "Python 3 (tests)"})
    return KernelSpecManager(kernel_dirs=[str(kernels)], ensure_native_kernel=False)


@pytest.mark.parametrize("path", PARAMS)
def test_notebook_executes(path: Path | None, kernel_spec_manager: KernelSpecManager) -> None:
    assert path is not None, f"no notebooks found: expected {NOTEBOOK_DIR}/*.ipynb"
    nb = nbformat.read(path, as_version=4)
    kinds = {cell.cell_type for cell in nb.cells}
    assert {"markdown", "code"} <= kinds, f"{path.name} needs at least one markdown and one code cell, has {sorted(kinds)}"

    km = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=kernel_spec_manager)
    client = NotebookClient(nb, km=km, kernel_name=KERNEL_NAME, timeout=CELL_TIMEOUT_S, allow_errors=False,
                            resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    failure = None
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            try:
                client.execute_cell(cell, index)
            except (CellExecutionError, CellTimeoutError) as err:
                failure = f"{path.name}: cell {index} failed\n{ANSI.sub('', str(err))}"
                break
    if failure is not None:  # failed outside the except block so the report is not the colored chained traceback
        pytest.fail(failure, pytrace=False)
