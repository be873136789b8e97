"""`python -m benchmarks.precision` in smoke mode: JSON fields, float64 rows at round-off, the failure demos show
the failure and the fix, skipped rows carry a reason, plots exist, bad arguments exit 2."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import benchmarks.precision as precision
from benchmarks.registry import get_concept

ROOT = Path(__file__).resolve().parents[1]
ROW_FIELDS = {"section", "name", "impl", "dtype", "device", "size", "rel_err", "eps", "status", "reason", "note"}
META_FIELDS = {"command", "created", "mode", "devices", "threads", "torch", "numpy", "seed", "sections", "seconds"}


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("precision")
    assert precision.main(["--smoke", "--device", "cpu", "--threads", "1", "--out", str(out)]) == 0
    return out, json.loads((out / "precision.json").read_text())


def _rows(data, **want):
    return [r for r in data["rows"] if all(r[k] == v for k, v in want.items())]


def test_json_has_the_documented_fields(result) -> None:
    _, data = result
    assert META_FIELDS <= set(data["meta"]) and data["meta"]["mode"] == "smoke"
    assert {r["section"] for r in data["rows"]} == {"kernel", "failure", "registry"}
    for r in data["rows"]:
        assert set(r) == ROW_FIELDS, r
        assert r["status"] in {"ok", "nonfinite", "skipped"}
        assert (r["rel_err"] is not None) == (r["status"] == "ok"), r
        assert (r["reason"] is not None) == (r["status"] == "skipped"), r
    kernels = {r["name"] for r in _rows(data, section="kernel")}
    assert kernels == {"matmul", "sum", "softmax", "logsumexp", "layer_norm", "attention"}
    assert {r["dtype"] for r in _rows(data, section="kernel", impl="torch")} == {"float64", "float32", "bfloat16", "float16"}
    assert {r["dtype"] for r in _rows(data, section="kernel", impl="numpy")} == {"float32", "float16"}


def test_float64_rows_are_at_round_off(result) -> None:
    _, data = result
    for r in _rows(data, section="kernel", dtype="float64"):
        assert r["status"] == "ok" and r["rel_err"] <= 1e-12, r
    for r in _rows(data, section="registry", dtype="float64"):
        concept = get_concept(r["name"])
        bound = 1e-12 if concept.exact else concept.tolerances["float64"].rtol
        assert r["status"] == "ok" and r["rel_err"] <= max(bound, 1e-12), r


def test_low_precision_errors_scale_with_eps(result) -> None:
    _, data = result
    for r in _rows(data, section="kernel", status="ok"):
        if r["dtype"] != "float64":
            assert r["rel_err"] < 20 * r["eps"], r  # smoke sizes: a few units of roundoff at most


def test_failure_demos_show_failure_and_fix(result) -> None:
    _, data = result
    naive16 = _rows(data, name="softmax_overflow", impl="torch naive exp/sum", dtype="float16", size=12)
    stable16 = _rows(data, name="softmax_overflow", impl="torch.softmax (max subtracted)", dtype="float16", size=12)
    assert naive16[0]["status"] == "nonfinite" and stable16[0]["rel_err"] < 1e-3
    assert _rows(data, name="variance", impl="E[x^2]-E[x]^2", dtype="float16", size=300)[0]["status"] == "nonfinite"
    assert _rows(data, name="variance", dtype="float16", size=300, impl="torch.var (two-pass, fp32 accumulator)")[0]["rel_err"] < 1e-2
    tiny = 2.0**-30
    assert _rows(data, name="loss_scaling", impl="no scaling", dtype="float16", size=tiny)[0]["rel_err"] > 0.99
    scaled = _rows(data, name="loss_scaling", impl="dynamic loss scaling", size=tiny)[0]
    assert scaled["rel_err"] < 1e-2 and scaled["note"].startswith("scale=2^")


def test_unsupported_dtypes_are_skipped_with_a_reason(result) -> None:
    _, data = result
    chol = _rows(data, section="registry", name="cholesky", impl="torch", dtype="float16")
    assert chol and chol[0]["status"] == "skipped" and "Half" in chol[0]["reason"]


def test_outputs_written(result, capsys) -> None:
    out, _ = result
    for name in ("precision.md", "precision_kernels.png", "precision_failures.png", "precision_registry.png"):
        path = out / name
        assert path.is_file() and 0 < path.stat().st_size < 300_000, name
    assert "## kernel matmul" in (out / "precision.md").read_text()


def test_module_entry_point_prints_the_table(tmp_path) -> None:
    proc = subprocess.run([sys.executable, "-m", "benchmarks.precision", "--smoke", "--device", "cpu", "--threads", "1",
                           "--sections", "failure", "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "failure softmax_overflow" in proc.stdout and (tmp_path / "precision_failures.png").is_file()
    assert not (tmp_path / "precision_kernels.png").exists()


def test_max_seconds_stops_starting_jobs_and_still_writes(tmp_path) -> None:
    assert precision.main(["--smoke", "--device", "cpu", "--threads", "1", "--sections", "kernel", "--max-seconds",
                           "1e-6", "--out", str(tmp_path)]) == 0
    rows = json.loads((tmp_path / "precision.json").read_text())["rows"]
    assert any("--max-seconds" in (r["reason"] or "") for r in rows) and (tmp_path / "precision_kernels.png").is_file()


@pytest.mark.parametrize("argv", [["--threads", "0"], ["--device", "nonsense"], ["--sections", "bogus"],
                                  ["--quick", "--smoke"], ["--max-seconds", "-1"]])
def test_bad_arguments_exit_2(argv, tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        precision.main([*argv, "--out", str(tmp_path)])
    assert info.value.code == 2 and "error" in capsys.readouterr().err
