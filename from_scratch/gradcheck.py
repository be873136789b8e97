r"""Central finite differences: the independent check of every hand-written backward pass.

For a function f with outputs :math:`y_i` and upstream gradients :math:`g_i`, the scalar
:math:`L(x)=\sum_i\langle g_i,y_i(x)\rangle` has gradient :math:`\bar x` (what a ``*_backward`` returns). Each
entry is estimated by :math:`\frac{L(x+he_j)-L(x-he_j)}{2h}`, whose error is :math:`O(h^2)` (truncation) plus
:math:`O(\varepsilon|L|/h)` (round-off); :math:`h\approx\varepsilon^{1/3}` balances the two (lesson 2).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from from_scratch.calculus.numerical import gradient


def _pairing(f: Callable[..., Any], inputs: dict[str, Any], upstream: tuple) -> float:
    out = f(**inputs)
    out = out if isinstance(out, (tuple, list)) else (out,)
    return float(sum(np.sum(np.asarray(g) * np.asarray(y)) for g, y in zip(upstream, out)))


def numerical_gradient(f: Callable[..., Any], inputs: dict[str, Any], wrt: str, upstream: tuple,
                       h: float | None = None) -> np.ndarray:
    r"""Central-difference estimate of :math:`\partial L/\partial\,\mathrm{inputs[wrt]}` for
    :math:`L=\sum_i\langle\mathrm{upstream}_i,f(\mathrm{inputs})_i\rangle`: lesson 2's
    :func:`from_scratch.calculus.numerical.gradient` applied to L (steps :math:`h\max(1,|x_j|)`,
    :math:`h=\varepsilon^{1/3}` by default)."""
    x = np.asarray(inputs[wrt])
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"inputs[{wrt!r}] must be a floating-point array, got {x.dtype}")
    return gradient(lambda z: np.asarray(_pairing(f, {**inputs, wrt: z}, upstream)), x, h)


def gradient_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """Normwise relative error max|a - n| / max(max|n|, 1): the figure a gradient check reports."""
    return float(np.abs(analytic - numeric).max(initial=0.0) / max(float(np.abs(numeric).max(initial=0.0)), 1.0))
