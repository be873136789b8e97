"""Learning-rate schedules and gradient clipping (lesson 4): the NumPy closed forms and the twin against the
built-in ``torch.optim.lr_scheduler`` step by step in float64, state dicts, and ``clip_grad_norm_``."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as L

from from_scratch.optimization import optimizers as SO
from from_scratch.optimization import schedules as SS
from torch_versions.optimization import optimizers as TO
from torch_versions.optimization import schedules as TS

EPS = np.finfo(np.float64).eps
BASE_LRS = (0.7, 0.013)  # two param groups


def _scratch_opt():
    return SO.SGD([{"params": [np.zeros(2)], "lr": BASE_LRS[0]}, {"params": [np.zeros(1)], "lr": BASE_LRS[1]}])


def _torch_opt(cls=TO.SGD):
    return cls([{"params": [torch.zeros(2, requires_grad=True)], "lr": BASE_LRS[0]},
                {"params": [torch.zeros(1, requires_grad=True)], "lr": BASE_LRS[1]}])


def _lrs(opt, sched, n_steps: int) -> np.ndarray:
    """The lrs of every group at steps 0..n_steps (optimizer step first, then the scheduler, as torch asks)."""
    out = [sched.get_last_lr()]
    for _ in range(n_steps):
        opt.step([None, None]) if isinstance(opt, SO.Optimizer) else opt.step()
        sched.step()
        assert [g["lr"] for g in opt.param_groups] == sched.get_last_lr(), "the groups hold the scheduled lr"
        out.append(sched.get_last_lr())
    return np.array(out, dtype=np.float64)


def _all_three(name: str, n_steps: int, *args):
    scratch = _lrs(opt := _scratch_opt(), getattr(SS, name)(opt, *args), n_steps)
    twin = _lrs(opt := _torch_opt(), getattr(TS, name)(opt, *args), n_steps)
    builtin = _lrs(opt := _torch_opt(torch.optim.SGD), getattr(L, name)(opt, *args), n_steps)
    return scratch, twin, builtin


@pytest.mark.parametrize("step_size,gamma", [(1, 0.5), (7, 0.1), (30, 0.9)])
def test_step_lr(step_size: int, gamma: float) -> None:
    scratch, twin, builtin = _all_three("StepLR", 200, step_size, gamma)
    np.testing.assert_array_equal(twin, builtin)
    np.testing.assert_allclose(scratch, builtin, rtol=20 * EPS, atol=0)  # gamma^k vs k multiplications
    np.testing.assert_allclose(scratch[:, 0], [0.7 * gamma ** (t // step_size) for t in range(201)], rtol=EPS)


@pytest.mark.parametrize("gamma", [0.5, 0.97, 0.999])
def test_exponential_lr(gamma: float) -> None:
    scratch, twin, builtin = _all_three("ExponentialLR", 300, gamma)
    np.testing.assert_array_equal(twin, builtin)
    np.testing.assert_allclose(scratch, builtin, rtol=50 * EPS, atol=0)  # 300 roundings of the recursion


@pytest.mark.parametrize("T_max,eta_min", [(1, 0.0), (10, 0.0), (50, 1e-3), (120, 0.0), (117, 1e-3)])
def test_cosine_annealing_closed_form_matches_the_recursion(T_max: int, eta_min: float) -> None:
    """First period: the recursion drifts from the closed form by at most about one ulp of base_lr per step
    (measured <= 0.6 (t+1) eps base_lr for T <= 333, i.e. ~1e-15). Torch's recursion then divides by 1 + cos(pi (t-1)/T), about
    (pi/T)^2/2 just after T_max, so later its relative error can reach eps 2T^2/pi^2 -- its error, not the closed
    form's (checked against the formula directly)."""
    scratch, twin, builtin = _all_three("CosineAnnealingLR", 5 * T_max // 2 + 1, T_max, eta_min)
    np.testing.assert_array_equal(twin, builtin)
    t = np.arange(len(scratch))[:, None]
    formula = eta_min + (np.array(BASE_LRS) - eta_min) * (1 + np.cos(np.pi * t / T_max)) / 2
    np.testing.assert_allclose(scratch, formula, rtol=4 * EPS, atol=EPS * BASE_LRS[0])
    first = slice(0, T_max + 1)
    drift = np.abs(scratch[first] - builtin[first]) / (EPS * np.array(BASE_LRS) * (t[first] + 1))
    assert drift.max() <= 1, f"first period: {drift.max():.2f} (t+1) eps base_lr"
    bound = max(8.0, 4 * 2 * T_max ** 2 / np.pi ** 2) * EPS
    np.testing.assert_allclose(scratch, builtin, rtol=bound, atol=EPS * BASE_LRS[0])


@pytest.mark.parametrize("warmup,total,eta_min", [(1, 10, 0.0), (5, 40, 1e-3), (30, 130, 0.0), (0, 50, 1e-4)])
def test_linear_warmup_cosine_is_linear_lr_then_cosine_annealing(warmup: int, total: int, eta_min: float) -> None:
    scratch = _lrs(opt := _scratch_opt(), SS.LinearWarmupCosine(opt, warmup, total, eta_min), total + 20)
    twin = _lrs(opt := _torch_opt(), TS.LinearWarmupCosine(opt, warmup, total, eta_min), total + 20)
    np.testing.assert_array_equal(twin, scratch)  # the same closed form on both sides
    opt = _torch_opt(torch.optim.SGD)
    if warmup == 0:  # no warm-up is plain cosine annealing (SequentialLR's milestone 0 differs across torch releases:
        builtin = L.CosineAnnealingLR(opt, T_max=total, eta_min=eta_min)  # 2.11 anneals one step early)
    else:
        builtin = L.SequentialLR(opt, [L.LinearLR(opt, start_factor=1 / (warmup + 1), end_factor=1.0, total_iters=warmup),
                                       L.CosineAnnealingLR(opt, T_max=total - warmup, eta_min=eta_min)], milestones=[warmup])
    np.testing.assert_allclose(scratch[:total + 1], _lrs(opt, builtin, total), rtol=1e-14, atol=EPS * BASE_LRS[0])
    base = np.array(BASE_LRS)
    np.testing.assert_allclose(scratch[:warmup], base * (np.arange(warmup)[:, None] + 1) / (warmup + 1), rtol=EPS)
    np.testing.assert_allclose(scratch[warmup], base, rtol=EPS)  # the peak, at t = W (eta_min + (base - eta_min))
    np.testing.assert_array_equal(scratch[total:], np.broadcast_to([eta_min, eta_min], (21, 2)))  # held at eta_min


@pytest.mark.parametrize("name,args", [("StepLR", (5, 0.5)), ("ExponentialLR", (0.9,)), ("CosineAnnealingLR", (20, 1e-3)),
                                       ("LinearWarmupCosine", (5, 30))])
def test_scheduler_state_dict_round_trip(name: str, args: tuple) -> None:
    for lib, make in ((SS, _scratch_opt), (TS, _torch_opt)):
        want = _lrs(opt := make(), getattr(lib, name)(opt, *args), 39)[12:]  # steps 12..39
        opt = make()
        sched = getattr(lib, name)(opt, *args)
        _lrs(opt, sched, 12)
        saved_opt, saved = opt.state_dict(), sched.state_dict()
        fresh_opt = make()
        fresh = getattr(lib, name)(fresh_opt, *args)  # create the scheduler first, then load both (torch's order)
        fresh_opt.load_state_dict(saved_opt)
        fresh.load_state_dict(saved)
        np.testing.assert_array_equal(_lrs(fresh_opt, fresh, 27), want, err_msg=lib.__name__)


def test_a_scratch_schedule_drives_scratch_training_like_torch() -> None:
    rng = np.random.default_rng(0)
    p0, grads = rng.standard_normal(5), rng.standard_normal((50, 5))
    p = p0.copy()
    opt = SO.SGD([p], lr=0.1, momentum=0.9)
    sched = SS.StepLR(opt, 10, 0.5)
    q = torch.tensor(p0, requires_grad=True)
    t_opt = torch.optim.SGD([q], lr=0.1, momentum=0.9)
    t_sched = L.StepLR(t_opt, 10, 0.5)
    for g in grads:
        opt.step([g])
        sched.step()
        q.grad = torch.from_numpy(g)
        t_opt.step()
        t_sched.step()
    np.testing.assert_allclose(p, q.detach().numpy(), rtol=1e-13, atol=1e-14)


BAD = [("StepLR", (0,), "step_size"), ("StepLR", (3, -0.5), "gamma"), ("ExponentialLR", (0.0,), "gamma"),
       ("CosineAnnealingLR", (0,), "T_max"), ("CosineAnnealingLR", (10, -1.0), "eta_min"),
       ("LinearWarmupCosine", (-1, 10), "warmup_steps"), ("LinearWarmupCosine", (10, 10), "total_steps"),
       ("LinearWarmupCosine", (2, 10, -0.1), "eta_min")]


@pytest.mark.parametrize("name,args,arg", BAD, ids=[f"{n}-{a}" for n, _, a in BAD])
def test_bad_schedule_arguments_raise(name: str, args: tuple, arg: str) -> None:
    with pytest.raises(ValueError, match=arg):
        getattr(SS, name)(_scratch_opt(), *args)
    with pytest.raises(ValueError, match=arg):
        getattr(TS, name)(_torch_opt(), *args)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.5, math.inf])
@pytest.mark.parametrize("scale", [0.3, 3.0], ids=["clips", "unchanged"])
def test_clip_grad_norm_matches_clip_grad_norm_(norm_type: float, scale: float, dtype) -> None:
    rng = np.random.default_rng(7)
    grads = [rng.standard_normal(s).astype(dtype) for s in [(3, 4), (5,), (2, 2, 3)]]
    params = [torch.zeros(g.shape, dtype=torch.from_numpy(g).dtype, requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = torch.from_numpy(g.copy())
    flat = np.concatenate([g.ravel().astype(np.float64) for g in grads])
    max_norm = scale * np.linalg.norm(flat, norm_type)
    want_norm = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type)
    scratch = [g.copy() for g in grads]
    views = list(scratch)
    total = SS.clip_grad_norm(scratch, max_norm, norm_type)
    twin = [torch.from_numpy(g.copy()) for g in grads]
    twin_norm = TS.clip_grad_norm(twin, max_norm, norm_type)
    rtol = 1e-14 if dtype == np.float64 else 1e-6
    assert total.dtype == dtype and twin_norm.dtype == want_norm.dtype
    np.testing.assert_allclose(total, want_norm.numpy(), rtol=rtol)
    np.testing.assert_array_equal(twin_norm.numpy(), want_norm.numpy())
    for i, (s, t, p, g) in enumerate(zip(scratch, twin, params, grads)):
        assert s is views[i], "clipped in place"
        np.testing.assert_allclose(s, p.grad.numpy(), rtol=rtol, atol=0, err_msg=f"grads[{i}]")
        np.testing.assert_array_equal(t.numpy(), p.grad.numpy())
        coef = min(1.0, max_norm / (float(want_norm) + 1e-6))
        np.testing.assert_allclose(s, g * coef, rtol=rtol, err_msg="scaled, direction kept")


BAD_CLIP = [([np.ones(2)], -1.0, 2.0, "max_norm"), ([np.ones(2)], 1.0, 0, "norm_type"),
            ([np.ones(2)], 1.0, math.nan, "norm_type"), ([], 1.0, 2.0, "grads")]


@pytest.mark.parametrize("grads,max_norm,norm_type,arg", BAD_CLIP)
def test_bad_clip_arguments_raise(grads: list, max_norm: float, norm_type: float, arg: str) -> None:
    with pytest.raises(ValueError, match=arg):
        SS.clip_grad_norm(grads, max_norm, norm_type)
    with pytest.raises(ValueError, match=arg):
        TS.clip_grad_norm([torch.from_numpy(g) for g in grads], max_norm, norm_type)
