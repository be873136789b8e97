"""Lesson 3 losses: closed forms on hand examples, reductions, stability at extreme logits (where the naive
formulas overflow), torch's ignore_index/label_smoothing semantics, and the same errors on both sides.

Agreement of values and gradients on random inputs is in the registry (benchmarks/concepts/lesson03_losses.py).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import from_scratch.probability.losses as S
from tests.helpers import to_numpy

# The `impl` fixture (tests/conftest.py) imports from_scratch.<LESSON_MODULE> and torch_versions.<LESSON_MODULE>.
LESSON_MODULE = "probability.losses"
ELEMENTWISE = ("mse_loss", "l1_loss", "huber_loss", "binary_cross_entropy_with_logits", "focal_loss", "kl_div")


def close(got, want, rtol=1e-12, atol=1e-12) -> None:
    np.testing.assert_allclose(to_numpy(got), want, rtol=rtol, atol=atol)


def test_regression_closed_forms(impl) -> None:
    x, y = np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 5.0])  # d = [0, 2, -2]
    close(impl("mse_loss", x, y), 8 / 3)
    close(impl("mse_loss", x, y, reduction="none"), [0, 4, 4])
    close(impl("l1_loss", x, y, reduction="sum"), 4)
    d = np.array([0.5, 2.0, -3.0])
    close(impl("huber_loss", d, np.zeros(3), reduction="none"), [0.125, 1.5, 2.5])
    close(impl("huber_loss", d, np.zeros(3), reduction="none", delta=2.5), [0.125, 2.0, 2.5 * (3 - 1.25)])


def test_classification_closed_forms(impl) -> None:
    logit = np.array([[0.0, math.log(3)]])  # softmax = [1/4, 3/4]
    close(impl("cross_entropy", logit, np.array([1])), -math.log(0.75))
    smoothed = 0.5 * -math.log(0.75) + 0.5 / 2 * -(math.log(0.25) + math.log(0.75))
    close(impl("cross_entropy", logit, np.array([1]), label_smoothing=0.5), smoothed)
    close(impl("nll_loss", np.array([[-1.0, -2.0], [-3.0, -4.0]]), np.array([1, 0])), 2.5)
    close(impl("binary_cross_entropy_with_logits", np.array([0.0, math.log(3)]), np.array([0.0, 1.0]),
               reduction="none"), [math.log(2), -math.log(0.75)])
    # pos_weight w multiplies the positive term only: -w y log p - (1 - y) log(1 - p)
    close(impl("binary_cross_entropy_with_logits", np.array([math.log(3)]), np.array([0.5]), pos_weight=np.array([2.0])),
          -2 * 0.5 * math.log(0.75) - 0.5 * math.log(0.25))
    # x = 0: p_t = 1/2 and -log p_t = log 2, so (1 - p_t)^gamma log 2, times alpha_t
    close(impl("focal_loss", np.zeros(2), np.array([0.0, 1.0]), reduction="none"), [0.25 * math.log(2)] * 2)
    close(impl("focal_loss", np.zeros(2), np.array([0.0, 1.0]), reduction="none", gamma=1.0, alpha=0.25),
          [0.75 * 0.5 * math.log(2), 0.25 * 0.5 * math.log(2)])
    p, q = np.array([[0.5, 0.5]]), np.array([[0.25, 0.75]])
    kl = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)
    close(impl("kl_div", np.log(q), p, reduction="batchmean"), kl)
    close(impl("kl_div", np.log(q), np.log(p), reduction="sum", log_target=True), kl)
    close(impl("kl_div", np.log(q), np.array([[0.0, 1.0]]), reduction="none"), [[0.0, -math.log(0.75)]])  # 0 log 0 = 0


def _args(name: str, rng) -> tuple[tuple, dict]:
    x = rng.standard_normal((4, 3))
    if name in ("binary_cross_entropy_with_logits", "focal_loss"):
        return (x, rng.uniform(0, 1, x.shape)), {}
    if name == "kl_div":
        return (np.log(np.full(x.shape, 1 / 3)), np.exp(x) / np.exp(x).sum(-1, keepdims=True)), {}
    return (x, rng.standard_normal(x.shape)), {}


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_every_reduction_is_the_sum_or_mean_of_none(impl, name, rng) -> None:
    args, kw = _args(name, rng)
    per = to_numpy(impl(name, *args, reduction="none", **kw))
    assert per.shape == (4, 3)
    close(impl(name, *args, reduction="sum", **kw), per.sum())
    close(impl(name, *args, reduction="mean", **kw), per.mean())
    if name == "kl_div":
        close(impl(name, *args, reduction="batchmean", **kw), per.sum() / 4)


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_class_reductions_leave_out_ignored_rows(impl, name) -> None:
    x, target = np.log(np.array([[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]])), np.array([1, -100, 0])
    per = to_numpy(impl(name, x, target, reduction="none"))
    close(per, [-math.log(0.8), 0.0, math.log(2)])
    close(impl(name, x, target, reduction="sum"), per.sum())
    close(impl(name, x, target), per.sum() / 2)  # mean over the 2 rows that count


@pytest.mark.parametrize("ignore_index", [-100, 0, 2])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_follows_torch_semantics(ignore_index, label_smoothing, reduction) -> None:
    """Smoothing mixes the one-hot with the uniform; ignored rows drop out of both terms and of the mean's count."""
    rng = np.random.default_rng(abs(ignore_index) + 7)
    x, target = rng.standard_normal((7, 4)) * 3, np.array([0, 1, 2, 3, 2, 0, ignore_index])
    kw = dict(reduction=reduction, ignore_index=ignore_index, label_smoothing=label_smoothing)
    xt = torch.tensor(x, requires_grad=True)
    want = F.cross_entropy(xt, torch.tensor(target), **kw)
    close(S.cross_entropy(x, target, **kw), want.detach().numpy())
    upstream = rng.standard_normal(want.shape)
    (grad,) = torch.autograd.grad(want, xt, torch.tensor(upstream))
    close(S.cross_entropy_backward(x, target, upstream, **kw)["input"], grad.numpy())


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_all_rows_ignored(impl, name) -> None:
    """As torch: the mean over zero rows is NaN, the sum is 0 and the gradient 0."""
    x, target = np.zeros((2, 3)), np.array([-100, -100])
    assert np.isnan(to_numpy(impl(name, x, target)))
    close(impl(name, x, target, reduction="sum"), 0.0)
    backward = getattr(S, f"{name}_backward")
    assert not backward(x, target, 1.0)["input"].any()


def _naive_bce(x, y):
    p = 1 / (1 + np.exp(-x))
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


EXTREME = np.array([[1e4, -1e4, 50.0], [-50.0, 1e4, -1e4]])
HARD = np.array([[0.0, 1.0, 1.0], [0.0, 1.0, 0.0]])


def _torch_value_and_grad(name, x, *args, **kw):
    xt = torch.tensor(x, requires_grad=True)
    loss = getattr(__import__("torch_versions.probability.losses", fromlist=[name]), name)(xt, *args, **kw)
    (grad,) = torch.autograd.grad(loss.sum(), xt)
    return loss.detach().numpy(), grad.numpy()


def test_naive_formulas_overflow_where_ours_stay_finite_and_match_torch() -> None:
    with np.errstate(all="ignore"):
        naive = _naive_bce(EXTREME, HARD)  # log(0) for confident mistakes, 0 * log(0) for confident hits
        naive_ce = -np.log(np.exp(EXTREME) / np.exp(EXTREME).sum(-1, keepdims=True))[[0, 1], [0, 1]]  # exp(1e4) = inf
    assert not np.isfinite(naive).all() and not np.isfinite(naive_ce).all()
    cases = [("binary_cross_entropy_with_logits", EXTREME, (torch.tensor(HARD),), (HARD,), {}),
             ("focal_loss", EXTREME, (torch.tensor(HARD),), (HARD,), {"gamma": 2.0, "alpha": 0.25}),
             ("cross_entropy", EXTREME, (torch.tensor([0, 1]),), (np.array([0, 1]),), {"label_smoothing": 0.1})]
    for name, x, t_args, s_args, kw in cases:
        want, want_grad = _torch_value_and_grad(name, x, *t_args, reduction="none", **kw)
        got = getattr(S, name)(x, *s_args, reduction="none", **kw)
        got_grad = getattr(S, f"{name}_backward")(x, *s_args, np.ones_like(got), reduction="none", **kw)["input"]
        assert np.isfinite(got).all() and np.isfinite(got_grad).all(), name
        close(got, want)
        close(got_grad, want_grad)
    # a confident mistake costs |x|: BCE(1e4, y=0) = 1e4, and -log softmax = 2e4 for a label at -1e4 vs a max of 1e4
    close(S.binary_cross_entropy_with_logits(EXTREME, HARD, reduction="none")[0, 0], 1e4)
    close(S.cross_entropy(EXTREME, np.array([1, 2]), reduction="none")[1], 2e4)


def test_focal_with_gamma_0_and_no_alpha_is_bce(impl, rng) -> None:
    x, y = rng.standard_normal((5, 3)) * 4, rng.uniform(0, 1, (5, 3))
    for reduction in ("mean", "sum", "none"):
        close(impl("focal_loss", x, y, reduction, gamma=0.0), to_numpy(impl("binary_cross_entropy_with_logits", x, y, reduction)))
    g_focal = S.focal_loss_backward(x, y, 1.0, gamma=0.0)
    g_bce = S.binary_cross_entropy_with_logits_backward(x, y, 1.0)
    for k in ("input", "target"):
        close(g_focal[k], g_bce[k])


def test_focal_down_weights_easy_examples(impl) -> None:
    """(1 - p_t)^gamma: a confident hit (p_t ~ 1) loses almost all its loss, a hard example keeps most of it."""
    x, y = np.array([4.0, -0.5]), np.array([1.0, 1.0])
    ratio = to_numpy(impl("focal_loss", x, y, "none")) / to_numpy(impl("binary_cross_entropy_with_logits", x, y, "none"))
    assert ratio[0] < 1e-3 < 0.3 < ratio[1]


def test_l1_and_huber_subgradients_follow_torch_at_the_kinks() -> None:
    """sign(0) = 0 for l1 (as torch); Huber's gradient is continuous at |d| = delta."""
    x, y = np.array([1.0, 2.0, -1.0]), np.array([1.0, 0.0, 0.0])
    xt = torch.tensor(x, requires_grad=True)
    (want,) = torch.autograd.grad(F.l1_loss(xt, torch.tensor(y), reduction="sum"), xt)
    close(S.l1_loss_backward(x, y, 1.0, reduction="sum")["input"], want.numpy())
    close(S.huber_loss_backward(np.array([-1.0, 1.0]), np.zeros(2), 1.0, "sum", delta=1.0)["input"], [-1.0, 1.0])


@pytest.mark.parametrize("name", ELEMENTWISE + ("cross_entropy", "nll_loss"))
def test_float32_in_float32_out(name, rng) -> None:
    """Python-float options (delta, gamma, label_smoothing) must not promote float32 arrays to float64."""
    if name in ("cross_entropy", "nll_loss"):
        args, kw = (rng.standard_normal((3, 4)).astype(np.float32), np.array([0, 3, -100])), {}
        kw = {"label_smoothing": np.float64(0.2)} if name == "cross_entropy" else kw
    else:
        args, kw = _args(name, rng)
        args = tuple(a.astype(np.float32) for a in args)
        kw = {"huber_loss": {"delta": np.float64(0.5)}, "focal_loss": {"gamma": np.float64(1.5), "alpha": 0.3}}.get(name, {})
    assert getattr(S, name)(*args, **kw).dtype == np.float32
    grads = getattr(S, f"{name}_backward")(*args, np.float32(1.0), **kw)
    assert all(g.dtype == np.float32 for g in grads.values()), {k: g.dtype for k, g in grads.items()}


x34, y34 = np.zeros((3, 4)), np.zeros((3, 4))
BAD = [
    ("mse_loss", (x34, np.zeros((4, 3))), {}, ValueError, r"input and target .* \(3, 4\) and \(4, 3\)"),
    ("l1_loss", (x34, y34), {"reduction": "avg"}, ValueError, "reduction"),
    ("l1_loss", (x34, y34), {"reduction": "batchmean"}, ValueError, "reduction"),
    ("huber_loss", (x34, y34), {"delta": -1.0}, ValueError, "delta"),
    ("huber_loss", (x34, y34), {"delta": 0.0}, ValueError, "delta"),
    ("mse_loss", ([1.0], np.zeros(1)), {}, TypeError, "input"),
    ("mse_loss", (np.array([np.nan]), np.zeros(1)), {}, ValueError, "input"),
    ("binary_cross_entropy_with_logits", (x34, y34 + 1.5), {}, ValueError, r"target .*\[0, 1\]"),
    ("binary_cross_entropy_with_logits", (x34, y34), {"pos_weight": np.ones(3)}, ValueError, "pos_weight"),
    ("binary_cross_entropy_with_logits", (x34, y34), {"pos_weight": -np.ones(4)}, ValueError, "pos_weight"),
    ("focal_loss", (x34, y34 - 0.1), {}, ValueError, "target"),
    ("focal_loss", (x34, y34), {"gamma": -1.0}, ValueError, "gamma"),
    ("focal_loss", (x34, y34), {"alpha": 1.5}, ValueError, "alpha"),
    ("cross_entropy", (x34, np.array([0, 1, 4])), {}, ValueError, r"target .*\[0, 4\)"),
    ("cross_entropy", (x34, np.array([0, 1, -1])), {}, ValueError, "target"),
    ("cross_entropy", (x34, np.array([0, 1])), {}, ValueError, r"target .*\(3,\)"),
    ("cross_entropy", (x34, np.array([0.0, 1.0, 2.0])), {}, TypeError, "target"),
    ("cross_entropy", (np.zeros(4), np.array([0])), {}, ValueError, "input"),
    ("cross_entropy", (x34, np.array([0, 1, 2])), {"label_smoothing": 1.5}, ValueError, "label_smoothing"),
    ("cross_entropy", (x34, np.array([0, 1, 2])), {"ignore_index": 1.0}, TypeError, "ignore_index"),
    ("nll_loss", (x34, np.array([0, 1, 9])), {"ignore_index": 3}, ValueError, "target"),
    ("nll_loss", (x34, np.array([0, 1, 2])), {"reduction": "batchmean"}, ValueError, "reduction"),
    ("kl_div", (x34, y34 - 0.5), {}, ValueError, "target"),
    ("kl_div", (x34, y34), {"reduction": "avg"}, ValueError, "reduction"),
]


@pytest.mark.parametrize("name,args,kw,exc,match", BAD, ids=[f"{b[0]}-{b[4][:24]}" for b in BAD])
def test_bad_input_raises_the_same_error_naming_the_argument(impl, name, args, kw, exc, match) -> None:
    with pytest.raises(exc, match=match):
        impl(name, *args, **kw)


def test_ignore_index_rows_may_hold_any_value(impl) -> None:
    """Only non-ignored targets must be valid classes (torch allows ignore_index inside [0, C) too)."""
    x = np.zeros((3, 4))
    close(impl("cross_entropy", x, np.array([0, -1, 3]), ignore_index=-1), math.log(4))
    close(impl("nll_loss", x - 1, np.array([0, 2, 3]), ignore_index=2), 1.0)


def test_kl_div_target_gradient_is_nan_at_zero_probability_like_torch() -> None:
    """d/dp p log p = log p + 1 has no finite value at p = 0; torch's xlogy gives NaN there, and so do we."""
    log_q, p = np.log(np.array([[0.25, 0.75]])), np.array([[0.0, 1.0]])
    pt = torch.tensor(p, requires_grad=True)
    (want,) = torch.autograd.grad(F.kl_div(torch.tensor(log_q), pt, reduction="sum"), pt)
    got = S.kl_div_backward(log_q, p, 1.0, reduction="sum")["target"]
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want.numpy()))
    close(got[0, 1], want[0, 1].item())
