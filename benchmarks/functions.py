"""Smooth test functions written once for both array libraries: ``xp`` is ``numpy`` or ``torch``.

They only use operations both libraries spell the same way (``xp.sin``, ``xp.exp``, ``xp.tanh``, ``@``, ``**``,
``.sum()``, indexing), so the scratch and torch sides differentiate the very same function.
"""
from __future__ import annotations


def smooth_scalar(x, xp):
    r""":math:`\sum_i x_i^2\sin x_i+e^{-\|x\|^2/4}+\tanh(x_0x_{n-1})`: R^n -> R."""
    return (xp.sin(x) * x ** 2).sum() + xp.exp(-(x @ x) / 4) + xp.tanh(x[0] * x[-1])


def smooth_map(x, xp):
    r""":math:`y_i=x_0\sin x_i+x_i^2\sum_jx_j`: R^n -> R^n with a dense Jacobian."""
    return x[0] * xp.sin(x) + x ** 2 * x.sum()


def smooth_elementwise(x, xp):
    r""":math:`\sin(x)e^{-x^2/2}+x^3/10`, elementwise."""
    return xp.sin(x) * xp.exp(-x ** 2 / 2) + x ** 3 / 10
