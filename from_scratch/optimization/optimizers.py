r"""First-order optimizers over lists of NumPy arrays, with ``torch.optim``'s exact update rules and defaults.

Structure as in ``torch.optim``: :class:`Optimizer` holds ``param_groups`` (dicts with ``"params"`` and the
hyper-parameters, so groups may differ in lr) and per-parameter ``state`` with torch's key names
(``momentum_buffer``, ``sum``, ``square_avg``, ``grad_avg``, ``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq``,
``step``), so a state dict is the only bridge between the twins.

Gradients are passed explicitly: ``step(grads)`` takes ONE flat list, in the order of the parameters flattened
over the groups (group 0's parameters, then group 1's, ...) -- the order ``state_dict()`` numbers them in. An
entry may be ``None`` (that parameter is skipped, as torch skips ``p.grad is None``). Parameters are updated IN
PLACE, as torch updates ``p.data``. ``state`` is keyed by that flat index (torch keys it by the tensor).

Notation: :math:`g_t` the gradient (plus :math:`\lambda\theta_{t-1}` when weight_decay :math:`\lambda` is an L2
penalty), :math:`\eta` the lr, :math:`t` the step counted from 1.

See also: :mod:`torch_versions.optimization.optimizers`, ``lessons/04_optimization.md``.
"""
from __future__ import annotations

import copy
from typing import Any, Iterable

import numpy as np

from from_scratch.validation import check_array, check_optimizer_hyperparameters, check_same_shape


class Optimizer:
    """Base class: parameter groups, per-parameter state, ``step(grads)``, ``state_dict``/``load_state_dict``.

    ``params`` is an iterable of float arrays or of dicts ``{"params": [...], "lr": ..., ...}``; hyper-parameters
    missing from a group are filled from ``defaults``. Subclasses implement ``_update(p, g, state, group)``.
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        check_optimizer_hyperparameters(defaults)
        self.defaults = dict(defaults)
        self.state: dict[int, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, (np.ndarray, dict)):
            raise TypeError("params must be an iterable of arrays or of dicts, got a single "
                            f"{type(params).__name__}")
        groups = list(params)
        if not groups:
            raise ValueError("params must not be empty: optimizer got an empty parameter list")
        for group in (groups if isinstance(groups[0], dict) else [{"params": groups}]):
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Append a group; its parameters get the next flat indices, its missing hyper-parameters the defaults."""
        group = dict(param_group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, np.ndarray) else list(params)
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        check_optimizer_hyperparameters(group)
        for i, p in enumerate(group["params"]):
            check_array(f"params[{i}]", p)
        seen = {id(p) for p in self._flat_params()}
        if len({id(p) for p in group["params"]} | seen) != len(seen) + len(group["params"]):
            raise ValueError("params must not repeat: some parameters appear more than once")
        self.param_groups.append(group)

    def _flat_params(self) -> list[np.ndarray]:
        return [p for group in self.param_groups for p in group["params"]]

    def step(self, grads: list[np.ndarray | None]) -> None:
        """One update of every parameter from its gradient in ``grads`` (flat order; ``None`` skips)."""
        params = self._flat_params()
        if len(grads) != len(params):
            raise ValueError(f"grads must hold one gradient per parameter ({len(params)}, flattened over the "
                             f"param groups), got {len(grads)}")
        for i, (p, g) in enumerate(zip(params, grads)):
            if g is not None:
                check_same_shape(f"grads[{i}]", g, f"params[{i}]", p)
        i = 0
        for group in self.param_groups:
            for p in group["params"]:
                if grads[i] is not None:
                    self._update(p, np.asarray(grads[i]), self.state.setdefault(i, {}), group)
                i += 1

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """Deep copy in torch's layout: ``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}``."""
        groups, start = [], 0
        for group in self.param_groups:
            n = len(group["params"])
            groups.append({**{k: copy.deepcopy(v) for k, v in group.items() if k != "params"},
                           "params": list(range(start, start + n))})
            start += n
        return {"state": copy.deepcopy(self.state), "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a :meth:`state_dict` (deep-copied): hyper-parameters per group and the state of every parameter,
        matched by position; floating state arrays are cast to their parameter's dtype."""
        saved = copy.deepcopy(state_dict)
        if len(saved["param_groups"]) != len(self.param_groups):
            raise ValueError(f"state_dict must have {len(self.param_groups)} param groups, got {len(saved['param_groups'])}")
        if [len(g["params"]) for g in saved["param_groups"]] != [len(g["params"]) for g in self.param_groups]:
            raise ValueError("state_dict must have param groups of the same sizes as the optimizer's")
        index = {old: new for new, old in enumerate(i for g in saved["param_groups"] for i in g["params"])}
        params = self._flat_params()
        self.state = {}
        for old, st in saved["state"].items():
            p = params[index[old]]
            self.state[index[old]] = {k: (v.astype(p.dtype) if isinstance(v, np.ndarray) and v.shape == p.shape else v)
                                      for k, v in st.items()}
        for group, loaded in zip(self.param_groups, saved["param_groups"]):
            group.update({k: v for k, v in loaded.items() if k != "params"})


class SGD(Optimizer):
    r"""Stochastic gradient descent with optional (Nesterov) momentum, as ``torch.optim.SGD``.

    .. math::
        g_t = \nabla_t + \lambda\theta_{t-1},\qquad
        b_t = \begin{cases} g_1 & t=1\\ \mu b_{t-1} + (1-\tau) g_t & t>1\end{cases},\qquad
        \theta_t = \theta_{t-1} - \eta\,(g_t + \mu b_t \text{ if nesterov else } b_t)

    (momentum :math:`\mu`, dampening :math:`\tau`; with :math:`\mu=0` simply :math:`\theta_t=\theta_{t-1}-\eta g_t`).
    The buffer starts at the first gradient, undamped -- torch's convention (Sutskever et al. scale by lr instead).
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov))

    def _update(self, p, g, state, group):
        mu, wd = group["momentum"], group["weight_decay"]
        if wd != 0:
            g = g + wd * p
        if mu != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= mu
                buf += (1 - group["dampening"]) * g
            g = g + mu * buf if group["nesterov"] else buf
        p -= group["lr"] * g


class Adagrad(Optimizer):
    r"""Adagrad, as ``torch.optim.Adagrad``: per-coordinate steps shrink with the accumulated squared gradients.

    .. math::
        \tilde\eta_t = \frac{\eta}{1+(t-1)\,\text{lr\_decay}},\qquad
        s_t = s_{t-1} + g_t^2\ (s_0=\text{initial\_accumulator\_value}),
        \qquad \theta_t = \theta_{t-1} - \tilde\eta_t\,\frac{g_t}{\sqrt{s_t}+\epsilon}

    :math:`\epsilon` is added to the square root (outside it), default 1e-10.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10) -> None:
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps))

    def _update(self, p, g, state, group):
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(p, group["initial_accumulator_value"])
        state["step"] += 1
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state["sum"] += g * g
        p -= clr * (g / (np.sqrt(state["sum"]) + group["eps"]))


class RMSprop(Optimizer):
    r"""RMSprop, as ``torch.optim.RMSprop`` (no bias correction; optionally centered and with momentum).

    .. math::
        v_t = \alpha v_{t-1} + (1-\alpha) g_t^2,\qquad
        \bar g_t = \alpha\bar g_{t-1} + (1-\alpha) g_t \text{ (centered)},\qquad
        d_t = \sqrt{v_t - \bar g_t^2 \text{ (centered)}} + \epsilon

    then :math:`\theta_t=\theta_{t-1}-\eta\,g_t/d_t`, or with momentum :math:`b_t=\mu b_{t-1}+g_t/d_t`,
    :math:`\theta_t=\theta_{t-1}-\eta b_t` (all of :math:`v,\bar g,b` start at 0; :math:`\epsilon` outside the root).
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False) -> None:
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered))

    def _update(self, p, g, state, group):
        alpha = group["alpha"]
        if not state:
            state.update(step=0, square_avg=np.zeros_like(p))
            if group["momentum"] > 0:
                state["momentum_buffer"] = np.zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(p)
        state["step"] += 1
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p
        v = state["square_avg"]
        v *= alpha
        v += (1 - alpha) * (g * g)
        if group["centered"]:
            _lerp(state["grad_avg"], g, 1 - alpha)
            avg = np.sqrt(v - state["grad_avg"] * state["grad_avg"])
        else:
            avg = np.sqrt(v)
        avg += group["eps"]
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf *= group["momentum"]
            buf += g / avg
            p -= group["lr"] * buf
        else:
            p -= group["lr"] * (g / avg)


class Adam(Optimizer):
    r"""Adam, as ``torch.optim.Adam``; ``weight_decay`` is an L2 penalty added to the gradient (see :class:`AdamW`).

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\qquad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,\qquad
        \theta_t = \theta_{t-1} - \frac{\eta}{1-\beta_1^t}\,\frac{m_t}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}

    Bias correction: with :math:`m_0=0`, :math:`m_t=(1-\beta_1)\sum_{s\le t}\beta_1^{t-s}g_s`, so for stationary
    gradients :math:`\mathbb E[m_t]=(1-\beta_1^t)\,\mathbb E[g]`; dividing by :math:`1-\beta_1^t` (and
    :math:`v_t` by :math:`1-\beta_2^t`) removes the bias toward 0 of the first steps. :math:`\epsilon` is added
    AFTER the corrected square root, as torch does (not inside it, and not to the uncorrected :math:`\sqrt{v_t}`).
    ``amsgrad``: :math:`\hat v_t=\max(\hat v_{t-1},v_t)` replaces :math:`v_t` in the denominator.
    """

    decoupled_weight_decay = False

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad))

    def _update(self, p, g, state, group):
        (beta1, beta2), lr, wd = group["betas"], group["lr"], group["weight_decay"]
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(p), exp_avg_sq=np.zeros_like(p))
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(p)
        state["step"] += 1
        t = float(state["step"])
        if wd != 0:
            if self.decoupled_weight_decay:
                p *= 1 - lr * wd
            else:
                g = g + wd * p
        m, v = state["exp_avg"], state["exp_avg_sq"]
        _lerp(m, g, 1 - beta1)
        v *= beta2
        v += (1 - beta2) * (g * g)
        if group["amsgrad"]:
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        step_size = lr / (1 - beta1 ** t)
        denom = np.sqrt(v) / (1 - beta2 ** t) ** 0.5 + group["eps"]
        p -= step_size * (m / denom)


class AdamW(Adam):
    r"""AdamW, as ``torch.optim.AdamW``: Adam with DECOUPLED weight decay (Loshchilov & Hutter).

    The parameter shrinks before the Adam step, :math:`\theta\leftarrow(1-\eta\lambda)\theta`, and the gradient is
    left alone, so the decay is not rescaled by :math:`1/\sqrt{v_t}` as Adam's L2 term is. Default
    :math:`\lambda=10^{-2}`.
    """

    decoupled_weight_decay = True

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)


def _lerp(avg: np.ndarray, x: np.ndarray, weight: float) -> None:
    """In place ``avg <- avg + weight (x - avg)`` written as ``torch.lerp`` does (the other end for weight >= 1/2)."""
    if weight < 0.5:
        avg += weight * (x - avg)
    else:
        avg[...] = x - (x - avg) * (1 - weight)
