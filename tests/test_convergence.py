"""Lesson 4 convergence: measured linear rates vs theory on quadratics (both implementations), the rate fit, the
optimizer comparison, the ``python -m benchmarks.convergence`` command, and bad input."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import benchmarks.convergence as cli
import from_scratch.optimization.convergence as S
from from_scratch.probability.logistic_regression import fit_newton
from tests.helpers import to_numpy

LESSON_MODULE = "optimization.convergence"
ROOT = Path(__file__).resolve().parents[1]


def _problem(impl, kappa: float, n: int = 10):
    A, x0 = S.conditioned_quadratic(np.linspace(1.0, kappa, n))
    return impl.to_input(A), impl.to_input(x0)


@pytest.mark.parametrize("method", S.RATE_METHODS)
@pytest.mark.parametrize("kappa", [10.0, 100.0, 1000.0])
def test_measured_rate_matches_theory(impl, kappa, method) -> None:
    """Rates compared as rate constants -log(rho): within 10 % (observed: 0 % for GD, ~1.5 % for the momentum
    methods, the 1/t bias of their double roots)."""
    A, x0 = _problem(impl, kappa)
    errors, rate, theory = to_numpy(impl.module.measure_rate(method, A, x0, 1.0, kappa))
    assert theory == pytest.approx(S.theoretical_rate(method, kappa))
    rel = math.log(float(rate)) / math.log(theory) - 1
    assert abs(rel) <= 0.10, f"{impl.name} {method} kappa={kappa}: measured {float(rate):.6f} vs theory {theory:.6f}"
    assert errors[-1] < 1e-5 * errors[0]


def test_theoretical_rates_and_their_ordering() -> None:
    assert S.theoretical_rate("gd", 9.0) == pytest.approx(0.8)
    assert S.theoretical_rate("heavy_ball", 9.0) == pytest.approx(0.5)
    assert S.theoretical_rate("nesterov", 9.0) == pytest.approx(2 / 3)
    for kappa in (10.0, 1e4):  # acceleration: sqrt(kappa) instead of kappa iterations per e-fold
        gd, hb, nag = (-1 / math.log(S.theoretical_rate(m, kappa)) for m in S.RATE_METHODS)
        assert hb < nag < gd and gd / hb == pytest.approx(math.sqrt(kappa), rel=0.1)


def test_worst_case_needs_the_extreme_eigenvectors() -> None:
    """Started without components on the mu and L eigenvectors, gradient descent beats its worst-case rate."""
    kappa, n = 100.0, 10
    A, x0 = S.conditioned_quadratic(np.linspace(1.0, kappa, n))
    _, vectors = np.linalg.eigh(A)  # ascending: columns 0 and n-1 belong to mu and L
    inner = x0 - vectors[:, [0, -1]] @ (vectors[:, [0, -1]].T @ x0)
    fast = S.measure_rate("gd", A, inner, 1.0, kappa, n_steps=100)
    assert math.log(float(fast.rate)) / math.log(fast.theory) > 2  # more than twice as many e-folds per step


def test_nesterov_function_value_decays_at_the_squared_rate() -> None:
    """On a quadratic f - f* = 1/2 e^T A e: along the slowest eigenvector it is mu e_t^2 / 2, so the function
    value's rate is (1 - 1/sqrt(kappa))^2 -- the Lyapunov bound's 1 - 1/sqrt(kappa) is not tight for f."""
    kappa = 100.0
    A, x0 = np.diag([1.0, kappa]), np.array([1.0, 0.0])
    result = S.measure_rate("nesterov", A, x0, 1.0, kappa)
    f_rate = S.fit_rate(0.5 * result.errors ** 2)
    assert abs(math.log(float(f_rate)) / (2 * math.log(result.theory)) - 1) < 0.05


def test_fit_rate_recovers_a_geometric_sequence(impl) -> None:
    errors = 3.0 * 0.9 ** np.arange(50.0)
    assert float(to_numpy(impl("fit_rate", errors))) == pytest.approx(0.9, rel=1e-12)
    assert float(to_numpy(impl("fit_rate", errors, 0, 10))) == pytest.approx(0.9, rel=1e-12)


def test_conditioned_quadratic_has_the_requested_spectrum(impl) -> None:
    lam = np.array([1.0, 2.5, 7.0, 30.0])
    A, x0 = map(to_numpy, impl("conditioned_quadratic", lam))
    np.testing.assert_allclose(np.linalg.eigvalsh(A), lam, rtol=1e-13)
    np.testing.assert_allclose(A, A.T, rtol=0, atol=0)
    _, vectors = np.linalg.eigh(A)
    np.testing.assert_allclose(np.abs(vectors.T @ x0), np.ones(4), rtol=1e-12)  # unit component on every eigenvector


# --- optimizer comparison ---------------------------------------------------------------------------------------------
def test_compare_optimizers_on_rosenbrock(impl) -> None:
    curves = {k: to_numpy(v) for k, v in impl("compare_optimizers", "rosenbrock", np.array([-1.2, 1.0]), 200).items()}
    assert list(curves) == list(S.COMPARISON_OPTIMIZERS["rosenbrock"])
    for name, losses in curves.items():
        assert losses.shape == (201,) and np.all(np.isfinite(losses))
        assert losses[-1] < 0.5 * losses[0], f"{name} made no progress"
    assert curves["adam"][-1] < curves["sgd"][-1]  # the valley favours the adaptive, momentum-carrying step


def test_compare_optimizers_on_logistic_regression(impl) -> None:
    X, y = cli.logistic_data(n=80, d=3)
    minimum = fit_newton(X, y).losses[-1]
    config = {"sgd": ("SGD", {"lr": 1.0}), "adam": ("Adam", {"lr": 5e-2})}
    curves = impl("compare_optimizers", "logistic", np.zeros(4), 300, config, X=X, y=y)
    curves = {k: to_numpy(v) for k, v in curves.items()}
    for name, losses in curves.items():
        assert losses[-1] - minimum < 1e-8, f"{name} did not reach the minimum found by Newton's method"


# --- the command ------------------------------------------------------------------------------------------------------
def test_command_exits_0_and_writes_json_and_png(tmp_path, capsys) -> None:
    assert cli.main(["--kappa", "10", "100", "--steps", "50", "--out", str(tmp_path)]) == 0
    stdout = capsys.readouterr().out
    result = json.loads((tmp_path / "convergence.json").read_text())
    assert (tmp_path / "convergence.png").stat().st_size > 10_000
    assert result["ok"] is True and result["kappas"] == [10.0, 100.0] and result["tolerance"] == 0.10
    expected = {(k, m) for k in (10.0, 100.0) for m in S.RATE_METHODS}
    assert {(r["kappa"], r["method"]) for r in result["rates"]} == expected
    for r in result["rates"]:
        assert {"theory", "measured", "measured_torch", "log_rate_rel_diff", "n_steps", "window", "quantity"} <= set(r)
        assert abs(r["log_rate_rel_diff"]) <= 0.10 and r["history_max_rel_diff"] < 1e-10
        assert f"{r['measured']:9.6f}" in stdout
    for objective in ("rosenbrock", "logistic"):
        opts = result["optimizers"][objective]["optimizers"]
        assert set(opts) == set(S.COMPARISON_OPTIMIZERS[objective])
        assert all(len(o["losses"]) == 51 and o["curve_max_rel_diff"] < 1e-10 for o in opts.values())


def test_command_exits_1_when_a_rate_is_off(tmp_path) -> None:
    # the momentum methods' measured rates are ~1.5 % off (the double roots' 1/t bias): a 0.5 % tolerance fails them
    proc = subprocess.run([sys.executable, "-m", "benchmarks.convergence", "--kappa", "10", "--steps", "5",
                           "--tolerance", "0.005", "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAIL" in proc.stdout and "heavy ball at kappa 10" in proc.stdout
    assert json.loads((tmp_path / "convergence.json").read_text())["ok"] is False
    with pytest.raises(SystemExit) as info:
        cli.main(["--kappa", "1"])
    assert info.value.code == 2


# --- bad input --------------------------------------------------------------------------------------------------------
def _bad_cases():
    A, x0 = S.conditioned_quadratic(np.linspace(1.0, 10.0, 4))
    return [
        ("measure_rate", ("adam", A, x0, 1.0, 10.0), "method"),
        ("measure_rate", ("gd", A, x0[:3], 1.0, 10.0), "x0 must have shape"),
        ("measure_rate", ("gd", A + np.triu(np.ones((4, 4)), 1), x0, 1.0, 10.0), "symmetric"),
        ("measure_rate", ("gd", A, x0, -1.0, 10.0), "mu"),
        ("measure_rate", ("gd", A, x0, 2.0, 1.0), "L must be >= mu"),
        ("fit_rate", (np.array([1.0, -0.5, 0.2]),), "> 0"),
        ("fit_rate", (np.ones(5), 4, 5), "window"),
        ("conditioned_quadratic", (np.array([1.0, 0.0]),), "> 0"),
        ("compare_optimizers", ("himmelblau", x0, 5), "objective"),
        ("compare_optimizers", ("logistic", x0, 5), "needs the data"),
        ("compare_optimizers", ("rosenbrock", x0[:1], 5), "at least 2"),
    ]


def test_a_spectrum_outside_mu_L_is_reported(impl) -> None:
    A, x0 = S.conditioned_quadratic(np.linspace(1.0, 30.0, 4))  # L = 30, but the step is tuned for L = 10
    with pytest.raises(FloatingPointError, match="inside"):
        impl("measure_rate", "gd", A, x0, 1.0, 10.0, 200)


@pytest.mark.parametrize("case", range(len(_bad_cases())))
def test_bad_input_raises_value_error(impl, case) -> None:
    fn, args, match = _bad_cases()[case]
    with pytest.raises(ValueError, match=match):
        impl(fn, *args)
