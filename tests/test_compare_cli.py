"""`python -m benchmarks.compare`: the table, the JSON rows, and the exit status."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import benchmarks.compare as compare_cli
from benchmarks.registry import Concept, all_concepts

ROOT = Path(__file__).resolve().parents[1]
FIELDS = {"concept", "lesson", "dtype", "device", "max_abs_err", "max_rel_err", "grad_max_abs_err", "rtol", "atol", "ok"}


def test_lesson_1_agrees_and_writes_json(tmp_path) -> None:
    out = tmp_path / "rows.json"
    proc = subprocess.run([sys.executable, "-m", "benchmarks.compare", "--lesson", "1", "--device", "cpu",
                           "--json", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = json.loads(out.read_text())
    names = {c.name for c in all_concepts(1)}
    assert {r["concept"] for r in rows} == names
    for r in rows:
        assert FIELDS <= set(r), f"row lacks {FIELDS - set(r)}"
        assert r["ok"] is True and r["dtype"] == "float64" and r["device"] == "cpu" and r["lesson"] == 1
        assert r["max_abs_err"] < 1e-10
        assert (r["grad_max_abs_err"] is None) == (not next(c for c in all_concepts(1) if c.name == r["concept"]).has_gradient)
        assert r["concept"] in proc.stdout
    assert f"{len(names)}/{len(names)} concept pairs agree" in proc.stdout


def test_exit_status_is_nonzero_when_a_pair_disagrees(monkeypatch, tmp_path, capsys) -> None:
    broken = Concept("broken", 1, lambda x: x + 1e-6, lambda x: x, lambda rng: {"x": rng.standard_normal(3)}, ("y",))
    monkeypatch.setattr(compare_cli, "all_concepts", lambda lesson=None: [broken])
    out = tmp_path / "rows.json"
    assert compare_cli.main(["--device", "cpu", "--dtype", "all", "--json", str(out), "--seeds", "2"]) == 1
    rows = json.loads(out.read_text())
    assert [(r["dtype"], r["ok"]) for r in rows] == [("float64", False), ("float32", True)]
    assert "FAIL" in capsys.readouterr().out


def test_bad_arguments_exit_2(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        compare_cli.main(["--lesson", "99"])
    assert info.value.code == 2 and "lesson 99" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        compare_cli.main(["--device", "nonsense"])
    assert info.value.code == 2
