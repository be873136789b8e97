"""Optimizers (lesson 4): the NumPy ones and the twin's ``torch.optim.Optimizer`` subclasses against the BUILT-IN
``torch.optim`` classes, 200 steps in float64 with several parameter groups; state-dict round trips (and the
state dict as the bridge between all three); Adam's L2 penalty vs AdamW's decoupled decay; bad input."""
from __future__ import annotations

import copy
import inspect

import numpy as np
import pytest
import torch

from from_scratch.optimization import optimizers as S
from torch_versions.optimization import optimizers as T

SHAPES = [(3, 4), (4,), (2, 3, 2)]
N_STEPS = 200
NAMES = ("SGD", "Adagrad", "RMSprop", "Adam", "AdamW")
#: (class, options): every optimizer with its defaults and its key option combinations.
CASES = [
    ("SGD", {}), ("SGD", {"momentum": 0.9}), ("SGD", {"momentum": 0.9, "dampening": 0.3, "weight_decay": 1e-2}),
    ("SGD", {"momentum": 0.8, "nesterov": True, "weight_decay": 1e-2}),
    ("Adagrad", {}), ("Adagrad", {"lr_decay": 1e-2, "weight_decay": 1e-2, "initial_accumulator_value": 0.1, "eps": 1e-6}),
    ("RMSprop", {}), ("RMSprop", {"momentum": 0.9}), ("RMSprop", {"centered": True, "alpha": 0.9}),
    ("RMSprop", {"centered": True, "momentum": 0.5, "weight_decay": 1e-2, "eps": 1e-4}),
    ("Adam", {}), ("Adam", {"weight_decay": 0.1}), ("Adam", {"amsgrad": True, "betas": (0.5, 0.9)}),
    ("AdamW", {}), ("AdamW", {"weight_decay": 0.1, "amsgrad": True, "eps": 1e-6}),
]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in o.items()) or 'defaults'}" for n, o in CASES]


def _problem(seed: int = 0, n_steps: int = N_STEPS):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) * rng.uniform(0.1, 3) for s in SHAPES] for _ in range(n_steps)]
    return params, grads


def _groups(params):
    """Two param groups: the first with the optimizer's lr (its default unless given), the second with lr 0.02."""
    return [{"params": params[:2]}, {"params": params[2:], "lr": 0.02}]


def _run_scratch(opt, params, grads):
    for g in grads:
        opt.step(g)
    return params


def _run_torch(opt, params, grads):
    for g in grads:
        for p, gp in zip(params, g):
            p.grad = torch.from_numpy(gp)
        opt.step()
    return [p.detach().numpy().copy() for p in params]


def _tensors(arrays):
    return [torch.tensor(a, requires_grad=True) for a in arrays]


@pytest.mark.parametrize("name,options", CASES, ids=IDS)
def test_scratch_and_twin_match_the_builtin(name: str, options: dict) -> None:
    p0, grads = _problem()
    builtin_params = _tensors(p0)
    want = _run_torch(getattr(torch.optim, name)(_groups(builtin_params), **options, foreach=False), builtin_params, grads)
    scratch_params = [p.copy() for p in p0]
    got = _run_scratch(getattr(S, name)(_groups(scratch_params), **options), scratch_params, grads)
    twin_params = _tensors(p0)
    twin = _run_torch(getattr(T, name)(_groups(twin_params), **options), twin_params, grads)
    for i, (g, t, w) in enumerate(zip(got, twin, want)):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-13, err_msg=f"scratch params[{i}]")
        np.testing.assert_array_equal(t, w, err_msg=f"twin params[{i}]: the same ops in the same order")
        assert not np.allclose(w, p0[i]), "the parameters must have moved"


@pytest.mark.parametrize("name", NAMES)
def test_signatures_and_defaults_match_torch(name: str) -> None:
    want = {k: p.default for k, p in inspect.signature(getattr(torch.optim, name)).parameters.items()}
    for side in (S, T):
        have = inspect.signature(getattr(side, name)).parameters
        for k, p in have.items():
            assert k in want and p.default == want[k], f"{side.__name__}.{name}({k}={p.default}) vs torch {want.get(k)}"


@pytest.mark.parametrize("name,options", CASES[1::2], ids=IDS[1::2])
def test_state_dict_round_trip_continues_identically(name: str, options: dict) -> None:
    """Save after 25 steps, load into a fresh optimizer on the saved parameters, continue: bit-identical to an
    uninterrupted run, on both sides. The scratch dict is a deep copy (later steps do not change it); torch's holds
    references to the state tensors (``torch.save`` is what copies them), so the torch side deep-copies it here."""
    p0, grads = _problem(seed=1, n_steps=60)
    for side, run, clone in ((S, _run_scratch, lambda ps: [p.copy() for p in ps]),
                            (T, _run_torch, lambda ps: _tensors([np.asarray(p.detach()) for p in ps]))):
        full = clone(p0) if side is S else _tensors(p0)
        want = run(getattr(side, name)(_groups(full), **options), full, grads)
        half = [p.copy() for p in p0] if side is S else _tensors(p0)
        opt = getattr(side, name)(_groups(half), **options)
        run(opt, half, grads[:25])
        saved = opt.state_dict() if side is S else copy.deepcopy(opt.state_dict())
        resumed = clone(half)
        run(opt, half, grads[25:27])  # the optimizer moves on; the saved copy must not
        fresh = getattr(side, name)(_groups(resumed), **options)
        fresh.load_state_dict(saved)
        for i, (a, b) in enumerate(zip(run(fresh, resumed, grads[25:]), want)):
            np.testing.assert_array_equal(a, b, err_msg=f"{side.__name__} params[{i}] after resuming")


def _to_torch_state(sd):
    """Scratch state dict -> torch's: arrays become tensors, the step count a float32 tensor (as torch keeps it)."""
    conv = lambda k, v: torch.tensor(float(v)) if k == "step" else torch.from_numpy(v.copy())  # noqa: E731
    return {"state": {i: {k: conv(k, v) for k, v in st.items()} for i, st in sd["state"].items()},
            "param_groups": sd["param_groups"]}


@pytest.mark.parametrize("name,options", CASES[::3], ids=IDS[::3])
def test_the_state_dict_is_the_bridge(name: str, options: dict) -> None:
    """Same state names on all three: scratch -> built-in and twin <-> built-in, then continue in step."""
    p0, grads = _problem(seed=2, n_steps=40)
    scratch = [p.copy() for p in p0]
    opt = getattr(S, name)(_groups(scratch), **options)
    _run_scratch(opt, scratch, grads[:20])
    builtin = _tensors(scratch)
    b_opt = getattr(torch.optim, name)(_groups(builtin), **options, foreach=False)
    b_opt.load_state_dict(_to_torch_state(opt.state_dict()))
    twin = _tensors(scratch)
    t_opt = getattr(T, name)(_groups(twin), **options)
    t_opt.load_state_dict(copy.deepcopy(b_opt.state_dict()))  # torch's load keeps same-dtype tensors: don't share
    want = _run_torch(b_opt, builtin, grads[20:])
    for a, b, c in zip(_run_scratch(opt, scratch, grads[20:]), _run_torch(t_opt, twin, grads[20:]), want):
        np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-13)
        np.testing.assert_array_equal(b, c)


def test_adam_with_l2_differs_from_adamw() -> None:
    """Adam adds lambda*theta to the gradient (then divided by sqrt(v)); AdamW shrinks theta by (1 - lr*lambda)."""
    p0, grads = _problem(seed=3)
    results = {}
    for name in ("Adam", "AdamW"):
        ps = [p.copy() for p in p0]
        results[name] = _run_scratch(getattr(S, name)(_groups(ps), lr=1e-2, weight_decay=0.5), ps, grads)
        pt = _tensors(p0)
        want = _run_torch(getattr(torch.optim, name)(_groups(pt), lr=1e-2, weight_decay=0.5, foreach=False), pt, grads)
        for a, b in zip(results[name], want):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13, err_msg=name)
    gap = max(np.abs(a - b).max() for a, b in zip(results["Adam"], results["AdamW"]))
    assert gap > 1e-2, f"Adam(weight_decay) and AdamW should differ, max gap {gap}"


BAD = [("SGD", {"lr": -0.1}, "lr"), ("SGD", {"momentum": -0.5}, "momentum"), ("SGD", {"weight_decay": -1}, "weight_decay"),
       ("SGD", {"nesterov": True}, "nesterov"), ("SGD", {"nesterov": True, "momentum": 0.9, "dampening": 0.1}, "nesterov"),
       ("Adagrad", {"lr_decay": -1}, "lr_decay"), ("Adagrad", {"initial_accumulator_value": -1}, "initial_accumulator_value"),
       ("Adagrad", {"eps": -1e-10}, "eps"), ("RMSprop", {"alpha": -0.1}, "alpha"), ("RMSprop", {"momentum": -1}, "momentum"),
       ("Adam", {"betas": (1.0, 0.999)}, r"betas\[0\]"), ("Adam", {"betas": (0.9, -0.1)}, r"betas\[1\]"),
       ("Adam", {"eps": -1e-8}, "eps"), ("AdamW", {"weight_decay": -0.01}, "weight_decay"), ("AdamW", {"lr": -1}, "lr")]


@pytest.mark.parametrize("name,options,arg", BAD, ids=[f"{n}-{a}" for n, _, a in BAD])
def test_bad_hyperparameters_raise_like_torch(name: str, options: dict, arg: str) -> None:
    with pytest.raises(ValueError):
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **options)
    with pytest.raises(ValueError, match=arg):
        getattr(S, name)([np.zeros(2)], **options)
    with pytest.raises(ValueError, match=arg):
        getattr(T, name)([torch.zeros(2, requires_grad=True)], **options)


def test_every_group_is_checked_and_params_must_be_distinct() -> None:
    """A group's own lr is checked too (the built-ins check only the defaults); empty or repeated params raise."""
    with pytest.raises(ValueError, match="lr"):
        S.SGD([{"params": [np.zeros(2)], "lr": -1.0}], lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        T.SGD([{"params": [torch.zeros(2, requires_grad=True)], "lr": -1.0}], lr=0.1)
    with pytest.raises(ValueError, match="empty"):
        S.Adam([])
    with pytest.raises(ValueError):
        T.Adam([])
    p, q = np.zeros(2), torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="more than once"):
        S.SGD([{"params": [p]}, {"params": [p]}])
    with pytest.raises(ValueError):
        T.SGD([{"params": [q]}, {"params": [q]}])


def test_step_checks_the_gradients_and_updates_in_place() -> None:
    params = [np.ones((2, 3)), np.ones(4)]
    views = list(params)
    opt = S.Adam(params, lr=0.1)
    with pytest.raises(ValueError, match="one gradient per parameter"):
        opt.step([np.ones((2, 3))])
    with pytest.raises(ValueError, match=r"grads\[1\] and params\[1\]"):
        opt.step([np.ones((2, 3)), np.ones(5)])
    with pytest.raises(RuntimeError):  # torch refuses the wrong-shaped gradient already at assignment
        torch.zeros(4, requires_grad=True).grad = torch.ones(5)
    opt.step([np.ones((2, 3)), None])  # None skips a parameter, as p.grad is None does in torch
    assert all(a is b for a, b in zip(opt.param_groups[0]["params"], views)), "parameters are updated in place"
    np.testing.assert_allclose(params[0], 0.9)  # Adam's first step: -lr * sign(g)
    np.testing.assert_array_equal(params[1], 1.0)
    assert list(opt.state) == [0]
