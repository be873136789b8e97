"""The shared skeleton of the figure scripts (``lessons/figures/make_NN_*.py``) and of benchmark plots:
save a figure, and a command line ``--out DIR`` that runs a list of figure makers and reports what it wrote."""
from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Callable, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

DPI = 110


def save(fig, path: Path, dpi: int = DPI) -> Path:
    """Write ``fig`` as PNG (tight bounding box) and close it."""
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path


def run_figure_script(description: str, makers: Sequence[Callable[[Path], Path]], default_out: Path,
                      argv: list[str] | None = None) -> list[Path]:
    """Parse ``--out DIR`` (default ``default_out``), call each ``maker(out_dir)``, print sizes and timings and
    return the written paths."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, default=default_out, help="folder for the PNGs (default: %(default)s)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    start, paths = time.perf_counter(), []
    for make in makers:
        t0 = time.perf_counter()
        path = make(args.out)
        paths.append(path)
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KB, {time.perf_counter() - t0:.1f} s)")
    print(f"done in {time.perf_counter() - start:.1f} s")
    return paths
