r"""The 2-layer network as an ``nn.Module`` trained with autograd and ``torch.optim.SGD`` (lesson 2).
Twin of :mod:`from_scratch.calculus.two_layer_net`: same parameter names (``fc1.weight`` ...), same loss
:math:`\mathrm{CE}(W_2\phi(W_1x+b_1)+b_2,y)`, same mini-batches (:func:`batch_indices` is shared)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from from_scratch.calculus.two_layer_net import batch_indices
from from_scratch.validation import check_labels, check_matrix, check_mlp, check_positive
from .activations import activation as get_activation

PARAMS = ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias")


def log_softmax(z: torch.Tensor) -> torch.Tensor:
    return F.log_softmax(z, dim=-1)


def cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean softmax cross-entropy (``F.cross_entropy``)."""
    check_matrix("logits", logits)
    check_labels("labels", labels, logits.shape[1], logits.shape[0])
    return F.cross_entropy(logits, labels)


def mlp_loss(x: torch.Tensor, labels: torch.Tensor, weight1: torch.Tensor, bias1: torch.Tensor, weight2: torch.Tensor,
             bias2: torch.Tensor, activation: str = "relu") -> torch.Tensor:
    """Mean cross-entropy of the 2-layer network in functional form (``F.linear``, ``F.cross_entropy``)."""
    check_mlp(x, labels, weight1, bias1, weight2, bias2)
    act = get_activation(activation)
    return F.cross_entropy(F.linear(act(F.linear(x, weight1, bias1)), weight2, bias2), labels)


class TwoLayerNet(nn.Module):
    """``nn.Linear(D, H)`` -> activation -> ``nn.Linear(H, C)``; returns logits."""

    def __init__(self, in_features: int, hidden: int, n_classes: int, activation: str = "relu",
                 dtype: torch.dtype = torch.float64, device: torch.device | str | None = None) -> None:
        super().__init__()
        self.activation = activation
        self._act = get_activation(activation)
        self.fc1 = nn.Linear(in_features, hidden, dtype=dtype, device=device)
        self.fc2 = nn.Linear(hidden, n_classes, dtype=dtype, device=device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self._act(self.fc1(x)))  # (N, D) -> (N, H) -> (N, C); inputs are checked by train_sgd


def train_sgd(model: TwoLayerNet, X: torch.Tensor, y: torch.Tensor, lr: float, n_steps: int, batch_size: int,
              seed: int = 0) -> torch.Tensor:
    """``torch.optim.SGD`` for ``n_steps`` on the shared mini-batches; returns the loss before each step."""
    check_positive("lr", lr)
    check_matrix("X", X)
    check_labels("y", y, model.fc2.out_features, X.shape[0])  # once, not per step: no host syncs in the loop
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    losses = torch.empty(n_steps, dtype=X.dtype, device=X.device)
    batches = torch.as_tensor(batch_indices(len(X), batch_size, n_steps, seed), device=X.device)
    for t, idx in enumerate(batches):
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(X[idx]), y[idx])
        loss.backward()
        opt.step()
        losses[t] = loss.detach()
    return losses


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    return float((logits.argmax(-1) == labels).double().mean())
