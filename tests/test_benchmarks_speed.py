"""`python -m benchmarks.speed` in smoke mode, and the timing helper: JSON fields, skips with reasons (unsupported
dtype, time and memory budgets, out of memory), the CUDA branches driven by stand-ins, bad arguments exit 2."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import benchmarks.speed as speed
import benchmarks.timing as timing
from benchmarks.speed_cases import CASES, Case

ROOT = Path(__file__).resolve().parents[1]
ROW_FIELDS = {"case", "impl", "dtype", "device", "size", "status", "reason", "est_bytes"}
OK_FIELDS = {"median_s", "min_s", "max_s", "repeats", "warmup", "flops", "tflops", "peak_tflops", "peak_source",
             "frac_of_peak", "ref_tflops", "frac_of_ref", "peak_mem_bytes"}
META_FIELDS = {"command", "created", "mode", "devices", "threads", "torch", "cases", "dtypes", "warmup", "repeats",
               "time_budget_s", "seconds"}


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("speed")
    assert speed.main(["--smoke", "--device", "cpu", "--threads", "1", "--out", str(out)]) == 0
    return out, json.loads((out / "speed.json").read_text())


def test_json_has_the_documented_fields(result) -> None:
    _, data = result
    assert META_FIELDS <= set(data["meta"]) and data["meta"]["mode"] == "smoke"
    assert {r["case"] for r in data["rows"]} == set(CASES)
    for r in data["rows"]:
        assert ROW_FIELDS <= set(r), r
        if r["status"] == "ok":
            assert OK_FIELDS <= set(r), r
            assert r["min_s"] <= r["median_s"] <= r["max_s"] and r["tflops"] > 0 and r["repeats"] == 2
            assert r["peak_source"].startswith("measured") and r["frac_of_peak"] > 0 and r["peak_mem_bytes"] is None
        else:
            assert r["status"] in {"skipped", "oom", "error"} and r["reason"], r
    ok = {(r["case"], r["impl"], r["dtype"]) for r in data["rows"] if r["status"] == "ok"}
    for want in [("matmul", "numpy", "float64"), ("matmul", "torch", "bfloat16"), ("attention", "numpy-naive", "float32"),
                 ("attention", "torch-sdpa", "float32"), ("mlp", "numpy", "float32"), ("block", "torch", "float32")]:
        assert want in ok, want


def test_unsupported_lines_are_one_skipped_row_with_a_reason(result) -> None:
    _, data = result
    tf32 = [r for r in data["rows"] if r["dtype"] == "tf32"]
    assert tf32 and all(r["status"] == "skipped" and ("CUDA" in r["reason"] or "NumPy" in r["reason"]) for r in tf32)
    numpy16 = [r for r in data["rows"] if r["impl"] == "numpy" and r["dtype"] == "float16" and r["case"] == "matmul"]
    assert len(numpy16) == 1 and numpy16[0]["size"] is None and "BLAS" in numpy16[0]["reason"]


def test_outputs_written(result) -> None:
    out, _ = result
    for case in CASES:
        path = out / f"speed_{case}.png"
        assert path.is_file() and 0 < path.stat().st_size < 300_000
    md = (out / "speed.md").read_text()
    assert "## Headlines" in md and "## matmul: median time (ms)" in md and "torch matmul float32" in md


def _args(**kw) -> argparse.Namespace:
    base = dict(smoke=True, quick=False, warmup=0, repeats=1, time_budget=60.0, seed=0)
    return argparse.Namespace(**{**base, **kw})


class _Bar:
    def update(self, n=1):
        pass

    def set_postfix_str(self, *a, **k):
        pass


def test_budgets_stop_a_line_with_the_reason() -> None:
    peaks = timing.PeakTable(64)
    rows = speed.run_line(CASES["matmul"], "torch", "float32", "cpu", _args(time_budget=1e-9), peaks, 2**40, _Bar())
    assert rows[0]["status"] == "ok" and rows[1]["status"] == "skipped" and "time budget" in rows[1]["reason"]
    rows = speed.run_line(CASES["matmul"], "torch", "float32", "cpu", _args(), peaks, 1, _Bar())
    assert all(r["status"] == "skipped" and "memory budget" in r["reason"] for r in rows)


def test_out_of_memory_is_recorded_and_larger_sizes_skipped() -> None:
    def build(impl, size, dtype, device, rng, mode):
        if size > 16:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 8 GiB")
        return lambda: None

    case = Case("fake", "n", {"smoke": [8, 32, 64]}, ("torch",), 3, lambda n, m: 1.0, lambda i, n, s, m: 0, build)
    rows = speed.run_line(case, "torch", "float32", "cpu", _args(), timing.PeakTable(32), 2**40, _Bar())
    assert [r["status"] for r in rows] == ["ok", "oom", "skipped"]
    assert "OutOfMemoryError" in rows[1]["reason"] and "out-of-memory" in rows[2]["reason"]


def test_time_fn_on_cpu_warms_up_then_times() -> None:
    calls = []
    t = timing.time_fn(lambda: calls.append(1), "cpu", warmup=3, repeats=5)
    assert len(calls) == 8 and t.repeats == 5 and t.warmup == 3 and t.peak_mem_bytes is None
    assert 0 <= t.min_s <= t.median_s <= t.max_s
    with pytest.raises(ValueError):
        timing.time_fn(lambda: None, "cpu", repeats=0)


def test_time_fn_cuda_branch_uses_events_and_peak_memory(monkeypatch) -> None:
    """The CUDA path, driven by stand-ins: events time each call, the device is synchronized, peak memory read."""
    log = []

    class Event:
        clock = 0.0

        def __init__(self, enable_timing=False):
            assert enable_timing

        def record(self):
            Event.clock += 2.0  # ms
            self.t = Event.clock

        def synchronize(self):
            log.append("event sync")

        def elapsed_time(self, end):
            return end.t - self.t

    monkeypatch.setattr(torch.cuda, "Event", Event)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: log.append("sync"))
    monkeypatch.setattr(torch.cuda, "reset_peak_memory_stats", lambda device=None: log.append("reset"))
    monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda device=None: 123)
    t = timing.time_fn(lambda: None, "cuda", warmup=2, repeats=4)
    assert t.median_s == pytest.approx(2e-3) and t.peak_mem_bytes == 123
    assert log[:2] == ["sync", "reset"] and log.count("event sync") == 4


@pytest.mark.parametrize("name, family", [("NVIDIA H100 80GB HBM3", "H100 SXM"), ("NVIDIA H100 PCIe", "H100 PCIe"),
                                          ("NVIDIA H200", "H200"), ("NVIDIA A100-SXM4-80GB", "A100"),
                                          ("NVIDIA GeForce RTX 4090", None)])
def test_gpu_peak_table(monkeypatch, name, family) -> None:
    assert timing.gpu_family(name) == family
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: name)
    peak = timing.PeakTable()("cuda", "bfloat16")
    if family is None:
        assert peak.tflops is None and name in peak.source
    else:
        assert peak.tflops == timing.DATASHEET_TFLOPS[family]["bfloat16"]
    if family == "H100 SXM":
        assert peak.tflops == pytest.approx(989.4) and peak.ref_tflops == 790.0


def test_max_seconds_stops_starting_lines_and_still_writes(tmp_path) -> None:
    assert speed.main(["--smoke", "--device", "cpu", "--threads", "1", "--cases", "matmul", "block", "--max-seconds",
                       "1e-6", "--out", str(tmp_path)]) == 0
    rows = json.loads((tmp_path / "speed.json").read_text())["rows"]
    cut = [r for r in rows if "--max-seconds" in (r["reason"] or "")]
    assert cut and all(r["status"] == "skipped" for r in cut) and (tmp_path / "speed.md").is_file()


def test_module_entry_point(tmp_path) -> None:
    proc = subprocess.run([sys.executable, "-m", "benchmarks.speed", "--smoke", "--device", "cpu", "--threads", "1",
                           "--cases", "matmul", "--dtypes", "float32", "--out", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "matmul" in proc.stdout and (tmp_path / "speed_matmul.png").is_file()
    assert subprocess.run(["bash", "-n", str(ROOT / "benchmarks" / "gpu_suite.sh")]).returncode == 0


@pytest.mark.parametrize("argv", [["--repeats", "0"], ["--time-budget", "0"], ["--cases", "bogus"], ["--threads", "0"],
                                  ["--device", "nonsense"], ["--dtypes", "int8"], ["--max-seconds", "0"]])
def test_bad_arguments_exit_2(argv, tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        speed.main([*argv, "--smoke", "--out", str(tmp_path)])
    assert info.value.code == 2 and "error" in capsys.readouterr().err


def test_cuda_requested_without_cuda_exits_2(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # also on a GPU machine: as if it had none
    with pytest.raises(SystemExit) as info:
        speed.main(["--smoke", "--device", "cuda", "--out", str(tmp_path)])
    assert info.value.code == 2 and "cuda" in capsys.readouterr().err.lower()
