r"""Activation functions and their derivatives (lesson 2), elementwise on arrays of any shape.

:math:`\mathrm{relu}(x)=\max(0,x)`, :math:`\mathrm{relu}'=\mathbb 1[x>0]` (0 at x = 0, as torch);
:math:`\tanh'(x)=1-\tanh^2x`; :math:`\sigma(x)=1/(1+e^{-x})`, :math:`\sigma'=\sigma(1-\sigma)`, evaluated as
:math:`e^{x}/(1+e^{x})` for x < 0 so that neither branch overflows.

See also: :mod:`torch_versions.calculus.activations`, ``lessons/02_calculus_gradients.md``.
"""
from __future__ import annotations

import numpy as np

from from_scratch.validation import check_array, check_choice


def relu(x: np.ndarray) -> np.ndarray:
    check_array("x", x)
    return np.maximum(x, 0)


def relu_backward(x: np.ndarray, grad_out: np.ndarray) -> np.ndarray:
    return grad_out * (x > 0)


def tanh(x: np.ndarray) -> np.ndarray:
    check_array("x", x)
    return np.tanh(x)


def tanh_backward(x: np.ndarray, grad_out: np.ndarray) -> np.ndarray:
    t = np.tanh(x)
    return grad_out * (1 - t * t)


def sigmoid(x: np.ndarray) -> np.ndarray:
    check_array("x", x)
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_backward(x: np.ndarray, grad_out: np.ndarray) -> np.ndarray:
    s = sigmoid(x)
    return grad_out * s * (1 - s)


#: name -> (forward, backward(x, grad_out))
ACTIVATIONS = {"relu": (relu, relu_backward), "tanh": (tanh, tanh_backward), "sigmoid": (sigmoid, sigmoid_backward)}


def activation(name: str):
    """(forward, backward) of the activation called ``name`` (relu, tanh or sigmoid)."""
    check_choice("activation", name, tuple(ACTIVATIONS))
    return ACTIVATIONS[name]
