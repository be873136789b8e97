"""Compare every from-scratch implementation with its PyTorch twin: one row per concept.

    python -m benchmarks.compare                       # all lessons, float64, CPU (and CUDA if present)
    python -m benchmarks.compare --lesson 1 --device cuda --dtype float32 --json results.json

Exit status 0 when every pair agrees within its tolerances, 1 when any disagrees, 2 on bad arguments.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import torch

from benchmarks.agreement import NP_DTYPES, AgreementResult, compare
from benchmarks.registry import all_concepts

COLUMNS = ("concept", "lesson", "dtype", "device", "max_abs_err", "max_rel_err", "grad_max_abs_err", "rtol", "atol", "ok")


def _devices(choice: str) -> list[str]:
    """The devices to run on; ValueError for an unavailable or unknown device."""
    if choice == "auto":
        return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    if choice.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"--device {choice} requested but torch.cuda.is_available() is False "
                         f"(torch {torch.__version__}, CUDA build: {torch.version.cuda})")
    try:
        torch.empty(0, device=choice)
    except (RuntimeError, ValueError) as err:
        raise ValueError(f"--device {choice} is not usable here: {err}") from None
    return [choice]


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "ok" if value else "FAIL"
    if isinstance(value, float):
        return "inf" if math.isinf(value) else f"{value:.2e}"
    return str(value)


def format_table(results: list[AgreementResult]) -> str:
    rows = [[_fmt(r.row()[c]) for c in COLUMNS] for r in results]
    widths = [max(len(c), *(len(row[i]) for row in rows)) if rows else len(c) for i, c in enumerate(COLUMNS)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths))  # noqa: E731
    return "\n".join([line(COLUMNS), line(["-" * w for w in widths])] + [line(r) for r in rows])


def run(lesson: int | None, dtypes: list[str], devices: list[str], seeds: list[int]) -> list[AgreementResult]:
    concepts = all_concepts(lesson)
    return [compare(c, dt, dev, seeds) for dev in devices for dt in dtypes for c in concepts if dt in c.dtypes]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.compare", description=__doc__.splitlines()[0])
    p.add_argument("--lesson", type=int, help="only this lesson's concepts (1-7)")
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (CPU plus CUDA when present)")
    p.add_argument("--dtype", default="float64", choices=[*NP_DTYPES, "all"])
    p.add_argument("--seeds", type=int, default=3, help="number of random input draws per concept (default 3)")
    p.add_argument("--json", type=Path, metavar="PATH", help="also write the rows as a JSON list")
    p.add_argument("--verbose", "-v", action="store_true", help="print each failure's details")
    args = p.parse_args(argv)
    if args.seeds < 1:
        p.error(f"--seeds must be >= 1, got {args.seeds}")
    dtypes = list(NP_DTYPES) if args.dtype == "all" else [args.dtype]
    try:
        devices = _devices(args.device)
    except ValueError as err:
        p.error(str(err))
    if args.lesson is not None and not all_concepts(args.lesson):
        p.error(f"no concepts registered for lesson {args.lesson}")
    results = run(args.lesson, dtypes, devices, list(range(args.seeds)))
    print(format_table(results))
    bad = [r for r in results if not r.ok]
    for r in bad if args.verbose else bad[:5]:
        print("\n" + r.report())
    print(f"\n{len(results) - len(bad)}/{len(results)} concept pairs agree")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([r.row() for r in results], indent=2, allow_nan=False, default=str))
        print(f"wrote {args.json}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
