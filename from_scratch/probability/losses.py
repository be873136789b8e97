r"""Loss functions with hand-written gradients (lesson 3), in ``torch.nn.functional``'s conventions.

Every loss takes ``reduction`` = ``"mean"`` (average over the elements, or over the non-ignored rows for the
class-index losses), ``"sum"`` or ``"none"`` (the per-element/per-row losses), and every ``*_backward`` takes the
upstream gradient ``grad_out`` (a scalar, or the loss's shape for ``"none"``) and returns a dict
``{argument name: gradient}`` for each argument the loss is differentiable in (``input``, and ``target``
wherever torch differentiates through it too).

* Regression, elementwise on ``d = input - target`` (any shape): MSE :math:`d^2`, MAE :math:`|d|`, Huber
  :math:`\tfrac12d^2` for :math:`|d|<\delta`, else :math:`\delta(|d|-\tfrac12\delta)`.
* Binary, logits x and targets y in [0, 1]: BCE-with-logits and the focal loss, computed in log-sum-exp form so
  logits of :math:`\pm10^4` stay finite (a naive :math:`\log\sigma(x)` gives ``log(0) = -inf``).
* Multi-class, logits (N, C) and integer targets (N,): cross-entropy (``ignore_index``, ``label_smoothing``)
  and the negative log-likelihood of log-probabilities; KL divergence :math:`D(\mathrm{target}\,\|\,\cdot)` with
  log-probability ``input``.

See also: :mod:`torch_versions.probability.losses`, ``lessons/03_probability_statistics.md``.
"""
from __future__ import annotations

import numpy as np

from from_scratch.calculus.activations import sigmoid
from from_scratch.calculus.two_layer_net import log_softmax
from from_scratch.validation import (check_binary_loss, check_class_loss, check_fraction, check_kl_div,
                                     check_loss_pair, check_positive)


def _reduce(loss: np.ndarray, reduction: str, count: int | None = None) -> np.ndarray:
    """Sum, mean over ``count`` elements (default: all; 0 gives NaN like torch) or keep per-element losses."""
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return np.asarray(total)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(total / (loss.size if count is None else count))


def _upstream(grad_out, shape: tuple, reduction: str, dtype, count: int | None = None) -> np.ndarray:
    """The upstream gradient spread over the per-element losses (shape ``shape``): the adjoint of :func:`_reduce`."""
    g = np.asarray(grad_out, dtype=dtype)
    if reduction == "none":
        if g.shape != tuple(shape):
            raise ValueError(f"grad_out must have the loss's shape {tuple(shape)} for reduction='none', got {g.shape}")
        return g
    if g.ndim:
        raise ValueError(f"grad_out must be a scalar for reduction={reduction!r}, got shape {g.shape}")
    n = int(np.prod(shape)) if count is None else count
    scale = 1 if reduction == "sum" else (1 / n if n else 0)
    return np.broadcast_to(g * scale, shape).astype(dtype)


def _softplus(x: np.ndarray) -> np.ndarray:
    r""":math:`\log(1+e^x)=\max(x,0)+\log(1+e^{-|x|})`: never overflows."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


# --- regression ------------------------------------------------------------------------------------------------

def mse_loss(input: np.ndarray, target: np.ndarray, reduction: str = "mean") -> np.ndarray:
    r"""Squared error :math:`(x_i-y_i)^2`, reduced; input and target of one shape (any)."""
    check_loss_pair(input, target, reduction)
    return _reduce((input - target) ** 2, reduction)


def mse_loss_backward(input, target, grad_out, reduction: str = "mean") -> dict[str, np.ndarray]:
    r""":math:`\bar x=2(x-y)\bar\ell_i=-\bar y`."""
    g = 2 * (input - target) * _upstream(grad_out, input.shape, reduction, input.dtype)
    return {"input": g, "target": -g}


def l1_loss(input: np.ndarray, target: np.ndarray, reduction: str = "mean") -> np.ndarray:
    r"""Absolute error (MAE) :math:`|x_i-y_i|`, reduced."""
    check_loss_pair(input, target, reduction)
    return _reduce(np.abs(input - target), reduction)


def l1_loss_backward(input, target, grad_out, reduction: str = "mean") -> dict[str, np.ndarray]:
    r""":math:`\bar x=\operatorname{sign}(x-y)\bar\ell_i=-\bar y`: the subgradient 0 at :math:`x=y`, as torch."""
    g = np.sign(input - target) * _upstream(grad_out, input.shape, reduction, input.dtype)
    return {"input": g, "target": -g}


def huber_loss(input: np.ndarray, target: np.ndarray, reduction: str = "mean", delta: float = 1.0) -> np.ndarray:
    r"""Huber loss: :math:`\tfrac12d^2` where :math:`|d|<\delta`, else :math:`\delta(|d|-\tfrac12\delta)`,
    :math:`d=x-y`; quadratic near 0, linear (robust to outliers) beyond ``delta`` > 0."""
    check_loss_pair(input, target, reduction)
    check_positive("delta", delta)
    delta = float(delta)  # a NumPy float64 scalar would promote float32 arrays
    d = input - target
    a = np.abs(d)
    return _reduce(np.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta)), reduction)


def huber_loss_backward(input, target, grad_out, reduction: str = "mean", delta: float = 1.0) -> dict[str, np.ndarray]:
    r""":math:`\bar x=\operatorname{clip}(d,-\delta,\delta)\bar\ell_i=-\bar y`."""
    g = np.clip(input - target, -float(delta), float(delta)) * _upstream(grad_out, input.shape, reduction, input.dtype)
    return {"input": g, "target": -g}


# --- binary: logits and targets in [0, 1] ----------------------------------------------------------------------

def binary_cross_entropy_with_logits(input: np.ndarray, target: np.ndarray, reduction: str = "mean",
                                     pos_weight: np.ndarray | None = None) -> np.ndarray:
    r"""BCE on logits x with targets y in [0, 1] (any shape), computed without ever forming :math:`\sigma(x)`:

    .. math:: \ell=-w\,y\log\sigma(x)-(1-y)\log(1-\sigma(x))=(1-y)x+(1+(w-1)y)\operatorname{softplus}(-x)

    which for w = 1 is :math:`\max(x,0)-xy+\log(1+e^{-|x|})`, finite for any finite x. ``pos_weight`` w
    (broadcast to x, e.g. (C,) for (N, C)) up-weights the positive term, as in torch.
    """
    check_binary_loss(input, target, reduction, pos_weight)
    sp_neg = _softplus(-input)  # -log sigma(x)
    weight = 1 if pos_weight is None else 1 + (pos_weight - 1) * target
    return _reduce((1 - target) * input + weight * sp_neg, reduction)


def binary_cross_entropy_with_logits_backward(input, target, grad_out, reduction: str = "mean",
                                              pos_weight=None) -> dict[str, np.ndarray]:
    r""":math:`\bar x=(w_y\sigma(x)-wy)\bar\ell_i` with :math:`w_y=1+(w-1)y` (:math:`\sigma(x)-y` for w = 1),
    :math:`\bar y=(-x+(w-1)\operatorname{softplus}(-x))\bar\ell_i` (torch does not differentiate in ``pos_weight``)."""
    g = _upstream(grad_out, input.shape, reduction, input.dtype)
    if pos_weight is None:
        return {"input": (sigmoid(input) - target) * g, "target": -input * g}
    sp_neg = _softplus(-input)
    return {"input": ((1 + (pos_weight - 1) * target) * sigmoid(input) - pos_weight * target) * g,
            "target": (-input + (pos_weight - 1) * sp_neg) * g}


def _focal_parts(input, target, alpha):
    """ce = BCE-with-logits, q = 1 - p_t (stable: no 1 - p cancellation), alpha_t, sigma(x), sigma(-x)."""
    alpha = None if alpha is None else float(alpha)  # a NumPy float64 scalar would promote float32 arrays
    s, s_neg = sigmoid(input), sigmoid(-input)
    ce = (1 - target) * input + _softplus(-input)
    q = target * s_neg + (1 - target) * s
    alpha_t = 1 if alpha is None else alpha * target + (1 - alpha) * (1 - target)
    return ce, q, alpha_t, s, s_neg


def focal_loss(input: np.ndarray, target: np.ndarray, reduction: str = "mean", gamma: float = 2.0,
               alpha: float | None = None) -> np.ndarray:
    r"""Focal loss on binary logits (Lin et al. 2017), :math:`\ell=-\alpha_t(1-p_t)^\gamma\log p_t`, with
    :math:`p_t=py+(1-p)(1-y)`, :math:`p=\sigma(x)` and :math:`\alpha_t=\alpha y+(1-\alpha)(1-y)` (no weighting
    for ``alpha=None``), for labels y in {0, 1}. What is computed is
    :math:`\alpha_t(1-p_t)^\gamma\,\mathrm{BCE}(x,y)` (as torchvision does), which equals the above for hard labels
    and extends it to soft targets y in [0, 1]. Stably: the BCE-with-logits term replaces :math:`-\log p_t`, and
    :math:`1-p_t=y\sigma(-x)+(1-y)\sigma(x)` is formed without cancellation. ``gamma=0``, ``alpha=None`` is BCE.
    """
    check_binary_loss(input, target, reduction)
    check_positive("gamma", gamma, allow_zero=True)
    if alpha is not None:
        check_fraction("alpha", alpha)
    ce, q, alpha_t, _, _ = _focal_parts(input, target, alpha)
    return _reduce(alpha_t * q ** float(gamma) * ce, reduction)


def focal_loss_backward(input, target, grad_out, reduction: str = "mean", gamma: float = 2.0,
                        alpha: float | None = None) -> dict[str, np.ndarray]:
    r"""With :math:`q=1-p_t`, :math:`\partial_xq=(1-2y)\sigma(x)\sigma(-x)`, :math:`\partial_yq=\sigma(-x)-\sigma(x)`:
    :math:`\bar x=\alpha_t(\gamma q^{\gamma-1}\partial_xq\,\mathrm{ce}+q^\gamma(\sigma(x)-y))\bar\ell_i`,
    :math:`\bar y=((2\alpha-1)q^\gamma\mathrm{ce}+\alpha_t(\gamma q^{\gamma-1}\partial_yq\,\mathrm{ce}-q^\gamma x))\bar\ell_i`.
    Where q underflows to 0 the product :math:`q^{\gamma-1}\partial q\,\mathrm{ce}` tends to 0 and is set so."""
    g = _upstream(grad_out, input.shape, reduction, input.dtype)
    ce, q, alpha_t, s, s_neg = _focal_parts(input, target, alpha)
    gamma, alpha = float(gamma), (None if alpha is None else float(alpha))
    q_pow = q ** gamma
    if gamma == 1:
        q_pow_m1 = np.ones_like(q)
    else:
        with np.errstate(divide="ignore"):
            q_pow_m1 = np.where(q > 0, q ** (gamma - 1), 0)
    d_x = gamma * q_pow_m1 * (1 - 2 * target) * s * s_neg * ce + q_pow * (s - target)
    d_y = alpha_t * (gamma * q_pow_m1 * (s_neg - s) * ce - q_pow * input)
    if alpha is not None:
        d_y = d_y + (2 * alpha - 1) * q_pow * ce
    return {"input": alpha_t * d_x * g, "target": d_y * g}


# --- multi-class: logits (N, C), integer targets (N,) ----------------------------------------------------------

def _rows(input, target, ignore_index):
    """(row indices, target with ignored rows set to class 0, kept mask (N,), number kept)."""
    keep = target != ignore_index
    return np.arange(input.shape[0]), np.where(keep, target, 0), keep, int(keep.sum())


def cross_entropy(input: np.ndarray, target: np.ndarray, reduction: str = "mean", ignore_index: int = -100,
                  label_smoothing: float = 0.0) -> np.ndarray:
    r"""Softmax cross-entropy of logits (N, C) against class indices (N,), with torch's semantics:

    .. math:: \ell_n=-(1-\varepsilon)\log p_{n,y_n}-\frac\varepsilon C\sum_c\log p_{n,c},\qquad p=\operatorname{softmax}(x)

    (the target distribution mixes the one-hot with the uniform, weight :math:`\varepsilon` =
    ``label_smoothing`` in [0, 1]). Rows with :math:`y_n` = ``ignore_index`` contribute 0, and ``"mean"`` divides by
    the number of the other rows (NaN when all are ignored, as torch). Uses the max-shifted log-softmax.
    """
    check_class_loss(input, target, reduction, ignore_index)
    check_fraction("label_smoothing", label_smoothing)
    rows, safe, keep, count = _rows(input, target, ignore_index)
    label_smoothing = float(label_smoothing)
    logp = log_softmax(input)  # (N, C)
    loss = -(1 - label_smoothing) * logp[rows, safe]
    if label_smoothing:
        loss = loss - label_smoothing / input.shape[1] * logp.sum(-1)
    return _reduce(np.where(keep, loss, 0), reduction, count)


def cross_entropy_backward(input, target, grad_out, reduction: str = "mean", ignore_index: int = -100,
                           label_smoothing: float = 0.0) -> dict[str, np.ndarray]:
    r""":math:`\bar x_n=(p_n-(1-\varepsilon)\,\mathrm{onehot}(y_n)-\varepsilon/C)\,\bar\ell_n`, 0 on ignored rows."""
    rows, safe, keep, count = _rows(input, target, ignore_index)
    g = np.where(keep, _upstream(grad_out, target.shape, reduction, input.dtype, count), 0)  # (N,)
    label_smoothing = float(label_smoothing)
    d = np.exp(log_softmax(input)) - label_smoothing / input.shape[1]
    d[rows, safe] -= 1 - label_smoothing
    return {"input": d * g[:, None]}


def nll_loss(input: np.ndarray, target: np.ndarray, reduction: str = "mean", ignore_index: int = -100) -> np.ndarray:
    r"""Negative log-likelihood :math:`\ell_n=-x_{n,y_n}` of log-probabilities x (N, C) (e.g. a log-softmax;
    not checked, as torch) at class indices (N,); ignored rows count 0 and are left out of the mean."""
    check_class_loss(input, target, reduction, ignore_index)
    rows, safe, keep, count = _rows(input, target, ignore_index)
    return _reduce(np.where(keep, -input[rows, safe], 0), reduction, count)


def nll_loss_backward(input, target, grad_out, reduction: str = "mean", ignore_index: int = -100) -> dict[str, np.ndarray]:
    r""":math:`\bar x_{n,y_n}=-\bar\ell_n` (other entries and ignored rows 0)."""
    rows, safe, keep, count = _rows(input, target, ignore_index)
    g = np.where(keep, _upstream(grad_out, target.shape, reduction, input.dtype, count), 0)
    d = np.zeros_like(input)
    d[rows, safe] = -g
    return {"input": d}


def kl_div(input: np.ndarray, target: np.ndarray, reduction: str = "mean", log_target: bool = False) -> np.ndarray:
    r"""Pointwise KL divergence in ``F.kl_div``'s convention: ``input`` holds log-probabilities :math:`\log q`,
    ``target`` probabilities p (or :math:`\log p` with ``log_target``), same shape (B, ...):

    .. math:: \ell_i=p_i(\log p_i-\log q_i)\quad(0\text{ where }p_i=0)

    ``"batchmean"`` divides the sum by B (the KL divergence per sample); ``"mean"`` divides by every element.
    """
    check_kl_div(input, target, reduction, log_target)
    if log_target:
        loss = np.exp(target) * (target - input)
    else:
        loss = np.where(target > 0, target * np.log(np.where(target > 0, target, 1)), 0) - target * input
    if reduction == "batchmean":
        return _reduce(loss, "mean", input.shape[0])
    return _reduce(loss, reduction)


def kl_div_backward(input, target, grad_out, reduction: str = "mean", log_target: bool = False) -> dict[str, np.ndarray]:
    r""":math:`\bar x=-p\,\bar\ell_i`, :math:`\bar p=(\log p+1-x)\bar\ell_i` (NaN at p = 0, as torch); with
    ``log_target`` (t = log p): :math:`\bar x=-e^t\bar\ell_i`, :math:`\bar t=e^t(t-x+1)\bar\ell_i`."""
    count = input.shape[0] if reduction == "batchmean" else None
    g = _upstream(grad_out, input.shape, "mean" if reduction == "batchmean" else reduction, input.dtype, count)
    if log_target:
        p = np.exp(target)
        return {"input": -p * g, "target": p * (target - input + 1) * g}
    log_p = np.where(target > 0, np.log(np.where(target > 0, target, 1)), np.nan)
    return {"input": -target * g, "target": (log_p + 1 - input) * g}
