"""Activations with torch (lesson 2): ``torch.relu``, ``torch.tanh``, ``torch.sigmoid``; autograd supplies the
derivatives. Twin of :mod:`from_scratch.calculus.activations`."""
from __future__ import annotations

import torch

from from_scratch.validation import check_array, check_choice


def relu(x: torch.Tensor) -> torch.Tensor:
    check_array("x", x)
    return torch.relu(x)


def tanh(x: torch.Tensor) -> torch.Tensor:
    check_array("x", x)
    return torch.tanh(x)


def sigmoid(x: torch.Tensor) -> torch.Tensor:
    check_array("x", x)
    return torch.sigmoid(x)


#: name -> forward (autograd provides the backward); the unchecked torch functions, for use inside modules
ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}


def activation(name: str):
    """The activation called ``name`` (relu, tanh or sigmoid)."""
    check_choice("activation", name, tuple(ACTIVATIONS))
    return ACTIVATIONS[name]
