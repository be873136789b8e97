"""What ``python -m benchmarks.precision`` and ``python -m benchmarks.speed`` share: the command-line options,
device and thread set-up, the dtype names, the printed table and the JSON file (``{"meta": ..., "rows": [...]}``).

See also: ``benchmarks/README.md`` (the JSON fields), :mod:`benchmarks.compare` (device resolution).
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import sys
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch

from benchmarks.compare import _devices as resolve_devices  # auto -> cpu (+ cuda); clear ValueError otherwise
from benchmarks.timing import device_name

#: dtype name -> (torch dtype, NumPy dtype or None where NumPy has none). "tf32" is float32 storage with
#: TensorFloat-32 tensor-core matmuls (CUDA only).
DTYPES: dict[str, tuple[torch.dtype, type | None]] = {
    "float64": (torch.float64, np.float64), "float32": (torch.float32, np.float32), "tf32": (torch.float32, None),
    "bfloat16": (torch.bfloat16, None), "float16": (torch.float16, np.float16),
}


def eps(dtype: str) -> float:
    """Machine epsilon (spacing of floats at 1.0): 2^-52, 2^-23, 2^-7 (bf16), 2^-10 (fp16); tf32 has fp16's 10 bits."""
    return float(torch.finfo(DTYPES["float16" if dtype == "tf32" else dtype][0]).eps)


def mode(args: argparse.Namespace) -> str:
    return "smoke" if args.smoke else "quick" if args.quick else "full"


def common_parser(prog: str, description: str, default_out: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=description)
    p.add_argument("--out", type=Path, default=Path(default_out), help="output folder (default: %(default)s)")
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (CPU plus CUDA when present)")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="smaller sizes and fewer repeats")
    size.add_argument("--smoke", action="store_true", help="tiny sizes, seconds (used by the tests)")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                   help="CPU threads for torch and NumPy's BLAS (default: all cores, %(default)s)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-seconds", type=float, help="start no new measurement after this many seconds; what is left "
                   "is recorded as skipped (the outputs are still written)")
    return p


def setup(p: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    """Check the common options (exit 2 via ``p.error``), set the thread counts, return the devices to run on."""
    if args.threads < 1:
        p.error(f"--threads must be >= 1, got {args.threads}")
    if args.max_seconds is not None and args.max_seconds <= 0:
        p.error(f"--max-seconds must be > 0, got {args.max_seconds}")
    try:
        devices = resolve_devices(args.device)
    except ValueError as err:
        p.error(str(err))
    torch.set_num_threads(args.threads)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=args.threads)  # NumPy's BLAS, process-wide
    except ImportError:  # pragma: no cover - scikit-learn brings threadpoolctl everywhere we run
        pass
    return devices


def run_meta(args: argparse.Namespace, devices: Sequence[str], **extra) -> dict:
    """How the numbers were made: command, versions, device names, threads, mode."""
    return {"command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv else "",
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "mode": mode(args), "devices": {d: device_name(d) for d in devices}, "threads": args.threads,
            "cpu_count": os.cpu_count(), "python": platform.python_version(), "torch": torch.__version__,
            "cuda": torch.version.cuda, "numpy": np.__version__, "seed": args.seed, **extra}


def clean(value):
    """JSON-safe: NaN/inf -> None (rows say why in ``status``), NumPy scalars -> Python numbers."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def write_json(path: Path, meta: dict, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(clean({"meta": meta, "rows": rows}), indent=1, allow_nan=False))
    return path


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if 1e-3 <= abs(value) < 1e5 or value == 0 else f"{value:.2e}"
    return str(value)


def format_table(rows: Iterable[dict], columns: Sequence[str]) -> str:
    """A plain fixed-width table of ``columns`` (missing -> "-")."""
    cells = [[_fmt(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    line = lambda parts: "  ".join(s.ljust(w) for s, w in zip(parts, widths)).rstrip()  # noqa: E731
    return "\n".join([line(columns), line(["-" * w for w in widths]), *map(line, cells)])


def markdown_table(rows: Iterable[dict], columns: Sequence[str]) -> str:
    cells = [[_fmt(r.get(c)) for c in columns] for r in rows]
    return "\n".join(["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns),
                      *("| " + " | ".join(row) + " |" for row in cells)])
