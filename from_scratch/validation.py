"""Input checks shared by both implementations (the one place where shape and value checks live).

The functions only use ``.ndim``, ``.shape`` and ``.dtype``, so they accept NumPy arrays and torch tensors alike
without importing torch. Every failure raises ``ValueError`` (or ``TypeError`` for a non-array) naming the
argument, what was expected and what was received.
"""
from __future__ import annotations

from typing import Any

import numpy as np


def _is_array(x: Any) -> bool:
    return hasattr(x, "shape") and hasattr(x, "ndim") and hasattr(x, "dtype")


def check_array(name: str, x: Any, ndim: int | tuple[int, ...] | None = None) -> None:
    """Raise unless ``x`` is a floating-point array (or tensor) with ``ndim`` dimensions and finite entries."""
    if not _is_array(x):
        raise TypeError(f"{name} must be an array or tensor, got {type(x).__name__}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if x.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be {want}, got shape {tuple(x.shape)}")
    if not getattr(x.dtype, "is_floating_point", None) and not _numpy_float(x):
        raise TypeError(f"{name} must have a floating-point dtype, got {x.dtype}")
    if x.ndim and min(x.shape) == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(x.shape)}")
    check_finite(name, x)


def _numpy_float(x: Any) -> bool:
    return isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.floating)


def check_finite(name: str, x: Any) -> None:
    """Raise ``ValueError`` if ``x`` holds NaN or infinity."""
    finite = x.isfinite().all() if hasattr(x, "isfinite") else np.isfinite(x).all()
    if not bool(finite):
        raise ValueError(f"{name} must be finite, got NaN or inf (shape {tuple(x.shape)})")


def check_matrix(name: str, x: Any, square: bool = False) -> None:
    """A finite floating 2-D array; ``square=True`` also demands shape (n, n)."""
    check_array(name, x, ndim=2)
    if square and x.shape[0] != x.shape[1]:
        raise ValueError(f"{name} must be square (n, n), got shape {tuple(x.shape)}")


def check_symmetric(name: str, x: Any, rtol: float = 1e-6) -> None:
    """A finite square matrix equal to its transpose up to ``rtol`` times its largest entry."""
    check_matrix(name, x, square=True)
    x = x.detach() if hasattr(x, "detach") else x
    scale = float(abs(x).max())
    gap = float(abs(x - x.T).max())
    if gap > rtol * max(scale, 1e-300):
        raise ValueError(f"{name} must be symmetric, got max |A - A^T| = {gap:.3g} for shape {tuple(x.shape)}")


def check_same_rows(name_a: str, a: Any, name_b: str, b: Any) -> None:
    """Raise unless ``a`` and ``b`` have the same leading dimension (e.g. X (N, d) and y (N,) or (N, k))."""
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"{name_a} and {name_b} must have the same number of rows, got shapes {tuple(a.shape)} and {tuple(b.shape)}"
        )


def check_rank_k(name: str, k: Any, upper: int, what: str = "min(m, n)") -> None:
    """Raise unless ``k`` is an integer with 1 <= k <= upper."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(k).__name__}")
    if not 1 <= k <= upper:
        raise ValueError(f"{name} must satisfy 1 <= {name} <= {what} = {upper}, got {name}={k}")


def check_positive(name: str, value: float, allow_zero: bool = False) -> None:
    """Raise unless ``value`` is a positive (or, with ``allow_zero``, non-negative) finite number."""
    ok = value >= 0 if allow_zero else value > 0
    if not (np.isfinite(value) and ok):
        want = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {want}, got {value!r}")


def check_linear(x: Any, weight: Any, bias: Any | None) -> None:
    """Shapes of a linear layer y = x W^T + b: x (..., in), weight (out, in), bias (out,) or None."""
    check_array("x", x)
    check_array("weight", weight, ndim=2)
    if x.ndim < 1 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"x must have shape (..., in_features={weight.shape[1]}) to match weight {tuple(weight.shape)}, got {tuple(x.shape)}")
    if bias is not None:
        check_array("bias", bias, ndim=1)
        if tuple(bias.shape) != (weight.shape[0],):
            raise ValueError(f"bias must have shape ({weight.shape[0]},) to match weight {tuple(weight.shape)}, got {tuple(bias.shape)}")


def check_tall(name: str, A: Any, what: str = "a reduced QR") -> None:
    """A finite matrix with at least as many rows as columns (m >= n)."""
    check_matrix(name, A)
    if A.shape[0] < A.shape[1]:
        raise ValueError(f"{name} must have at least as many rows as columns (m >= n) for {what}, got shape {tuple(A.shape)}")


def check_regression(X: Any, y: Any, xname: str = "X", yname: str = "y") -> None:
    """X (N, d) and y (N,) or (N, k), finite, with matching rows."""
    check_matrix(xname, X)
    check_array(yname, y, ndim=(1, 2))
    check_same_rows(xname, X, yname, y)


def check_steps(name: str, n: Any) -> None:
    """An iteration count: an int >= 1."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{name} must be an int >= 1, got {n!r}")


def rank_error(name: str, shape: tuple, what: str = "full column rank") -> ValueError:
    return ValueError(f"{name} must have {what}, got a rank-deficient matrix of shape {tuple(shape)}")


def check_choice(name: str, value: Any, allowed: tuple) -> None:
    """Raise unless ``value`` is one of ``allowed`` (bools are rejected even where 1 is allowed)."""
    if isinstance(value, bool) or value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")


def check_labels(name: str, labels: Any, n_classes: int, n_rows: int) -> None:
    """Integer class labels of shape (n_rows,) with values in [0, n_classes)."""
    if not hasattr(labels, "shape"):
        raise TypeError(f"{name} must be an integer array or tensor, got {type(labels).__name__}")
    is_float = getattr(labels.dtype, "is_floating_point", None) or (isinstance(labels, np.ndarray) and not np.issubdtype(labels.dtype, np.integer))
    if is_float or str(labels.dtype) in ("bool", "torch.bool"):
        raise TypeError(f"{name} must have an integer dtype, got {labels.dtype}")
    if tuple(labels.shape) != (n_rows,):
        raise ValueError(f"{name} must have shape ({n_rows},) to match the batch, got {tuple(labels.shape)}")
    lo, hi = int(labels.min()), int(labels.max())
    if lo < 0 or hi >= n_classes:
        raise ValueError(f"{name} must lie in [0, {n_classes}), got values in [{lo}, {hi}]")


def check_mlp(x: Any, labels: Any, weight1: Any, bias1: Any, weight2: Any, bias2: Any) -> None:
    """A 2-layer network's batch and parameters: x (N, D), weight1 (H, D), bias1 (H,), weight2 (C, H), bias2 (C,), labels (N,)."""
    check_matrix("x", x)
    for name, w in (("weight1", weight1), ("weight2", weight2)):
        check_array(name, w, ndim=2)
    if weight1.shape[1] != x.shape[1] or weight2.shape[1] != weight1.shape[0]:
        raise ValueError(f"shapes do not chain: x {tuple(x.shape)}, weight1 {tuple(weight1.shape)} (H, D), "
                         f"weight2 {tuple(weight2.shape)} (C, H)")
    for name, b, w in (("bias1", bias1, weight1), ("bias2", bias2, weight2)):
        check_array(name, b, ndim=1)
        if b.shape[0] != w.shape[0]:
            raise ValueError(f"{name} must have shape ({w.shape[0]},), got {tuple(b.shape)}")
    check_labels("labels", labels, weight2.shape[0], x.shape[0])


def check_same_shape(name_a: str, a: Any, name_b: str, b: Any) -> None:
    """Raise unless ``a`` and ``b`` have identical shapes."""
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(f"{name_a} and {name_b} must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")


def check_probabilities(name: str, p: Any, binary: bool = False) -> None:
    """A finite floating array with entries in [0, 1] (``binary=True``: exactly 0 or 1)."""
    check_array(name, p)
    bad = ((p != 0) & (p != 1)) if binary else ((p < 0) | (p > 1))
    if bool(bad.any()):
        want = "0 or 1" if binary else "in [0, 1]"
        raise ValueError(f"{name} must hold values {want}, got values in [{float(p.min())}, {float(p.max())}]")


def check_cholesky_factor(name: str, L: Any) -> None:
    """A square lower-triangular matrix with a positive diagonal (arrays and tensors alike)."""
    check_matrix(name, L, square=True)
    upper = L.triu(1) if hasattr(L, "triu") else np.triu(L, 1)
    diag = L.diagonal() if hasattr(L, "triu") else np.diag(L)
    if bool((upper != 0).any()) or bool((diag <= 0).any()):
        raise ValueError(f"{name} must be lower triangular with a positive diagonal (a Cholesky factor), shape {tuple(L.shape)}")


def check_mvn(value: Any, loc: Any, scale_tril: Any) -> None:
    """value (d,) or (n, d), loc (d,), scale_tril (d, d) a Cholesky factor (shared with the torch twin)."""
    check_array("value", value, ndim=(1, 2))
    check_array("loc", loc, ndim=1)
    check_cholesky_factor("scale_tril", scale_tril)
    d = loc.shape[0]
    if scale_tril.shape[0] != d or value.shape[-1] != d:
        raise ValueError(f"value (..., d), loc (d,) and scale_tril (d, d) must agree, got {tuple(value.shape)}, "
                         f"{tuple(loc.shape)}, {tuple(scale_tril.shape)}")


def check_positive_array(name: str, x: Any) -> None:
    """A finite floating array (or tensor) with every entry > 0."""
    check_array(name, x)
    if bool((x <= 0).any()):
        raise ValueError(f"{name} must be > 0 everywhere, got min {float(x.min())!r}")


def check_nonnegative_array(name: str, x: Any) -> None:
    """A finite floating array (or tensor) with every entry >= 0 (e.g. feature counts)."""
    check_array(name, x)
    if bool((x < 0).any()):
        raise ValueError(f"{name} must be >= 0 everywhere (counts), got min {float(x.min())!r}")


def check_integer_labels(name: str, labels: Any, n_rows: int) -> None:
    """Integer class labels of shape (n_rows,) with any values (:func:`check_labels` also demands [0, n_classes))."""
    if not hasattr(labels, "shape"):
        raise TypeError(f"{name} must be an integer array or tensor, got {type(labels).__name__}")
    integer = (not labels.dtype.is_floating_point and not labels.dtype.is_complex) if hasattr(labels.dtype, "is_floating_point") \
        else np.issubdtype(labels.dtype, np.integer)
    if not integer or str(labels.dtype) in ("bool", "torch.bool"):
        raise TypeError(f"{name} must have an integer dtype, got {labels.dtype}")
    if tuple(labels.shape) != (n_rows,):
        raise ValueError(f"{name} must have shape ({n_rows},) to match the batch, got {tuple(labels.shape)}")


def check_prior(name: str, p: Any, n_classes: int, rtol: float = 1e-6) -> None:
    """Class prior probabilities: shape (n_classes,), entries in [0, 1], summing to 1 within ``rtol``."""
    check_probabilities(name, p)
    if tuple(p.shape) != (n_classes,):
        raise ValueError(f"{name} must have shape ({n_classes},) (one per class), got {tuple(p.shape)}")
    total = float(p.sum())
    if abs(total - 1) > rtol:
        raise ValueError(f"{name} must sum to 1, got sum {total!r}")


def check_fraction(name: str, value: Any) -> None:
    """Raise unless ``value`` is a real number in [0, 1] (a label-smoothing amount, a class weight alpha)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a float in [0, 1], got {type(value).__name__}")
    if not 0 <= value <= 1:
        raise ValueError(f"{name} must lie in [0, 1], got {value!r}")


def check_class_targets(name: str, target: Any, n_classes: int, n_rows: int, ignore_index: Any) -> None:
    """Integer class targets (n_rows,) with values in [0, n_classes), except entries equal to ``ignore_index``."""
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
        raise TypeError(f"ignore_index must be an int, got {type(ignore_index).__name__}")
    check_integer_labels(name, target, n_rows)
    kept = target[target != ignore_index]
    if kept.shape[0] and (int(kept.min()) < 0 or int(kept.max()) >= n_classes):
        raise ValueError(f"{name} must lie in [0, {n_classes}) or equal ignore_index={ignore_index}, "
                         f"got values in [{int(kept.min())}, {int(kept.max())}]")


def check_loss_pair(input: Any, target: Any, reduction: Any, reductions: tuple = ("mean", "sum", "none")) -> None:
    """An elementwise loss's arguments: finite floating ``input`` and ``target`` of one shape, a known reduction."""
    check_array("input", input)
    check_array("target", target)
    check_same_shape("input", input, "target", target)
    check_choice("reduction", reduction, reductions)


def check_broadcasts_to(name: str, x: Any, shape: tuple, to: str = "input") -> None:
    """A finite floating array that broadcasts to ``shape`` without enlarging it (e.g. pos_weight (C,) for (N, C))."""
    check_array(name, x)
    try:
        ok = np.broadcast_shapes(tuple(x.shape), tuple(shape)) == tuple(shape)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{name} must broadcast to the shape of {to} {tuple(shape)}, got {tuple(x.shape)}")


def check_binary_loss(input: Any, target: Any, reduction: Any, pos_weight: Any | None = None) -> None:
    """A binary loss on logits: :func:`check_loss_pair`, targets in [0, 1], ``pos_weight`` >= 0 broadcasting to input."""
    check_loss_pair(input, target, reduction)
    check_probabilities("target", target)
    if pos_weight is not None:
        check_broadcasts_to("pos_weight", pos_weight, input.shape)
        check_nonnegative_array("pos_weight", pos_weight)


def check_class_loss(input: Any, target: Any, reduction: Any, ignore_index: Any) -> None:
    """A class-index loss: ``input`` (N, C) finite floating, ``target`` (N,) integer classes or ``ignore_index``."""
    check_matrix("input", input)
    check_class_targets("target", target, input.shape[1], input.shape[0], ignore_index)
    check_choice("reduction", reduction, ("mean", "sum", "none"))


def check_kl_div(input: Any, target: Any, reduction: Any, log_target: bool) -> None:
    """``F.kl_div``'s arguments: log-probabilities ``input`` and ``target`` of one shape (target >= 0 unless
    ``log_target``), reduction in mean/sum/none/batchmean (batchmean needs a batch dimension)."""
    check_loss_pair(input, target, reduction, ("mean", "sum", "none", "batchmean"))
    if not log_target:
        check_nonnegative_array("target", target)
    if reduction == "batchmean" and input.ndim == 0:
        raise ValueError(f"input must have a batch dimension for reduction='batchmean', got shape {tuple(input.shape)}")


def check_optimizer_hyperparameters(group: Any) -> None:
    """An optimizer's hyper-parameters (a param group's entries; only the keys present are checked), as
    ``torch.optim`` checks them: lr, eps, weight_decay, momentum, alpha, lr_decay, initial_accumulator_value >= 0;
    each of ``betas`` in [0, 1); Nesterov momentum needs momentum > 0 and dampening = 0."""
    for name in ("lr", "eps", "weight_decay", "momentum", "alpha", "lr_decay", "initial_accumulator_value"):
        if name in group:
            check_positive(name, float(group[name]), allow_zero=True)
    if "betas" in group:
        betas = tuple(group["betas"])
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {group['betas']!r}")
        for i, beta in enumerate(betas):
            if not 0.0 <= float(beta) < 1.0:
                raise ValueError(f"betas[{i}] must lie in [0, 1), got {beta!r}")
    if group.get("nesterov") and (group.get("momentum", 0) <= 0 or group.get("dampening", 0) != 0):
        raise ValueError(f"nesterov=True requires momentum > 0 and dampening = 0, got momentum="
                         f"{group.get('momentum', 0)!r}, dampening={group.get('dampening', 0)!r}")


def check_warmup_schedule(warmup_steps: Any, total_steps: Any, eta_min: Any) -> None:
    """A warm-up-then-decay schedule: int warmup_steps >= 0, int total_steps > warmup_steps, eta_min >= 0."""
    for name, n in (("warmup_steps", warmup_steps), ("total_steps", total_steps)):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"{name} must be an int >= 0, got {n!r}")
    if total_steps <= warmup_steps:
        raise ValueError(f"total_steps must exceed warmup_steps, got total_steps={total_steps}, warmup_steps={warmup_steps}")
    check_positive("eta_min", eta_min, allow_zero=True)


def check_clip_norm(max_norm: Any, norm_type: Any) -> None:
    """Gradient clipping's arguments: max_norm finite and >= 0, norm_type > 0 (``float('inf')`` allowed)."""
    check_positive("max_norm", max_norm, allow_zero=True)
    if isinstance(norm_type, bool) or not isinstance(norm_type, (int, float, np.integer, np.floating)) \
            or not norm_type > 0:  # also rejects NaN
        raise ValueError(f"norm_type must be a number > 0 or float('inf'), got {norm_type!r}")


def check_projection(b: Any, a: Any) -> None:
    """Two vectors of one shape (n,), ``a`` non-zero: the arguments of a projection onto a line."""
    check_array("b", b, ndim=1)
    check_array("a", a, ndim=1)
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(f"a and b must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    if not bool((a != 0).any()):
        raise ValueError("a must be a non-zero vector to project onto, got all zeros")


def check_quadratic(x: Any, A: Any, b: Any) -> None:
    """x (n,), symmetric A (n, n), b (n,): the arguments of 1/2 x^T A x - b^T x."""
    check_array("x", x, ndim=1)
    check_symmetric("A", A)
    check_array("b", b, ndim=1)
    if not A.shape[0] == x.shape[0] == b.shape[0]:
        raise ValueError(f"x, A and b must have matching sizes, got x {tuple(x.shape)}, A {tuple(A.shape)}, b {tuple(b.shape)}")


def check_pca_data(X: Any, n_components: Any) -> None:
    """X (N, d) with N >= 2 and 1 <= n_components <= min(N, d) (the rank condition is checked after the SVD)."""
    check_matrix("X", X)
    if X.shape[0] < 2:
        raise ValueError(f"X must have at least 2 samples for PCA, got shape {tuple(X.shape)}")
    check_rank_k("n_components", n_components, min(X.shape), "min(n_samples, n_features)")
