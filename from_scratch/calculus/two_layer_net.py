r"""A 2-layer neural network with hand-written backprop (lesson 2).

Forward, for a batch x (N, D), labels y (N,) in [0, C):

.. math:: z_1=xW_1^\top+b_1\ (N,H),\quad a_1=\phi(z_1),\quad z_2=a_1W_2^\top+b_2\ (N,C),\quad
          \ell=-\frac1N\sum_n\log\operatorname{softmax}(z_2)_{n,y_n}

Backward (chain rule, right to left, shapes in brackets):
:math:`\bar z_2=\frac{\bar\ell}{N}(\operatorname{softmax}(z_2)-\mathrm{onehot}(y))` (N,C);
:math:`\bar W_2=\bar z_2^\top a_1` (C,H), :math:`\bar b_2=\sum_n\bar z_2` (C,), :math:`\bar a_1=\bar z_2W_2` (N,H);
:math:`\bar z_1=\bar a_1\odot\phi'(z_1)`; :math:`\bar W_1=\bar z_1^\top x` (H,D), :math:`\bar b_1=\sum_n\bar z_1`,
:math:`\bar x=\bar z_1W_1` (N,D). Weights use PyTorch's (out, in) layout, so ``load_state_dict`` of an
``nn.Module``'s state dict is the only bridge between the twins.

See also: :mod:`torch_versions.calculus.two_layer_net`, ``lessons/02_calculus_gradients.md``.
"""
from __future__ import annotations

import numpy as np

from from_scratch.linear_algebra.layer import Linear, linear_backward, linear_forward
from from_scratch.validation import check_labels, check_matrix, check_mlp, check_positive, check_steps
from .activations import activation as get_activation

PARAMS = ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias")


def log_softmax(z: np.ndarray) -> np.ndarray:
    r""":math:`z_i-\log\sum_je^{z_j}` over the last axis, with the max subtracted first (no overflow)."""
    shifted = z - z.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def log_softmax_backward(z: np.ndarray, grad_out: np.ndarray) -> np.ndarray:
    r""":math:`\bar z=\bar y-\operatorname{softmax}(z)\sum_j\bar y_j` (the Jacobian is :math:`I-\mathbf 1p^\top` per row)."""
    return grad_out - np.exp(log_softmax(z)) * grad_out.sum(-1, keepdims=True)


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    r"""Mean softmax cross-entropy :math:`-\frac1N\sum_n\log\operatorname{softmax}(z_n)_{y_n}`: logits (N, C), labels (N,)."""
    check_matrix("logits", logits)
    check_labels("labels", labels, logits.shape[1], logits.shape[0])
    return -log_softmax(logits)[np.arange(len(labels)), labels].mean()


def cross_entropy_backward(logits: np.ndarray, labels: np.ndarray, grad_out: np.ndarray) -> np.ndarray:
    r""":math:`\bar z=\frac{\bar\ell}{N}(\operatorname{softmax}(z)-\mathrm{onehot}(y))`."""
    p = np.exp(log_softmax(logits))
    p[np.arange(len(labels)), labels] -= 1
    return grad_out * p / len(labels)


def mlp_loss(x: np.ndarray, labels: np.ndarray, weight1: np.ndarray, bias1: np.ndarray, weight2: np.ndarray,
             bias2: np.ndarray, activation: str = "relu") -> np.ndarray:
    """Mean cross-entropy of the 2-layer network (see the module docstring for the equations)."""
    check_mlp(x, labels, weight1, bias1, weight2, bias2)
    act, _ = get_activation(activation)
    z2 = linear_forward(act(linear_forward(x, weight1, bias1)), weight2, bias2)
    return cross_entropy(z2, labels)


def mlp_loss_backward(x: np.ndarray, labels: np.ndarray, weight1: np.ndarray, bias1: np.ndarray, weight2: np.ndarray,
                      bias2: np.ndarray, grad_out: float = 1.0, activation: str = "relu") -> dict[str, np.ndarray]:
    """Gradients of :func:`mlp_loss` for x and every parameter, layer by layer (module docstring)."""
    act, act_backward = get_activation(activation)
    z1 = linear_forward(x, weight1, bias1)
    a1 = act(z1)
    z2 = linear_forward(a1, weight2, bias2)
    g_z2 = cross_entropy_backward(z2, labels, grad_out)
    g_a1, g_w2, g_b2 = linear_backward(a1, weight2, g_z2)
    g_x, g_w1, g_b1 = linear_backward(x, weight1, act_backward(z1, g_a1))
    return {"x": g_x, "weight1": g_w1, "bias1": g_b1, "weight2": g_w2, "bias2": g_b2}


class TwoLayerNet:
    """Linear(D, H) -> activation -> Linear(H, C), initialized like ``nn.Linear``; :meth:`loss` caches what
    :meth:`backward` needs and :meth:`backward` fills ``grads`` (keys as in a torch state dict)."""

    def __init__(self, in_features: int, hidden: int, n_classes: int, activation: str = "relu",
                 rng: np.random.Generator | None = None, dtype=np.float64) -> None:
        rng = np.random.default_rng() if rng is None else rng
        self.activation = activation
        self._act = get_activation(activation)
        self.fc1 = Linear(in_features, hidden, rng=rng, dtype=dtype)
        self.fc2 = Linear(hidden, n_classes, rng=rng, dtype=dtype)
        self.grads: dict[str, np.ndarray] = {}

    def state_dict(self) -> dict[str, np.ndarray]:
        return {f"{m}.{p}": getattr(getattr(self, m), p).copy() for m in ("fc1", "fc2") for p in ("weight", "bias")}

    def load_state_dict(self, state: dict) -> None:
        missing = [k for k in PARAMS if k not in state]
        if missing:
            raise KeyError(f"state dict lacks {missing}")
        for layer in ("fc1", "fc2"):
            getattr(self, layer).load_state_dict({p: state[f"{layer}.{p}"] for p in ("weight", "bias")})

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Logits (N, C)."""
        check_matrix("x", x)
        self._z1 = self.fc1(x)
        return self.fc2(self._act[0](self._z1))

    __call__ = forward

    def loss(self, x: np.ndarray, labels: np.ndarray) -> np.ndarray:
        self._logits, self._labels = self.forward(x), labels
        return cross_entropy(self._logits, labels)

    def backward(self, grad_out: float = 1.0) -> dict[str, np.ndarray]:
        if not hasattr(self, "_logits"):
            raise RuntimeError("backward called before loss")
        g = cross_entropy_backward(self._logits, self._labels, grad_out)
        g = self._act[1](self._z1, self.fc2.backward(g))
        self.fc1.backward(g)
        self.grads = {f"{m}.{p}": getattr(getattr(self, m), f"grad_{p}") for m in ("fc1", "fc2") for p in ("weight", "bias")}
        return self.grads

    def sgd_step(self, lr: float) -> None:
        """Plain SGD, :math:`\\theta\\leftarrow\\theta-\\eta\\bar\\theta` (what ``torch.optim.SGD`` does without momentum)."""
        if not self.grads:
            raise RuntimeError("sgd_step called before backward: there are no gradients to apply")
        for key, g in self.grads.items():
            layer, p = key.split(".")
            setattr(getattr(self, layer), p, getattr(getattr(self, layer), p) - lr * g)


def batch_indices(n: int, batch_size: int, n_steps: int, seed: int) -> np.ndarray:
    """Mini-batch index sets (n_steps, batch_size): a fresh permutation each epoch, seeded, shared by both twins."""
    check_steps("n_steps", n_steps)
    if not 1 <= batch_size <= n:
        raise ValueError(f"batch_size must be in [1, {n}], got {batch_size}")
    rng = np.random.default_rng(seed)
    per_epoch = n // batch_size
    epochs = -(-n_steps // per_epoch)
    perms = np.concatenate([rng.permutation(n)[: per_epoch * batch_size] for _ in range(epochs)])
    return perms.reshape(-1, batch_size)[:n_steps]


def train_sgd(model: TwoLayerNet, X: np.ndarray, y: np.ndarray, lr: float, n_steps: int, batch_size: int,
              seed: int = 0) -> np.ndarray:
    """Mini-batch SGD for ``n_steps`` on the batches of :func:`batch_indices`; returns the loss before each step."""
    check_positive("lr", lr)
    losses = np.empty(n_steps, dtype=X.dtype)
    for t, idx in enumerate(batch_indices(len(X), batch_size, n_steps, seed)):
        losses[t] = model.loss(X[idx], y[idx])
        model.backward()
        model.sgd_step(lr)
    return losses


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of rows whose arg-max logit is the label."""
    return float((logits.argmax(-1) == labels).mean())
