r"""The same optimizers written as ``torch.optim.Optimizer`` subclasses (lesson 4). Twin of
:mod:`from_scratch.optimization.optimizers`: same update rules (stated there), defaults, state names and
hyper-parameter checks; they agree with the built-in ``torch.optim`` classes to round-off.

Idiom: ``@torch.no_grad() def step(self, closure=None)`` reads ``p.grad``, keeps per-parameter state in
``self.state[p]`` (``step`` as a float32 CPU tensor, as the built-ins keep it, so state dicts load both ways) and
updates ``p`` in place. ``Optimizer`` is ``torch.optim.Optimizer`` itself.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

import torch

from from_scratch.validation import check_optimizer_hyperparameters

Optimizer = torch.optim.Optimizer


class _CheckedOptimizer(torch.optim.Optimizer):
    """Checks every param group's hyper-parameters (``torch.optim`` checks only the defaults)."""

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        check_optimizer_hyperparameters({**self.defaults, **{k: v for k, v in param_group.items() if k != "params"}})
        super().add_param_group(param_group)

    @staticmethod
    def _closure(closure: Callable[[], Any] | None) -> Any:
        if closure is None:
            return None
        with torch.enable_grad():
            return closure()

    def _with_grads(self):
        """``(group, p, state)`` for every parameter that has a gradient: the loop every ``step`` runs."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    yield group, p, self.state[p]

    @staticmethod
    def _l2(p: torch.Tensor, weight_decay: float) -> torch.Tensor:
        """The gradient with an L2 penalty folded in: ``g + λ p`` (``g`` itself when λ = 0)."""
        return p.grad if weight_decay == 0 else p.grad.add(p, alpha=weight_decay)

    @staticmethod
    def _count(state: dict[str, Any]) -> float:
        """Advance and return the step count t (1, 2, ...)."""
        state["step"] += 1
        return state["step"].item()


def _new_step() -> torch.Tensor:
    return torch.zeros((), dtype=torch.float32)


def _zeros(p: torch.Tensor) -> torch.Tensor:
    return torch.zeros_like(p, memory_format=torch.preserve_format)


class SGD(_CheckedOptimizer):
    """SGD with optional (Nesterov) momentum: :class:`from_scratch.optimization.SGD`."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov))

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure(closure)
        for group, p, state in self._with_grads():
            mu = group["momentum"]
            g = self._l2(p, group["weight_decay"])
            if mu != 0:
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = g.detach().clone()
                else:
                    buf.mul_(mu).add_(g, alpha=1 - group["dampening"])
                g = g.add(buf, alpha=mu) if group["nesterov"] else buf
            p.add_(g, alpha=-group["lr"])
        return loss


class Adagrad(_CheckedOptimizer):
    """Adagrad: :class:`from_scratch.optimization.Adagrad`."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10) -> None:
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps))

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure(closure)
        for group, p, state in self._with_grads():
            if not state:
                state["step"] = _new_step()
                state["sum"] = torch.full_like(p, group["initial_accumulator_value"],
                                               memory_format=torch.preserve_format)
            t = self._count(state)
            g = self._l2(p, group["weight_decay"])
            clr = group["lr"] / (1 + (t - 1) * group["lr_decay"])
            state["sum"].addcmul_(g, g, value=1)
            p.addcdiv_(g, state["sum"].sqrt().add_(group["eps"]), value=-clr)
        return loss


class RMSprop(_CheckedOptimizer):
    """RMSprop (optionally centered, with momentum): :class:`from_scratch.optimization.RMSprop`."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False) -> None:
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered))

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure(closure)
        for group, p, state in self._with_grads():
            alpha, mu = group["alpha"], group["momentum"]
            if not state:
                state["step"] = _new_step()
                state["square_avg"] = _zeros(p)
                if mu > 0:
                    state["momentum_buffer"] = _zeros(p)
                if group["centered"]:
                    state["grad_avg"] = _zeros(p)
            self._count(state)
            g = self._l2(p, group["weight_decay"])
            v = state["square_avg"].mul_(alpha).addcmul_(g, g, value=1 - alpha)
            if group["centered"]:
                g_avg = state["grad_avg"].lerp_(g, 1 - alpha)
                avg = v.addcmul(g_avg, g_avg, value=-1).sqrt_()
            else:
                avg = v.sqrt()
            avg.add_(group["eps"])
            if mu > 0:
                buf = state["momentum_buffer"].mul_(mu).addcdiv_(g, avg)
                p.add_(buf, alpha=-group["lr"])
            else:
                p.addcdiv_(g, avg, value=-group["lr"])
        return loss


class Adam(_CheckedOptimizer):
    """Adam with an L2 ``weight_decay`` (AMSGrad optional): :class:`from_scratch.optimization.Adam`."""

    decoupled_weight_decay = False

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad))

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure(closure)
        for group, p, state in self._with_grads():
            (beta1, beta2), lr, wd = group["betas"], group["lr"], group["weight_decay"]
            if not state:
                state["step"] = _new_step()
                state["exp_avg"] = _zeros(p)
                state["exp_avg_sq"] = _zeros(p)
                if group["amsgrad"]:
                    state["max_exp_avg_sq"] = _zeros(p)
            t = self._count(state)
            if self.decoupled_weight_decay:
                g = p.grad
                if wd != 0:
                    p.mul_(1 - lr * wd)
            else:
                g = self._l2(p, wd)
            state["exp_avg"].lerp_(g, 1 - beta1)
            v = state["exp_avg_sq"].mul_(beta2).addcmul_(g, g, value=1 - beta2)
            if group["amsgrad"]:
                v = torch.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            denom = (v.sqrt() / (1 - beta2 ** t) ** 0.5).add_(group["eps"])
            p.addcdiv_(state["exp_avg"], denom, value=-lr / (1 - beta1 ** t))
        return loss


class AdamW(Adam):
    """AdamW, Adam with decoupled weight decay: :class:`from_scratch.optimization.AdamW`."""

    decoupled_weight_decay = True

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)
